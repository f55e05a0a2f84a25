"""QuantumNTKClassifier and QuantumNTKRegressor: the trained infinite-width network.

The shape follows ``sklearn.kernel_ridge.KernelRidge``: ``fit`` builds the (sparsified)
kernel, hands it to a solver and stores ``dual_coef_`` and ``X_fit_``; ``predict``
evaluates the kernel between new points and the training set.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.gaussian_process.kernels import Kernel
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .. import solvers as _solvers
from .._parallel import map_blocks
from ..kernels import FullyConnectedNTK, MyrtleNTK, StaxKernel
from ..sparsify import (
    balanced_subset,
    condition_diagonal,
    diagonal_pattern,
    max_row_nonzeros,
    paper_conditioning_factor,
    paper_thresholds,
    random_pattern,
    sparse_from_pairs,
    threshold_entries,
)
from . import _diagnostics
from ._depth import auto_depth
from ._system import ridge, weighted_system

#: Names of the solvers an estimator accepts as strings, and their classes' names.
SOLVERS = {
    "exact": "ExactSolver",
    "iterative": "IterativeSolver",
    "qsvt": "QSVTSolver",
    "pennylane": "PennyLaneSolver",
    "dequantized": "DequantizedSolver",
}

#: The paper's regime as keyword arguments: the classifier's defaults, and one
#: argument away from the regressor's, ``QuantumNTKRegressor(**PAPER_REGIME)``
#: (also a ``set_params`` argument or a GridSearchCV candidate).
PAPER_REGIME = MappingProxyType(
    {"depth": "auto", "sparsity": "random", "diag_reg": 0.0}
)

#: Depth the paper uses for its Myrtle CNN.
MYRTLE_PAPER_DEPTH = 96

#: Largest number of kernel entries a predict holds at once (rows of K_star).
_PREDICT_BLOCK_ENTRIES = 2**22

#: Training-set size up to which solver="auto" uses the direct solver.
_AUTO_EXACT_MAX = 2000

#: Number of training points used to estimate quantum resources at fit time.
_N_PROBE = 128


class _BaseQuantumNTK(BaseEstimator):
    """Shared machinery of the classifier and the regressor."""

    _parameter_constraints = {
        "architecture": [
            StrOptions({"fc", "myrtle", "precomputed"}),
            HasMethods(["__call__", "diag"]),
            callable,
        ],
        "activation": [StrOptions({"erf", "relu"})],
        "depth": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "depth_factor": [Interval(Real, 0, None, closed="neither")],
        "W_std": [Interval(Real, 0, None, closed="neither"), None],
        "b_std": [Interval(Real, 0, None, closed="left")],
        "sparsity": [StrOptions({"random", "threshold", "diagonal", "none"})],
        "sparsity_factor": [Interval(Real, 0, None, closed="neither")],
        "threshold_percentile": [Interval(Real, 0, 100, closed="both")],
        "thresholds": [tuple, None],
        "diag_reg": [Interval(Real, 0, None, closed="left")],
        "t": [Interval(Real, 0, None, closed="neither"), None],
        "solver": [
            StrOptions({"auto", *SOLVERS}),
            HasMethods(["fit", "decision_function"]),
        ],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        architecture="fc",
        *,
        activation="erf",
        depth="auto",
        depth_factor=0.1,
        W_std=None,
        b_std=0.0,
        sparsity="random",
        sparsity_factor=1.0,
        threshold_percentile=90.0,
        thresholds=None,
        diag_reg=0.0,
        t=None,
        solver="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.activation = activation
        self.depth = depth
        self.depth_factor = depth_factor
        self.W_std = W_std
        self.b_std = b_std
        self.sparsity = sparsity
        self.sparsity_factor = sparsity_factor
        self.threshold_percentile = threshold_percentile
        self.thresholds = thresholds
        self.diag_reg = diag_reg
        self.t = t
        self.solver = solver
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # --- scikit-learn plumbing -----------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.architecture == "precomputed"
        solver = self.solver
        tags.non_deterministic = (
            isinstance(solver, str) and solver in {"qsvt", "pennylane", "dequantized"}
        ) or bool(getattr(solver, "_stochastic", False))
        return tags

    # --- kernel --------------------------------------------------------------------
    def _resolve_depth(self, X):
        if self.depth != "auto":
            return int(self.depth)
        if self.architecture == "fc":
            return auto_depth(
                X,
                self.depth_factor,
                self.activation,
                n_jobs=self.n_jobs,
                verbose=self.verbose,
            )
        if self.architecture == "myrtle":
            return MYRTLE_PAPER_DEPTH
        return None  # a given kernel or precomputed matrix: depth is not ours to set

    def _resolve_kernel(self, X):
        arch = self.architecture
        if isinstance(arch, str):
            if arch == "fc":
                return FullyConnectedNTK(
                    depth=self.depth_,
                    activation=self.activation,
                    W_std=self.W_std,
                    b_std=self.b_std,
                )
            if arch == "myrtle":
                side = math.isqrt(X.shape[1])
                if side * side != X.shape[1]:
                    raise ValueError(
                        "architecture='myrtle' infers square single-channel images "
                        "from n_features, which must be a perfect square; got "
                        f"{X.shape[1]}. "
                        "Pass architecture=MyrtleNTK(image_shape=(H, W, C)) instead."
                    )
                if self.depth_ % 3:
                    raise ValueError(
                        "`depth` must be a positive multiple of 3 for "
                        f"architecture='myrtle'; got {self.depth_}."
                    )
                return MyrtleNTK(depth=self.depth_, image_shape=(side, side, 1))
            return None  # precomputed
        if isinstance(arch, Kernel):
            from sklearn.base import clone

            return clone(arch)
        return StaxKernel(kernel_fn=arch)

    def _kernel_pairs(self, X, rows, cols):
        if self.ntk_ is None:  # precomputed: X is the training Gram matrix
            return np.asarray(X[rows, cols], dtype=np.float64)
        pairs = getattr(self.ntk_, "pairs", None)
        if pairs is not None:
            return pairs(
                X, rows=rows, cols=cols, verbose=self.verbose, n_jobs=self.n_jobs
            )
        # A foreign kernel (e.g. sklearn's RBF) has no pair evaluation: compute the rows
        # that are needed, a bounded block at a time, and pick the pattern's entries.
        values = np.empty(rows.size)
        n = X.shape[0]
        step = max(1, _PREDICT_BLOCK_ENTRIES // max(n, 1))
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        for start in range(0, n, step):
            lo, hi = np.searchsorted(sorted_rows, [start, start + step])
            if lo == hi:
                continue
            block = self.ntk_(X[start : start + step], X)
            sel = order[lo:hi]
            values[sel] = block[rows[sel] - start, cols[sel]]
        return values

    def _kernel_block(self, A, B):
        """Exact kernel between rows of ``A`` and of ``B`` (not for precomputed)."""
        return _kernel_block(self.ntk_, A, B, verbose=self.verbose, n_jobs=self.n_jobs)

    def _kernel_diag(self, X):
        if self.ntk_ is None:
            return np.asarray(np.diag(X), dtype=np.float64)
        return np.asarray(self.ntk_.diag(X), dtype=np.float64)

    def _sparsified_kernel(self, X, groups, rng):
        n = X.shape[0]
        if self.sparsity == "none":
            if self.ntk_ is None:
                return np.array(X, dtype=np.float64)
            K = np.asarray(self._kernel_block(X, X), dtype=np.float64)
            np.fill_diagonal(K, self._kernel_diag(X))
            return K
        if self.sparsity == "diagonal":
            rows, cols = diagonal_pattern(n)
            return sparse_from_pairs(rows, cols, self._kernel_diag(X), n)
        rows, cols = random_pattern(groups, self.sparsity_factor, rng)
        diag = rows == cols
        values = np.empty(rows.size)
        values[diag] = self._kernel_diag(X)[rows[diag]]
        values[~diag] = self._kernel_pairs(X, rows[~diag], cols[~diag])
        if self.sparsity == "random":
            return sparse_from_pairs(rows, cols, values, n)
        # "threshold": the paper's CNN variant (the authors' notebook's rule).
        thresholds, k_thresh = self._threshold_rule(X, groups, rng)
        rows, cols, values = threshold_entries(
            rows, cols, values, groups, thresholds, strict=True
        )
        self._threshold_k_thresh = k_thresh
        K = sparse_from_pairs(rows, cols, values, n)
        return condition_diagonal(K, paper_conditioning_factor(n))

    def _threshold_rule(self, X, groups, rng):
        """``({group: t_c}, k_thresh)``: given, or from a 16-example balanced subset."""
        if self.thresholds is not None:
            given, k_thresh = self._checked_thresholds()
            classes = getattr(self, "classes_", None)
            if classes is None:  # regression: one group, 0
                return {int(k): t for k, t in given.items()}, k_thresh
            by_group = {}
            for label, t in given.items():
                match = np.flatnonzero(classes == label)
                if match.size:
                    by_group[int(match[0])] = t
            return by_group, k_thresh
        subset = balanced_subset(groups, 16, rng)
        if self.ntk_ is None:
            K_subset = np.asarray(X[np.ix_(subset, subset)], dtype=np.float64)
        else:
            K_subset = np.asarray(self.ntk_(X[subset]), dtype=np.float64)
        return paper_thresholds(K_subset, groups[subset], self.threshold_percentile)

    def _checked_thresholds(self):
        value = self.thresholds
        ok = (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], dict)
            and isinstance(value[1], Real)
            and math.isfinite(value[1])
            and value[1] > 0
        )
        if not ok:
            raise ValueError(
                "`thresholds` must be None or a tuple ({class: threshold}, k_thresh) "
                "with k_thresh > 0, as returned by "
                f"qntk_sklearn.sparsify.paper_thresholds; got {value!r}."
            )
        return {k: float(v) for k, v in value[0].items()}, float(value[1])

    # --- solver --------------------------------------------------------------------
    def _resolve_solver(self, n_samples):
        from sklearn.base import clone

        solver = self.solver
        if isinstance(solver, str):
            if solver == "auto":
                solver = (
                    "exact"
                    if self.sparsity == "none" or n_samples <= _AUTO_EXACT_MAX
                    else "iterative"
                )
            solver = getattr(_solvers, SOLVERS[solver])()
        else:
            solver = clone(solver)
        params = solver.get_params(deep=False)
        if "random_state" in params and params["random_state"] is None:
            solver.set_params(random_state=self.random_state)
        return solver

    # --- fit / decision ------------------------------------------------------------
    def _check_weights(self, X, y, sample_weight):
        """Validate ``sample_weight``; drop zero-weight samples (as if absent).

        Returns ``(X, y, sample_weight)`` with ``sample_weight`` None when all ones;
        sets ``support_`` (indices of the kept samples, None when all are kept).
        """
        self.support_ = None
        if self.architecture == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                "With architecture='precomputed', `X` must be the square training Gram "
                f"matrix; got shape {X.shape}."
            )
        if sample_weight is None:
            return X, y, None
        sw = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        keep = sw > 0
        if not keep.all():
            idx = np.flatnonzero(keep)
            self.support_ = idx
            X = X[np.ix_(idx, idx)] if self.architecture == "precomputed" else X[idx]
            y, sw = y[idx], sw[idx]
        return X, y, (None if np.all(sw == 1) else sw)

    def _solver_time(self, sample_weight, n_samples, n_targets):
        """The estimator's ``t`` in the solver's units: ``t / y_train.size``.

        neural-tangents' ``gradient_descent_mse_ensemble`` trains on the loss
        ``sum (f - y)^2 / (2 y_train.size)`` with learning rate 1 by default, so its
        kernel flow is ``exp(-t K / y_train.size)``; the weighted size is
        ``sum(sample_weight) * n_targets``.
        """
        if self.t is None:
            return None
        size = (n_samples if sample_weight is None else float(sample_weight.sum())) * (
            n_targets
        )
        return float(self.t) / size

    def _fit(self, X, Y, groups, sample_weight=None):
        if self.architecture == "precomputed":
            _solvers.check_symmetric(X, name="X")
        elif self.architecture == "fc":
            _diagnostics.check_input_scale(X)
        rng = check_random_state(self.random_state)
        self.n_train_ = X.shape[0]
        self.depth_ = (
            None if self.architecture == "precomputed" else self._resolve_depth(X)
        )
        _diagnostics.check_depth(
            self.depth_, depth_param=self.depth, depth_factor=self.depth_factor
        )
        self.ntk_ = self._resolve_kernel(X)
        K_tilde = self._sparsified_kernel(X, groups, rng)
        _diagnostics.check_zero_kernel(K_tilde)
        self.target_mean_ = np.average(Y, axis=0, weights=sample_weight)
        lam = ridge(K_tilde, self.diag_reg, sample_weight)
        K_sys, Y_sys, col_scale = weighted_system(
            K_tilde, Y - self.target_mean_, sample_weight, lam
        )
        self._targets = Y_sys
        self._col_scale = col_scale
        # Diagnostics before solving: a solver error must not hide the cause.
        info = _solvers.spectrum(K_sys)
        self.condition_number_ = info["condition_number"]
        self.offdiagonal_ratio_ = self._offdiagonal_ratio(
            X, K_tilde, rng, sample_weight
        )
        if self.n_train_ >= 2:
            if isinstance(self, RegressorMixin):
                _diagnostics.warn_diagonal(self.offdiagonal_ratio_, depth=self.depth_)
            _diagnostics.warn_indefinite(
                info,
                K_sys,
                sparsity=self.sparsity,
                depth=self.depth_,
                mean_diag=ridge(K_tilde, 1.0, sample_weight),
                diag_reg=self.diag_reg,
            )
        self.solver_ = self._resolve_solver(X.shape[0])
        if self.sparsity == "threshold":  # the paper's CNN rule, from the subset
            k_thresh = self._threshold_k_thresh
        elif self.ntk_ is None or not hasattr(self.ntk_, "clip_threshold"):
            k_thresh = float(np.median(self._kernel_diag(X)))
        else:
            k_thresh = self.ntk_.clip_threshold(X)
        if col_scale is not None:  # query rows are scaled by sqrt(w): clip no earlier
            k_thresh *= float(col_scale.max())
        fit_params = {"k_thresh": k_thresh}
        time = self._solver_time(sample_weight, X.shape[0], Y.shape[1])
        if time is not None:
            fit_params["t"] = time
        self.solver_.fit(K_sys, Y_sys, **fit_params)
        self.kernel_ = K_sys
        coef = self.solver_.dual_coef_
        self.dual_coef_ = coef if col_scale is None else coef * col_scale[:, None]
        self.X_fit_ = X
        self.sparsity_ = max_row_nonzeros(K_sys)
        self.k_thresh_ = k_thresh
        self._resources = None
        return self

    def _offdiagonal_ratio(self, X, K_tilde, rng, sample_weight):
        """``offdiagonal_ratio_``: how far from diagonal the kernel is (see Attributes).

        A dense kernel uses every entry. The sparse paths probe ``PROBE_ROWS``
        training rows (drawn after the pattern) against all training points: a test
        point's decision is set by its nearest training points, and the pattern
        keeps random ones. The CNN kernels, costly per entry, use the pattern's
        entries.
        """
        n = X.shape[0]
        if n < 2:
            return float("nan")
        if not sp.issparse(K_tilde):
            rows, index = K_tilde, np.arange(n)
            diag = np.diag(K_tilde) if self.ntk_ is not None else np.diag(X)
            if self.ntk_ is None:
                rows = X
        elif isinstance(self.ntk_, (MyrtleNTK, StaxKernel)):
            if K_tilde.nnz <= n or self.sparsity == "threshold":
                return float("nan")  # no off-diagonal entries, or a conditioned diag
            rows, index, diag = K_tilde, np.arange(n), K_tilde.diagonal()
        else:
            index = np.sort(
                rng.choice(n, size=min(_diagnostics.PROBE_ROWS, n), replace=False)
            )
            # The pattern's diagonal is the kernel's, except after "threshold"'s
            # conditioning.
            diag = (
                K_tilde.diagonal()
                if self.sparsity in ("random", "diagonal")
                else self._kernel_diag(X)
            )
            if self.ntk_ is None:  # precomputed
                rows = np.asarray(X[index], dtype=np.float64)
            else:
                rows = np.asarray(self._kernel_block(X[index], X), dtype=np.float64)
                rows[np.arange(index.size), index] = diag[index]
        return _diagnostics.offdiagonal_ratio(rows, index, diag, sample_weight)

    @property
    def quantum_resources_(self):
        """What the quantum algorithm would cost on this system, next to the classical
        cost (a :class:`~qntk_sklearn.solvers.QuantumResources`).

        Computed on first access, then cached: the measurement counts need the exact
        kernel between up to 128 training points (drawn with ``random_state``) and the
        whole training set, which a model fitted inside a grid search never needs.
        """
        check_is_fitted(self, "dual_coef_")
        if self._resources is None:
            X = self.X_fit_
            n = X.shape[0]
            rng = check_random_state(self.random_state)
            probe = np.sort(rng.choice(n, size=min(_N_PROBE, n), replace=False))
            if self.ntk_ is None:
                K_probe = np.asarray(X[probe], dtype=np.float64)
            else:
                K_probe = self._kernel_block(X[probe], X)
                K_probe[np.arange(probe.size), probe] = self._kernel_diag(X[probe])
            if self._col_scale is not None:
                K_probe = K_probe * self._col_scale[None, :]
            self._resources = _solvers.estimate_quantum_resources(
                self.solver_,
                self.kernel_,
                self._targets,
                K_probe,
                self.k_thresh_,
                probe_index=probe,
            )
        return self._resources

    def _raw_decision(self, X):
        """``K_star @ K_tilde^-1 (Y - mean)`` (through the solver), in row blocks.

        Each block of query rows computes its kernel rows and the solver's decision on
        them, so ``K_star`` is never held whole; blocks are dispatched through joblib
        (``n_jobs``) and written to their own rows, so the result does not depend on
        ``n_jobs``.
        """
        check_is_fitted(self, "dual_coef_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        step = max(1, _PREDICT_BLOCK_ENTRIES // max(self.n_train_, 1))
        starts = range(0, X.shape[0], step)
        out = np.empty((X.shape[0], self.dual_coef_.shape[1]))
        tasks = [
            (
                self.ntk_,
                self.solver_,
                X[i : i + step],
                self.X_fit_,
                self.support_,
                self._col_scale,
            )
            for i in starts
        ]
        for t, decision in map_blocks(
            _decision_block,
            tasks,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            desc="predict",
            sizes=[min(step, X.shape[0] - i) for i in starts],
        ):
            out[starts[t] : starts[t] + step] = decision
        return out


def _kernel_block(ntk, A, B, verbose=0, n_jobs=None):
    """Exact kernel between rows of ``A`` and of ``B`` with any kernel object."""
    block = getattr(ntk, "block", None)
    if block is not None:
        return block(A, B, verbose=verbose, n_jobs=n_jobs)
    return ntk(A, B)


def _decision_block(ntk, solver, X, X_fit, support, col_scale):
    """The solver's decision on the kernel rows of the query rows ``X`` (one block).

    ``X`` is the precomputed kernel rows when ``ntk`` is None (``support``: the
    columns of the kept training points); ``col_scale`` rescales the columns."""
    if ntk is None:
        K_star = X if support is None else X[:, support]
    else:
        K_star = _kernel_block(ntk, X, X_fit, n_jobs=1)
    if col_scale is not None:
        K_star = K_star * col_scale[None, :]
    return solver.decision_function(K_star)


_DOC_PARAMETERS = """
    Parameters
    ----------
    architecture : {{"fc", "myrtle", "precomputed"}}, kernel object or callable, \
