"""Kernels of any neural-tangents ``stax`` network (the optional extra).

The paper's Myrtle CNN is computed natively by :class:`~qntk_sklearn.kernels.MyrtleNTK`;
:func:`myrtle_layers` builds the same network as ``stax`` layers, which the oracle
tests compare it with.

neural-tangents is an optional extra (``pip install "qntk-sklearn[neural-tangents]"``):
its last release, 0.6.5, does not import on jax >= 0.6 and imports TensorFlow, so it is
imported lazily, on the first kernel evaluation, never when this module is imported.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._parallel import map_blocks
from ._base import NTKKernelBase, check_kernel_input, x64

_INSTALL_HINT = (
    "pip install 'qntk-sklearn[neural-tangents]' "
    "(neural-tangents 0.6.5 requires jax < 0.6)"
)

#: Covariance entries one ``kernel_fn`` call may hold (per array), 128 MiB in float64.
_MAX_COV_ENTRIES = 2**24

#: Largest number of rows (or of pairs) per ``kernel_fn`` call, whatever the input.
_MAX_BATCH = 2048


def _import_stax(owner):
    """Return ``neural_tangents.stax``, or raise ImportError naming the extra."""
    try:
        from neural_tangents import stax
    except Exception as exc:  # ImportError, or a failure inside it on jax >= 0.6
        raise ImportError(
            f"{owner} needs neural-tangents: {_INSTALL_HINT}. "
            f"Importing it failed with: {exc!r}"
        ) from exc
    return stax


def _check_get(get):
    if get not in ("ntk", "nngp"):
        raise ValueError(f"`get` must be 'ntk' or 'nngp'; got {get!r}.")
    return get


def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, numbers.Integral)
        or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be a positive int or None; got {batch_size!r}."
        )
    return int(batch_size)


def _spatial_size(X):
    """Number of spatial positions of an (n, ..., channels) input; 1 for (n, d)."""
    return int(np.prod(X.shape[1:-1])) if X.ndim > 2 else 1


def _bucket(n, cap):
    """Call size for ``n`` rows: the next power of two, at most ``cap``.

    Padding every call to a few sizes keeps the number of jit compilations (seconds
    each for a deep CNN) small.
    """
    return min(cap, 1 << max(n - 1, 0).bit_length())


def _padded(X, size):
    """``X`` with its first row repeated until it has ``size`` rows (one jit shape)."""
    missing = size - X.shape[0]
    if missing <= 0:
        return X
    return np.concatenate([X, np.repeat(X[:1], missing, axis=0)])


class _StaxKernelBase(NTKKernelBase):
    """Evaluation of a neural-tangents ``kernel_fn``: tiles, pairs, float64.

    Subclasses provide ``_kernel_fn()``, ``_cache_key()`` (hashable, validates the
    parameters) and ``_input_shape()``. The jitted functions are cached on the
    instance, keyed on what builds them, and left out of pickles and copies.
    """

    def _input_shape(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _kernel_fn(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _cache_key(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _validated_get(self):
        return _check_get(self.get)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_compiled_cache", None)  # jitted functions do not pickle
        return state

    def _compiled(self):
        """``(tile_fn, paired_fn)``: jitted ``kernel_fn`` on all pairs / on pairs."""
        # Validate everything before importing neural-tangents.
        key = (self._cache_key(), self._validated_get())
        _check_batch_size(self.batch_size)
        _import_stax(type(self).__name__)
        cache = getattr(self, "_compiled_cache", None)
        if cache is not None and cache[0] == key:
            return cache[1]
        import jax

        kernel_fn = self._kernel_fn()
        get = key[1]

        def tile(x1, x2):
            return kernel_fn(x1, x2, get)

        def one_pair(x1, x2):
            return kernel_fn(x1[None], x2[None], get)[0, 0]

        compiled = (jax.jit(tile), jax.jit(jax.vmap(one_pair)))
        self._compiled_cache = (key, compiled)
        return compiled

    def _check(self, X, name="X"):
        return check_kernel_input(X, name, shape=self._input_shape())

    def _tile_size(self, X):
        if self.batch_size is not None:
            return _check_batch_size(self.batch_size)
        # One call holds b^2 cross covariances and 2 b self covariances, each of
        # (spatial size)^2 entries for a convolutional network with pooling.
        per_entry = _spatial_size(X) ** 2
        budget = max(_MAX_COV_ENTRIES // per_entry, 3)
        b = max(1, math.isqrt(budget + 1) - 1)  # largest b with b^2 + 2b <= budget
        return 1 << (min(b, _MAX_BATCH).bit_length() - 1)  # a power of two

    def _pair_chunk(self, X):
        if self.batch_size is not None:
            b = _check_batch_size(self.batch_size)
            return b * b
        # Each pair holds its cross and its two self covariances (and the NTK).
        per_pair = 4 * _spatial_size(X) ** 2
        chunk = min(max(_MAX_COV_ENTRIES // per_pair, 1), 2 * _MAX_BATCH)
        return 1 << (chunk.bit_length() - 1)  # a power of two

    def _call_tile(self, tile_fn, X, Y):
        import jax.numpy as jnp

        K = np.asarray(
            tile_fn(jnp.asarray(X, jnp.float64), jnp.asarray(Y, jnp.float64)),
            dtype=np.float64,
        )
        if K.shape != (X.shape[0], Y.shape[0]):
            raise ValueError(
                "`kernel_fn` must return a matrix of shape (n_X, n_Y); got shape "
                f"{K.shape} for inputs of shapes {X.shape} and {Y.shape}. End the "
                "network with a readout such as stax.Flatten(), stax.Dense(1)."
            )
        return K

    def block(self, X, Y, verbose=0, n_jobs=None):
        """Kernel between all rows of ``X`` and ``Y``, one tile per ``kernel_fn`` call.

        When ``Y is X`` only the tiles on and above the diagonal are computed. Tiles
        are padded to a power of two rows and columns (at most ``batch_size``) and
        dispatched through joblib, as in :meth:`NTKKernelBase.block`.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, ...)
        Y : ndarray of shape (n_samples_Y, ...)
        verbose : int, default=0
            If positive, show a progress bar (tqdm) on stderr.
        n_jobs : int or None, default=None
            Workers computing tiles (None: 1 unless in a joblib context).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        """
        self._compiled()  # validate (and compile) before dispatching
        n, m = X.shape[0], Y.shape[0]
        symmetric = Y is X
        b = self._tile_size(X)
        rows, cols = _bucket(n, b), _bucket(m, b)
        tiles = [
            (i, j)
            for i in range(0, n, rows)
            for j in range(i if symmetric else 0, m, cols)
        ]
        K = np.empty((n, m), dtype=np.float64)
        tasks = [(X[i : i + rows], Y[j : j + cols], rows, cols) for i, j in tiles]
        for t, tile in map_blocks(
            self._padded_tile,
            tasks,
            n_jobs=n_jobs,
            verbose=verbose,
            desc="kernel block",
            sizes=[a.shape[0] * c.shape[0] for a, c, _, _ in tasks],
        ):
            i, j = tiles[t]
            ni, nj = tile.shape
            K[i : i + ni, j : j + nj] = tile
            if symmetric and j != i:
                K[j : j + nj, i : i + ni] = tile.T
        return K

    def _padded_tile(self, X, Y, rows, cols):
        """The kernel between ``X`` and ``Y``, padded to ``(rows, cols)`` for jit."""
        tile_fn, _ = self._compiled()
        with x64():  # entered here: jax's x64 switch is per thread
            tile = self._call_tile(tile_fn, _padded(X, rows), _padded(Y, cols))
        return tile[: X.shape[0], : Y.shape[0]]

    def _block(self, X, Y):
        return self.block(X, Y)

    def _paired(self, X, Y):
        import jax.numpy as jnp

        _, paired_fn = self._compiled()
        n = X.shape[0]
        step = _bucket(n, self._pair_chunk(X))
        out = np.empty(n, dtype=np.float64)
        with x64():
            for i in range(0, n, step):
                x, y = _padded(X[i : i + step], step), _padded(Y[i : i + step], step)
                values = paired_fn(
                    jnp.asarray(x, jnp.float64), jnp.asarray(y, jnp.float64)
                )
                out[i : i + step] = np.asarray(values, dtype=np.float64)[: n - i]
        return out

    def _chunked_paired(self, X, Y, rows=None, cols=None, verbose=0, n_jobs=None):
        # ``_paired`` chunks by the covariance memory of the network itself; the
        # pairs' inputs are gathered a bounded number at a time.
        if rows is None:
            rows = cols = np.arange(X.shape[0])
        return super()._chunked_paired(X, Y, rows, cols, verbose, n_jobs)


class StaxKernel(_StaxKernelBase):
    """Kernel of any neural-tangents ``stax`` network, as a scikit-learn kernel.

    Wraps the ``kernel_fn`` of ``stax.serial(...)`` (infinite width, NTK or NNGP) so it
    works as ``SVC(kernel=k)``, in ``GaussianProcessRegressor(kernel=k)`` and in this
    package's estimators, evaluated in float64 whatever JAX's global setting.

    Needs the optional extra: ``pip install "qntk-sklearn[neural-tangents]"``
    (neural-tangents 0.6.5 requires jax < 0.6). Without it, evaluating the kernel
    raises ImportError.

    Parameters
    ----------
    kernel_fn : callable
        ``kernel_fn(x1, x2, get)`` of a neural-tangents network, returning a matrix of
        shape ``(len(x1), len(x2))``: end the network with a readout (``Dense``, after
        ``Flatten`` or a global pooling for images).
    get : {"ntk", "nngp"}, default="ntk"
        The neural tangent kernel or the NNGP kernel.
    input_shape : tuple of int or None, default=None
        Shape of one example as the network expects it, e.g. ``(28, 28, 1)`` for
        NHWC images. Inputs of shape ``(n_samples, prod(input_shape))`` (what
        scikit-learn passes around) are reshaped to ``(n_samples, *input_shape)``.
        None passes the input as it is.
    batch_size : int or None, default=None
        Rows of ``X`` and of ``Y`` per ``kernel_fn`` call (pairs per call are
        ``batch_size**2``). None chooses it so that one call holds about 2**24
        covariance entries, assuming a convolutional network with pooling (whose
        covariances are ``(height * width)**2`` per pair of examples).

    See Also
    --------
    MyrtleNTK : the paper's convolutional network (native, no extra needed).
    FullyConnectedNTK : closed-form fully-connected kernel, no extra needed.

    Notes
    -----
    ``k(X)`` evaluates ``kernel_fn`` tile by tile (only the upper triangle of tiles for
    a symmetric matrix; tiles padded to a power of two rows, so that few shapes are
    compiled); the
    diagonal and :meth:`pairs` evaluate ``kernel_fn`` on single pairs of examples
    under ``jax.vmap``, so a sparse kernel costs only its pattern's entries (each pair
    also recomputes its two self-covariances, about twice the cost of an entry of a
    large tile).

    A ``StaxKernel`` pickles only if its ``kernel_fn`` does, and a ``stax``
    ``kernel_fn`` is a closure that :mod:`pickle` refuses: rebuild the kernel after
    loading.
    Cloning (``sklearn.base.clone``) keeps the same ``kernel_fn``.

    References
    ----------
    .. [1] R. Novak et al., "Neural Tangents: fast and easy infinite neural networks in
       Python", ICLR 2020.
    .. [2] A. Zlokapa, H. Neven, S. Lloyd, "A quantum algorithm for training wide and
       deep classical neural networks", arXiv:2107.09200 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.kernels import StaxKernel
    >>> from neural_tangents import stax  # doctest: +SKIP
    >>> net = stax.serial(stax.Dense(1), stax.Relu(), stax.Dense(1))  # doctest: +SKIP
    >>> k = StaxKernel(kernel_fn=net[2])  # doctest: +SKIP
    >>> k(np.eye(3)).shape  # doctest: +SKIP
    (3, 3)
    """

    def __init__(self, kernel_fn, get="ntk", input_shape=None, batch_size=None):
        self.kernel_fn = kernel_fn
        self.get = get
        self.input_shape = input_shape
        self.batch_size = batch_size

    def _kernel_fn(self):
        if not callable(self.kernel_fn):
            raise TypeError(
                "`kernel_fn` must be a neural-tangents kernel function "
                "kernel_fn(x1, x2, get), e.g. from stax.serial(...); got "
                f"{self.kernel_fn!r}."
            )
        return self.kernel_fn

    def _cache_key(self):
        return id(self.kernel_fn)

    def _input_shape(self):
        shape = self.input_shape
        if shape is None:
            return None
        try:
            shape = tuple(shape)
        except TypeError:
            shape = None
        if (
            not shape
            or any(
                isinstance(s, bool) or not isinstance(s, numbers.Integral)
                for s in shape
            )
            or min(shape) < 1
        ):
            raise ValueError(
                "`input_shape` must be None or a tuple of positive ints, e.g. "
                f"(28, 28, 1); got {self.input_shape!r}."
            )
        return tuple(int(s) for s in shape)


def myrtle_layers(stax, depth, W_std, b_std):
    """The layers of the paper's Myrtle-like network, as ``stax`` layers.

    ``[Conv3x3 SAME, ReLU] x depth/3, AvgPool 2x2/2, [Conv3x3, ReLU] x depth/3,
    AvgPool, [Conv3x3, ReLU] x depth/3, AvgPool x 2, Flatten, Dense(2), Erf,
    Dense(1)``. Each stage's repeated layers are folded into ``stax.repeat`` (one
    ``lax.scan``; two layers per step, since a convolution reverses the spatial axes of
    neural-tangents' covariance), which compiles about four times faster than the
    unrolled ``stax.serial`` and computes the same kernel.
    """
    per_stage = depth // 3

    def conv_relu():
        return [
            stax.Conv(1, (3, 3), padding="SAME", W_std=W_std, b_std=b_std),
            stax.Relu(),
        ]

    def stage():
        layers = conv_relu()
        pairs, extra = divmod(per_stage - 1, 2)
        if pairs >= 2:
            layers.append(stax.repeat(stax.serial(*conv_relu(), *conv_relu()), pairs))
        else:
            layers += conv_relu() * (2 * pairs)
        return layers + conv_relu() * extra

    pool = stax.AvgPool((2, 2), strides=(2, 2))
    return [
        *stage(),
        pool,
        *stage(),
        pool,
        *stage(),
        pool,
        pool,
        stax.Flatten(),
        stax.Dense(2, W_std=W_std, b_std=b_std),
        stax.Erf(),
        stax.Dense(1, W_std=W_std, b_std=b_std),
    ]
