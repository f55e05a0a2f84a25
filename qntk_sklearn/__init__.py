"""qntk-sklearn: train wide and deep networks the quantum way, as scikit-learn estimators.

The method of Zlokapa, Neven and Lloyd (arXiv:2107.09200): compute the network's
infinite-width neural tangent kernel, sparsify it to O(log n) nonzeros per row, invert
it with a (simulated) quantum linear-systems algorithm and read the prediction out by
measurement.
"""

__version__ = "0.1.0"
