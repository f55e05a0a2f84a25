"""Infinite-width NTK and NNGP of the paper's Myrtle-like CNN, computed natively.

Written by hand rather than taken from neural-tangents: neural-tangents, archived in
May 2025, needs jax < 0.6 and TensorFlow, and evaluates this network at about 20 ns
per (pair of pixel positions, layer) on a CPU. The recursion below is neural-tangents'
``stax`` kernel of the same network, operation for operation (same formulas, same zero
padding and pooling conventions); its per-layer step is a compiled loop (see
``_conv_loops``). neural-tangents stays the test oracle.

The covariance of a pair of images is indexed ``[h, h', w, w']`` (position
``p = (h, w)`` of the first image, ``q = (h', w')`` of the second). A 3x3 'SAME'
convolution maps it to the sum over the nine joint shifts ``(p + d, q + d)`` divided by
9 (zero outside the image); ReLU acts entry by entry given the two images' variances
``v1[p]``, ``v2[q]``; 2x2 average pooling sums 2x2 windows of ``p`` and of ``q`` and
divides by 16 ('VALID': an odd last row or column is dropped); ``Flatten`` averages
the diagonal ``p = q``.

Each image's own recursion runs once (its variances at every layer are what the ReLU
step of a cross covariance needs); each pair then runs only its cross covariance.
"""

from __future__ import annotations

import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._parallel import progress_bar
from ._base import NTKKernelBase, check_kernel_input

_SQRT2 = math.sqrt(2.0)
_TWO_PI = 2.0 * math.pi

#: Covariance entries per buffer of one pass (a batch of pairs): at least one pair,
#: batched up to about 512 KiB for the small arrays of the pooled stages.
_PASS_ENTRIES = 2**16

#: Bytes of per-image statistics (variances at every layer) held at once.
_STATS_BYTES = 2**28


# --- the layers, acting on covariances ----------------------------------------------
def _compiled_loops():
    """The numba loops, imported on first use (numba adds ~0.3 s to an import)."""
    from . import _conv_loops

    return _conv_loops


def _padded(lead, H, W):
    """A zero (2, *lead, H + 2, H + 2, W + 2, W + 2) buffer: [Sigma, Theta] x 2 pi."""
    return np.zeros((2,) + lead + (H + 2, H + 2, W + 2, W + 2))


def _interior(G):
    return G[..., 1:-1, 1:-1, 1:-1, 1:-1]


def _input_covariance(G, x, y):
    """Write ``2 pi sum_c x[p, c] y[q, c] / C`` into slot 0 of the buffer ``G``."""
    cov = np.einsum("bhwc,bgvc->bhgwv", x, y, optimize=True)
    _interior(G[0])[...] = cov * (_TWO_PI / x.shape[-1])
    return G


def _pool(G):
    """2x2 average pooling, stride 2, 'VALID', of both positions, into a new buffer."""
    A = _interior(G)
    H, W = A.shape[-4] // 2, A.shape[-2] // 2
    A = A[..., : 2 * H, : 2 * H, : 2 * W, : 2 * W]
    for axis in (-1, -2, -3, -4):  # pairwise sums, one axis at a time
        index = [slice(None)] * A.ndim
        index[axis] = slice(0, None, 2)
        even = A[tuple(index)]
        index[axis] = slice(1, None, 2)
        A = even + A[tuple(index)]
    out = _padded(G.shape[1:-4], H, W)
    np.divide(A, 16.0, out=_interior(out))
    return out


def _diagonal(G):
    """The entries ``p = q`` of (..., H, H, W, W), as (..., H, W) (a view)."""
    return np.diagonal(np.diagonal(G, axis1=-4, axis2=-3), axis1=-3, axis2=-2)


