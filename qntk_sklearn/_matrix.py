"""Matrix utilities shared by the sparsifiers and the solvers (no dependencies)."""

import numpy as np
import scipy.sparse as sp


def max_row_nonzeros(K):
    """Largest number of nonzeros in a row (the sparsity ``s`` of the paper).

    Explicitly stored zeros of a sparse matrix do not count.

    >>> import numpy as np
    >>> max_row_nonzeros(np.array([[1.0, 0.0], [2.0, 3.0]]))
    2
    """
    if sp.issparse(K):
        K = sp.csr_matrix(K, copy=True)
        K.eliminate_zeros()
        return int(np.diff(K.indptr).max(initial=0))
    return int(np.count_nonzero(np.asarray(K), axis=1).max(initial=0))
