"""Compiled loops of the Myrtle CNN kernel: 3x3 convolution and ReLU on covariances.

Written by hand (with numba) because no library evaluates this recursion without
neural-tangents, and because the step is dominated by per-entry work that only a
fused loop does well: numpy would make about 25 passes over the covariance per
layer (about 12 ns per entry on our 2-core CPU), XLA splits it into several
fusions and calls a scalar float64 ``arctan2`` (about 20 ns, neural-tangents' own
speed); this loop reads the nine neighbours, applies the scale and the ReLU and
writes the result in one pass, vectorised by LLVM (about 2-5 ns).

Arrays are flat views of ``(2, batch, H + 2, H + 2, W + 2, W + 2)`` float64 buffers:
slot 0 is the NNGP covariance Sigma, slot 1 the NTK Theta, both times ``2 pi``
(the ReLU's ``1 / (2 pi)`` is folded into the next layer's scale ``c``), indexed
``[b, h, h', w, w']`` and bordered by zeros, so that the sum over the nine joint shifts
``(p + d, q + d)`` of a 'SAME' convolution needs no bounds tests. Loops write only the
interior, so borders stay zero. Indices are unsigned so that numba emits no
negative-index wraparound tests, which would stop vectorisation.

``arctan2`` is Cephes' ``atan`` (a rational approximation accurate to about 1e-16
after reduction to ``[0, 0.66]`` and ``[0.66, 1]``), written as selects so that the
loop vectorises; it agrees with numpy's ``arctan2`` to a few units in the last place.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_P = (
    -8.750608600031904122785e-1,
    -1.615753718733365076637e1,
    -7.500855792314704667340e1,
    -1.228866684490136173410e2,
    -6.485021904942025371773e1,
)
_Q = (
    2.485846490142306297962e1,
    1.650270098316988542046e2,
    4.328810604912902668951e2,
    4.853903996359136964868e2,
    1.945506571482613964425e2,
)
_MOREBITS = 6.123233995736765886130e-17
_PI = math.pi

_OPTIONS = dict(nogil=True, boundscheck=False, error_model="numpy", cache=True)


@njit(inline="always", **_OPTIONS)
def atan2_nonnegative(y, x):
    """``arctan2(y, x)`` for ``y >= 0`` (0 at ``y = x = 0``), branch-free."""
    ax = abs(x)
    big = y if y > ax else ax
    small = ax if y > ax else y
    # atan(t), t = small / big in [0, 1]; above 0.66, atan(t) = pi/4 + atan(z) with
    # z = (t - 1) / (t + 1) = (small - big) / (small + big): one division either way.
    reduced = small > 0.66 * big
    num = small - big if reduced else small
    den = small + big if reduced else big
    z = num / (den if den > 0.0 else 1.0)
    zz = z * z
    p = (((_P[0] * zz + _P[1]) * zz + _P[2]) * zz + _P[3]) * zz + _P[4]
    q = ((((zz + _Q[0]) * zz + _Q[1]) * zz + _Q[2]) * zz + _Q[3]) * zz + _Q[4]
    a = z + z * (zz * p / q)
    a = a + (0.25 * _PI + 0.5 * _MOREBITS) if reduced else a
    a = 0.5 * _PI - a if y > ax else a
    return _PI - a if x < 0.0 else a


@njit(inline="always", **_OPTIONS)
def _relu_entry(S, P):
    """neural-tangents' ``Relu`` of one entry: ``(2 pi Sigma', pi - angle)``.

    ``sq = sqrt(max(P - S^2, 0))``, ``angle = arctan2(sq, S)`` (pi/2 where both are
    0), ``2 pi Sigma' = sq + (pi - angle) S``; ``dot = (pi - angle) / (2 pi)``.
    """
    e = P - S * S
    sq = math.sqrt(e if e > 0.0 else 0.0)
    angle = atan2_nonnegative(sq, S)
    angle = 0.5 * _PI if (sq == 0.0 and S == 0.0) else angle
    d = _PI - angle
    return sq + d * S, d


@njit(**_OPTIONS)
def conv_relu(X, Y, v1, v2, c, b2, B, H, W):
    """One ``Conv3x3 -> ReLU`` of a pair covariance: ``Y`` from ``X``.

    ``X``, ``Y``: flat (2, B, H+2, H+2, W+2, W+2) buffers (see the module notes);
    ``v1``, ``v2``: flat (B, H, W+2, W+2) variances of the two images after this
    convolution, laid out as the planes: ``v1[b, h, w, w'] = var1[b, h, w]`` and
    ``v2[b, h', w, w'] = var2[b, h', w']`` inside, 0 on the border. ``Sigma_pre =
    c box(X0) + b2``, ``Theta_pre = c box(X1) + Sigma_pre``, then the ReLU, with
    ``c = W_std**2 / (9 * 2 pi)``.

    Each plane ``(h, h')`` is one flat loop from its entry (1, 1) to (W, W), border
    columns included (a long loop vectorises fully, where rows of W would leave a
    scalar remainder), and the border columns are reset to zero afterwards.
    """
    Hp, Wp = H + 2, W + 2
    plane = Wp * Wp
    block = Hp * Hp * plane
    dh = (Hp + 1) * plane  # the joint shift (h + 1, h' + 1)
    dw = Wp + 1  # the joint shift (w + 1, w' + 1)
    ntk = np.uint64(B * block)
    length = (W - 1) * Wp + W
    for b in range(B):
        for h in range(1, H + 1):
            e1 = np.uint64((b * H + h - 1) * plane + Wp + 1)
            for g in range(1, H + 1):
                e2 = np.uint64((b * H + g - 1) * plane + Wp + 1)
                i = b * block + (h * Hp + g) * plane + Wp + 1
                k0 = np.uint64(i - dh - dw)
                k1 = np.uint64(i - dh)
                k2 = np.uint64(i - dh + dw)
                k3 = np.uint64(i - dw)
                k4 = np.uint64(i)
                k5 = np.uint64(i + dw)
                k6 = np.uint64(i + dh - dw)
                k7 = np.uint64(i + dh)
                k8 = np.uint64(i + dh + dw)
                for ff in range(length):
                    f = np.uint64(ff)
                    s = (
                        X[k0 + f] + X[k1 + f] + X[k2 + f]
                        + X[k3 + f] + X[k4 + f] + X[k5 + f]
                        + X[k6 + f] + X[k7 + f] + X[k8 + f]
                    )  # fmt: skip
                    S = c * s + b2
                    out, d = _relu_entry(S, v1[e1 + f] * v2[e2 + f])
                    Y[k4 + f] = out
                    n = ntk + f
                    t = (
                        X[k0 + n] + X[k1 + n] + X[k2 + n]
                        + X[k3 + n] + X[k4 + n] + X[k5 + n]
                        + X[k6 + n] + X[k7 + n] + X[k8 + n]
                    )  # fmt: skip
                    Y[k4 + n] = (c * t + S) * d
                for w in range(1, W):  # the border columns inside the loop's range
                    j = np.uint64(i + w * Wp - 1)
                    Y[j] = 0.0
                    Y[j - 1] = 0.0
                    Y[j + ntk] = 0.0
                    Y[j + ntk - 1] = 0.0


@njit(**_OPTIONS)
def conv(X, Y, c, b2, B, H, W):
    """``Conv3x3`` alone (an image with itself: its variances come next from Y)."""
    Hp, Wp = H + 2, W + 2
    plane = Wp * Wp
    block = Hp * Hp * plane
    dh = (Hp + 1) * plane
    dw = Wp + 1
    ntk = np.uint64(B * block)
    for b in range(B):
        for h in range(1, H + 1):
            for g in range(1, H + 1):
                for w in range(1, W + 1):
                    i = b * block + (h * Hp + g) * plane + w * Wp + 1
                    k0 = np.uint64(i - dh - dw)
                    k1 = np.uint64(i - dh)
                    k2 = np.uint64(i - dh + dw)
                    k3 = np.uint64(i - dw)
                    k4 = np.uint64(i)
                    k5 = np.uint64(i + dw)
                    k6 = np.uint64(i + dh - dw)
                    k7 = np.uint64(i + dh)
                    k8 = np.uint64(i + dh + dw)
                    for uu in range(W):
                        u = np.uint64(uu)
                        s = (
                            X[k0 + u] + X[k1 + u] + X[k2 + u]
                            + X[k3 + u] + X[k4 + u] + X[k5 + u]
                            + X[k6 + u] + X[k7 + u] + X[k8 + u]
                        )  # fmt: skip
                        S = c * s + b2
                        Y[k4 + u] = S
                        n = ntk + u
                        t = (
                            X[k0 + n] + X[k1 + n] + X[k2 + n]
                            + X[k3 + n] + X[k4 + n] + X[k5 + n]
                            + X[k6 + n] + X[k7 + n] + X[k8 + n]
                        )  # fmt: skip
                        Y[k4 + n] = c * t + S


@njit(**_OPTIONS)
def relu(Y, v1, v2, B, H, W):
    """``ReLU`` in place on the pre-activations ``Y`` (after :func:`conv`)."""
    Hp, Wp = H + 2, W + 2
    plane = Wp * Wp
    block = Hp * Hp * plane
    ntk = np.uint64(B * block)
    for b in range(B):
        for h in range(1, H + 1):
            for g in range(1, H + 1):
                for w in range(1, W + 1):
                    a1 = v1[(b * H + h - 1) * W + w - 1]
                    vrow = np.uint64((b * H + g - 1) * W)
                    k4 = np.uint64(b * block + (h * Hp + g) * plane + w * Wp + 1)
                    for uu in range(W):
                        u = np.uint64(uu)
                        out, d = _relu_entry(Y[k4 + u], a1 * v2[vrow + u])
                        Y[k4 + u] = out
                        Y[k4 + ntk + u] = Y[k4 + ntk + u] * d