default="fc"
        The network whose infinite-width NTK is used. "fc": fully connected,
        ``depth x [Dense, activation] -> Dense(1)`` (:class:`~qntk_sklearn.kernels.\
FullyConnectedNTK`, closed form). "myrtle": the paper's Myrtle CNN on square
        single-channel images given as flattened rows
        (:class:`~qntk_sklearn.kernels.MyrtleNTK`, computed natively). A kernel
        object (any scikit-learn kernel, e.g. a configured ``FullyConnectedNTK`` or
        ``MyrtleNTK``) is used as given. Another callable is taken as a
        neural-tangents stax ``kernel_fn``. "precomputed": ``X`` is the
        kernel itself, ``(n_train, n_train)`` at fit and ``(n_queries, n_train)`` at
        predict.
    activation : {{"erf", "relu"}}, default="erf"
        Activation of the "fc" network.
    depth : int or "auto", default={depth_default}
        Hidden layers, at most ``MAX_DEPTH`` (5000: beyond it every network has
        reached its depth-independent, degenerate limit; a ValueError says so).
        "auto" is the paper's rule ``round(depth_factor * L_conv)`` with
        ``L_conv = 8 ln(n / delta) / mu`` computed on the training set (``delta``:
        the separation of the training points, ``mu``: the activation's coefficient
        of nonlinearity), over its distinct rows: rows with the same direction up to
        sign (duplicates, ``x`` and ``2 x``, ``x`` and ``-x``) count once, with a
        :class:`~qntk_sklearn.DuplicateSamplesWarning` (see :func:`~qntk_sklearn.\
separation`, exact, in ``O(n^2 d)`` float32 operations). For "myrtle", "auto" is
        the paper's 96.
    depth_factor : float, default=0.1
        Fraction of the convergence depth used by ``depth="auto"`` (the paper's 0.1).
    W_std : float or None, default=None
        Weight scale of the "fc" network; None is the paper's normalisation
        (``1/sqrt(E[erf(z)^2])`` for erf, ``sqrt(2)`` for relu).
    b_std : float, default=0.0
        Bias scale of the "fc" network.
    sparsity : {{"random", "threshold", "diagonal", "none"}}, \
default={sparsity_default}
        How the training kernel is sparsified before solving. "random": the paper's
        random within-class pattern with about ``sparsity_factor * ln n`` off-diagonal
        nonzeros per row and the full diagonal. "threshold": the paper's CNN variant
        as the authors' code does it: the random pattern, then in-class entries kept
        only where ``K > t_c``, with ``t_c`` the ``threshold_percentile``-th
        percentile of ``|K o M_c|`` over the whole kernel of a class-balanced
        16-example training subset (``M_c``: the class-c off-diagonal block mask),
        then ``K + f diag(K)`` with ``f = 0.76 (ln n)^0.9``; ``k_thresh_`` is the
        subset's largest off-diagonal ``|K|`` (see
        :func:`~qntk_sklearn.sparsify.paper_thresholds`). "diagonal": only the
        diagonal. "none": the exact dense kernel. Sparse options never form an
        n x n dense array.
    sparsity_factor : float, default=1.0
        Off-diagonal nonzeros per row in units of ``ln n``.
    threshold_percentile : float, default=90.0
        Percentile used by ``sparsity="threshold"`` (the authors' code: 90).
    thresholds : tuple or None, default=None
        For ``sparsity="threshold"``: ``({{class: t_c}}, k_thresh)`` fixed in advance,
        as the paper's experiment does (computed once on its first 16-example training
        set with :func:`~qntk_sklearn.sparsify.paper_thresholds` and reused for every
        n). None computes them at fit from a class-balanced 16-example subset of the
        training set, drawn with ``random_state``.
    diag_reg : float, default={diag_reg_default}
        Ridge on the diagonal of the solved matrix, relative to the kernel's scale:
        ``lambda = diag_reg * mean(diag(K_tilde))`` is added to ``K_tilde`` after
        sparsification (so the quantum solvers invert ``K_tilde + lambda I`` too).
        This is neural-tangents' ``diag_reg`` (with ``diag_reg_absolute_scale=False``)
        and, at ``t=None``, kernel ridge regression:
        :class:`~sklearn.kernel_ridge.KernelRidge` on the same kernel with
        ``alpha = lambda``. 0 is the paper's network, trained to interpolate the
        training set.
    t : float or None, default=None
        Training time: the prediction of the infinite-width network trained by
        gradient flow on the squared loss for a time ``t``,
        ``k*^T K^-1 (I - exp(-t K / N)) (y - mean)`` with ``K`` the solved matrix
        (ridge included) and ``N = n_samples * n_targets`` (with ``sample_weight``:
        ``sum(sample_weight) * n_targets``). This is neural-tangents'
        ``predict.gradient_descent_mse_ensemble(kernel_fn, x_train, y_train - mean,
        learning_rate=eta, diag_reg=diag_reg)`` evaluated at time ``t / eta``: its
        loss is ``sum (f - y)^2 / (2 y_train.size)`` and its flow
        ``exp(-eta t K / y_train.size)``, so ``t`` here is learning rate times time.
        None is ``t = inf``, the network trained to convergence (the paper's
        ``k*^T K^-1 (y - mean)``). A finite ``t`` divides no eigenvalue by less than
        ``N / t``, a regulariser that also works for a singular kernel; it needs a
        positive semi-definite solved matrix. "exact" uses an eigendecomposition
        (dense) or a Chebyshev expansion of ``exp(-t K / N)`` and a sparse solve,
        "iterative" the expansion and CG, "qsvt" a QSVT polynomial of
        ``(1 - exp(-t x)) / x`` whose degree grows with ``t`` but not with the
        condition number (reported in ``quantum_resources_``); "pennylane" refuses
        a finite ``t``.
    solver : {{"auto", "exact", "iterative", "qsvt", "pennylane", "dequantized"}} \
