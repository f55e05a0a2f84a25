"""Gate-level estimates: our composition against PennyLane's estimator, whole circuits.

:func:`estimate_gate_resources` estimates each block once with
``pennylane.estimator`` and multiplies by repetition counts (which reach 1e12 and
could never be enumerated). Here small cases are written out as whole circuits,
every repetition an operator, and estimated by PennyLane in one go: the totals must
be identical.
"""

import math

import numpy as np
import pytest

from qntk_sklearn.solvers import (
    ExactSolver,
    GateResources,
    QSVTSolver,
    estimate_gate_resources,
    estimate_quantum_resources,
    inverse_polynomial,
)
from qntk_sklearn.solvers._gates import (
    amplification_rounds,
    angle_bits,
    ceil_log2,
    operator_classes,
)

qre = pytest.importorskip("pennylane.estimator")


def _case(**overrides):
    params = dict(
        n=16,
        s=3,
        max_abs_entry=1.0,
        min_abs_eigenvalue=0.9,
        epsilon=1e-2,
        success_probability=0.3,
        success_scale=inverse_polynomial(1.0 / 0.9, 1e-2).x_scale * 1.0,
        post_selection=5.0,
        readout=2.5,
        classical_flops=123.0,
    )
    params.update(overrides)
    return params


def _toffoli_t(res):
    counts = res.gate_counts
    return counts.get("Toffoli", 0), counts.get("T", 0)


def test_block_encoding_is_the_listed_primitives():
    """The composed block encoding equals its primitives written out one by one."""
    n, s, b = 16, 3, 9
    q, words = ceil_log2(n), n * s

    def listed():
        qre.UniformStatePrep(s)
        qre.Adjoint(qre.UniformStatePrep(s))
        for _ in range(2):
            qre.QROM(words, b + 1, restored=False, select_swap_depth=None)
            qre.Controlled(qre.SemiAdder(b), num_ctrl_wires=1, num_zero_ctrl=0)
            for _ in range(2 * b):
                qre.Hadamard()
            for _ in range(b):
                qre.S()
                qre.Adjoint(qre.S())
            qre.CZ()
            qre.Adjoint(qre.QROM(words, b + 1, restored=False, select_swap_depth=None))
            qre.QROM(words, q, restored=False, select_swap_depth=None)
            qre.Adjoint(
                qre.QROM(words, ceil_log2(s), restored=False, select_swap_depth=None)
            )
        for _ in range(q):
            qre.SWAP()

    expected = qre.estimate(listed)()
    ours = qre.estimate(operator_classes()["SparseBlockEncoding"](n, s, b))
    assert dict(ours.gate_counts) == dict(expected.gate_counts)
    assert _toffoli_t(ours)[0] > 0


def test_composition_matches_pennylane_on_the_whole_prediction_circuit():
    params = _case()
    g = estimate_gate_resources(**params)
    assert isinstance(g, GateResources)
    n, s, b = params["n"], params["s"], g.bits
    q = ceil_log2(n)
    R, R_k, reps = (
        int(g.solution_rounds),
        int(g.post_selection_rounds),
        int(g.readout_repetitions),
    )
    assert (R, R_k, reps) == (
        amplification_rounds(
            params["success_probability"]
            * (
                inverse_polynomial(g.kappa, params["epsilon"]).x_scale
                * g.alpha
                / params["success_scale"]
            )
            ** 2
        ),
        amplification_rounds(1 / params["post_selection"]),
        math.ceil(params["readout"]),
    )
    assert reps == 3 and R_k == 2 and R >= 1
    ops = operator_classes()

    def qsvt():
        qre.QSVT(ops["SparseBlockEncoding"](n, s, b), 2**q, g.degree)

    def prediction():
        for _ in range(reps):
            for _ in range(2 * R + 1):
                qre.QROMStatePreparation(
                    q, precision=math.pi / 2**b, select_swap_depths=None
                )
                qre.QSVT(ops["SparseBlockEncoding"](n, s, b), 2**q, g.degree)
            for _ in range(2 * R_k + 1):
                ops["ClippedRowPrep"](n, b)

    whole = qre.estimate(prediction)()
    assert _toffoli_t(whole) == (g.toffoli_per_prediction, g.t_per_prediction)
    one = qre.estimate(qsvt)()
    assert _toffoli_t(one) == (g.toffoli_qsvt, g.t_qsvt)
    assert one.total_wires == g.qsvt_qubits
    # QSVT of odd degree d: (d + 1) / 2 calls of U_A, (d - 1) / 2 of its adjoint
    # (same cost), and d + 1 projector phases without Toffolis here.
    be = qre.estimate(ops["SparseBlockEncoding"](n, s, b))
    assert g.toffoli_block_encoding == _toffoli_t(be)[0]
    assert g.toffoli_qsvt >= g.degree * g.toffoli_block_encoding


