"""The cost of preparing ``|k*>`` by post-selection, ``n / P``, three ways.

The paper loads a test point's kernel row as the amplitudes
``k_i = clip(Theta(x*, x_i) / k_thresh, -1, 1)``: a uniform superposition over
``i``, a rotation of an ancilla by ``k_i``, and post-selection on the ancilla, which
succeeds with probability ``P / n``, ``P = sum_i k_i^2``. Dividing ``k`` by any
scale ``m >= max_i |k_i|`` leaves the state unchanged and multiplies the success
probability by ``1 / m^2``, so the count depends on the scale used:

* **the paper's** (the authors' notebook): the whole clipped query-by-train matrix
  is divided by its largest ``|k_i|`` over every query of the batch, then
  ``n / P`` per row. It needs the batch of queries, so it is a reporting quantity
  (experiments, probe batches), not something one prediction can compute;
* **row max** (inductive): each clipped row divided by its own largest ``|k_i|``,
  the smallest scale that keeps every amplitude at most 1; needs no batch;
* **k_thresh alone**: no rescaling. For deep networks ``k_thresh`` (the kernel at
  inner product ``1 - 1e-5``) is 1e5 to 1e6 times the test-to-training entries,
  and this count reaches ~1e12.
"""

from __future__ import annotations

import numpy as np

from ._qsvt import clip_kernel_rows


def post_selection_counts(K_star, k_thresh):
    """``n / P`` per query row with the paper's, the row-max and the k_thresh scale.

    Parameters
    ----------
    K_star : ndarray of shape (n_queries, n_samples)
        Exact kernel between the queries (one batch) and the training points.
    k_thresh : float
        The paper's clipping scale (positive).

    Returns
    -------
    counts : dict of ndarray of shape (n_queries,)
        ``"paper"``: clipped rows divided by the batch's largest ``|k_i|``
        (:func:`clip_kernel_rows`, then ``n max_batch^2 / P``); ``"rowmax"``: each
        row by its own largest ``|k_i|`` (``n max_row^2 / P``); ``"kthresh"``:
        ``n / P``. ``inf`` for a row with ``P = 0``. Always
        ``rowmax <= paper <= kthresh`` row by row, and ``rowmax >= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> c = post_selection_counts(np.array([[0.5, 0.1], [0.25, 0.0]]), k_thresh=1.0)
    >>> c["paper"].round(3), c["rowmax"].round(3), c["kthresh"].round(3)
    (array([1.923, 8.   ]), array([1.923, 2.   ]), array([ 7.692, 32.   ]))
    """
    K_star = np.asarray(K_star, dtype=np.float64)
    n = K_star.shape[1]
    k, P = clip_kernel_rows(K_star, k_thresh)
    row_max = np.abs(k).max(axis=1, initial=0.0)
    batch_max = float(row_max.max(initial=0.0))
    positive = P > 0
    safe = np.where(positive, P, 1.0)
    return {
        "paper": np.where(positive, n * batch_max**2 / safe, np.inf),
        "rowmax": np.where(positive, n * row_max**2 / safe, np.inf),
        "kthresh": np.where(positive, n / safe, np.inf),
    }
