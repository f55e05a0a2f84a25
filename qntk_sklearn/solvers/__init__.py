"""Linear-system solvers: classical, emulated quantum (QSVT), PennyLane circuits, and
the dequantized (classical sampling) baseline."""

from ._base import BaseLinearSolver, check_system
from ._classical import ExactSolver, IterativeSolver, SingularSystemWarning
from ._dequantized import DequantizedSolver
from ._gates import GateResources, estimate_gate_resources
from ._pennylane import AngleAccuracyWarning, PaddingWarning, PennyLaneSolver
from ._polynomial import (
    InversePolynomial,
    chebyshev_apply,
    chebyshev_sup_bound,
    inverse_degree_bound,
    inverse_polynomial,
)
from ._qsvt import QSVTSolver, block_encoding_bounds, clip_kernel_rows
from ._readout import post_selection_counts
from ._resources import QuantumResources, estimate_quantum_resources
from ._spectrum import gershgorin_bounds, is_positive_definite, spectrum

__all__ = [
    "BaseLinearSolver",
    "DequantizedSolver",
    "ExactSolver",
    "IterativeSolver",
    "SingularSystemWarning",
    "check_system",
    "gershgorin_bounds",
    "is_positive_definite",
    "spectrum",
    "AngleAccuracyWarning",
    "GateResources",
    "InversePolynomial",
    "PaddingWarning",
    "PennyLaneSolver",
    "QSVTSolver",
    "QuantumResources",
    "block_encoding_bounds",
    "chebyshev_apply",
    "chebyshev_sup_bound",
    "clip_kernel_rows",
    "estimate_gate_resources",
    "estimate_quantum_resources",
    "inverse_degree_bound",
    "inverse_polynomial",
    "post_selection_counts",
]