or solver object, default="auto"
        Linear-system solver. "exact": Cholesky / sparse LU. "iterative": CG, or
        MINRES when the matrix is indefinite. "qsvt": emulation of the quantum
        algorithm's output (QSVT with shot noise). "pennylane": gate-level circuits
        (small n). "dequantized": the classical sampling algorithm that estimates the
        same decision values as QSVT (:class:`~qntk_sklearn.solvers.DequantizedSolver`).
        "auto": "exact" for ``sparsity="none"`` or n <= 2000, else
        "iterative". A solver object (from :mod:`qntk_sklearn.solvers`) is cloned, so
        its parameters are tunable as ``solver__<name>``. No solver returns a
        solution dominated by the null space of a numerically singular matrix
        (duplicate training points) silently: the exact solver falls back to the
        minimum-norm solution with a ``SingularSystemWarning``, the others warn
        (``CollapsedSolutionWarning``) or raise, naming the duplicate rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the sparsity pattern, the probe points of ``quantum_resources_`` and,
        when the solver's own ``random_state`` is None, the solver's measurements.
    n_jobs : int or None, default=None
        Workers for the long computations (the separation of ``depth="auto"``, the
        kernel entries of ``fit``, the blocks of ``predict``), dispatched through
        joblib: None means 1 unless in a :func:`joblib.parallel_config` context, -1
        means all cores. Threads by default; ``with
        joblib.parallel_backend("dask"):`` runs them on a dask.distributed cluster.
        Results do not depend on ``n_jobs``.
    verbose : int, default=0
        If positive, show progress bars (tqdm, on stderr) for the separation, the
        kernel evaluations of ``fit`` and ``quantum_resources_``, and ``predict``.
