"""Shared machinery of the infinite-width kernels: batching, pairs, sklearn API."""

from __future__ import annotations

import math

import numpy as np
from sklearn.gaussian_process.kernels import Kernel

from .._parallel import map_blocks


def x64():
    """Context manager that turns on JAX's float64 mode, whatever the global setting.

    ``jax.enable_x64`` is the context manager on recent JAX; older releases (the ones
    neural-tangents 0.6.5 needs) only have ``jax.experimental.enable_x64``.
    """
    import jax

    state = getattr(jax, "enable_x64", None)
    if state is not None and callable(state):
        try:
            return state(True)
        except TypeError:  # pragma: no cover - unexpected signature
            pass
    from jax.experimental import enable_x64  # jax < 0.6

    return enable_x64()


def check_kernel_input(X, name="X", shape=None):
    """Return ``X`` as a float64 array with finite entries and at least 2 dimensions.

    With ``shape`` (the shape of one sample, e.g. an image's ``(height, width,
    channels)``), ``X`` must be ``(n_samples, *shape)`` or flattened,
    ``(n_samples, prod(shape))``, and is returned as ``(n_samples, *shape)``.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim < 2:
        raise ValueError(
            f"`{name}` must be a 2-D array of shape (n_samples, n_features); "
            f"got an array of shape {X.shape}. Reshape it, e.g. {name}.reshape(-1, 1)."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"`{name}` must contain only finite values; got NaN or inf.")
    if shape is None:
        return X
    shape = tuple(shape)
    if X.shape[1:] == shape:
        return X
    if X.ndim == 2 and X.shape[1] == math.prod(shape):
        return X.reshape((X.shape[0],) + shape)
    raise ValueError(
        f"`{name}` must have shape (n_samples, {math.prod(shape)}) or "
        f"(n_samples, {', '.join(map(str, shape))}) for inputs of shape {shape}; "
        f"got {X.shape}."
    )


class NTKKernelBase(Kernel):
    """Base class of the package's infinite-width kernels.

    Subclasses implement ``_block(X, Y)`` (the kernel between every row of ``X`` and
    every row of ``Y``) and ``_paired(X, Y)`` (the kernel between ``X[i]`` and ``Y[i]``
    for every ``i``). This class adds the scikit-learn kernel API (``k(X, Y)``,
    ``k.diag(X)``, so a kernel works as ``SVC(kernel=k)`` and in
    ``GaussianProcessRegressor(kernel=k)``), evaluation in blocks of bounded memory,
    and evaluation on given (row, column) pairs without forming a full matrix.

    The kernels have no hyperparameters in the Gaussian-process sense (``theta`` is
    empty), so a Gaussian process uses them as they are.
    """

    #: Largest number of kernel entries computed in one block.
    _max_block_entries = 2**20

    @property
    def is_stationary(self):  # noqa: D401 - sklearn API
        return False

    @property
    def requires_vector_input(self):
        return True

    def _block(self, X, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _paired(self, X, Y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _check(self, X, name="X"):
        return check_kernel_input(X, name)

    # --- scikit-learn kernel API ---------------------------------------------------
    def __call__(self, X, Y=None, eval_gradient=False):
        """Return the kernel matrix ``k(X, Y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        Y : array-like of shape (n_samples_Y, n_features), default=None
            If None, ``k(X, X)`` is returned, with its diagonal computed from the norms
            of the rows (exactly as :meth:`diag`).
        eval_gradient : bool, default=False
            Only for ``Y=None``; the gradient is empty as the kernel has no
            hyperparameters.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, 0)
            Only when ``eval_gradient`` is True.
        """
        X = self._check(X)
        if eval_gradient and Y is not None:
            raise ValueError("`eval_gradient` can only be True when `Y` is None.")
        same = Y is None
        Y = X if same else self._check(Y, "Y")
        if X.shape[1:] != Y.shape[1:]:
            raise ValueError(
                "`X` and `Y` must have the same number of features; got "
                f"X.shape={X.shape} and Y.shape={Y.shape}."
            )
        K = self.block(X, Y)
        if same:
            np.fill_diagonal(K, self.diag(X))
        if eval_gradient:
            return K, np.empty((X.shape[0], X.shape[0], 0))
        return K

    def diag(self, X):
        """Return the diagonal ``k(X, X)[i, i]``, computed from each row alone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        diag : ndarray of shape (n_samples,)
        """
        X = self._check(X)
        return self._chunked_paired(X, X)

    # --- batched evaluation -------------------------------------------------------
    def _row_chunk(self, n_other):
        return max(1, self._max_block_entries // max(n_other, 1))

    def block(self, X, Y, verbose=0, n_jobs=None):
        """Kernel between all rows of ``X`` and ``Y``, in blocks of bounded memory.

        When ``Y is X`` only the tiles on and above the diagonal are computed. The
        tiles are dispatched through joblib (see ``n_jobs``); the result does not
        depend on how many workers compute them.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, ...)
        Y : ndarray of shape (n_samples_Y, ...)
        verbose : int, default=0
            If positive, show a progress bar (tqdm) on stderr.
        n_jobs : int or None, default=None
            Workers computing tiles, scikit-learn's convention: None means 1 unless
            in a :func:`joblib.parallel_config` context, -1 means all cores. Threads
            by default; ``with joblib.parallel_backend("dask"):`` runs the tiles on a
            dask.distributed cluster.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        """
        n, m = X.shape[0], Y.shape[0]
        K = np.empty((n, m), dtype=np.float64)
        if Y is X:
            # Symmetric: square tiles on and above the diagonal, mirrored below.
            rows = cols = max(1, math.isqrt(self._max_block_entries))
            spans = [(i, j) for i in range(0, n, rows) for j in range(i, n, cols)]
        else:
            cols = min(m, self._max_block_entries)
            rows = self._row_chunk(cols)
            spans = [(i, j) for i in range(0, n, rows) for j in range(0, m, cols)]
        tasks = [(X[i : i + rows], Y[j : j + cols]) for i, j in spans]
        for t, tile in map_blocks(
            self._block,
            tasks,
            n_jobs=n_jobs,
            verbose=verbose,
            desc="kernel block",
            sizes=[a.shape[0] * b.shape[0] for a, b in tasks],
        ):
            i, j = spans[t]
            K[i : i + rows, j : j + cols] = tile
            if Y is X and j != i:
                _mirror(K, tile, j, i)
        return K

    def _paired_rows(self, X, Y, rows, cols):
        """``_paired`` on the rows ``X[rows]`` and ``Y[cols]`` (one chunk)."""
        return self._paired(X[rows], Y[cols])

    def _chunked_paired(self, X, Y, rows=None, cols=None, verbose=0, n_jobs=None):
        """``k(X[rows[t]], Y[cols[t]])`` (default: ``k(X[t], Y[t])``), gathering the
        rows one chunk at a time so that memory stays bounded."""
        n = X.shape[0] if rows is None else rows.shape[0]
        out = np.empty(n, dtype=np.float64)
        features = int(np.prod(X.shape[1:])) if X.ndim > 1 else 1
        step = max(1, self._max_block_entries // max(features, 1))
        starts = range(0, n, step)
        if rows is None:
            func = self._paired
            tasks = [(X[i : i + step], Y[i : i + step]) for i in starts]
        else:
            func = self._paired_rows
            tasks = [(X, Y, rows[i : i + step], cols[i : i + step]) for i in starts]
        sizes = [min(step, n - i) for i in starts]
        for t, values in map_blocks(
            func,
            tasks,
            n_jobs=n_jobs,
            verbose=verbose,
            desc="kernel pairs",
            sizes=sizes,
        ):
            out[starts[t] : starts[t] + step] = values
        return out

    def pairs(self, X, Y=None, *, rows, cols, verbose=0, n_jobs=None):
        """Kernel values ``k(X[rows[t]], Y[cols[t]])`` for every t, no full matrix.

        This is what a sparsified kernel needs: only the entries of its sparsity
        pattern are evaluated.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
        Y : array-like of shape (n_samples_Y, n_features), default=None
            Defaults to ``X``.
        rows, cols : array-like of int of shape (n_pairs,)
        verbose : int, default=0
            If positive, show a progress bar (tqdm) on stderr.
        n_jobs : int or None, default=None
            Workers computing chunks of pairs, as in :meth:`block`.

        Returns
        -------
        values : ndarray of shape (n_pairs,)

        Examples
        --------
        >>> import numpy as np
        >>> from qntk_sklearn.kernels import FullyConnectedNTK
        >>> X = np.eye(3)
        >>> k = FullyConnectedNTK(depth=2)
        >>> np.allclose(k.pairs(X, rows=[0, 1], cols=[1, 1]), k(X)[[0, 1], [1, 1]])
        True
        """
        X = self._check(X)
        Y = X if Y is None else self._check(Y, "Y")
        rows = np.asarray(rows, dtype=np.intp)
        cols = np.asarray(cols, dtype=np.intp)
        if rows.shape != cols.shape or rows.ndim != 1:
            raise ValueError(
                "`rows` and `cols` must be 1-D integer arrays of the same length; got "
                f"shapes {rows.shape} and {cols.shape}."
            )
        return self._chunked_paired(X, Y, rows, cols, verbose=verbose, n_jobs=n_jobs)

    def clip_threshold(self, X):
        """The paper's clipping scale ``k_thresh`` for preparing ``|k*>``.

        The default is the median of the diagonal ``k(x, x)`` over ``X``; kernels that
        know their shape (see :class:`FullyConnectedNTK`) override it with the paper's
        rule.
        """
        return float(np.median(self.diag(X)))

    # --- sklearn Kernel plumbing (no hyperparameters) ----------------------------
    @property
    def hyperparameters(self):
        return []

    @property
    def theta(self):
        return np.empty(0)

    @theta.setter
    def theta(self, theta):
        if len(theta) != 0:
            raise ValueError(
                f"This kernel has no hyperparameters; got theta of length {len(theta)}."
            )

    @property
    def bounds(self):
        return np.empty((0, 2))

    def __eq__(self, other):
        return type(self) is type(other) and _params_equal(
            self.get_params(), other.get_params()
        )

    __hash__ = object.__hash__


def _mirror(K, tile, i, j):
    """``K[i:, j:][:m, :n] = tile.T``, 16 rows of ``tile`` at a time: a transposed copy
    of a 1024 x 1024 tile takes ~5 ms in one go and ~0.6 ms in strips that stay in
    cache, which matters next to a fast kernel."""
    n, m = tile.shape
    for r in range(0, n, 16):
        K[i : i + m, j + r : j + min(r + 16, n)] = tile[r : r + 16].T


def _params_equal(a, b):
    if a.keys() != b.keys():
        return False
    for key in a:
        va, vb = a[key], b[key]
        if isinstance(va, np.ndarray) or isinstance(vb, np.ndarray):
            if not np.array_equal(va, vb):
                return False
        elif va != vb:
            return False
    return True
