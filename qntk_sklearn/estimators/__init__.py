"""The estimators: scikit-learn classifier and regressor (the method end to end)."""

from ._depth import DuplicateSamplesWarning, convergence_depth, separation
from ._diagnostics import (
    MAX_DEPTH,
    DiagonalKernelWarning,
    IndefiniteKernelWarning,
)
from ._ntk import PAPER_REGIME, QuantumNTKClassifier, QuantumNTKRegressor

__all__ = [
    "DiagonalKernelWarning",
    "DuplicateSamplesWarning",
    "IndefiniteKernelWarning",
    "MAX_DEPTH",
    "PAPER_REGIME",
    "QuantumNTKClassifier",
    "QuantumNTKRegressor",
    "convergence_depth",
    "separation",
]
