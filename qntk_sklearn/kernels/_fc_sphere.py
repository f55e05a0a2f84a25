"""The fully-connected kernel of inputs of equal norm, as a function of their cosine.

For two inputs of the same squared norm ``s`` the pre-activation variances of the two
branches are equal at every layer, so the kernel depends on the cosine
``rho = x . x' / (|x| |x'|)`` alone: ``k(x, x') = F_s(rho)``. :class:`SphereTable`
tabulates ``F_s`` once, by piecewise polynomials, and evaluates every entry in O(1)
whatever the depth.

The pieces resolve where deep kernels are steep. With ``g = 1 - |rho|`` (exact in
floating point for ``|rho| >= 1/2``), the tails ``|rho| > 1/2`` are split into the
binary octaves ``2^(e-1) <= g < 2^e``, e = -52..-1 (every representable ``rho < 1``
falls in one), each into ``pieces_per_octave`` pieces linear in the mantissa of
``g``: pieces uniform in ``log2(1 - |rho|)``, which is where a deep erf kernel varies
(the gap ``q - c`` grows by ~1.23 per layer, so at depth L the kernel changes on the
scale ``1.23^-L`` of ``1 - rho``) and where relu's ``sqrt(1 -+ rho)`` singularities
are smooth. The middle ``|rho| <= 1/2`` has ``middle_pieces`` uniform pieces (for an
odd kernel, erf without bias, the table holds ``F(rho) / rho`` there, so that the
kernel keeps its relative accuracy down to ``rho = 0``). On each piece ``F`` is
interpolated at ``degree + 1`` Chebyshev points, then stored as monomial coefficients
in the piece's local variable ``x in [-1, 1]`` (the Chebyshev coefficients decay fast
enough that Horner's rule loses nothing measurable). ``rho = +-1`` exactly return the
recursion's value there (the diagonal for ``rho = 1``).

The nodes are evaluated by the accurate recursion of :mod:`._fc_recursion` at their
exact gaps (never through a rounded ``rho``), in numpy; the table is evaluated by one
fused XLA loop (a few ns per entry on CPU, against 60-200 ns for the same steps as
numpy array passes), on whichever device jax uses.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._fc_recursion import equal_norm_kernel

#: Octaves of ``g = 1 - |rho|`` below 1/2: ``2^-53 <= g < 1/2``.
_OCTAVES = 52
#: Pieces per octave, Chebyshev points per piece, pieces of the middle. With these the
#: interpolation error is ~1e-15 relative (measured against the recursion for erf and
#: relu, depth 1-500, several W_std and b_std), below the recursion's own rounding.
PIECES_PER_OCTAVE = 2
POINTS = 16
MIDDLE_PIECES = 8

#: Entries are evaluated in flat chunks whose sizes are one of these buckets (the
#: last chunk is padded up), so that XLA compiles the evaluator a bounded number of
#: times whatever the shapes of the blocks.
_BUCKETS = tuple(
    sorted({int(1.5 * 2**k) for k in range(9, 20)} | {2**k for k in range(10, 21)})
)


def _chebyshev_points(n):
    """Chebyshev points of the first kind on [-1, 1] (no endpoints)."""
    return np.cos(math.pi * (np.arange(n) + 0.5) / n)


@functools.lru_cache(maxsize=4)
def _conversions(n):
    """Matrices from values at :func:`_chebyshev_points` to Chebyshev coefficients,
    and from those to monomial coefficients (applied one after the other: their
    product has large entries of both signs and would lose ~4 digits)."""
    # Values -> Chebyshev coefficients (discrete orthogonality): a = f @ to_cheb.
    T = np.cos(np.outer(math.pi * (np.arange(n) + 0.5) / n, np.arange(n)))  # T_k(x_j)
    to_cheb = T * (2.0 / n)
    to_cheb[:, 0] /= 2.0
    # Chebyshev -> monomial coefficients: row k holds T_k's.
    to_mono = np.zeros((n, n))
    for k in range(n):
        to_mono[k, : k + 1] = np.polynomial.chebyshev.cheb2poly(np.eye(n)[k][: k + 1])
    return to_cheb, to_mono


class SphereTable:
    """``F(rho)``, the kernel of two inputs of first-layer weight variance ``p``.

    Parameters
    ----------
    activation, get, depth, W2, b2 : the kernel's parameters (``W2 = W_std**2``).
    p : float
        ``W2 * s / d`` for inputs of squared norm ``s`` in dimension ``d`` (1 for the
        homogeneous relu kernel without bias, whose table serves every norm).
    """

    def __init__(self, activation, get, depth, W2, b2, p):
        self.odd = activation == "erf" and b2 == 0.0
        self.kernel = functools.partial(
            equal_norm_kernel, np, activation, get, depth, W2, b2, p
        )
        n = POINTS
        x = _chebyshev_points(n)
        # Tails: g in [2^(e-1), 2^e) as mantissa m in [1/2, 1), pieces linear in m.
        exponents = np.arange(-_OCTAVES, 0)
        lower = 0.5 + np.arange(PIECES_PER_OCTAVE) / (2 * PIECES_PER_OCTAVE)
        m = lower[None, :, None] + (x + 1.0)[None, None, :] / (4 * PIECES_PER_OCTAVE)
        g = np.ldexp(m, exponents[:, None, None]).reshape(-1, n)
        # (rho, 1 - rho, 1 + rho) of every node, each gap exact: one recursion run.
        nodes = [(1.0 - g, g, 2.0 - g)]
        if not self.odd:
            nodes.append((g - 1.0, 2.0 - g, g))
        if self.odd:  # F(rho) / rho on [0, 1/2]
            lower = np.arange(MIDDLE_PIECES) / (2 * MIDDLE_PIECES)
            r = lower[:, None] + (x + 1.0)[None, :] / (4 * MIDDLE_PIECES)
        else:  # F(rho) on [-1/2, 1/2]
            lower = -0.5 + np.arange(MIDDLE_PIECES) / MIDDLE_PIECES
            r = lower[:, None] + (x + 1.0)[None, :] / (2 * MIDDLE_PIECES)
        nodes.append((r, 1.0 - r, 1.0 + r))
        # ... and rho = +1, -1 exactly, at the end.
        nodes.append(
            (np.array([[1.0, -1.0]]), np.array([[0.0, 2.0]]), np.array([[2.0, 0.0]]))
        )
        rho, gap_plus, gap_minus = (
            np.concatenate([np.ravel(node[i]) for node in nodes]) for i in range(3)
        )
        flat = self._at(rho, gap_plus, gap_minus)
        self.ends = flat[-2:].copy()
        values = flat[:-2].reshape(-1, n)
        if self.odd:
            values[-MIDDLE_PIECES:] /= r
        # (degree + 1, pieces): row k holds every piece's coefficient of x^k.
        to_cheb, to_mono = _conversions(n)
        self.coefficients = np.ascontiguousarray(((values @ to_cheb) @ to_mono).T)

    def _at(self, rho, gap_plus, gap_minus):
        with np.errstate(over="ignore", invalid="ignore"):
            return self.kernel(rho, gap_plus, gap_minus)

    def __call__(self, rho, xp=np, out=None):
        """``F(rho)`` for an array of cosines (clipped to [-1, 1]), any shape.

        ``xp`` is numpy (host arrays in and out, evaluated by XLA on the CPU) or
        jax.numpy (device arrays in and out). With numpy, ``out`` (a contiguous float64
        array of the shape of ``rho``, which may be ``rho`` itself) receives the
        values.
        """
        from ._base import x64

        with x64():
            import jax

            coefficients, ends = self._device_arrays()
            evaluate = _evaluator()
            if xp is not np:
                return self._call_device(rho, coefficients, ends, evaluate)
            rho = np.ascontiguousarray(rho, dtype=np.float64)
            out = np.empty_like(rho) if out is None else out
            flat, flat_out = rho.reshape(-1), out.reshape(-1)
            for start in range(0, flat.size, _BUCKETS[-1]):
                chunk = flat[start : start + _BUCKETS[-1]]
                size = chunk.size
                bucket = next(b for b in _BUCKETS if b >= size)
                if bucket != size:
                    chunk = np.concatenate([chunk, np.zeros(bucket - size)])
                values = evaluate(coefficients, ends, jax.device_put(chunk), self.odd)
                flat_out[start : start + size] = np.asarray(values)[:size]
            return out

    def _device_arrays(self):
        cached = getattr(self, "_on_device", None)
        if cached is None:
            import jax.numpy as jnp

            cached = (jnp.asarray(self.coefficients), jnp.asarray(self.ends))
            self._on_device = cached
        return cached

    def _call_device(self, rho, coefficients, ends, evaluate):
        import jax.numpy as jnp

        rho = jnp.asarray(rho, dtype=jnp.float64)
        flat = rho.reshape(-1)
        parts = []
        for start in range(0, flat.shape[0], _BUCKETS[-1]):
            chunk = flat[start : start + _BUCKETS[-1]]
            size = chunk.shape[0]
            bucket = next(b for b in _BUCKETS if b >= size)
            if bucket != size:
                chunk = jnp.concatenate([chunk, jnp.zeros(bucket - size)])
            parts.append(evaluate(coefficients, ends, chunk, self.odd)[:size])
        if not parts:
            return jnp.zeros(rho.shape)
        return (parts[0] if len(parts) == 1 else jnp.concatenate(parts)).reshape(
            rho.shape
        )


@functools.cache
def _evaluator():
    import jax

    return jax.jit(_evaluate, static_argnames=("odd",))


def _evaluate(coefficients, ends, rho, odd):
    """The table at ``rho`` (flat): piece index from the float's exponent, Horner."""
    import jax.numpy as jnp

    P, M = PIECES_PER_OCTAVE, MIDDLE_PIECES
    r = jnp.clip(rho, -1.0, 1.0)
    a = jnp.abs(r)
    g = 1.0 - a
    mantissa, exponent = jnp.frexp(g)
    tail = g < 0.5
    t = (mantissa - 0.5) * (2 * P)
    sub = jnp.clip(t.astype(jnp.int32), 0, P - 1)
    piece = (exponent + _OCTAVES) * P + sub
    x = 2.0 * (t - sub) - 1.0
    if not odd:
        piece = piece + jnp.where(r < 0, _OCTAVES * P, 0)
        middle = 2 * _OCTAVES * P
        u = (r + 0.5) * M
    else:
        middle = _OCTAVES * P
        u = a * (2 * M)
    sub_m = jnp.clip(u.astype(jnp.int32), 0, M - 1)
    piece = jnp.where(tail, piece, middle + sub_m)
    x = jnp.where(tail, x, 2.0 * (u - sub_m) - 1.0)
    piece = jnp.clip(piece, 0, coefficients.shape[1] - 1)  # g = 0: replaced below
    value = coefficients[-1][piece]
    for k in range(coefficients.shape[0] - 2, -1, -1):
        value = coefficients[k][piece] + x * value
    if odd:
        value = jnp.where(tail, value, value * a)
        value = jnp.where(r < 0, -value, value)
    return jnp.where(g == 0.0, jnp.where(r > 0, ends[0], ends[1]), value)
