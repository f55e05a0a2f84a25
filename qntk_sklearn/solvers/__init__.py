"""Linear-system solvers: classical, emulated quantum (QSVT) and PennyLane circuits."""

from ._base import BaseLinearSolver, check_system
from ._classical import ExactSolver, IterativeSolver, SingularSystemWarning
from ._spectrum import gershgorin_bounds, is_positive_definite, spectrum

__all__ = [
    "BaseLinearSolver",
    "ExactSolver",
    "IterativeSolver",
    "SingularSystemWarning",
    "check_system",
    "gershgorin_bounds",
    "is_positive_definite",
    "spectrum",
]
