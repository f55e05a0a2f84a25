"""Phase angles of symmetric quantum signal processing, from Chebyshev coefficients.

QSVT applies a polynomial ``P`` to a block-encoded matrix through a sequence of phase
rotations; finding the phases is the classical pre-computation of every QSVT
circuit. Computing them from monomial coefficients (what
:func:`pennylane.poly_to_angles` takes) fails beyond degree ~50, where those
coefficients reach 1e15 and cancel catastrophically. This module solves for the
phases directly from the Chebyshev coefficients with the Newton method of Dong, Lin,
Ni and Wang for *symmetric* QSP [1]_, which converges in a handful of iterations for
every bounded target ``max|P| < 1`` and needs ``O(d^2)`` operations per Jacobian.

Convention ("Wx", the one of :func:`pennylane.transform_angles`'s ``"QSP"``
routine): ``W(x) = [[x, i sqrt(1 - x^2)], [i sqrt(1 - x^2), x]]`` and

``U(x) = e^{i phi_0 Z} W(x) e^{i phi_1 Z} W(x) ... W(x) e^{i phi_d Z}``,

with ``Re <0|U(x)|0> = P(x)`` for the phases returned by
:func:`symmetric_qsp_phases`.

Written by hand (a vectorised transcription of Algorithms 3.2-3.3 of [1]_, as in
QSPPACK and ``pyqsp.sym_qsp_opt``) rather than calling ``pyqsp``: its solver loops
over every Chebyshev node in Python (minutes at degree 1000), prints every iteration
to stdout, imports ``matplotlib.pyplot`` on import, and targets ``Im <0|U|0>``; the
same iteration vectorised over the nodes takes about a second at degree 1000 and
reproduces ``pyqsp``'s phases to rounding (checked when this module was written).

References
----------
.. [1] Y. Dong, L. Lin, H. Ni, J. Wang, "Robust iterative method for symmetric quantum
   signal processing in all parameter regimes", SIAM J. Sci. Comput. 46, A2951
   (2024), arXiv:2307.12468.
"""

from __future__ import annotations

import math

import numpy as np

#: Newton iterations allowed; the method converges quadratically (~6 iterations).
NEWTON_MAXITER = 50

#: Stopping tolerance on the l1 norm of the Chebyshev-coefficient residual.
NEWTON_TOL = 1e-12


class AngleSolverError(ValueError):
    """The symmetric-QSP Newton iteration did not converge."""


def _rotations(phi):
    """3 x 3 blocks ``[[cos 2p, -sin 2p, 0], [sin 2p, cos 2p, 0], [0, 0, 1]]``."""
    c, s = np.cos(2.0 * phi), np.sin(2.0 * phi)
    out = np.zeros(np.shape(phi) + (3, 3))
    out[..., 0, 0], out[..., 0, 1] = c, -s
    out[..., 1, 0], out[..., 1, 1] = s, c
    out[..., 2, 2] = 1.0
    return out


def _response_and_gradient(reduced, x, parity):
    """``f(x)`` and ``df/dphi_k`` at the nodes ``x``: rows of shape (len(x), n + 1).

    The SO(3) representation of the symmetric QSP product (Dong et al., Alg. 3.3):
    a backward sweep ``L`` and a forward sweep ``R``, both vectorised over ``x``.
    """
    n = reduced.size
    t = np.arccos(x)
    c2, s2 = np.cos(2.0 * t), np.sin(2.0 * t)
    B = np.zeros((x.size, 3, 3))
    B[:, 0, 0], B[:, 0, 2] = c2, -s2
    B[:, 1, 1] = 1.0
    B[:, 2, 0], B[:, 2, 2] = s2, c2
    rot = _rotations(reduced)
    R = np.zeros((n, x.size, 3))
    if parity == 0:
        R[0, :, 0] = 1.0
    else:
        R[0, :, 0], R[0, :, 2] = np.cos(t), np.sin(t)
    for k in range(1, n):
        R[k] = np.einsum("mij,mj->mi", B, R[k - 1] @ rot[k - 1].T)
    c, s = np.cos(2.0 * reduced), np.sin(2.0 * reduced)
    D = np.zeros((n, 3, 3))
    D[:, 0, 0], D[:, 0, 1] = -s, -c
    D[:, 1, 0], D[:, 1, 1] = c, -s
    out = np.empty((x.size, n + 1))
    L = np.zeros((x.size, 3))
    L[:, 1] = 1.0
    out[:, n] = np.einsum("mi,mi->m", L @ rot[n - 1], R[n - 1])
    for k in range(n - 1, -1, -1):
        if k < n - 1:
            L = np.einsum("mj,mjk->mk", L @ rot[k + 1], B)
        out[:, k] = 2.0 * np.einsum("mi,mi->m", L @ D[k], R[k])
    return out


