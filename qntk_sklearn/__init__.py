"""qntk-sklearn: train wide, deep networks the quantum way, as scikit-learn estimators.

The method of Zlokapa, Neven and Lloyd (arXiv:2107.09200): compute the network's
infinite-width neural tangent kernel (:mod:`qntk_sklearn.kernels`), sparsify it to
O(log n) nonzeros per row (:mod:`qntk_sklearn.sparsify`), invert it with a classical or
(simulated) quantum linear-systems algorithm (:mod:`qntk_sklearn.solvers`), and read
the prediction out by measurement. :class:`QuantumNTKClassifier` and
:class:`QuantumNTKRegressor` put the whole method behind the scikit-learn API.

When reporting a problem, include the output of :func:`show_versions`.
"""

from ._show_versions import show_versions
from ._version import __version__
from .estimators import (
    MAX_DEPTH,
    PAPER_REGIME,
    DiagonalKernelWarning,
    DuplicateSamplesWarning,
    IndefiniteKernelWarning,
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    convergence_depth,
    separation,
)
from .kernels import FullyConnectedNTK
from .solvers import CollapsedSolutionWarning, SingularSystemWarning

__all__ = [
    "CollapsedSolutionWarning",
    "DiagonalKernelWarning",
    "DuplicateSamplesWarning",
    "FullyConnectedNTK",
    "IndefiniteKernelWarning",
    "MAX_DEPTH",
    "PAPER_REGIME",
    "SingularSystemWarning",
    "QuantumNTKClassifier",
    "QuantumNTKRegressor",
    "__version__",
    "convergence_depth",
    "separation",
    "show_versions",
]
