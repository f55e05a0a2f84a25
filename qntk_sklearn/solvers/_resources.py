"""What the quantum algorithm would cost on a given kernel system, next to CG's cost."""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from .._matrix import max_row_nonzeros
from ._base import check_system
from ._classical import IterativeSolver
from ._evolution import gradient_flow_degree_estimate, gradient_flow_polynomial
from ._gates import field_table
from ._polynomial import inverse_degree_bound, inverse_polynomial
from ._qsvt import (
    SingularMatrixError,
    _QSVTSolverBase,
    block_encoding_bounds,
    clip_kernel_rows,
)
from ._readout import post_selection_counts

#: Above this degree bound the resources of a classical solver use the closed-form
#: degree bound instead of building the polynomial (and leave the success
#: probability, which needs ``P(A) y``, as nan).
EXACT_DEGREE_MAX = 20_000

#: Iteration cap per target of the reference CG/MINRES run.
REFERENCE_MAXITER = 2000

#: Relative accuracy assumed for classical solvers, whose own tolerance means
#: something else (a residual).
DEFAULT_EPSILON = 1e-3

_DOCS = {
    "solver": "solver class",
    "n": "training points (matrix dimension)",
    "n_targets": "right-hand sides (one quantum run each)",
    "s": "max nonzeros per row of K_tilde",
    "nnz": "nonzeros of K_tilde",
    "max_abs_entry": "max |K_tilde_ij| (sets the sparse-access alpha)",
    "alpha": "block-encoding normalisation, >= ||K_tilde||",
    "alpha_method": "how alpha was chosen",
    "kappa": "condition bound of K_tilde / alpha",
    "epsilon": "relative accuracy of the inversion",
    "degree": "QSVT polynomial degree = block-encoding queries per circuit",
    "system_qubits": "ceil(log2 n)",
    "ancilla_qubits": "block encoding + real part + Hadamard test",
    "qubits": "system + ancillas",
    "success_probability": "QSVT post-selection success (median over targets)",
    "post_selection_rowmax": "n / P, |k*> row scaled by its max (inductive; median)",
    "post_selection_paper": "n / P, paper's: probe batch scaled by its max (median)",
    "post_selection_kthresh": "n / P, clipped by k_thresh alone (median)",
    "readout_measurements": "1/o^2 - 1 to read the overlap (median)",
    "n_probe": "probe rows used for the medians above",
    "qsvt_queries": "queries of one QSVT circuit (= degree)",
    "qsvt_queries_per_state": "degree * (2R + 1), R amplitude-amplification rounds",
    "hhl_queries_per_state": "HHL: kappa^2 / epsilon (constants 1)",
    "classical_method": "classical Krylov solver of the same system",
    "classical_iterations": "its iterations, summed over targets",
    "classical_flops": "2 * nnz * iterations (or the direct solver's flops)",
    "classical_converged": "False: the iterations hit the cap (a lower bound)",
}