def _stage(G, count, c, b2, variances=None):
    """``count`` layers of ``Conv3x3 -> ReLU`` on the buffer ``G`` (see _padded).

    ``c = W_std**2 / (9 * 2 pi)``. ``variances[i]`` is the pair ``(v1, v2)`` of the
    two images' variances after convolution ``i``, each (batch, H, W); None means
    each pair is an image with itself: the variances are then the diagonal of the
    covariance, and are returned.

    Returns ``(G, seen)``: the buffer after the last ReLU and the list of variances
    used (for ``variances=None``).
    """
    loops = _compiled_loops()
    B, H, W = G.shape[1], G.shape[2] - 2, G.shape[4] - 2
    out = np.zeros_like(G)
    seen = []
    for i in range(count):
        x, y = G.reshape(-1), out.reshape(-1)
        if variances is None:
            loops.conv(x, y, c, b2, B, H, W)
            v = np.ascontiguousarray(_diagonal(_interior(out[0])))
            seen.append(v)
            loops.relu(y, v.reshape(-1), v.reshape(-1), B, H, W)
        else:
            v1, v2 = variances[i]
            # The variances laid out as the (w, w') planes: v1 along w, v2 along w'.
            V1 = np.zeros((B, H, W + 2, W + 2))
            V2 = np.zeros((B, H, W + 2, W + 2))
            V1[:, :, 1:-1, 1:-1] = v1[:, :, :, None]
            V2[:, :, 1:-1, 1:-1] = v2[:, :, None, :]
            loops.conv_relu(x, y, V1.reshape(-1), V2.reshape(-1), c, b2, B, H, W)
        G, out = out, G
    return G, seen


def _flatten(G):
    """neural-tangents' ``Flatten`` of the buffer: the mean over p = q, / 2 pi."""
    return _diagonal(_interior(G)).mean(axis=(-2, -1)) / _TWO_PI


def _head(sigma, theta, q1, q2, W2, b2):
    """``Dense(2) -> Erf -> Dense(1)`` on the flattened covariances (arrays of pairs).

    ``sigma``, ``theta``: the pair's NNGP and NTK after ``Flatten``; ``q1``, ``q2``:
    each image's own NNGP there. Returns ``(ntk, nngp)`` of the network's output.
    """
    q1 = W2 * q1 + b2
    q2 = W2 * q2 + b2
    sigma = W2 * sigma + b2
    theta = sigma + W2 * theta
    # neural-tangents' Erf: arctan2(2 s, sqrt((1 + 2 q1)(1 + 2 q2) - 4 s^2)).
    root = np.sqrt(np.maximum((1 + 2 * q1) * (1 + 2 * q2) - 4 * sigma * sigma, 0.0))
    sigma = (2 / math.pi) * np.arctan2(2 * sigma, root)
    theta = theta * ((4 / math.pi) / root)
    sigma = W2 * sigma + b2
    theta = sigma + W2 * theta
    return theta, sigma


