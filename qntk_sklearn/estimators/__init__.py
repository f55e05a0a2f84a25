"""The estimators: scikit-learn classifiers and regressors (the last step of the method)."""

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
