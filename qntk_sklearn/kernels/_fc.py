"""Closed-form infinite-width NTK and NNGP of a fully-connected network.

Written by hand rather than taken from neural-tangents: neural-tangents 0.6.5 does not
import on jax >= 0.6 and pulls in TensorFlow, and the fully-connected kernel is a short
elementwise recursion on (q1, q2, c12) that we can evaluate on arbitrary (row, column)
pairs, which the sparse path needs. neural-tangents stays the test oracle.
"""

from __future__ import annotations

import math
import numbers
from functools import partial

import numpy as np

from ._base import NTKKernelBase, x64

_ACTIVATIONS = ("erf", "relu")

#: E[erf(z)^2] for z ~ N(0, 1): the paper's normalisation of erf.
ERF_SECOND_MOMENT = (2.0 / math.pi) * math.asin(2.0 / 3.0)


def default_W_std(activation):
    """The weight scale that makes the activation's second moment one.

    ``1/sqrt(E[erf(z)^2])`` for erf (the paper's "normalised erf") and ``sqrt(2)`` for
    relu (He initialisation).

    >>> round(default_W_std("erf"), 6)
    1.467167
    >>> round(default_W_std("relu") ** 2, 12)
    2.0
    """
    if activation == "erf":
        return 1.0 / math.sqrt(ERF_SECOND_MOMENT)
    if activation == "relu":
        return math.sqrt(2.0)
    raise ValueError(f"`activation` must be one of {_ACTIVATIONS}; got {activation!r}.")


def nonlinearity_coefficient(activation):
    """The paper's coefficient of nonlinearity ``mu = 1 - E[z sigma(z)]^2``.

    ``sigma`` is the activation scaled by :func:`default_W_std` so that
    ``E[sigma(z)^2] = 1`` (z ~ N(0, 1)).

    >>> round(nonlinearity_coefficient("erf"), 4)
    0.0864
    >>> nonlinearity_coefficient("relu")
    0.5
    """
    if activation == "erf":
        # E[z erf(z)] = 2 / sqrt(3 pi).
        m = 2.0 / math.sqrt(3.0 * math.pi) * default_W_std("erf")
    elif activation == "relu":
        m = 0.5 * math.sqrt(2.0)
    else:
        raise ValueError(
            f"`activation` must be one of {_ACTIVATIONS}; got {activation!r}."
        )
    return float(round(1.0 - m * m, 15))


def _recursion(q1, q2, c, depth, W2, b2, activation, get):
    """The NTK/NNGP recursion on pre-activation covariances, elementwise (jax)."""
    import jax
    import jax.numpy as jnp

    def act(q1, q2, c):
        if activation == "erf":
            s1 = 1.0 + 2.0 * q1
            s2 = 1.0 + 2.0 * q2
            # arcsin(2c / sqrt(s1 s2)) = atan2(2c, root): one shared square root.
            root = jnp.sqrt(s1 * s2 - 4.0 * c * c)
            cov = (2.0 / jnp.pi) * jnp.arctan2(2.0 * c, root)
            dot = (4.0 / jnp.pi) / root
            n1 = (2.0 / jnp.pi) * jnp.arcsin(2.0 * q1 / s1)
            n2 = (2.0 / jnp.pi) * jnp.arcsin(2.0 * q2 / s2)
        else:  # relu: the arc-cosine kernel of degree 1
            norm = jnp.sqrt(q1 * q2)
            safe = jnp.where(norm > 0, norm, 1.0)
            rho = jnp.where(norm > 0, jnp.clip(c / safe, -1.0, 1.0), 0.0)
            theta = jnp.arccos(rho)
            cov = (norm * jnp.sqrt(1.0 - rho * rho) + (jnp.pi - theta) * rho * norm) / (
                2.0 * jnp.pi
            )
            dot = (jnp.pi - theta) / (2.0 * jnp.pi)
            n1 = q1 / 2.0
            n2 = q2 / 2.0
        return n1, n2, cov, dot

    # Pairs of identical inputs (x . x' = |x|^2 = |x'|^2 bitwise) follow the diagonal
    # recursion exactly. For erf, c = q is an unstable fixed point of the covariance
    # map (its slope there is W_std^2 E[erf'^2] ~ 1.23 > 1), so a rounding of 1e-16
    # would grow to O(1) over ~170 layers; off the diagonal, |c| is clipped to
    # sqrt(q1 q2) (Cauchy-Schwarz), which keeps every square root real.
    diagonal = (q1 == q2) & (c == q1)

    def body(_, state):
        q1, q2, c, ntk = state
        bound = jnp.sqrt(q1 * q2)
        c = jnp.clip(c, -bound, bound)
        n1, n2, cov, dot = act(q1, q2, c)
        q1_new = W2 * n1 + b2
        c_new = jnp.where(diagonal, q1_new, W2 * cov + b2)
        ntk = W2 * ntk * dot + c_new
        return q1_new, W2 * n2 + b2, c_new, ntk

    state = jax.lax.fori_loop(0, depth, body, (q1, q2, c, c))
    return state[3] if get == "ntk" else state[2]


