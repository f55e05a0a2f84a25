"""The estimators: scikit-learn classifier and regressor (the method end to end)."""

from ._diagnostics import (
    MAX_DEPTH,
    DiagonalKernelWarning,
    IndefiniteKernelWarning,
)
from ._ntk import (
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    convergence_depth,
    separation,
)

__all__ = [
    "DiagonalKernelWarning",
    "IndefiniteKernelWarning",
    "MAX_DEPTH",
    "QuantumNTKClassifier",
    "QuantumNTKRegressor",
    "convergence_depth",
    "separation",
]
