"""The layer recursion of the fully-connected NTK, accurate near rho = +-1.

The kernel of ``depth x [Dense, activation] -> Dense(1)`` is a recursion on the
pre-activation covariances ``(q1, q2, c)`` of two inputs. Written naively, it loses
the small quantities that matter where two inputs are nearly parallel:

* erf: ``c = q`` is an *unstable* fixed point of the covariance map (slope about 1.23
  per layer with the paper's ``W_std``), so the gap ``q - c``, computed as the
  difference of two O(1) numbers, carries an absolute error of ~1e-16 per layer that
  the next layers amplify: at depth 100 an entry at ``1 - rho = 1e-12`` was 4e-7
  off a 50-digit reference, at depth 200 a whole factor off at one ulp from 1.
  :func:`erf_equal_norms` tracks the gap itself, through an exact identity for the
  difference of the two arcsines (see its docstring).
* relu: the arc-cosine kernel needs the angle ``t = arccos(rho)``; near ``rho = 1``
  ``arccos`` turns a rounding of 1e-16 in ``rho`` into 1e-8 in ``t``, and near
  ``rho = -1`` ``sin t + (pi - t) cos t`` cancels to 1e-16 absolute.
  :func:`relu_layers` carries the two gaps ``1 - rho`` and ``1 + rho`` and evaluates
  ``sin t - t cos t`` by its series for small angles.

Both are written once for an array module ``xp`` (numpy, or jax.numpy on an
accelerator) and driven by :func:`run_layers` (a Python loop for numpy, a
``lax.fori_loop`` for jax). On CPU numpy is the faster backend for this part: its
float64 ``arcsin``/``arctan2`` are vectorised (about 1-2 ns per element) where XLA
calls scalar libm (9-17 ns); see ``benchmarks/bench_kernel_throughput.py``.
"""

from __future__ import annotations

import math

PI = math.pi

#: Coefficients of ``sin w - w cos w = sum_k (-1)^(k+1) 2k w^(2k+1) / (2k+1)!``,
#: k = 1..7: for ``w < 1/4`` the truncation error is below 1e-17 relative; above, the
#: direct formula loses at most ``3 eps / w^2`` (1e-14) to cancellation.
_S_SERIES = tuple(
    (-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1) for k in range(1, 8)
)
_S_SERIES_MAX = 0.25


def _sin_minus_w_cos(xp, w, sin_w, cos_w):
    """``sin w - w cos w`` to full relative precision for ``0 <= w <= pi``."""
    w2 = w * w
    acc = _S_SERIES[-1]
    for coefficient in reversed(_S_SERIES[:-1]):
        acc = coefficient + w2 * acc
    return xp.where(w < _S_SERIES_MAX, w * w2 * acc, sin_w - w * cos_w)


def run_layers(xp, body, state, depth):
    """Apply ``body`` ``depth`` times to the tuple ``state``."""
    if xp.__name__ == "numpy":
        for _ in range(depth):
            state = body(state)
        return state
    import jax

    return jax.lax.fori_loop(0, depth, lambda _, s: body(s), state)