@dataclass(frozen=True)
class QuantumResources:
    """Resources of the paper's quantum pipeline on one kernel system, and CG's cost.

    Made by :func:`estimate_quantum_resources`. Every count is for one right-hand
    side (one target) unless stated otherwise.

    Attributes
    ----------
    solver : str
        Class name of the solver it was computed for.
    n, n_targets, s, nnz : int
        Size, number of right-hand sides, row sparsity and nonzeros of ``K_tilde``.
    max_abs_entry : float
        Largest ``|K_tilde_ij|``; ``s`` times it is the normalisation of the
        sparse-access block encoding that :attr:`gates` counts.
    alpha : float
        Block-encoding normalisation (``>= ||K_tilde||``).
    alpha_method : str
        "norm" (spectral-norm bound), "sparse" (``s max|K_ij|``), "given" or
        "blockencode" (raised for ``qml.BlockEncode``).
    kappa : float
        Condition bound of ``K_tilde / alpha`` covered by the polynomial (>= 1).
    epsilon : float
        Relative accuracy of the inversion.
    degree : int
        Degree of the QSVT polynomial: block-encoding queries of one QSVT circuit.
        For a classical solver whose system needs a degree above 20,000, the
        closed-form bound :func:`inverse_degree_bound` (the polynomial is not built
        and ``success_probability`` is nan). For a finite training time ``t``
        (``solver.time_``), the polynomial of ``(1 - exp(-t x)) / x``
        (:func:`gradient_flow_polynomial`), whose degree grows with ``t alpha``,
        not with ``kappa``.
    system_qubits : int
        ``ceil(log2 n)`` (at least 1).
    ancilla_qubits : int
        Block-encoding ancillas (1 for a unitary dilation, "norm"; ``system + 3`` for
        the sparse-access encoding of Gilyén et al. Lemma 48, "sparse"), plus one
        for taking the real part of the QSVT polynomial and one for the Hadamard test.
    qubits : int
        ``system_qubits + ancilla_qubits``.
    success_probability : float
        Median over targets of the QSVT post-selection success probability
        ``||P(K/alpha) y||^2 / ||y||^2``.
    post_selection_rowmax, post_selection_paper, post_selection_kthresh : float
        Medians over probe rows of ``n / P``, ``P = sum_i k_i^2``: attempts to
        prepare ``|k*>`` from clipped amplitudes
        ``k_i = clip(Theta(x*, x_i) / k_thresh, -1, 1)`` by post-selection,
        rescaled before counting (:func:`post_selection_counts`): each row by its
        own largest ``|k_i|`` (``rowmax``: inductive, what one prediction costs);
        the probe rows as one batch by their largest ``|k_i|`` (``paper``: the
        authors' notebook's normalisation, which needs a batch of test points);
        not at all (``kthresh``: ~1e12 for deep networks).
    readout_measurements : float
        Median over probe rows and targets of ``1/o^2 - 1``, ``o`` the overlap of
        ``|k*>`` with the normalised solution: measurements to resolve the sign of
        ``o`` (the paper's cost).
    n_probe : int
        Probe rows behind the medians.
    qsvt_queries : int
        Queries of one QSVT circuit (``degree``).
    qsvt_queries_per_state : float
        Queries to produce one post-selected solution state with amplitude
        amplification: ``degree (2R + 1)``,
        ``R = ceil(pi / (4 asin(sqrt(p))) - 1/2)`` rounds for success probability
        ``p`` (Brassard et al.).
    hhl_queries_per_state : float
        The same for HHL, to leading order with all constants 1: phase estimation
        needs evolution time ``kappa / epsilon`` (one query per unit time) and
        amplitude amplification ``kappa`` rounds, ``kappa^2 / epsilon``.
    classical_method : str
        "cg" or "minres".
    classical_iterations : int
        Krylov iterations (each one product with ``K_tilde``), summed over targets.
    classical_flops : float
        ``2 nnz classical_iterations``: the classical cost of the same solve (a
        direct solver's own flop count when no iterations were run).

    classical_converged : bool
        False when the reference CG/MINRES run stopped at its iteration cap
        (``min(10 n, 2000)`` per target) before reaching its tolerance: the
        iteration count is then a lower bound.
    gates : GateResources
        Logical qubits, Toffoli and T counts of one QSVT inversion circuit and of
        one whole prediction, with a sparse-access block encoding, next to the
        classical flops (:meth:`gate_resources` with its defaults). Computed on
        first access (it imports PennyLane's resource estimator), then cached.

    For a singular ``K_tilde`` (possible with classical solvers; the QSVT solvers
    refuse it) no polynomial applies: ``kappa`` is inf, ``alpha`` and
    ``success_probability`` are nan, ``degree`` and ``qsvt_queries`` are 0, the
    query counts per state inf, and the classical cost is the solver's own.

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import ExactSolver, estimate_quantum_resources
    >>> K = np.array([[2.0, 0.5], [0.5, 1.0]]); y = np.array([1.0, -1.0])
    >>> r = estimate_quantum_resources(ExactSolver().fit(K, y), K, y, K, 2.0)
    >>> r.degree, r.qubits, r.classical_method
    (39, 4, 'cg')
    >>> sorted(r.as_dict())[:3]
    ['alpha', 'alpha_method', 'ancilla_qubits']
    """

    solver: str
    n: int
    n_targets: int
    s: int
    nnz: int
    max_abs_entry: float
    alpha: float
    alpha_method: str
    kappa: float
    epsilon: float
    degree: int
    system_qubits: int
    ancilla_qubits: int
    qubits: int
    success_probability: float
    post_selection_rowmax: float
    post_selection_paper: float
    post_selection_kthresh: float
    readout_measurements: float
    n_probe: int
    qsvt_queries: int
    qsvt_queries_per_state: float
    hhl_queries_per_state: float
    classical_method: str
    classical_iterations: int
    classical_flops: float
    classical_converged: bool

    def as_dict(self):
        """The fields as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)

    @functools.cached_property
    def gates(self):
        """Gate-level estimate with the default assumptions (see
        :meth:`gate_resources`)."""
        return self.gate_resources()

    def gate_resources(self, *, bits=None, select_swap_depth=None):
        """Fault-tolerant cost of the pipeline with a sparse-access block encoding.

        Parameters
        ----------
        bits : int or None, default=None
            Bits per loaded angle; None: ``ceil(log2(2 pi kappa / epsilon))``.
        select_swap_depth : int or None, default=None
            QROM select-swap width (power of two): 1 minimises qubits, None is
            PennyLane's Toffoli-optimal choice.

        Returns
        -------
        gates : GateResources
            See :func:`~qntk_sklearn.solvers.estimate_gate_resources`; the
            ``|k*>`` preparation uses ``post_selection_rowmax``.
        """
        from ._gates import estimate_gate_resources

        scale = math.nan
        if math.isfinite(self.kappa) and self.degree <= EXACT_DEGREE_MAX:
            scale = inverse_polynomial(self.kappa, self.epsilon).x_scale * self.alpha
        return estimate_gate_resources(
            n=self.n,
            s=self.s,
            max_abs_entry=self.max_abs_entry,
            min_abs_eigenvalue=self.alpha / self.kappa,
            epsilon=self.epsilon,
            success_probability=self.success_probability,
            success_scale=scale,
            post_selection=self.post_selection_rowmax,
            readout=self.readout_measurements,
            classical_flops=self.classical_flops,
            bits=bits,
            select_swap_depth=select_swap_depth,
        )

    def __str__(self):
        lines = field_table(self, _DOCS)
        lines += [
            "",
            "gate level (sparse-access block encoding, QROM data; per target):",
            str(self.gates),
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class _DegreeOnly:
    degree: int


def _success(poly, K_tilde, alpha, Y):
    """QSVT post-selection success probabilities ``||P(K/alpha) y||^2 / ||y||^2``."""
    PY = poly.apply(K_tilde * (1.0 / alpha), Y)
    y_norm = np.linalg.norm(Y, axis=0)
    return np.where(
        y_norm > 0,
        (np.linalg.norm(PY, axis=0) / np.where(y_norm > 0, y_norm, 1.0)) ** 2,
        0.0,
    )


def _median(values):
    return float(np.median(values)) if values.size else math.nan


def _max_abs(K):
    data = K.data if sp.issparse(K) else K
    return float(np.abs(data).max()) if data.size else 0.0


def _amplified_queries(degree, p):
    if not p > 0:
        return math.inf
    rounds = max(
        0, math.ceil(math.pi / (4.0 * math.asin(min(math.sqrt(p), 1.0))) - 0.5)
    )
    return float(degree * (2 * rounds + 1))


def estimate_quantum_resources(
    solver, K_tilde, Y, K_probe, k_thresh, *, probe_index=None, epsilon=None, alpha=None
):
    """Qubits, queries and measurements of the quantum pipeline, and CG's cost.

    Works for every solver of :mod:`qntk_sklearn.solvers`. For the QSVT solvers
    (:class:`QSVTSolver`, :class:`PennyLaneSolver`) it reports their fitted
    normalisation, condition bound, polynomial and success probabilities; for
    classical ones it computes what a QSVT solver would need on the same matrix
    (same machinery, ``epsilon`` default 1e-3, ``alpha`` default "norm").

    Parameters
    ----------
    solver : fitted solver
        Fitted on ``(K_tilde, Y)``; its ``dual_coef_`` gives the solution state.
    K_tilde : {ndarray, sparse matrix} of shape (n, n)
        The (sparsified) training kernel the solver inverted.
    Y : ndarray of shape (n,) or (n, n_targets)
        The right-hand sides it was fitted on.
    K_probe : ndarray of shape (n_probe, n)
        Exact (unsparsified) kernel rows between up to ~128 training points and all
        training points, standing in for test points' ``k*``.
    k_thresh : float
        The clipping scale of ``|k*>`` (positive).
    probe_index : array-like of int of shape (n_probe,), default=None
        Training indices of the probe rows. Each probe's own column is zeroed
        (leave-one-out) before forming ``|k*>``: a training point's kernel with
        itself is the largest entry of its row and, the solution being nearly
        ``y`` for a near-diagonal kernel, would dominate the overlap and make the
        readout look far cheaper than for a genuine test point.
    epsilon : float, default=None
        Relative accuracy for classical solvers (None: 1e-3). QSVT solvers use
        their own.
    alpha : {"norm", "sparse"} or float, default=None
        Normalisation for classical solvers (None: "norm"). QSVT solvers use their
        own.

    Returns
    -------
    resources : QuantumResources

    Notes
    -----
    The classical reference is CG/MINRES (:class:`IterativeSolver`) on the same
    matrix: the solver's own ``classical_cost_`` when it is an
    :class:`IterativeSolver`, otherwise a fresh solve to relative residual
    ``epsilon / kappa(K_tilde)``, which guarantees relative error ``epsilon`` like
    the quantum inversion. Its cost ``2 nnz`` per iteration sits next to the
    quantum query counts, whose formulas are given in :class:`QuantumResources`.

    References
    ----------
    .. [1] A. Zlokapa, H. Neven, S. Lloyd, arXiv:2107.09200 (2021), Section 4.
    .. [2] A. W. Harrow, A. Hassidim, S. Lloyd, Phys. Rev. Lett. 103, 150502 (2009).
    .. [3] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, STOC 2019 (Lemma 48: sparse
       block-encodings).
    .. [4] G. Brassard, P. Høyer, M. Mosca, A. Tapp, "Quantum amplitude
       amplification and estimation", Contemp. Math. 305 (2002).

    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn.solvers import QSVTSolver, estimate_quantum_resources
    >>> K = np.array([[2.0, 0.5], [0.5, 1.0]]); y = np.array([1.0, -1.0])
    >>> s = QSVTSolver().fit(K, y)
    >>> r = estimate_quantum_resources(s, K, y, K, 2.0, probe_index=[0, 1])
    >>> r.degree == s.degree_, r.kappa >= 1, r.n_probe
    (True, True, 2)
    """
    check_is_fitted(solver, "dual_coef_")
    K_tilde, Y = check_system(K_tilde, Y)
    n, t = Y.shape
    if solver.dual_coef_.shape != (n, t):
        raise ValueError(
            f"`solver` was fitted on a system of shape {solver.dual_coef_.shape}; got "
            f"`K_tilde` and `Y` for ({n}, {t})."
        )
    K_probe = np.array(K_probe, dtype=np.float64)  # a copy: leave-one-out edits it
    if K_probe.ndim != 2 or K_probe.shape[1] != n:
        raise ValueError(
            f"`K_probe` must have shape (n_probe, {n}); got {K_probe.shape}."
        )
    if not (
        isinstance(k_thresh, (int, float, np.floating, np.integer))
        and math.isfinite(k_thresh)
        and k_thresh > 0
    ):
        raise ValueError(
            f"`k_thresh` must be a positive finite number; got {k_thresh!r}."
        )
    if probe_index is not None:
        probe_index = np.asarray(probe_index, dtype=np.intp)
        if probe_index.shape != (K_probe.shape[0],):
            raise ValueError(
                f"`probe_index` must have one entry per row of `K_probe` "
                f"({K_probe.shape[0]}); got shape {probe_index.shape}."
            )
        if probe_index.size and (probe_index.min() < 0 or probe_index.max() >= n):
            raise ValueError(
                f"`probe_index` must lie in [0, {n}); got {probe_index!r}."
            )
        K_probe[np.arange(probe_index.size), probe_index] = 0.0

    if isinstance(solver, _QSVTSolverBase):
        bounds = solver.spectral_bounds_
        alpha_value, kappa, poly = solver.alpha_, solver.kappa_, solver.polynomial_
        alpha_method = bounds["alpha_method"]
        eps = float(solver.epsilon)
        success = np.asarray(solver.success_probability_, dtype=np.float64)
    else:
        eps = DEFAULT_EPSILON if epsilon is None else float(epsilon)
        alpha = "norm" if alpha is None else alpha
        time = getattr(solver, "time_", None)  # finite training time, if any
        try:
            bounds = block_encoding_bounds(K_tilde, alpha, invertible=time is None)
        except SingularMatrixError:  # e.g. duplicate points with ExactSolver
            bounds = None
        if bounds is not None and time is not None:
            # The QSVT polynomial of (1 - exp(-t x)) / x replaces the inverse.
            alpha_value, kappa = bounds["alpha"], bounds["kappa"]
            alpha_method = bounds["alpha_method"]
            tau = time * alpha_value
            if gradient_flow_degree_estimate(tau, eps) > EXACT_DEGREE_MAX:
                poly = _DegreeOnly(gradient_flow_degree_estimate(tau, eps))
                success = np.full(t, math.nan)
            else:
                poly = gradient_flow_polynomial(tau, eps)
                success = _success(poly, K_tilde, alpha_value, Y)
        elif bounds is None:
            alpha_method = alpha if isinstance(alpha, str) else "given"
            alpha_value, kappa, poly = math.nan, math.inf, None
            success = np.full(t, math.nan)
        elif inverse_degree_bound(bounds["kappa"], eps) > EXACT_DEGREE_MAX:
            alpha_value, kappa = bounds["alpha"], bounds["kappa"]
            alpha_method = bounds["alpha_method"]
            poly = _DegreeOnly(inverse_degree_bound(kappa, eps))
            success = np.full(t, math.nan)
        else:
            alpha_value, kappa = bounds["alpha"], bounds["kappa"]
            alpha_method = bounds["alpha_method"]
            poly = inverse_polynomial(kappa, eps)
            success = _success(poly, K_tilde, alpha_value, Y)

    # Readout on the probe rows.
    k, P = clip_kernel_rows(K_probe, float(k_thresh))
    post = post_selection_counts(K_probe, float(k_thresh))
    k_hat = k / np.where(P > 0, np.sqrt(P), 1.0)[:, None]
    norms = np.linalg.norm(solver.dual_coef_, axis=0)
    X_hat = solver.dual_coef_ / np.where(norms > 0, norms, 1.0)
    o = np.abs(k_hat @ X_hat)
    with np.errstate(divide="ignore"):
        readout = np.where(o > 0, 1.0 / np.where(o > 0, o, 1.0) ** 2 - 1.0, np.inf)

    # Qubits.
    system = max(1, math.ceil(math.log2(max(n, 2))))
    if hasattr(solver, "n_qubits_"):  # a circuit: count its wires
        ancilla = int(solver.n_qubits_) - system
    else:
        ancilla = (system + 3 if alpha_method == "sparse" else 1) + 2

    # Classical reference.
    converged = True
    nnz = int(K_tilde.nnz) if sp.issparse(K_tilde) else int(np.count_nonzero(K_tilde))
    if isinstance(solver, IterativeSolver):
        cost = solver.classical_cost_
    elif bounds is None:  # singular: report what the solver itself spent
        cost = getattr(solver, "classical_cost_", {})
    else:
        min_abs = bounds["min_abs_estimate"]  # 0 for a singular K at finite t
        kappa_K = bounds["norm_estimate"] / min_abs if min_abs > 0 else math.inf
        reference = IterativeSolver(
            tol=max(eps / kappa_K, 1e-15), maxiter=min(10 * n, REFERENCE_MAXITER)
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            reference.fit(K_tilde, Y)
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        cost = reference.classical_cost_
    method = str(cost.get("method", "none"))
    iterations = int(sum(cost.get("iterations", [])))
    flops = float(2 * nnz * iterations) if iterations else float(cost.get("flops", 0.0))
    degree = 0 if poly is None else int(poly.degree)
    sparsity = max_row_nonzeros(K_tilde) if bounds is None else bounds["sparsity"]

    p_med = float(np.median(success)) if success.size else math.nan
    return QuantumResources(
        solver=type(solver).__name__,
        n=int(n),
        n_targets=int(t),
        s=int(sparsity),
        nnz=nnz,
        max_abs_entry=_max_abs(K_tilde),
        alpha=float(alpha_value),
        alpha_method=str(alpha_method),
        kappa=float(kappa),
        epsilon=eps,
        degree=degree,
        system_qubits=int(system),
        ancilla_qubits=int(ancilla),
        qubits=int(system + ancilla),
        success_probability=p_med,
        post_selection_rowmax=_median(post["rowmax"]),
        post_selection_paper=_median(post["paper"]),
        post_selection_kthresh=_median(post["kthresh"]),
        readout_measurements=float(np.median(readout)) if readout.size else math.nan,
        n_probe=int(K_probe.shape[0]),
        qsvt_queries=degree,
        qsvt_queries_per_state=_amplified_queries(degree, p_med)
        if degree
        else math.inf,
        hhl_queries_per_state=float(kappa**2 / eps),
        classical_method=method,
        classical_iterations=iterations,
        classical_flops=flops,
        classical_converged=bool(converged),
    )