def _chebyshev_jacobian(reduced, parity):
    """Chebyshev coefficients of the response and their Jacobian (Dong et al. 3.2).

    Samples at ``d + 1`` angles, extended by symmetry to a full period, and one FFT.
    """
    d = reduced.size
    dd = 2 * d
    theta = np.arange(d + 1) * (math.pi / dd)
    M = np.zeros((2 * dd, d + 1))
    M[: d + 1] = _response_and_gradient(reduced, np.cos(theta), parity)
    M[d + 1 : dd + 1] = (-1.0) ** parity * M[d - 1 :: -1]
    M[dd + 1 :] = M[dd - 1 : 0 : -1]
    M = np.fft.fft(M, axis=0).real[: dd + 1]
    M[1:-1] *= 2.0
    M /= 2.0 * dd
    return M[parity : 2 * d : 2, -1], M[parity : 2 * d : 2, :-1]


def symmetric_qsp_phases(coef, *, tol=NEWTON_TOL, maxiter=NEWTON_MAXITER):
    """Symmetric QSP phases whose response has real part ``P = sum_k coef[k] T_k``.

    Parameters
    ----------
    coef : array-like of shape (degree + 1,)
        Chebyshev coefficients of a real polynomial of definite parity (the
        coefficients of the other parity must be zero) with ``max_{[-1,1]}|P| < 1``.
    tol : float, default=1e-12
        Newton stops when the l1 norm of the coefficient residual is below it.
    maxiter : int, default=50

    Returns
    -------
    phases : ndarray of shape (degree + 1,)
        ``phi_0, ..., phi_d`` in the Wx convention (module docstring):
        ``Re <0| e^{i phi_0 Z} W(x) ... W(x) e^{i phi_d Z} |0> = P(x)``.

    Raises
    ------
    ValueError
        If ``coef`` has no definite parity or is not finite.
    AngleSolverError
        If Newton does not converge (``max|P|`` too close to 1).

    Examples
    --------
    >>> import numpy as np
    >>> phases = symmetric_qsp_phases([0.0, 0.5, 0.0, -0.2])   # 0.5 T1 - 0.2 T3
    >>> x = np.array([-0.7, 0.1, 0.9])
    >>> bool(np.allclose(qsp_response(phases, x), 0.5 * x - 0.2 * (4 * x**3 - 3 * x)))
    True
    """
    coef = np.asarray(coef, dtype=np.float64).ravel()
    if coef.size == 0 or not np.all(np.isfinite(coef)):
        raise ValueError(f"`coef` must be finite and non-empty; got {coef!r}.")
    nonzero = np.flatnonzero(coef)
    degree = int(nonzero[-1]) if nonzero.size else 0
    coef = coef[: degree + 1]
    parity = degree % 2
    if np.any(coef[1 - parity :: 2] != 0.0):
        raise ValueError(
            "`coef` must have a definite parity (all even-index or all odd-index "
            f"Chebyshev coefficients zero); got nonzero coefficients of both for "
            f"degree {degree}."
        )
    target = coef[parity::2]  # (degree + 2 - parity) // 2 reduced coefficients
    reduced = target / 2.0
    err = math.inf
    for _ in range(maxiter):
        value, jac = _chebyshev_jacobian(reduced, parity)
        residual = value - target
        err = float(np.abs(residual).sum())
        if err < tol:
            break
        reduced = reduced - np.linalg.solve(jac, residual)
        if not np.all(np.isfinite(reduced)):
            break
    if not err < tol:
        raise AngleSolverError(
            "The symmetric-QSP Newton iteration did not converge for a "
            f"degree-{degree} polynomial (residual {err:.3g} after {maxiter} "
            "iterations); its maximum on [-1, 1] is probably too close to 1."
        )
    if parity == 1:
        full = np.concatenate([reduced[::-1], reduced])
    else:
        full = np.concatenate([reduced[:0:-1], [2.0 * reduced[0]], reduced[1:]])
    # Dong et al.'s phases put P in Im <0|U|0>; e^{-i pi/4 Z} on both ends turns
    # <0|U|0> into -i <0|U|0>, whose real part is P.
    full[0] -= math.pi / 4.0
    full[-1] -= math.pi / 4.0
    return full


def qsp_response(phases, x):
    """``Re <0| e^{i phi_0 Z} W(x) ... W(x) e^{i phi_d Z} |0>`` (Wx convention).

    Parameters
    ----------
    phases : array-like of shape (degree + 1,)
    x : array-like of float in [-1, 1]

    Returns
    -------
    values : ndarray of the shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> qsp_response([0.0, 0.0], np.array([0.3]))   # W(x) alone: <0|W|0> = x
    array([0.3])
    """
    phases = np.asarray(phases, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    s = np.sqrt(np.clip(1.0 - flat**2, 0.0, None))
    # Row vector <0| U, propagated left to right: entries (a, b).
    a = np.full(flat.shape, np.exp(1j * phases[0]))
    b = np.zeros(flat.shape, dtype=np.complex128)
    for phi in phases[1:]:
        a, b = a * flat + b * 1j * s, a * 1j * s + b * flat
        a, b = a * np.exp(1j * phi), b * np.exp(-1j * phi)
    return a.real.reshape(x.shape)