# --- erf ------------------------------------------------------------------------
def erf_equal_norms(xp, q0, gap0, c0, depth, W2, b2, get):
    """erf kernel of two inputs of equal pre-activation variance ``q0``.

    ``gap0 = q0 - c0`` is given separately, accurate relative to itself. Each layer
    maps ``q -> W2 (2/pi) A_q + b2`` and ``c -> W2 (2/pi) A_c + b2`` with
    ``A_q = atan2(2q, sqrt(1 + 4q))`` and ``A_c = atan2(2c, root)``,
    ``root = sqrt((1 + 2q)^2 - 4c^2) = sqrt((1 + 2 gap)(1 + 2q + 2c))``. The new gap
    is ``W2 (2/pi) (A_q - A_c)``, and for ``c > 0`` the angle difference is
    ``atan2(2q root - 2c sqrt(1 + 4q), sqrt(1 + 4q) root + 4qc)`` whose first argument
    equals ``4 (1 + 2q)^2 gap (q + c) / (2q root + 2c sqrt(1 + 4q))`` exactly: no
    cancellation, whatever the depth. ``gap0 = 0`` (identical inputs) stays exactly 0,
    so the diagonal is computed by the same code.
    """
    scale = W2 * (2.0 / PI)

    def body(state):
        q, g, c, ntk = state
        s = 1.0 + 2.0 * q
        rq = xp.sqrt(1.0 + 4.0 * q)
        a_q = xp.arctan2(2.0 * q, rq)
        root = xp.sqrt((1.0 + 2.0 * g) * (s + 2.0 * c))
        a_c = xp.arctan2(2.0 * c, root)
        c_pos = xp.where(c > 0, c, 0.0)
        denominator = 2.0 * q * root + 2.0 * c_pos * rq
        positive = (c > 0) & (denominator > 0)  # > 0 unless it underflows
        denominator = xp.where(positive, denominator, 1.0)
        numerator = 4.0 * s * s * g * (q + c_pos) / denominator
        delta = xp.where(
            positive, xp.arctan2(numerator, rq * root + 4.0 * q * c_pos), a_q - a_c
        )
        q_new = scale * a_q + b2
        g_new = scale * delta
        # Near the diagonal c = q - gap keeps the gap exact; elsewhere (c <= q/2, e.g.
        # near 0 where an odd kernel needs relative accuracy) c comes directly.
        c_new = xp.where(2.0 * c > q, q_new - g_new, scale * a_c + b2)
        ntk = W2 * ntk * ((4.0 / PI) / root) + c_new
        return q_new, g_new, c_new, ntk

    # q is shared by every entry of equal norm: it keeps its own (often scalar) shape.
    q0 = xp.asarray(q0, dtype=float)
    gap0, c0 = xp.broadcast_arrays(
        xp.asarray(gap0, dtype=float), xp.asarray(c0, dtype=float)
    )
    shape = xp.broadcast_shapes(q0.shape, c0.shape)
    gap0, c0 = xp.broadcast_to(gap0, shape), xp.broadcast_to(c0, shape)
    _, _, c, ntk = run_layers(xp, body, (q0, gap0, c0, c0), depth)
    return ntk if get == "ntk" else c


def erf_general(xp, q1, q2, c0, depth, W2, b2, get):
    """erf kernel for any ``(q1, q2, c)`` (the two inputs' variances may differ).

    The plain recursion, with ``|c|`` clipped to ``sqrt(q1 q2)`` (Cauchy-Schwarz) so
    that the square roots stay real. Accurate away from ``c = +-sqrt(q1 q2)``; inputs
    of equal norm go through :func:`erf_equal_norms` instead.
    """
    scale = W2 * (2.0 / PI)

    def body(state):
        q1, q2, c, ntk = state
        bound = xp.sqrt(q1 * q2)
        c = xp.clip(c, -bound, bound)
        s1 = 1.0 + 2.0 * q1
        s2 = 1.0 + 2.0 * q2
        root = xp.sqrt(s1 * s2 - 4.0 * c * c)
        c_new = scale * xp.arctan2(2.0 * c, root) + b2
        ntk = W2 * ntk * ((4.0 / PI) / root) + c_new
        q1 = scale * xp.arcsin(2.0 * q1 / s1) + b2
        q2 = scale * xp.arcsin(2.0 * q2 / s2) + b2
        return q1, q2, c_new, ntk

    c0 = xp.asarray(c0, dtype=float)
    _, _, c, ntk = run_layers(xp, body, (q1, q2, c0, c0), depth)
    return ntk if get == "ntk" else c