def test_assumptions_and_degenerate_inputs():
    g = estimate_gate_resources(**_case())
    # alpha = s max|K|, kappa = alpha / min|lambda|, and the degree of its polynomial.
    assert g.alpha == 3.0 and g.kappa == pytest.approx(3.0 / 0.9)
    assert g.degree == inverse_polynomial(g.kappa, 1e-2).degree
    assert (
        g.bits
        == angle_bits(g.kappa, 1e-2)
        == math.ceil(math.log2(2 * math.pi * g.kappa / 1e-2))
    )
    assert g.classical_flops_solve == 123.0 and g.classical_flops_per_prediction == 32
    assert g.logical_qubits > g.qsvt_qubits
    # More bits cost more; one-Toffoli-per-word QROMs (select_swap_depth=1) cost more
    # Toffolis and fewer qubits than the Toffoli-optimal width.
    assert estimate_gate_resources(**_case(), bits=20).toffoli_qsvt > g.toffoli_qsvt
    lean = estimate_gate_resources(**_case(n=1024, s=8), select_swap_depth=1)
    fast = estimate_gate_resources(**_case(n=1024, s=8))
    assert lean.toffoli_qsvt > fast.toffoli_qsvt and lean.qsvt_qubits < fast.qsvt_qubits
    # Unknown success probability: nan per prediction, circuits still counted.
    g = estimate_gate_resources(**_case(success_probability=math.nan))
    assert math.isnan(g.toffoli_per_prediction) and g.toffoli_qsvt > 0
    g = estimate_gate_resources(**_case(min_abs_eigenvalue=0.0))
    assert g.kappa == math.inf and math.isnan(g.toffoli_per_prediction)
    assert "toffoli_qsvt" in str(g) and g.as_dict()["degree"] == 0


def test_quantum_resources_carry_the_gate_estimate():
    rng = np.random.default_rng(0)
    n = 32
    K = np.diag(rng.uniform(0.9, 1.0, n))
    K[0, 1] = K[1, 0] = 0.05
    Y = rng.normal(size=(n, 1))
    for solver in (ExactSolver(), QSVTSolver(alpha="sparse")):
        r = estimate_quantum_resources(
            solver.fit(K, Y), K, Y, K[:4] + 0.01, 1.0, probe_index=range(4)
        )
        g = r.gates
        assert g is r.gates  # cached
        assert g == r.gate_resources()
        assert g.alpha == pytest.approx(r.s * r.max_abs_entry)
        assert g.kappa == pytest.approx(g.alpha / (r.alpha / r.kappa))
        if r.alpha_method == "sparse":  # same encoding: same degree and kappa
            assert g.degree == r.degree and g.kappa == pytest.approx(r.kappa)
        assert g.readout_repetitions == max(1, math.ceil(r.readout_measurements))
        assert g.post_selection_rounds == amplification_rounds(
            1 / r.post_selection_rowmax
        )
        assert g.classical_flops_solve == r.classical_flops
        assert np.isfinite(g.toffoli_per_prediction)
        assert "gate level" in str(r)
