"""The estimators: scikit-learn classifier and regressor (the method end to end)."""

from ._ntk import (
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    convergence_depth,
    separation,
)

__all__ = [
    "QuantumNTKClassifier",
    "QuantumNTKRegressor",
    "convergence_depth",
    "separation",
]
