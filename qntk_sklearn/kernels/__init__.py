"""Infinite-width network kernels (the first step of the method).

:class:`FullyConnectedNTK` (closed form) and :class:`MyrtleNTK` (the paper's CNN, by
the exact covariance recursion) are computed by the core package. :class:`StaxKernel`
wraps any neural-tangents network; it needs the optional extra
``pip install "qntk-sklearn[neural-tangents]"`` and imports it lazily.
"""

from ._base import NTKKernelBase
from ._fc import FullyConnectedNTK, default_W_std, nonlinearity_coefficient
from ._myrtle import MyrtleNTK
from ._nt import StaxKernel

__all__ = [
    "FullyConnectedNTK",
    "MyrtleNTK",
    "NTKKernelBase",
    "StaxKernel",
    "default_W_std",
    "nonlinearity_coefficient",
]
