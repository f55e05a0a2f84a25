"""Fault-tolerant gate counts of the quantum pipeline, from PennyLane's estimator.

Query counts (:class:`~qntk_sklearn.solvers.QuantumResources`) say how often the
block encoding of ``K_tilde`` is called; this module says what one call, one QSVT
inversion circuit and one whole prediction cost in logical qubits, Toffoli and T
gates, for a concrete circuit built from standard primitives. The primitives and
their costs come from :mod:`pennylane.estimator` (imported lazily, on first use):
``QROM`` (select-swap table lookup; Berry et al. 2019, Low et al. 2018),
``QROMStatePreparation``, ``UniformStatePrep``, ``SemiAdder`` (Gidney's adder, for
rotations by a loaded angle on a phase-gradient register, as in PennyLane's own
``QROMStatePreparation``), ``QSVT`` and ``PCPhase``. What PennyLane has no template
for, the sparse-access block encoding and the paper's post-selected preparation of
``|k*>``, is composed here as two :class:`pennylane.estimator.ResourceOperator`
subclasses listing those primitives.

The circuit, per prediction (one test point, one target):

* **Block encoding of** ``K_tilde / alpha`` (Gilyén et al. 2019, Lemma 48),
  ``alpha = s max|K_ij|``, ``s`` nonzeros per row: ``U_A = U_L^dagger SWAP U_R``
  with, on each side, a uniform superposition over the ``s`` slots of a row, a
  rotation of a flag qubit by the angle ``arcsin(sqrt|K_ij| / ...)`` looked up in a
  QROM of ``n s`` words of ``b + 1`` bits (angle and sign) and un-looked-up, and the
  in-place column oracle ``|i, k> -> |i, c(i, k)>``: one QROM of ``n s`` words of
  ``ceil(log2 n)`` bits writing the column and one inverse lookup of ``n s`` words
  of ``ceil(log2 s)`` bits erasing the slot index. The erasure assumes the table
  ``(row, column) -> slot`` is addressable like ``(row, slot) -> column`` (a
  hashed layout of the same size); a circuit that has to search the row for the
  slot costs more.
* **QSVT inversion circuit**: ``degree`` calls to ``U_A`` or its adjoint and
  ``degree + 1`` projector-controlled phases (``qml.estimator.QSVT``), with the
  polynomial of :func:`~qntk_sklearn.solvers.inverse_polynomial` for the condition
  bound of this block encoding, ``kappa = alpha / min|lambda|``. Taking the real
  part of the polynomial only controls the phases on one extra qubit (same
  Toffoli count; not counted).
* **Solution state**: ``|y>`` by ``QROMStatePreparation`` then the QSVT circuit,
  ``2 R + 1`` times for ``R`` rounds of amplitude amplification on its success
  probability.
* ``|k*>`` **by post-selection** (the paper's): a uniform superposition over the
  ``n`` training points, a rotation by the clipped entry ``k_i`` looked up in a QROM
  of ``n`` words of ``b + 1`` bits, the inverse lookup; it succeeds with
  probability ``P / n``, amplified in ``R_k`` rounds (``2 R_k + 1`` attempts).
* **Readout**: the two states are compared ``ceil(1/o^2 - 1)`` times (the paper's
  count for the sign of the overlap ``o``).

Not counted (all ``O(log n)`` per round, or one-off): the reflections of amplitude
amplification, the controls of the Hadamard test, the preparation of the
phase-gradient state, and writing the classical data into the QROM (the QROM is a
circuit whose gates encode the table: its Toffoli count grows with the table size,
like ``sqrt(n s b)`` for the T-optimal select-swap width PennyLane picks; an
active QRAM would trade those gates for ``O(n s)`` routing qubits; the number of
table lookups, ``lookups_per_prediction``, is reported for that model).
Bits: entries and amplitudes are loaded as angles of
``b = ceil(log2(pi / delta))`` bits with ``delta = epsilon / (2 kappa)``, so the
block-encoded matrix is off by at most ``delta`` and the inversion by about
``epsilon / 2``; rotations of the projector phases are synthesised to PennyLane's
default precision (1e-9). All counts are logical (no error correction).

References
----------
.. [1] A. Gilyén, Y. Su, G. H. Low, N. Wiebe, "Quantum singular value transformation
   and beyond", STOC 2019 (Lemma 48).
.. [2] D. W. Berry, C. Gidney, M. Motta, J. R. McClean, R. Babbush, "Qubitization of
   arbitrary basis quantum chemistry leveraging sparsity and low rank
   factorization", Quantum 3, 208 (2019) (QROM costs).
.. [3] C. Gidney, "Halving the cost of quantum addition", Quantum 2, 74 (2018).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from ._polynomial import inverse_degree_bound, inverse_polynomial

#: Above this degree the polynomial is not built: its closed-form degree bound is
#: used and the success probability (which needs its scale) is left as nan.
_BUILD_DEGREE_MAX = 20_000

_DOCS = {
    "bits": "b: bits per loaded angle (entries of K_tilde, amplitudes of k*)",
    "alpha": "sparse-access normalisation s * max|K_tilde_ij|",
    "kappa": "condition bound of K_tilde / alpha (this block encoding)",
    "degree": "QSVT polynomial degree for that kappa",
    "qsvt_qubits": "logical qubits of one QSVT inversion circuit",
    "logical_qubits": "logical qubits of a prediction (both states + test qubit)",
    "toffoli_block_encoding": "Toffolis of one call to the block encoding",
    "toffoli_qsvt": "Toffolis of one QSVT inversion circuit",
    "t_qsvt": "T gates of one QSVT inversion circuit (rotations)",
    "toffoli_state_y": "Toffolis to prepare |y> (QROMStatePreparation)",
    "toffoli_state_k": "Toffolis of one post-selection attempt for |k*>",
    "solution_rounds": "amplitude-amplification rounds R of the solution state",
    "post_selection_rounds": "amplification rounds of |k*> (row-max n/P)",
    "readout_repetitions": "ceil(1/o^2 - 1) comparisons of the two states",
    "toffoli_per_prediction": "Toffolis to classify one test point",
    "t_per_prediction": "T gates to classify one test point",
    "lookups_per_prediction": "QROM table lookups to classify one test point",
    "classical_flops_solve": "classical: CG/MINRES on the same K_tilde",
    "classical_flops_per_prediction": "classical: k* . a, 2 n (a solved once)",
}


@dataclass(frozen=True)
class GateResources:
    """Logical qubits, Toffoli and T gates of the paper's pipeline; classical flops.

    Made by :func:`estimate_gate_resources`, usually through
    :attr:`QuantumResources.gates <qntk_sklearn.solvers.QuantumResources.gates>`.
    The circuit and its assumptions are described in the module
    :mod:`qntk_sklearn.solvers._gates` and in the user guide (Reading
    ``quantum_resources_``). Counts are for one target (right-hand side); a
    prediction is one test point. Non-finite inputs (a singular system, an unknown
    success probability) give nan counts.

    Attributes
    ----------
    bits : int
        Bits ``b`` of every loaded angle.
    alpha, kappa : float
        Normalisation ``s max|K_ij|`` of the sparse-access block encoding and the
        condition bound of ``K_tilde / alpha`` it implies.
    degree : int
        Degree of the inversion polynomial for that ``kappa``.
    qsvt_qubits, logical_qubits : int
        Logical qubits of one QSVT circuit (system, block-encoding ancillas, QROM
        and adder work registers) and of a whole prediction (the solution state,
        the ``|k*>`` register and its flag, the Hadamard-test qubit).
    toffoli_block_encoding, toffoli_qsvt, t_qsvt : int
        Toffolis of one block-encoding call; Toffoli and T gates of one QSVT
        inversion circuit.
    toffoli_state_y, toffoli_state_k : int
        Toffolis of preparing ``|y>`` and of one post-selection attempt for
        ``|k*>``.
    solution_rounds, post_selection_rounds, readout_repetitions : float
        Amplitude-amplification rounds of the solution state and of ``|k*>``, and
        repetitions of the readout (integers; nan when unknown).
    toffoli_per_prediction, t_per_prediction : float
        Toffoli and T gates to classify one test point.
    lookups_per_prediction : float
        QROM table lookups to classify one test point.
    classical_flops_solve, classical_flops_per_prediction : float
        The classical cost of the same work: CG/MINRES on ``K_tilde``
        (:attr:`QuantumResources.classical_flops`), and ``2 n`` for one prediction
        ``k*^T a`` once ``a`` is solved (both sides need the ``n`` kernel entries
        of ``k*``).
    """

    bits: int
    alpha: float
    kappa: float
    degree: int
    qsvt_qubits: int
    logical_qubits: int
    toffoli_block_encoding: int
    toffoli_qsvt: int
    t_qsvt: int
    toffoli_state_y: int
    toffoli_state_k: int
    solution_rounds: float
    post_selection_rounds: float
    readout_repetitions: float
    toffoli_per_prediction: float
    t_per_prediction: float
    lookups_per_prediction: float
    classical_flops_solve: float
    classical_flops_per_prediction: float

    def as_dict(self):
        """The fields as a plain dict (JSON-serialisable)."""
        return dataclasses.asdict(self)

    def __str__(self):
        return "\n".join(field_table(self, _DOCS))


def field_table(record, docs):
    """Lines of a ``quantity  value  meaning`` table of a dataclass's fields.

    Shared by :class:`GateResources` and
    :class:`~qntk_sklearn.solvers.QuantumResources`; ``docs`` maps each field name
    to its meaning.
    """
    rows = []
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        rows.append((f.name, text, docs[f.name]))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines = [f"{'quantity':<{w0}}  {'value':>{w1}}  meaning", "-" * (w0 + w1 + 40)]
    return lines + [f"{a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in rows]


def _estimator():
    try:
        import pennylane.estimator as qre
    except ImportError as exc:  # pragma: no cover - pennylane is a core dependency
        raise ImportError(
            "Gate-level estimates need PennyLane's resource estimator "
            "(pennylane >= 0.43): pip install -U pennylane."
        ) from exc
    return qre


def ceil_log2(value):
    """``ceil(log2(value))``, at least 1 (register width for ``value`` states)."""
    return max(1, math.ceil(math.log2(max(int(value), 2))))


_OPERATORS = {}


def operator_classes():
    """The two composed operators, ``SparseBlockEncoding`` and ``ClippedRowPrep``.

    Built on first use (they subclass :class:`pennylane.estimator.ResourceOperator`,
    which is imported lazily). Returns a dict of the classes.
    """
    if _OPERATORS:
        return _OPERATORS
    qre = _estimator()

    def rep(op, **params):
        return qre.resource_rep(op, params)

    def qrom(words, size, depth):
        return rep(
            qre.QROM,
            num_bitstrings=int(words),
            size_bitstring=int(size),
            num_bit_flips=int(words) * int(size) // 2,
            restored=False,
            select_swap_depth=depth,
        )

    def adj(op):
        return rep(qre.Adjoint, base_cmpr_op=op)

    def loaded_rotation(words, bits, depth, count):
        """Rotate a flag by an angle looked up in a QROM, then erase the angle."""
        table = qrom(words, bits + 1, depth)  # angle and sign
        adder = rep(
            qre.Controlled,
            base_cmpr_op=rep(qre.SemiAdder, max_register_size=int(bits)),
            num_ctrl_wires=1,
            num_zero_ctrl=0,
        )
        return [
            qre.Allocate(bits + 1),
            qre.GateCount(table, count),
            qre.GateCount(adder, count),
            qre.GateCount(rep(qre.Hadamard), 2 * bits * count),
            qre.GateCount(rep(qre.S), bits * count),
            qre.GateCount(adj(rep(qre.S)), bits * count),
            qre.GateCount(rep(qre.CZ), count),  # the sign
            qre.GateCount(adj(table), count),
            qre.Deallocate(bits + 1),
        ]

    class SparseBlockEncoding(qre.ResourceOperator):
        """Sparse-access block encoding of a symmetric n x n matrix (GSLW Lemma 48)."""

        resource_keys = {"n", "s", "bits", "select_swap_depth"}

        def __init__(self, n, s, bits, select_swap_depth=None, wires=None):
            self.n, self.s, self.bits = int(n), int(s), int(bits)
            self.select_swap_depth = select_swap_depth
            self.num_wires = 2 * ceil_log2(n) + 1
            super().__init__(wires=wires)

        @property
        def resource_params(self):
            return {
                "n": self.n,
                "s": self.s,
                "bits": self.bits,
                "select_swap_depth": self.select_swap_depth,
            }

        @classmethod
        def resource_rep(cls, n, s, bits, select_swap_depth=None):
            params = {
                "n": int(n),
                "s": int(s),
                "bits": int(bits),
                "select_swap_depth": select_swap_depth,
            }
            return qre.CompressedResourceOp(cls, 2 * ceil_log2(n) + 1, params)

        @classmethod
        def resource_decomp(cls, n, s, bits, select_swap_depth=None):
            q = ceil_log2(n)
            words = n * s
            gates = []
            if s > 1:
                uniform = rep(qre.UniformStatePrep, num_states=int(s))
                gates += [qre.GateCount(uniform, 1), qre.GateCount(adj(uniform), 1)]
            gates += loaded_rotation(words, bits, select_swap_depth, 2)
            column = qrom(words, q, select_swap_depth)
            gates.append(qre.GateCount(column, 2))
            if s > 1:
                slot = qrom(words, ceil_log2(s), select_swap_depth)
                gates.append(qre.GateCount(adj(slot), 2))
            gates.append(qre.GateCount(rep(qre.SWAP), q))
            return gates

    class ClippedRowPrep(qre.ResourceOperator):
        """One post-selection attempt of the paper's ``|k*>`` (n clipped amplitudes)."""

        resource_keys = {"n", "bits", "select_swap_depth"}

        def __init__(self, n, bits, select_swap_depth=None, wires=None):
            self.n, self.bits = int(n), int(bits)
            self.select_swap_depth = select_swap_depth
            self.num_wires = ceil_log2(n) + 1
            super().__init__(wires=wires)

        @property
        def resource_params(self):
            return {
                "n": self.n,
                "bits": self.bits,
                "select_swap_depth": self.select_swap_depth,
            }

        @classmethod
        def resource_rep(cls, n, bits, select_swap_depth=None):
            params = {
                "n": int(n),
                "bits": int(bits),
                "select_swap_depth": select_swap_depth,
            }
            return qre.CompressedResourceOp(cls, ceil_log2(n) + 1, params)

        @classmethod
        def resource_decomp(cls, n, bits, select_swap_depth=None):
            uniform = rep(qre.UniformStatePrep, num_states=int(n))
            return [qre.GateCount(uniform, 1)] + loaded_rotation(
                n, bits, select_swap_depth, 1
            )

    _OPERATORS.update(
        SparseBlockEncoding=SparseBlockEncoding, ClippedRowPrep=ClippedRowPrep
    )
    return _OPERATORS