"""

_DOC_ATTRIBUTES = """
    depth_ : int or None
        Depth actually used (``depth="auto"`` resolved); None for a given kernel.
    ntk_ : kernel object or None
        The kernel used (None for "precomputed").
    kernel_ : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The matrix actually solved (sparse for every sparse option): ``K_tilde +
        lambda I``, or ``S K_tilde S + lambda I`` with ``sample_weight``.
    condition_number_ : float
        Condition number of ``kernel_`` (LAPACK for a dense matrix up to n = 4000;
        Lanczos beyond and for sparse matrices; inf if singular).
    sparsity_ : int
        Largest number of nonzeros in a row of ``kernel_``.
    offdiagonal_ratio_ : float
        How far from diagonal the kernel is: the median over training points
        (weighted by ``sample_weight``) of the largest kernel correlation
        ``|K_ij| / sqrt(K_ii K_jj)`` with another, distinct training point (all
        pairs for a dense kernel; 8 probe rows against the whole training set on
        the sparse paths; the pattern's pairs for the CNN kernels). A test point's
        decision is of this order relative to a training point's: the regressor
        warns (``DiagonalKernelWarning``) below 1e-6, where its predictions equal
        the training mean. nan for fewer than 2 points.
    support_ : ndarray of int or None
        Indices of the training samples used (those of positive ``sample_weight``);
        None when all are.
    dual_coef_ : ndarray of shape (n_samples, n_targets)
        Solution used for prediction, ``K_star @ dual_coef_`` (from the solver; for
        quantum solvers an estimate derived from the emulated state): with the
        defaults ``kernel_^-1 (Y - mean)``; with a finite ``t``
        ``kernel_^-1 (I - exp(-t kernel_ / N)) (Y - mean)``; with ``sample_weight``
        ``S`` times the solver's solution, ``S = diag(sqrt(w))``.
    target_mean_ : ndarray of shape (n_targets,)
        Mean of the training targets (one-vs-rest +-1 columns for the classifier).
    solver_ : solver object
        The fitted solver.
    k_thresh_ : float
        Clipping scale for preparing the quantum state of a test point's kernel row.
    quantum_resources_ : QuantumResources
        What the quantum algorithm would cost on this system (n, s, kappa, queries,
        qubits, measurements; ``.gates``: logical qubits and Toffoli counts) next to
        the classical cost; see
        :func:`~qntk_sklearn.solvers.estimate_quantum_resources`. Computed on first
        access (it evaluates up to 128 x n exact kernel entries), then cached.
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training data (the training Gram matrix for "precomputed").
    n_features_in_ : int
"""

_DOC_REFERENCES = """
    References
    ----------
    .. [1] A. Zlokapa, H. Neven, S. Lloyd, "A quantum algorithm for training wide and
       deep classical neural networks", arXiv:2107.09200 (2021).
    .. [2] A. Jacot, F. Gabriel, C. Hongler, "Neural tangent kernel: convergence and
       generalization in neural networks", NeurIPS 2018.
    .. [3] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value
       transformation and beyond", STOC 2019.
"""


class QuantumNTKClassifier(ClassifierMixin, _BaseQuantumNTK):
    __doc__ = (
        """Classifier that trains an infinite-width network the quantum way.

    Fitting computes the network's neural tangent kernel on the training set,
    sparsifies it, and solves ``K_tilde a = y`` with a classical or (simulated) quantum
    linear solver; a new point ``x*`` is scored by ``k*^T a`` with
    ``k*_i = Theta(x*, x_i)``, the output of the network trained to convergence by
    gradient flow on the squared loss (in the infinite-width limit).
"""
        + _DOC_PARAMETERS.format(
            depth_default='"auto"', sparsity_default='"random"', diag_reg_default="0.0"
        )
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    decision_scale_ : float
        Positive scale dividing the decision values, 1 unless the kernel is nearly
        diagonal: ``min(1, offdiagonal_ratio_ / 0.01)``. Deep networks give unseen
        points decision values of the order of ``offdiagonal_ratio_`` (down to
        1e-25) against +-1 for training points; the scale brings them to order 0.01
        or more without changing any prediction, which
        :class:`~sklearn.calibration.CalibratedClassifierCV` needs (see Notes)."""
        + _DOC_ATTRIBUTES
        + """
    See Also
    --------
    QuantumNTKRegressor : the same model for regression.
    sklearn.svm.SVC : accepts ``kernel=FullyConnectedNTK(...)`` for an NTK SVM.

    Notes
    -----
    Targets are one-vs-rest columns in {-1, +1} (one column for two classes), centred
    by their training mean before solving, and the decision value is
    ``k*^T K_tilde^-1 (y - mean(y))``: its sign (binary) or argmax (multiclass) is the
    prediction. Centring makes the rule insensitive to class imbalance in the way an
    intercept would, while keeping decisions inductive: unlike the paper's reference
    code, which thresholds at the median of the test outputs, no statistic of the
    predicted batch is used. All classes share one sparse matrix, factorised (or
    emulated) once.

    Probabilities: the classifier has no ``predict_proba``; wrap it in
    :class:`~sklearn.calibration.CalibratedClassifierCV` with ``method="sigmoid"``
    (Platt scaling of held-out decision values). ``decision_scale_`` keeps a deep
    network's tiny held-out decision values within reach of its optimiser.

    ``sample_weight`` gives weighted least squares as in
    :class:`~sklearn.kernel_ridge.KernelRidge`: the solved system is
    ``S K_tilde S + lambda I`` with ``S = diag(sqrt(w))`` (same sparsity pattern;
    the quantum solvers invert it and read out ``k* S``), targets are centred by
    their weighted mean, and a weight of 0 leaves the sample out. Without a ridge
    and at ``t=None`` the model interpolates, and positive weights do not change it.
"""
        + _DOC_REFERENCES
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import Normalizer, StandardScaler
    >>> from qntk_sklearn import QuantumNTKClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     Normalizer(),
    ...     QuantumNTKClassifier(depth=32, random_state=0),
    ... )
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
"""
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model on training data ``X`` and labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, or the training Gram matrix for "precomputed".
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (weighted least squares, see Notes); a sample of
            weight 0 is left out.

        Returns
        -------
        self : object
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        X, y, sample_weight = self._check_weights(X, y, sample_weight)
        binarizer = LabelBinarizer(neg_label=-1, pos_label=1)
        Y = binarizer.fit_transform(y).astype(np.float64)
        self.classes_ = binarizer.classes_
        if self.classes_.size < 2:
            raise ValueError(
                "QuantumNTKClassifier needs samples of at least 2 classes in `y`; got "
                f"1 class: {self.classes_[0]!r}."
            )
        groups = np.searchsorted(self.classes_, y)
        self._fit(X, Y, groups, sample_weight)
        self.decision_scale_ = _diagnostics.decision_scale(self.offdiagonal_ratio_)
        return self

    def decision_function(self, X):
        """Decision values ``k*^T K_tilde^-1 (y - mean(y)) / decision_scale_``.

        ``decision_scale_`` is 1 unless the kernel is nearly diagonal (see
        Attributes); a positive scale changes no prediction, ranking or ROC curve.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        scores : ndarray of shape (n_queries,) or (n_queries, n_classes)
            One column per class for more than two classes; positive means the second
            class for two.
        """
        scores = self._raw_decision(X) / self.decision_scale_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_queries,)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class QuantumNTKRegressor(RegressorMixin, _BaseQuantumNTK):
    __doc__ = (
        """Regressor that trains an infinite-width network the quantum way.

    The same method as :class:`QuantumNTKClassifier` on real-valued targets: the
    prediction is ``mean(y) + k*^T K_tilde^-1 (y - mean(y))``.
