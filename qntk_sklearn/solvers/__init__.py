"""Linear-system solvers: classical, emulated quantum (QSVT), PennyLane circuits, and
the dequantized (classical sampling) baseline."""

from ._base import SYMMETRY_TOL, BaseLinearSolver, check_symmetric, check_system
from ._classical import ExactSolver, IterativeSolver, SingularSystemWarning
from ._conditioning import CollapsedSolutionWarning, describe_singularity, singular_rows
from ._dequantized import DequantizedSolver
from ._evolution import (
    PSD_TOL,
    GradientFlowPolynomial,
    gradient_flow_dense,
    gradient_flow_polynomial,
    lanczos_gradient_flow,
)
from ._gates import GateResources, estimate_gate_resources
from ._pennylane import AngleAccuracyWarning, PaddingWarning, PennyLaneSolver
from ._polynomial import (
    MAX_DEGREE,
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
    "CollapsedSolutionWarning",
    "GradientFlowPolynomial",
    "PSD_TOL",
    "describe_singularity",
    "gradient_flow_dense",
    "gradient_flow_polynomial",
    "lanczos_gradient_flow",
    "singular_rows",
    "DequantizedSolver",
    "ExactSolver",
    "IterativeSolver",
    "SingularSystemWarning",
    "SYMMETRY_TOL",
    "check_symmetric",
    "check_system",
    "gershgorin_bounds",
    "is_positive_definite",
    "spectrum",
    "AngleAccuracyWarning",
    "GateResources",
    "InversePolynomial",
    "MAX_DEGREE",
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