_jitted = {}


def _compiled(activation, get):
    import jax

    key = (activation, get)
    if key not in _jitted:
        _jitted[key] = jax.jit(
            partial(_recursion, activation=activation, get=get),
        )
    return _jitted[key]


class FullyConnectedNTK(NTKKernelBase):
    """Infinite-width kernel of ``depth x [Dense, activation] -> Dense(1)``.

    The closed-form neural tangent kernel (or NNGP kernel) of a fully-connected network
    in neural-tangents' NTK parameterisation: ``Dense`` scales its weights by
    ``W_std / sqrt(fan_in)`` and adds a bias of scale ``b_std``. The first layer's
    covariance is ``W_std**2 * (x . x') / d + b_std**2``; each hidden layer maps
    ``Theta -> W_std**2 * (Sigma_act + Theta * Sigma_dot) + b_std**2``. Computed in
    float64 whatever JAX's global setting, for any inputs (not only unit-norm ones).

    Parameters
    ----------
    depth : int, default=10
        Number of hidden ``[Dense, activation]`` layers; the readout ``Dense(1)`` comes
        on top.
    activation : {"erf", "relu"}, default="erf"
    W_std : float or None, default=None
        Weight scale. None means the paper's normalisation: ``1/sqrt(E[erf(z)^2])`` for
        erf and ``sqrt(2)`` for relu (see :func:`default_W_std`).
    b_std : float, default=0.0
        Bias scale (the paper uses 0).
    get : {"ntk", "nngp"}, default="ntk"
        The neural tangent kernel (trained network) or the NNGP kernel (random
        network, Bayesian posterior).

    See Also
    --------
    qntk_sklearn.kernels.StaxKernel : any neural-tangents network (optional extra).
    qntk_sklearn.QuantumNTKClassifier : the estimator that uses this kernel.

    Notes
    -----
    For erf, ``E[erf(u) erf(v)] = (2/pi) arcsin(2 c12 / sqrt((1 + 2 q1)(1 + 2 q2)))``
    and ``E[erf'(u) erf'(v)] = (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 c12^2)``; for relu
    the arc-cosine kernels of degree 1 and 0. The kernel is a function of
    ``(|x|^2, |x'|^2, x . x')`` only, which is what lets :meth:`pairs` evaluate single
    entries. Diagonal entries come from the norms: near ``x . x' = |x| |x'|`` a deep
    kernel is so steep that the rounding of a matrix product would move it.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler, "Neural tangent kernel: convergence and
       generalization in neural networks", NeurIPS 2018.
    .. [2] R. Novak et al., "Neural Tangents: fast and easy infinite neural networks in
       Python", ICLR 2020.
    .. [3] A. Zlokapa, H. Neven, S. Lloyd, "A quantum algorithm for training wide and
       deep classical neural networks", arXiv:2107.09200 (2021).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.kernels import FullyConnectedNTK
    >>> X = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> k = FullyConnectedNTK(depth=3)
    >>> K = k(X)
    >>> K.shape, bool(np.allclose(K, K.T)), bool(np.allclose(np.diag(K), k.diag(X)))
    ((2, 2), True, True)
    """

    def __init__(self, depth=10, activation="erf", W_std=None, b_std=0.0, get="ntk"):
        self.depth = depth
        self.activation = activation
        self.W_std = W_std
        self.b_std = b_std
        self.get = get

    def _validated(self):
        depth = self.depth
        if (
            isinstance(depth, bool)
            or not isinstance(depth, numbers.Integral)
            or depth < 1
        ):
            raise ValueError(f"`depth` must be a positive int; got {depth!r}.")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"`activation` must be one of {_ACTIVATIONS}; got {self.activation!r}."
            )
        W_std = default_W_std(self.activation) if self.W_std is None else self.W_std
        for name, value in (("W_std", W_std), ("b_std", self.b_std)):
            if not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(
                    f"`{name}` must be a finite real number; got {value!r}."
                )
        if W_std <= 0:
            raise ValueError(f"`W_std` must be positive; got {W_std!r}.")
        if self.b_std < 0:
            raise ValueError(f"`b_std` must be non-negative; got {self.b_std!r}.")
        if self.get not in ("ntk", "nngp"):
            raise ValueError(f"`get` must be 'ntk' or 'nngp'; got {self.get!r}.")
        return int(depth), float(W_std) ** 2, float(self.b_std) ** 2

    def _from_stats(self, sq1, sq2, dot, d):
        """Kernel from squared norms and inner products of the raw inputs."""
        depth, W2, b2 = self._validated()
        with x64():
            import jax.numpy as jnp

            q1 = jnp.asarray(W2 * sq1 / d + b2, dtype=jnp.float64)
            q2 = jnp.asarray(W2 * sq2 / d + b2, dtype=jnp.float64)
            c = jnp.asarray(W2 * dot / d + b2, dtype=jnp.float64)
            # q1 and q2 keep their own (broadcastable) shapes: in a block they are a
            # column and a row, so the diagonal recursion costs O(m + k), not O(m k).
            c = jnp.broadcast_to(c, jnp.broadcast_shapes(q1.shape, q2.shape, c.shape))
            out = _compiled(self.activation, self.get)(q1, q2, c, depth, W2, b2)
        out = np.asarray(out, dtype=np.float64)
        if not np.all(np.isfinite(out)):
            raise ValueError(
                f"The kernel overflowed float64 at depth={depth} (the NTK grows "
                "geometrically with depth); use a smaller `depth` or `W_std`."
            )
        return out

    def _block(self, X, Y):
        sq_x = np.einsum("ij,ij->i", X, X)
        sq_y = np.einsum("ij,ij->i", Y, Y)
        dot = X @ Y.T
        return self._from_stats(sq_x[:, None], sq_y[None, :], dot, X.shape[1])

    def _paired(self, X, Y):
        sq_x = np.einsum("ij,ij->i", X, X)
        sq_y = np.einsum("ij,ij->i", Y, Y)
        dot = np.einsum("ij,ij->i", X, Y)
        return self._from_stats(sq_x, sq_y, dot, X.shape[1])

    def at_correlation(self, rho, sq_norm=1.0, n_features=1):
        """Kernel between two inputs of squared norm ``sq_norm`` with cosine ``rho``.

        Parameters
        ----------
        rho : float or ndarray
            Cosine of the angle between the two inputs, in [-1, 1].
        sq_norm : float, default=1.0
        n_features : int, default=1
            Input dimension ``d`` (the first layer divides by it).

        Returns
        -------
        value : ndarray of the shape of ``rho``

        Examples
        --------
        >>> from qntk_sklearn.kernels import FullyConnectedNTK
        >>> k = FullyConnectedNTK(depth=50)
        >>> float(k.at_correlation(0.0, n_features=1)) < float(k.at_correlation(1.0))
        True
        """
        rho = np.asarray(rho, dtype=np.float64)
        sq = np.full_like(rho, float(sq_norm))
        return self._from_stats(sq, sq, rho * sq, float(n_features))

    def clip_threshold(self, X):
        """The paper's ``k_thresh``: the kernel at cosine ``1 - 1e-5``.

        Evaluated for two inputs of the median squared norm of ``X`` (for the paper's
        unit-norm inputs, Theta at inner product ``1 - 1e-5``).
        """
        X = self._check(X)
        sq = float(np.median(np.einsum("ij,ij->i", X, X)))
        return float(self.at_correlation(1.0 - 1e-5, sq, X.shape[1]))
