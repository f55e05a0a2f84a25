"""QSVT matrix inversion and Hadamard-test readout as real PennyLane circuits.

The only module of the package that imports PennyLane, and only inside functions.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions

from . import _angles
from ._qsvt import _COMMON_ATTRIBUTES, _COMMON_PARAMETERS, _QSVTSolverBase

#: Largest training set the circuit solver simulates (6 system qubits, 9 in all).
MAX_SAMPLES = 64

#: Fitted angle sets kept per process, keyed by the polynomial's coefficients.
_ANGLE_CACHE_SIZE = 16
_ANGLE_CACHE: OrderedDict = OrderedDict()

#: Queries per circuit batch when reading out many test points at once.
_BATCH = 256


class PaddingWarning(UserWarning):
    """The kernel matrix was padded to a power-of-two size for the circuit."""


class AngleAccuracyWarning(UserWarning):
    """The QSVT phase angles reproduce the polynomial less accurately than `epsilon`."""


def _pennylane():
    try:
        import pennylane as qml
    except ImportError as exc:  # pragma: no cover - pennylane is a core dependency
        raise ImportError(
            "PennyLaneSolver needs PennyLane: pip install 'qntk-sklearn' "
            "(it is a core dependency) or pip install pennylane."
        ) from exc
    return qml


def qsvt_angles(poly):
    """QSVT phase angles of an :class:`InversePolynomial`, computed once per process.

    The symmetric-QSP phases of the polynomial's Chebyshev coefficients
    (:func:`~qntk_sklearn.solvers._angles.symmetric_qsp_phases`, the Newton method
    of Dong, Lin, Ni and Wang), converted to PennyLane's QSVT convention by
    :func:`pennylane.transform_angles`. Monomial coefficients, which
    :func:`pennylane.poly_to_angles` takes, reach 1e23 at degree 75; the Chebyshev
    route has no such limit (0.6 s at degree 1300, 4.5 s at 2700 on a loaded 2-core
    machine; ``benchmarks/bench_qsp_angles.py``). Results are
    cached by coefficients (the last 16 polynomials).

    Parameters
    ----------
    poly : InversePolynomial

    Returns
    -------
    angles : ndarray of shape (degree + 1,)
        The angles of ``qml.PCPhase`` projectors for ``qml.QSVT``; the real part of
        the top-left block of the resulting unitary is ``P`` of the block-encoded
        matrix.
    """
    key = poly.coef.tobytes()
    if key in _ANGLE_CACHE:
        _ANGLE_CACHE.move_to_end(key)
        return _ANGLE_CACHE[key].copy()
    qml = _pennylane()
    phases = _angles.symmetric_qsp_phases(poly.coef)
    angles = np.asarray(qml.transform_angles(phases, "QSP", "QSVT"), dtype=np.float64)
    _ANGLE_CACHE[key] = angles
    while len(_ANGLE_CACHE) > _ANGLE_CACHE_SIZE:
        _ANGLE_CACHE.popitem(last=False)
    return angles.copy()


def qsvt_response(angles, x):
    """``Re <0| QSVT(angles, BlockEncode(x)) |0>`` for scalars ``x``: the polynomial the
    angles implement.

    A numpy transcription of the one-qubit case of ``qml.QSVT`` (its decomposition
    ``Pi_0, U, Pi_1, U^dagger, Pi_2, ...`` with ``U = BlockEncode(x) =
    [[x, sqrt(1 - x^2)], [sqrt(1 - x^2), -x]]`` and ``PCPhase(phi, dim=1) =
    diag(e^{i phi}, e^{-i phi})``), vectorised over ``x``: ``O(degree * len(x))``,
    where building the PennyLane operator for every ``x`` takes ~10 ms per point
    and degree. The test suite checks it against ``qml.matrix`` of ``qml.QSVT``.

    Parameters
    ----------
    angles : ndarray of shape (degree + 1,)
    x : array-like of float in [-1, 1]

    Returns
    -------
    values : ndarray of the shape of ``x``
    """
    angles = np.asarray(angles, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    s = np.sqrt(np.clip(1.0 - flat**2, 0.0, None))
    # Column vector M |0>, with M = Pi_d U ... U Pi_0 (U is real symmetric here).
    a = np.full(flat.shape, np.exp(1j * angles[0]))
    b = np.zeros(flat.shape, dtype=np.complex128)
    for phi in angles[1:]:
        a, b = flat * a + s * b, s * a - flat * b
        a, b = a * np.exp(1j * phi), b * np.exp(-1j * phi)
    return a.real.reshape(x.shape)


class PennyLaneSolver(_QSVTSolverBase):
    """QSVT linear solver run as PennyLane circuits (small n).

    The same algorithm as :class:`QSVTSolver`, with real circuits on a PennyLane
    simulator: ``qml.StatePrep`` of ``|y>``, ``qml.QSVT`` over ``qml.BlockEncode`` of
    the (padded) dense matrix ``K / alpha``, and a Hadamard test against ``|k*>``.

    Parameters
    ----------
    epsilon : float, default=1e-3
        Relative accuracy of the inversion, in (0, 1) (see :class:`QSVTSolver`).
    {common_parameters}
    device : {{"default.qubit", "lightning.qubit"}}, default="default.qubit"
        PennyLane simulator.
    max_degree : int, default=4001
        Largest polynomial degree accepted (ValueError beyond), about
        ``kappa = 300`` at ``epsilon = 1e-2``. The angles take 10 ms at degree 111,
        0.6 s at degree 1300 and 4.5 s at degree 2700 (:func:`qsvt_angles`); the
        simulated circuits grow linearly with the degree.

    Attributes
    ----------
    {common_attributes}
    angles_ : ndarray of shape ``(degree_ + 1,)``
        QSVT phase angles, computed once at fit (:func:`qsvt_angles`) and reused by
        every prediction.
    angle_error_ : float
        ``max |response - P|`` of the angles on ``degree_ + 1`` Chebyshev nodes
        (:func:`qsvt_response`); an :class:`AngleAccuracyWarning` is emitted when it
        exceeds ``epsilon * polynomial_.x_scale``.
    n_padded_ : int
        Circuit dimension ``2**n_system_qubits_ >= n_samples``.
    n_system_qubits_ : int
    n_qubits_ : int
        ``n_system_qubits_ + 3``: block-encoding ancilla, real-part ancilla, Hadamard
        test ancilla.
    input_states_ : ndarray of shape ``(n_padded_, n_targets)``
        The normalised (padded) targets ``|y>`` the circuits prepare.
    post_selected_states_ : complex ndarray of shape ``(n_padded_, n_targets)``
        The circuit's normalised post-selected QSVT output state for each target.

    See Also
    --------
    QSVTSolver : the emulator, for any n.

    Notes
    -----
    Circuit (wires: ``h`` Hadamard test, ``c`` real part, ``a`` block encoding,
    then the ``q = ceil(log2 n)`` system wires):

    * ``qml.QSVT`` with ``qml.PCPhase`` projectors puts ``P(A) + i Q(A)`` in the
      top-left block (PennyLane's convention). The angles ``-phi`` give the complex
      conjugate, so ``H_c, ctrl_0(U_phi), ctrl_1(U_-phi), H_c`` post-selected on
      ``c = a = 0`` applies exactly ``P(A)`` (a linear combination of unitaries,
      Gilyén et al., Corollary 18). Post-selection succeeds with probability
      ``||P(A) y||^2``, the ``success_probability_``.
    * Readout: ``h`` in ``|+>``; branch ``h = 0`` prepares ``|y>`` and applies the
      above; branch ``h = 1`` prepares ``|k*>`` and rotates ``a`` to
      ``r|0> + sqrt(1 - r^2)|1>`` with ``r = sqrt(success_probability_)`` (the
      amplitude the branch-0 post-selection leaves, known from fit). After ``H_h``,
      conditioned on ``c = a = 0``, outcome ``h = 0`` has probability exactly
      ``(1 + o) / 2``, ``o`` the overlap of ``|k*>`` with the post-selected state,
      as in :class:`QSVTSolver`.

    Probabilities are the circuit's exact Born probabilities (``qml.probs``); with
    finite ``shots`` the post-selected outcomes are drawn from them with the
    solver's seeded generator, as in :class:`QSVTSolver`, so results are
    reproducible and ``shots`` counts post-selected measurements in both solvers.
    ``qml.BlockEncode`` silently divides any matrix with ``||A A^T||_inf > 1`` by that
    number, so ``alpha_`` is raised to ``sqrt(||K K^T||_inf)`` when needed (and
    ``kappa_`` with it). A non-power-of-two ``n`` is padded with ``alpha_`` on the
    diagonal (eigenvalue 1 of ``A``) and zero targets, which leaves the solution
    unchanged, with a :class:`PaddingWarning`.

    References
    ----------
    .. [1] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value
       transformation and beyond", STOC 2019.
    .. [2] A. Zlokapa, H. Neven, S. Lloyd, arXiv:2107.09200 (2021).

    Examples
    --------
    Fitting simulates circuits (about a second), so the doctest skips it:

    >>> import numpy as np
    >>> from qntk_sklearn.solvers import PennyLaneSolver
    >>> s = PennyLaneSolver(kappa=1.5, epsilon=0.05)
    >>> s.fit(np.eye(2), np.array([1.0, -1.0])).degree_  # doctest: +SKIP
    9
    >>> np.round(s.decision_function(np.eye(2)), 3).ravel()  # doctest: +SKIP
    array([ 1., -1.])
    """

    _parameter_constraints = {
        **_QSVTSolverBase._parameter_constraints,
        "device": [StrOptions({"default.qubit", "lightning.qubit"})],
        "max_degree": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        epsilon=1e-3,
        alpha="norm",
        kappa="auto",
        shots=None,
        random_state=None,
        device="default.qubit",
        max_degree=4001,
    ):
        self.epsilon = epsilon
        self.alpha = alpha
        self.kappa = kappa
        self.shots = shots
        self.random_state = random_state
        self.device = device
        self.max_degree = max_degree

    # --- fit -------------------------------------------------------------------------
    def _check_input(self, K):
        n = K.shape[0]
        if n > MAX_SAMPLES:
            raise ValueError(
                f"PennyLaneSolver simulates circuits for at most {MAX_SAMPLES} "
                f"training samples; got n_samples={n}. Use QSVTSolver "
                "(solver='qsvt'), the emulator of the same algorithm, for larger n."
            )
        super()._check_input(K)

    def _adjust_bounds(self, K, bounds):
        dense = K.toarray() if sp.issparse(K) else K
        needed = math.sqrt(float(np.abs(dense @ dense.T).sum(axis=1).max()))
        if needed > bounds["alpha"]:
            bounds = dict(
                bounds, alpha=needed * (1.0 + 1e-12), alpha_method="blockencode"
            )
            if self.kappa == "auto":
                bounds["kappa"] = max(bounds["alpha"] / bounds["min_abs_bound"], 1.0)
        return bounds

    def _set_bounds(self, bounds):
        super()._set_bounds(bounds)
        if self.degree_ > self.max_degree:
            raise ValueError(
                f"The QSVT polynomial for kappa={self.kappa_:.4g} and "
                f"epsilon={self.epsilon!r} has degree {self.degree_}, above "
                f"`max_degree`={self.max_degree}. Raise `epsilon` or `max_degree`, "
                "or use QSVTSolver (solver='qsvt') for ill-conditioned kernels."
            )

    def fit(self, K, Y, *, k_thresh=None, t=None):
        """Compute the angles and run the QSVT circuit for every column of ``Y``.

        Parameters
        ----------
        K : {ndarray, sparse matrix} of shape (n_samples, n_samples)
            Symmetric, invertible, ``n_samples <= 64``.
        Y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        k_thresh : float or None, default=None
            Clipping scale for ``|k*>``; None means ``max |diag K|``.
        t : None
            Only infinite training time: a finite ``t`` is a ValueError (its
            polynomial has no definite parity, and its phase angles are not
            computed here); :class:`QSVTSolver` emulates it.

        Returns
        -------
        self : PennyLaneSolver
        """
        if t is not None:
            raise ValueError(
                "PennyLaneSolver runs the QSVT circuit of the inverse polynomial only, "
                f"for infinite training time (t=None); got t={t!r}. A finite `t` "
                "needs a polynomial of mixed parity, which this circuit solver does "
                "not build: use QSVTSolver (solver='qsvt'), which emulates it."
            )
        K, Y = self._prepare(K, Y, k_thresh)
        K = K.toarray() if sp.issparse(K) else K
        n, t = Y.shape
        q = max(1, math.ceil(math.log2(n)))
        N = 2**q
        if N != n:
            warnings.warn(
                f"`K` has n_samples={n}, not a power of two; padded to {N} with "
                f"alpha_ on the new diagonal and zero targets (the solution is "
                "unchanged).",
                PaddingWarning,
                stacklevel=2,
            )
        A = np.eye(N)
        A[:n, :n] = K / self.alpha_
        self._A = A
        self.n_padded_ = N
        self.n_system_qubits_ = q
        self.n_qubits_ = q + 3
        self.angles_ = qsvt_angles(self.polynomial_)
        nodes = np.cos(np.pi * (np.arange(self.degree_ + 1) + 0.5) / (self.degree_ + 1))
        self.angle_error_ = float(
            np.max(np.abs(qsvt_response(self.angles_, nodes) - self.polynomial_(nodes)))
        )
        if self.angle_error_ > self.epsilon * self.polynomial_.x_scale:
            warnings.warn(
                f"The QSVT angles reproduce the polynomial to {self.angle_error_:.2g}, "
                "above epsilon * x_scale = "
                f"{self.epsilon * self.polynomial_.x_scale:.2g};"
                " the circuit's solution is less accurate than `epsilon`.",
                AngleAccuracyWarning,
                stacklevel=2,
            )
        y_norm = np.linalg.norm(Y, axis=0)
        y_hat = np.zeros((t, N))
        y_hat[:, :n] = (Y / np.where(y_norm > 0, y_norm, 1.0)).T
        y_hat[y_norm == 0, 0] = 1.0  # any state; its output is discarded
        self.input_states_ = y_hat.T
        blocks = self._state_circuit(y_hat)  # (t, N): P(A) y_hat, from the circuit
        blocks[y_norm == 0] = 0.0
        out_norm = np.linalg.norm(blocks, axis=1)
        self.post_selected_states_ = (
            blocks / np.where(out_norm > 0, out_norm, 1.0)[:, None]
        ).T
        PY = blocks[:, :n].real.T * y_norm  # P(A) Y (columns)
        self.dual_coef_ = PY / (self.polynomial_.x_scale * self.alpha_)
        self.success_probability_ = out_norm**2
        self.classical_cost_ = {
            "method": "pennylane-simulation",
            "circuits": int(t),
            "qubits": int(self.n_qubits_),
            "nnz": int(n * n),
        }
        return self

    # --- circuits --------------------------------------------------------------------
    def _wires(self):
        q = self.n_system_qubits_
        return 0, 1, 2, list(range(3, 3 + q))

    def _qsvt(self, qml, sign):
        _, _, a, system = self._wires()
        wires = [a, *system]
        block = qml.BlockEncode(self._A, wires=wires)
        projectors = [
            qml.PCPhase(sign * phi, dim=self.n_padded_, wires=wires)
            for phi in self.angles_
        ]
        return qml.QSVT(block, projectors)

    def _state_circuit(self, y_hat):
        """Post-selected (``c = a = 0``) amplitudes ``P(A) y`` for rows of ``y_hat``."""
        qml = _pennylane()
        h, c, a, system = self._wires()
        dev = qml.device(self.device, wires=[h, c, a, *system])

        @qml.qnode(dev)
        def circuit(state):
            qml.StatePrep(state, wires=system)
            qml.Hadamard(c)
            qml.ctrl(self._qsvt(qml, 1.0), control=c, control_values=0)
            qml.ctrl(self._qsvt(qml, -1.0), control=c, control_values=1)
            qml.Hadamard(c)
            return qml.state()

        out = np.empty(y_hat.shape, dtype=np.complex128)
        for j in range(y_hat.shape[0]):
            psi = np.asarray(circuit(y_hat[j])).reshape(2, 2, 2, -1)
            out[j] = psi[0, 0, 0]
        return out

    def _hadamard_probabilities(self, k_hat, y_hat, r):
        """``P(h = 0 | c = a = 0)`` of the Hadamard test for each row of ``k_hat``."""
        qml = _pennylane()
        h, c, a, system = self._wires()
        dev = qml.device(self.device, wires=[h, c, a, *system])
        theta = 2.0 * math.acos(min(max(r, 0.0), 1.0))

        @qml.qnode(dev)
        def circuit(k_states):
            qml.Hadamard(h)
            qml.Hadamard(c)
            qml.ctrl(qml.StatePrep(y_hat, wires=system), control=h, control_values=0)
            qml.ctrl(self._qsvt(qml, 1.0), control=[h, c], control_values=[0, 0])
            qml.ctrl(self._qsvt(qml, -1.0), control=[h, c], control_values=[0, 1])
            qml.ctrl(qml.RY(theta, wires=a), control=h, control_values=1)
            qml.ctrl(qml.StatePrep(k_states, wires=system), control=h, control_values=1)
            qml.Hadamard(c)
            qml.Hadamard(h)
            return qml.probs(wires=[h, c, a])

        p = np.asarray(circuit(k_hat if k_hat.shape[0] > 1 else k_hat[0]))
        p = p.reshape(-1, 2, 2, 2)
        kept = p[:, 0, 0, 0] + p[:, 1, 0, 0]
        return p[:, 0, 0, 0] / np.where(kept > 0, kept, 1.0)

    def _overlaps(self, k, k_norm, c_norm):
        """Overlaps from the Hadamard-test circuits: ``o = 2 P(h=0 | c=a=0) - 1``."""
        k_hat = k / np.where(k_norm > 0, k_norm, 1.0)[:, None]
        n_q = k_hat.shape[0]
        n, t = self.dual_coef_.shape
        out = np.zeros((n_q, t))
        if n_q == 0:
            return out
        N = self.n_padded_
        k_pad = np.zeros((n_q, N))
        k_pad[:, :n] = k_hat
        empty = ~np.any(k_pad != 0, axis=1)
        k_pad[empty, 0] = 1.0  # any state: these rows have ||k|| = 0 and value 0
        for j in range(t):
            if self.success_probability_[j] == 0:
                continue
            r = math.sqrt(self.success_probability_[j])
            for start in range(0, n_q, _BATCH):
                rows = slice(start, start + _BATCH)
                p0 = self._hadamard_probabilities(
                    k_pad[rows], self.input_states_[:, j], r
                )
                out[rows, j] = 2.0 * p0 - 1.0
        out[empty] = 0.0
        return out


if PennyLaneSolver.__doc__:  # None under python -OO
    PennyLaneSolver.__doc__ = PennyLaneSolver.__doc__.format(
        common_parameters=_COMMON_PARAMETERS, common_attributes=_COMMON_ATTRIBUTES
    )