# --- relu -----------------------------------------------------------------------
def relu_layers(xp, q1, q2, gap_plus, gap_minus, c0, depth, W2, b2, get):
    """relu kernel (arc-cosine of degree 1 and 0), for any ``(q1, q2)``.

    ``q2=None`` means two inputs of equal norm (``q2 = q1``), which saves the work of
    unequal variances and keeps ``gap_plus = 0`` exactly 0 (the diagonal).
    ``gap_plus = 1 - rho`` and ``gap_minus = 1 + rho`` of the input correlation
    ``rho = c0 / sqrt(q1 q2)`` are carried separately; the angle of the smaller gap is
    ``2 arcsin(sqrt(gap / 2))``, accurate however close ``rho`` is to +-1. With
    ``a = W2 / 2`` the next correlation's gap is, exactly,
    ``1 - rho' = [a b2 (sqrt q1 - sqrt q2)^2 / (n' + a n + b2) + a n (1 - J)] / n'``
    where ``n = sqrt(q1 q2)``, ``n' = sqrt(q1' q2')`` and
    ``pi (1 - J) = pi (1 - rho) - (sin t - t cos t)``: a sum of non-negative terms.
    After one layer ``rho >= 0``, so only the input can sit near ``rho = -1``.
    """
    a = W2 / 2.0
    equal = q2 is None

    def body(state):
        q1, q2, gp, gm, c, ntk = state
        positive = gp <= 1.0
        small = xp.where(positive, gp, gm)
        w = 2.0 * xp.arcsin(xp.sqrt(0.5 * small))  # t if rho >= 0 else pi - t
        cos_w = 1.0 - small
        s = _sin_minus_w_cos(xp, w, xp.sqrt(gp * gm), cos_w)
        j_pi = xp.where(positive, PI * cos_w + s, s)  # sin t + (pi - t) cos t
        one_minus_j_pi = xp.where(positive, PI * gp - s, PI - s)
        pi_minus_t = xp.where(positive, PI - w, w)
        q1_new = a * q1 + b2
        if equal:
            norm, norm_new, q2_new = q1, q1_new, q2
            gap = (a / PI) * norm * one_minus_j_pi
        else:
            root1, root2 = xp.sqrt(q1), xp.sqrt(q2)
            q2_new = a * q2 + b2
            norm = root1 * root2
            norm_new = xp.sqrt(q1_new) * xp.sqrt(q2_new)
            diff = root1 - root2
            gap = (a * b2) * (diff * diff) / (norm_new + a * norm + b2) + (
                a / PI
            ) * norm * one_minus_j_pi
        c_new = (a / PI) * norm * j_pi + b2
        if b2 > 0:
            gp = gap / norm_new
        else:  # a zero input: rho is undefined, and every entry is 0 anyway
            ok = norm_new > 0
            gp = xp.where(ok, gap / xp.where(ok, norm_new, 1.0), 1.0)
        ntk = W2 * ntk * (pi_minus_t / (2.0 * PI)) + c_new
        return q1_new, q2_new, gp, 2.0 - gp, c_new, ntk

    # q1 and q2 keep their own shapes (a column and a row in a block).
    q1 = xp.asarray(q1, dtype=float)
    q2 = q1 if equal else xp.asarray(q2, dtype=float)
    gp, gm, c0 = (xp.asarray(v, dtype=float) for v in (gap_plus, gap_minus, c0))
    shape = xp.broadcast_shapes(q1.shape, q2.shape, gp.shape, gm.shape, c0.shape)
    gp, gm, c0 = (xp.broadcast_to(v, shape) for v in (gp, gm, c0))
    state = run_layers(xp, body, (q1, q2, gp, gm, c0, c0), depth)
    return state[5] if get == "ntk" else state[4]


# --- front doors ------------------------------------------------------------------
def equal_norm_kernel(xp, activation, get, depth, W2, b2, p, rho, gap_plus, gap_minus):
    """Kernel of two inputs of first-layer variance ``p + b2`` and cosine ``rho``.

    ``p = W2 |x|^2 / d`` is the weight part of the first layer's variance; the caller
    passes ``gap_plus = 1 - rho`` and ``gap_minus = 1 + rho`` as accurately as it knows
    them (exactly, for the interpolation nodes). ``rho = 1`` with ``gap_plus = 0`` is
    the diagonal ``k(x, x)``, bit for bit whatever the shape of the arrays.
    """
    q0 = p + b2
    c0 = p * rho + b2
    if activation == "erf":
        if b2 == 0.0:
            # Odd in rho: evaluate at |rho|, where the gap to +1 is the small one.
            negative = rho < 0
            sign = xp.where(negative, -1.0, 1.0)
            gap = xp.where(negative, gap_minus, gap_plus)
            value = erf_equal_norms(xp, q0, p * gap, xp.abs(c0), depth, W2, b2, get)
            return sign * value
        return erf_equal_norms(xp, q0, p * gap_plus, c0, depth, W2, b2, get)
    if b2 == 0.0:  # p / q0 = 1, also for a zero input (q0 = 0)
        gp, gm = gap_plus, gap_minus
    else:
        gp = p * gap_plus / q0
        gm = (p * gap_minus + 2.0 * b2) / q0
    return relu_layers(xp, q0, None, gp, gm, c0, depth, W2, b2, get)


def general_kernel(xp, activation, get, depth, W2, b2, q1, q2, c0):
    """Kernel from the first-layer covariances ``(q1, q2, c0)`` of any two inputs."""
    if activation == "erf":
        if b2 == 0.0:
            negative = c0 < 0
            value = erf_general(xp, q1, q2, xp.abs(c0), depth, W2, b2, get)
            return xp.where(negative, -value, value)
        return erf_general(xp, q1, q2, c0, depth, W2, b2, get)
    norm = xp.sqrt(q1 * q2)
    ok = norm > 0
    rho = xp.where(ok, xp.clip(c0 / xp.where(ok, norm, 1.0), -1.0, 1.0), 0.0)
    return relu_layers(xp, q1, q2, 1.0 - rho, 1.0 + rho, c0, depth, W2, b2, get)
