"""MNIST from local files, with the paper's preprocessing and balanced binary splits.

Nothing is downloaded: :func:`load_mnist` reads an ``.npz`` file (keys ``x_train``,
``y_train``, ``x_test``, ``y_test``) or a folder holding the four IDX files of LeCun's
distribution (gzipped or not), found through its ``path`` argument or the
``QNTK_MNIST`` environment variable. :func:`load_binary_mnist` then builds the
experiments' data: one pair of digits, balanced subsets of the training and test sets,
standardised with one global mean and standard deviation and scaled to unit L2 norm
(:class:`MNISTPreprocessor`).
"""

from ._mnist import (
    MNIST_ENV_VAR,
    MNISTPreprocessor,
    balanced_subset,
    binary_pair,
    load_binary_mnist,
    load_mnist,
    read_idx,
    resize_images,
)

__all__ = [
    "MNIST_ENV_VAR",
    "MNISTPreprocessor",
    "balanced_subset",
    "binary_pair",
    "load_binary_mnist",
    "load_mnist",
    "read_idx",
    "resize_images",
]
