"""The estimators: scikit-learn classifier and regressor (the method end to end)."""

from ._depth import DuplicateSamplesWarning, convergence_depth, separation
from ._ntk import QuantumNTKClassifier, QuantumNTKRegressor

__all__ = [
    "DuplicateSamplesWarning",
    "QuantumNTKClassifier",
    "QuantumNTKRegressor",
    "convergence_depth",
    "separation",
]