"""
        + _DOC_PARAMETERS.format(
            depth_default="4", sparsity_default='"none"', diag_reg_default="0.1"
        )
        + """
    Attributes
    ----------"""
        + _DOC_ATTRIBUTES
        + """
    See Also
    --------
    QuantumNTKClassifier : the same model for classification.
    sklearn.kernel_ridge.KernelRidge : the classical kernel method of the same shape.

    Notes
    -----
    Targets are centred by their training mean (the intercept), which is added back at
    prediction. With ``sparsity="random"`` there are no classes, so the pattern is
    drawn over all training points.

    Defaults. A regression target is noisy and the paper's regime (the classifier's
    defaults: ``depth="auto"``, about 0.1 of the convergence depth, with
    ``sparsity="random"`` and no ridge) predicts the training mean there: its
    kernel is effectively diagonal (R^2 = -0.001 on scikit-learn's diabetes). The
    regressor's defaults are a shallow network (``depth=4``), the exact kernel
    (``sparsity="none"``) and a ridge (``diag_reg=0.1``): cross-validated R^2 0.49
    on diabetes, 0.81 on ``make_friedman1`` (RBF SVR: 0.47, 0.82). The paper's regime
    is ``depth="auto", sparsity="random", diag_reg=0.0``, one argument away:
    ``QuantumNTKRegressor(**PAPER_REGIME)`` (:data:`qntk_sklearn.PAPER_REGIME`). No
    single one of the three reaches it from a useful model, since a deep kernel is
    diagonal (predicts the mean) and a shallow one sparsified at random is
    indefinite (R^2 far below 0): both are detected at fit
    (``DiagonalKernelWarning``, ``IndefiniteKernelWarning``). The
    dense default costs O(n^2) memory, like KernelRidge.

    ``sample_weight`` gives weighted least squares, exactly
    :class:`~sklearn.kernel_ridge.KernelRidge` with ``sample_weight`` and
    ``alpha = diag_reg * (weighted) mean(diag K)`` on the centred targets (see
    :class:`QuantumNTKClassifier`).
"""
        + _DOC_REFERENCES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from qntk_sklearn import QuantumNTKRegressor
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> y = np.sin(X[:, 0]) + X[:, 1]
    >>> reg = QuantumNTKRegressor().fit(X, y)  # depth 4, exact kernel, ridge 0.1
    >>> round(reg.score(X, y), 2)
    0.99
    >>> exact = QuantumNTKRegressor(depth=3, diag_reg=0.0).fit(X, y)  # interpolates
    >>> float(np.abs(exact.predict(X) - y).max()) < 1e-6
    True
"""
    )

    def __init__(
        self,
        architecture="fc",
        *,
        activation="erf",
        depth=4,
        depth_factor=0.1,
        W_std=None,
        b_std=0.0,
        sparsity="none",
        sparsity_factor=1.0,
        threshold_percentile=90.0,
        thresholds=None,
        diag_reg=0.1,
        t=None,
        solver="auto",
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(
            architecture,
            activation=activation,
            depth=depth,
            depth_factor=depth_factor,
            W_std=W_std,
            b_std=b_std,
            sparsity=sparsity,
            sparsity_factor=sparsity_factor,
            threshold_percentile=threshold_percentile,
            thresholds=thresholds,
            diag_reg=diag_reg,
            t=t,
            solver=solver,
            random_state=random_state,
            n_jobs=n_jobs,
            verbose=verbose,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model on training data ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, or the training Gram matrix for "precomputed".
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights (weighted least squares, as
            :class:`~sklearn.kernel_ridge.KernelRidge`); a sample of weight 0 is left
            out.

        Returns
        -------
        self : object
        """
        X, y = validate_data(
            self, X, y, dtype=np.float64, y_numeric=True, multi_output=True
        )
        y = np.asarray(y, dtype=np.float64)
        X, y, sample_weight = self._check_weights(X, y, sample_weight)
        self._y_1d = y.ndim == 1
        Y = y[:, None] if y.ndim == 1 else y
        return self._fit(X, Y, np.zeros(X.shape[0], dtype=np.intp), sample_weight)

    def predict(self, X):
        """Predicted targets ``mean(y) + k*^T K_tilde^-1 (y - mean(y))``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_targets)
        """
        pred = self._raw_decision(X) + self.target_mean_
        return pred[:, 0] if self._y_1d else pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
