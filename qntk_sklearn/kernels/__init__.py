"""Infinite-width network kernels (the first step of the method).

:class:`FullyConnectedNTK` is computed in closed form in the core package. The
neural-tangents wrappers (:class:`StaxKernel`, :class:`MyrtleNTK`) need the optional
extra ``pip install "qntk-sklearn[neural-tangents]"`` and import it lazily.
"""

from ._base import NTKKernelBase
from ._fc import FullyConnectedNTK, default_W_std, nonlinearity_coefficient
from ._nt import MyrtleNTK, StaxKernel

__all__ = [
    "FullyConnectedNTK",
    "MyrtleNTK",
    "NTKKernelBase",
    "StaxKernel",
    "default_W_std",
    "nonlinearity_coefficient",
]
