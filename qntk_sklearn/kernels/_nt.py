"""neural-tangents wrappers (placeholder until the wrapper lands; see issue 2)."""

from ._base import NTKKernelBase


class StaxKernel(NTKKernelBase):
    def __init__(self, kernel_fn=None, get="ntk"):
        self.kernel_fn = kernel_fn
        self.get = get


class MyrtleNTK(NTKKernelBase):
    def __init__(self, depth=96, image_shape=None, get="ntk"):
        self.depth = depth
        self.image_shape = image_shape
        self.get = get