def amplification_rounds(p):
    """Rounds ``R = ceil(pi / (4 asin(sqrt(p))) - 1/2)`` of amplitude amplification.

    Examples
    --------
    >>> [amplification_rounds(p) for p in (1.0, 0.25, 0.01)]
    [0, 1, 8]
    """
    if not p > 0:
        return None
    return max(0, math.ceil(math.pi / (4.0 * math.asin(min(math.sqrt(p), 1.0))) - 0.5))


def _counts(resources):
    counts = resources.gate_counts
    return int(counts.get("Toffoli", 0)), int(counts.get("T", 0))


def angle_bits(kappa, epsilon):
    """Bits ``ceil(log2(pi / delta))`` of an angle, ``delta = epsilon / (2 kappa)``.

    Examples
    --------
    >>> angle_bits(20.0, 1e-3)   # 2 pi 20 / 1e-3 = 1.3e5 < 2^17
    17
    """
    return ceil_log2(math.pi * 2.0 * kappa / epsilon)


def estimate_gate_resources(
    *,
    n,
    s,
    max_abs_entry,
    min_abs_eigenvalue,
    epsilon,
    success_probability,
    success_scale,
    post_selection,
    readout,
    classical_flops,
    bits=None,
    select_swap_depth=None,
):
    """Fault-tolerant cost of the paper's pipeline on one kernel system.

    Parameters
    ----------
    n, s : int
        Size and row sparsity of ``K_tilde``.
    max_abs_entry : float
        ``max |K_tilde_ij|``; the block encoding's ``alpha`` is ``s`` times it.
    min_abs_eigenvalue : float
        A lower bound on ``min |lambda(K_tilde)|``.
    epsilon : float
        Relative accuracy of the inversion.
    success_probability : float
        QSVT success probability ``||P(K/alpha_0) y||^2 / ||y||^2`` measured with a
        polynomial of scale ``x_scale_0`` for a normalisation ``alpha_0``.
    success_scale : float
        ``x_scale_0 * alpha_0``: the success probability scales like
        ``(x_scale * alpha)^2`` (``P(K/alpha) y ~ x_scale alpha K^-1 y``), which
        converts it to this block encoding's polynomial.
    post_selection : float
        ``n / P`` of ``|k*>`` (the inductive row-max count).
    readout : float
        ``1/o^2 - 1``.
    classical_flops : float
        The classical solve's flops, shown next to the quantum counts.
    bits : int or None, default=None
        Bits per loaded angle; None: :func:`angle_bits` of ``kappa`` and ``epsilon``.
    select_swap_depth : int or None, default=None
        QROM select-swap width (a power of two); None: PennyLane's T-optimal width.

    Returns
    -------
    gates : GateResources
    """
    qre = _estimator()
    ops = operator_classes()
    nan = math.nan
    q = ceil_log2(n)
    alpha = s * float(max_abs_entry)
    if not (math.isfinite(alpha) and min_abs_eigenvalue > 0):  # singular
        return GateResources(
            bits=0,
            alpha=nan,
            kappa=math.inf,
            degree=0,
            qsvt_qubits=0,
            logical_qubits=0,
            toffoli_block_encoding=0,
            toffoli_qsvt=0,
            t_qsvt=0,
            toffoli_state_y=0,
            toffoli_state_k=0,
            solution_rounds=nan,
            post_selection_rounds=nan,
            readout_repetitions=nan,
            toffoli_per_prediction=nan,
            t_per_prediction=nan,
            lookups_per_prediction=nan,
            classical_flops_solve=float(classical_flops),
            classical_flops_per_prediction=float(2 * n),
        )
    kappa = max(alpha / min_abs_eigenvalue, 1.0)
    b = angle_bits(kappa, epsilon) if bits is None else int(bits)
    if inverse_degree_bound(kappa, epsilon) > _BUILD_DEGREE_MAX:
        degree, p = inverse_degree_bound(kappa, epsilon), nan
    else:
        poly = inverse_polynomial(kappa, epsilon)
        degree = poly.degree
        p = min(success_probability * (poly.x_scale * alpha / success_scale) ** 2, 1.0)

    block = ops["SparseBlockEncoding"](n, s, b, select_swap_depth)
    be = qre.estimate(block)
    qsvt = qre.estimate(
        qre.QSVT(ops["SparseBlockEncoding"](n, s, b, select_swap_depth), 2**q, degree)
    )
    y_state = qre.estimate(
        qre.QROMStatePreparation(
            q, precision=math.pi / 2**b, select_swap_depths=select_swap_depth
        )
    )
    k_state = qre.estimate(ops["ClippedRowPrep"](n, b, select_swap_depth))
    solution = y_state.add_series(qsvt)
    toffoli_qsvt, t_qsvt = _counts(qsvt)
    R = amplification_rounds(p)
    R_k = amplification_rounds(1.0 / post_selection) if post_selection >= 1 else None
    reps = max(1, math.ceil(readout)) if math.isfinite(readout) else None
    per_prediction = lookups = nan
    t_pred = nan
    if R is not None and R_k is not None and reps is not None:
        one = solution.multiply_series(2 * R + 1).add_series(
            k_state.multiply_series(2 * R_k + 1)
        )
        total = one.multiply_series(reps)
        per_prediction, t_pred = (float(v) for v in _counts(total))
        # Lookups: 8 per block-encoding call (2 angle tables and their inverses,
        # 2 column tables, 2 slot erasures; 6 when s = 1), the |y> preparation's
        # 2 (q + 1) and 2 per |k*> attempt.
        per_call = 8 if s > 1 else 6
        lookups = float(
            reps * ((2 * R + 1) * (per_call * degree + 2 * (q + 1)) + (2 * R_k + 1) * 2)
        )
    return GateResources(
        bits=int(b),
        alpha=float(alpha),
        kappa=float(kappa),
        degree=int(degree),
        qsvt_qubits=int(qsvt.total_wires),
        logical_qubits=int(solution.add_parallel(k_state).total_wires + 1),
        toffoli_block_encoding=_counts(be)[0],
        toffoli_qsvt=toffoli_qsvt,
        t_qsvt=t_qsvt,
        toffoli_state_y=_counts(y_state)[0],
        toffoli_state_k=_counts(k_state)[0],
        solution_rounds=nan if R is None else float(R),
        post_selection_rounds=nan if R_k is None else float(R_k),
        readout_repetitions=nan if reps is None else float(reps),
        toffoli_per_prediction=per_prediction,
        t_per_prediction=t_pred,
        lookups_per_prediction=lookups,
        classical_flops_solve=float(classical_flops),
        classical_flops_per_prediction=float(2 * n),
    )