class _Network:
    """The recursion of one parameter set, on batches of images and of pairs."""

    def __init__(self, depth, image_shape, W_std, b_std, get, batch_size):
        self.per_stage = depth // 3
        self.W2 = W_std * W_std
        self.b2 = b_std * b_std
        self.c = self.W2 / (9.0 * _TWO_PI)
        self.ntk = get == "ntk"
        H, W, _ = image_shape
        self.shapes = []  # spatial shape of each of the three stages
        for _ in range(3):
            self.shapes.append((H, W))
            H, W = H // 2, W // 2
        entries = [(h + 2) ** 2 * (w + 2) ** 2 for h, w in self.shapes]
        if batch_size is None:
            self.batches = [max(1, _PASS_ENTRIES // e) for e in entries]
        else:
            self.batches = [batch_size] * 3
        #: Pairs per group (one thread's work): enough to fill the last stage's pass.
        self.group = max(self.batches)
        #: float64 numbers of statistics kept per image (variances of every layer).
        self.stats_size = self.per_stage * sum(h * w for h, w in self.shapes) + 2

    @staticmethod
    def _pools(stage):
        return 1 if stage < 2 else 2

    def _head_of(self, G, q1, q2):
        sigma, theta = _flatten(G)
        ntk, nngp = _head(sigma, theta, q1, q2, self.W2, self.b2)
        return ntk if self.ntk else nngp

    def self_stats(self, X):
        """Each image's variances at every layer, its flattened NNGP and its kernel.

        Returns ``(variances, q, k_self)``: ``variances[s]`` of shape
        (per_stage, n, H_s, W_s), ``q`` and ``k_self`` of shape (n,) (``k_self`` is
        the kernel of the image with itself, NTK or NNGP as ``get`` says).
        """
        n = X.shape[0]
        variances = [np.empty((self.per_stage, n) + s) for s in self.shapes]
        q = np.empty(n)
        k_self = np.empty(n)
        step = self.batches[0]
        H, W = self.shapes[0]
        for i in range(0, n, step):
            x = X[i : i + step]
            G = _input_covariance(_padded((x.shape[0],), H, W), x, x)
            for s in range(3):
                G, seen = _stage(G, self.per_stage, self.c, self.b2)
                variances[s][:, i : i + step] = seen
                for _ in range(self._pools(s)):
                    G = _pool(G)
            q[i : i + step] = _flatten(G)[0]
            k_self[i : i + step] = self._head_of(G, q[i : i + step], q[i : i + step])
        return variances, q, k_self

    def pairs(self, X1, X2, stats1, stats2, i1, i2):
        """Kernel between ``X1[i1[k]]`` and ``X2[i2[k]]`` for every k (one group).

        Each stage runs in passes of ``batches[s]`` pairs; the pooled outputs of a
        stage are gathered for the next one (its arrays are 16 times smaller).
        """
        m = i1.shape[0]
        G_next = None
        H, W = self.shapes[0]
        for s in range(3):
            step = self.batches[s]
            outputs = []
            for a in range(0, m, step):
                j1, j2 = i1[a : a + step], i2[a : a + step]
                if s == 0:
                    G = _input_covariance(_padded(j1.shape, H, W), X1[j1], X2[j2])
                else:
                    G = np.ascontiguousarray(G_next[:, a : a + step])
                variances = [
                    (stats1[0][s][layer, j1], stats2[0][s][layer, j2])
                    for layer in range(self.per_stage)
                ]
                G, _ = _stage(G, self.per_stage, self.c, self.b2, variances)
                for _ in range(self._pools(s)):
                    G = _pool(G)
                outputs.append(G)
            G_next = np.concatenate(outputs, axis=1)
        return self._head_of(G_next, stats1[1][i1], stats2[1][i2])


def _check_int(name, value, low, rule):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < low
    ):
        raise ValueError(f"`{name}` must be {rule}; got {value!r}.")
    return int(value)


class MyrtleNTK(NTKKernelBase):
    """Kernel of the paper's Myrtle-like convolutional network, computed natively.

    ``[Conv3x3 SAME, ReLU] x depth/3, AvgPool 2x2/2, [Conv3x3, ReLU] x depth/3,
    AvgPool, [Conv3x3, ReLU] x depth/3, AvgPool x 2, Flatten, Dense(2), Erf,
    Dense(1)`` at infinite width, in neural-tangents' NTK parameterisation (every
    layer with weight scale ``W_std`` and bias scale ``b_std``; a convolution's fan-in
    is ``3 * 3 * channels``; 'SAME' convolutions pad with zeros; pooling is 'VALID'),
    computed in float64 by the exact covariance recursion over pairs of pixel
    positions. No optional dependency is needed; it equals neural-tangents' ``stax``
    kernel of the same network to about 1e-15 (tested against it).

    Parameters
    ----------
    depth : int, default=96
        Number of convolutional layers, a positive multiple of 3 (the paper uses 96).
    image_shape : tuple of int, default=(28, 28, 1)
        ``(height, width, channels)`` of one image; height and width at least 16 (the
        network halves them four times with 'VALID' pooling). Inputs may be flattened,
        ``(n_samples, height * width * channels)``, or ``(n_samples, *image_shape)``.
    W_std : float, default=sqrt(2)
        Weight scale of every layer.
    b_std : float, default=0.0
        Bias scale of every layer.
    get : {"ntk", "nngp"}, default="ntk"
        The neural tangent kernel or the NNGP kernel.
    batch_size : int or None, default=None
        Pairs of images per vectorised pass. None chooses it so that one covariance
        array holds about 2**16 numbers (512 KiB) in each stage.
    n_jobs : int or None, default=None
        Threads evaluating groups of pairs at once (numpy releases the GIL in its
        array passes). None means 1, -1 all processors.

    See Also
    --------
    StaxKernel : any neural-tangents network (optional extra).
    FullyConnectedNTK : the paper's fully-connected network.

    Notes
    -----
    The covariance of a convolutional network with pooling keeps every pair of pixel
    positions, so a kernel entry costs about ``depth/3 * (H W)**2`` (plus 1/16 and
    1/256 of it for the pooled stages) covariance updates, each a few dozen floating
    point operations. Each image's own recursion (its variances at every layer, which
    the ReLU step of a cross covariance needs) runs once per call, then every pair
    runs only its cross covariance; ``pairs`` gathers the images it needs, so a sparse
    pattern costs only its entries. Memory is bounded: per-image statistics are held
    for at most about 256 MiB of images at a time, and each pass holds a few arrays
    of ``batch_size * (H W)**2`` numbers.

    Measured with ``benchmarks/bench_cnn_kernel.py`` on a shared 2-core CPU, depth
    96, one thread: about 8 ms per entry at 16 x 16 (neural-tangents: 62 ms) and
    0.2 s at 28 x 28 (neural-tangents: 0.84 s); the first call compiles the loops
    (about a second, cached on disk by numba).

    The kernel stores only its parameters: it pickles and clones.

    References
    ----------
    .. [1] V. Shankar, A. Fang, W. Guo, S. Fridovich-Keil, L. Schmidt,
       J. Ragan-Kelley, B. Recht, "Neural kernels without tangents", ICML 2020.
    .. [2] R. Novak et al., "Neural Tangents: fast and easy infinite neural networks in
       Python", ICLR 2020.
    .. [3] A. Zlokapa, H. Neven, S. Lloyd, "A quantum algorithm for training wide and
       deep classical neural networks", arXiv:2107.09200 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.kernels import MyrtleNTK
    >>> k = MyrtleNTK(depth=3, image_shape=(16, 16, 1))
    >>> X = np.random.default_rng(0).normal(size=(3, 256))
    >>> K = k(X)
    >>> K.shape, bool(np.allclose(K, K.T)), bool(np.allclose(np.diag(K), k.diag(X)))
    ((3, 3), True, True)
    >>> bool(np.allclose(k.pairs(X, rows=[0, 2], cols=[1, 1]), K[[0, 2], [1, 1]]))
    True
    """

    def __init__(
        self,
        depth=96,
        image_shape=(28, 28, 1),
        W_std=_SQRT2,
        b_std=0.0,
        get="ntk",
        batch_size=None,
        n_jobs=None,
    ):
        self.depth = depth
        self.image_shape = image_shape
        self.W_std = W_std
        self.b_std = b_std
        self.get = get
        self.batch_size = batch_size
        self.n_jobs = n_jobs

    # --- parameters ---------------------------------------------------------------
    def _validated(self):
        depth = self.depth
        if (
            isinstance(depth, bool)
            or not isinstance(depth, numbers.Integral)
            or depth < 3
            or depth % 3
        ):
            raise ValueError(
                f"`depth` must be a positive multiple of 3 (three stages of "
                f"depth/3 convolutions); got {depth!r}."
            )
        for name, value in (("W_std", self.W_std), ("b_std", self.b_std)):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
            ):
                raise ValueError(
                    f"`{name}` must be a finite real number; got {value!r}."
                )
        if self.W_std <= 0:
            raise ValueError(f"`W_std` must be positive; got {self.W_std!r}.")
        if self.b_std < 0:
            raise ValueError(f"`b_std` must be non-negative; got {self.b_std!r}.")
        if self.get not in ("ntk", "nngp"):
            raise ValueError(f"`get` must be 'ntk' or 'nngp'; got {self.get!r}.")
        if self.batch_size is not None:
            _check_int("batch_size", self.batch_size, 1, "a positive int or None")
        if self.n_jobs is not None and (
            isinstance(self.n_jobs, bool)
            or not isinstance(self.n_jobs, numbers.Integral)
            or self.n_jobs == 0
            or self.n_jobs < -1
        ):
            raise ValueError(
                f"`n_jobs` must be None, -1 or a positive int; got {self.n_jobs!r}."
            )
        return _Network(
            int(depth),
            self._input_shape(),
            float(self.W_std),
            float(self.b_std),
            self.get,
            self.batch_size,
        )

    def _input_shape(self):
        shape = self.image_shape
        try:
            shape = tuple(shape)
        except TypeError:
            shape = ()
        if (
            len(shape) != 3
            or any(
                isinstance(s, bool) or not isinstance(s, numbers.Integral)
                for s in shape
            )
            or min(shape[:2]) < 16
            or shape[2] < 1
        ):
            raise ValueError(
                "`image_shape` must be (height, width, channels) with height and width "
                "at least 16 (the network halves them four times) and channels at "
                f"least 1; got {self.image_shape!r}."
            )
        return tuple(int(s) for s in shape)

    def _threads(self, n_jobs=None):
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        if n_jobs is None:
            return 1
        if n_jobs == -1:
            return os.cpu_count() or 1
        return max(1, int(n_jobs))

    def _check(self, X, name="X"):
        return check_kernel_input(X, name, shape=self._input_shape())

    # --- evaluation -----------------------------------------------------------------
    def _max_images(self, net):
        """Images whose statistics fit in the memory budget at once (at least 2)."""
        return max(2, _STATS_BYTES // (8 * net.stats_size))

    def _evaluate(self, net, X1, X2, i1, i2, progress, n_jobs=None):
        """Kernel between ``X1[i1]`` and ``X2[i2]``, images gathered per chunk."""
        out = np.empty(i1.shape[0])
        if out.size == 0:
            return out
        # Chunks of pairs whose distinct images fit the statistics budget.
        limit = self._max_images(net)
        bounds = [0]
        seen1, seen2 = set(), set()
        for k in range(i1.shape[0]):
            seen1.add(int(i1[k]))
            seen2.add(int(i2[k]))
            if len(seen1) + len(seen2) > limit:
                bounds.append(k)
                seen1, seen2 = {int(i1[k])}, {int(i2[k])}
        bounds.append(i1.shape[0])
        threads = self._threads(n_jobs)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if X2 is X1:  # one set of images: each image's recursion runs once
                u1 = u2 = np.unique(np.concatenate([i1[lo:hi], i2[lo:hi]]))
                j1 = np.searchsorted(u1, i1[lo:hi])
                j2 = np.searchsorted(u1, i2[lo:hi])
                stats1 = stats2 = net.self_stats(X1[u1])
            else:
                u1, j1 = np.unique(i1[lo:hi], return_inverse=True)
                u2, j2 = np.unique(i2[lo:hi], return_inverse=True)
                stats1, stats2 = net.self_stats(X1[u1]), net.self_stats(X2[u2])
            A1, A2 = X1[u1], X2[u2]
            groups = [
                (a, min(a + net.group, hi - lo)) for a in range(0, hi - lo, net.group)
            ]

            def run(bounds_, A1=A1, A2=A2, stats1=stats1, stats2=stats2, j1=j1, j2=j2):
                a, b = bounds_
                return net.pairs(A1, A2, stats1, stats2, j1[a:b], j2[a:b])

            if threads > 1 and len(groups) > 1:
                with ThreadPoolExecutor(threads) as pool:
                    results = pool.map(run, groups)
                    for (a, b), values in zip(groups, results, strict=True):
                        out[lo + a : lo + b] = values
                        progress.update(b - a)
            else:
                for a, b in groups:
                    out[lo + a : lo + b] = run((a, b))
                    progress.update(b - a)
        return out

    def block(self, X, Y, verbose=0, n_jobs=None):
        """Kernel between all rows of ``X`` and ``Y``.

        When ``Y is X`` only the entries on and above the diagonal are computed, the
        diagonal from each image alone (as :meth:`diag`).

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, ...)
        Y : ndarray of shape (n_samples_Y, ...)
        verbose : int, default=0
            If positive, show a progress bar on stderr.
        n_jobs : int or None, default=None
            Threads; None uses the kernel's ``n_jobs``.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        """
        net = self._validated()
        X = self._check(X)
        symmetric = Y is X
        Y = X if symmetric else self._check(Y, "Y")
        n, m = X.shape[0], Y.shape[0]
        K = np.empty((n, m))
        if symmetric:
            rows, cols = np.triu_indices(n, k=1)
            progress = progress_bar(rows.size + n, "kernel block", verbose)
            K[rows, cols] = self._evaluate(net, X, X, rows, cols, progress, n_jobs)
            K[cols, rows] = K[rows, cols]
            K[np.arange(n), np.arange(n)] = self._self(net, X, progress)
            return K
        rows, cols = np.divmod(np.arange(n * m), m)
        progress = progress_bar(n * m, "kernel block", verbose)
        K.reshape(-1)[:] = self._evaluate(net, X, Y, rows, cols, progress, n_jobs)
        return K

    def _self(self, net, X, progress):
        out = np.empty(X.shape[0])
        step = self._max_images(net)
        for i in range(0, X.shape[0], step):
            out[i : i + step] = net.self_stats(X[i : i + step])[2]
            progress.update(min(step, X.shape[0] - i))
        return out

    def _block(self, X, Y):  # pragma: no cover - block is overridden
        return self.block(X, Y)

    def _paired(self, X, Y):  # pragma: no cover - _chunked_paired is overridden
        idx = np.arange(X.shape[0])
        return self._evaluate(self._validated(), X, Y, idx, idx, progress_bar(0, "", 0))

    def _chunked_paired(self, X, Y, rows=None, cols=None, verbose=0, n_jobs=None):
        net = self._validated()
        if rows is None:  # the diagonal: each image with itself
            return self._self(net, X, progress_bar(X.shape[0], "kernel diag", verbose))
        progress = progress_bar(rows.shape[0], "kernel pairs", verbose)
        return self._evaluate(net, X, Y, rows, cols, progress, n_jobs)

    def clip_threshold(self, X):
        """The paper's CNN ``k_thresh``: the largest off-diagonal ``|k|`` of 16 inputs.

        The authors take it over a class-balanced 16-example training subset (what
        ``QuantumNTKClassifier(sparsity="threshold")`` does); a kernel does not know
        the classes, so this uses 16 evenly spaced rows of ``X`` (all rows if fewer).
        """
        X = self._check(X)
        n = X.shape[0]
        subset = X[np.unique(np.linspace(0, n - 1, min(n, 16)).round().astype(int))]
        if subset.shape[0] < 2:
            return float(np.abs(self.diag(subset)).max())
        K = self.block(subset, subset)
        return float(np.abs(K[~np.eye(subset.shape[0], dtype=bool)]).max())
