"""Local MNIST: IDX and npz readers, the paper's preprocessing, balanced splits."""

from __future__ import annotations

import gzip
import math
import os
import zipfile
import zlib
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

#: Environment variable read by :func:`load_mnist` when no ``path`` is given.
MNIST_ENV_VAR = "QNTK_MNIST"

#: Keys an MNIST ``.npz`` file must hold.
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

#: Name prefixes of the four IDX files of LeCun's distribution, by npz key.
IDX_PREFIXES = {
    "x_train": "train-images",
    "y_train": "train-labels",
    "x_test": "t10k-images",
    "y_test": "t10k-labels",
}

_WHERE_TO_GET = (
    "Download MNIST once and point to it: either the four IDX files "
    "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz, from "
    "http://yann.lecun.com/exdb/mnist/ or a mirror such as "
    "https://ossci-datasets.s3.amazonaws.com/mnist/) in one folder, or the single "
    "file mnist.npz with keys x_train, y_train, x_test, y_test (e.g. "
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz). Then "
    f"pass `path=` (or --mnist on the command line) or set the {MNIST_ENV_VAR} "
    "environment variable to the file or folder. qntk-sklearn never downloads data."
)

#: Largest uncompressed size :func:`read_idx` and :func:`load_mnist` accept by default
#: (1 GiB; MNIST's largest file is 47 MB). A corrupt header or a decompression bomb
#: cannot make them allocate more than this.
MAX_BYTES = 1 << 30

_REDOWNLOAD = "The file is truncated or corrupt: download it again. "

# IDX type codes -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _check_max_bytes(max_bytes):
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, Integral):
        raise TypeError(f"`max_bytes` must be an int; got {max_bytes!r}.")
    if max_bytes < 1:
        raise ValueError(f"`max_bytes` must be a positive int; got {max_bytes!r}.")


def _read_idx_stream(fh, path, max_bytes, size_note):
    """Header, shape and data of an IDX stream, reading at most ``max_bytes + 1``."""
    head = fh.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise ValueError(
            f"{path!r} is not an IDX file: it must start with two zero bytes, a type "
            f"code and a dimension count; got first bytes {head!r}."
        )
    code, ndim = head[2], head[3]
    if code not in _IDX_DTYPES:
        raise ValueError(
            f"{path!r} is not an IDX file: type code must be one of "
            f"{sorted(hex(c) for c in _IDX_DTYPES)}; got {hex(code)}."
        )
    dims = fh.read(4 * ndim)
    header = 4 + 4 * ndim
    if ndim == 0 or len(dims) < 4 * ndim:
        raise ValueError(
            f"{path!r} is not an IDX file: its header declares {ndim} dimensions but "
            f"the {size_note}file has {4 + len(dims)} bytes."
        )
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    # Python ints: a numpy product of the dimensions overflows (2**31 * 2**31 * 4).
    expected = header + dtype.itemsize * math.prod(shape)
    if expected > max_bytes:
        raise ValueError(
            f"{path!r}: its header declares shape {shape} ({expected} bytes in all), "
            f"more than `max_bytes`={max_bytes}. A corrupt header or a decompression "
            "bomb; if the file is genuine, pass a larger `max_bytes`."
        )
    # One byte more than declared, to tell an exact file from a too-long one without
    # inflating the rest of a bomb.
    body = fh.read(expected - header + 1)
    if len(body) > expected - header:
        raise ValueError(
            f"{path!r} holds more data than its header declares (shape {shape}, "
            f"{expected} bytes in all). " + _REDOWNLOAD
        )
    if len(body) < expected - header:
        raise ValueError(
            f"{path!r} is truncated or corrupt: its header declares shape {shape} "
            f"({expected} bytes in all) but the {size_note}file has "
            f"{header + len(body)} bytes. Download it again."
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape)


def read_idx(path, *, max_bytes=MAX_BYTES):
    """Read one IDX file (LeCun's MNIST format), gzipped or not.

    Compression is detected from the file's first bytes, not from its name. A
    gzipped file is inflated only as far as its header declares, so a corrupt header
    or a decompression bomb raises an error instead of filling memory.

    Parameters
    ----------
    path : str or os.PathLike
        An IDX file, e.g. ``train-images-idx3-ubyte`` or ``t10k-labels-idx1-ubyte.gz``.
    max_bytes : int, default=2**30
        Largest uncompressed size accepted (header included).

    Returns
    -------
    array : ndarray
        Shape and dtype as stored, e.g. ``(60000, 28, 28)`` uint8 for training images,
        in native byte order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid IDX file (bad magic number, unknown type code, or a
        size that does not match its header), if it is a truncated or corrupt gzip
        file, or if its header declares more than ``max_bytes``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> header = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big")
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as fh:
    ...     _ = fh.write(header + bytes([7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = os.fspath(path)
    _check_max_bytes(max_bytes)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file `path` does not exist: {path!r}.")
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        if not gzipped:
            data = _read_idx_stream(fh, path, max_bytes, "")
        else:
            try:
                with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                    data = _read_idx_stream(gz, path, max_bytes, "decompressed ")
            except (OSError, EOFError, zlib.error) as exc:
                raise ValueError(
                    f"{path!r} looks gzipped but cannot be read ({exc}). " + _REDOWNLOAD
                ) from exc
    return data.astype(data.dtype.newbyteorder("="))


def _find_idx_files(folder):
    names = sorted(os.listdir(folder))
    found, missing = {}, []
    for key, prefix in IDX_PREFIXES.items():
        matches = [
            name
            for name in names
            if name.startswith(prefix) and "idx" in name and not name.endswith(".npz")
        ]
        if not matches:
            missing.append(prefix)
            continue
        # Prefer the uncompressed file when both are present (faster to read).
        matches.sort(key=lambda name: (name.endswith(".gz"), name))
        found[key] = os.path.join(folder, matches[0])
    return found, missing


def _check_arrays(arrays, source):
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim == 2:
            side = int(round(np.sqrt(x.shape[1])))
            if side * side != x.shape[1]:
                raise ValueError(
                    f"`x_{split}` in {source} must hold square images of shape "
                    f"(n, H, W) or (n, H*W); got shape {x.shape}."
                )
            x = x.reshape(x.shape[0], side, side)
        elif x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim != 3:
            raise ValueError(
                f"`x_{split}` in {source} must have shape (n, H, W); got {x.shape}."
            )
        y = np.asarray(y).reshape(-1) if np.ndim(y) == 2 and 1 in np.shape(y) else y
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(
                f"`y_{split}` in {source} must be 1-D with one label per image "
                f"({x.shape[0]}); got shape {np.shape(y)}."
            )
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    return arrays


def load_mnist(path=None, *, max_bytes=MAX_BYTES):
    """Load MNIST from local files; nothing is downloaded.

    Parameters
    ----------
    path : str, os.PathLike or None, default=None
        An ``.npz`` file with keys ``x_train``, ``y_train``, ``x_test``, ``y_test``, or
        a folder holding the four IDX files (``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
        ``t10k-labels-idx1-ubyte``, each optionally ``.gz``). None reads the
        ``QNTK_MNIST`` environment variable.
    max_bytes : int, default=2**30
        Largest uncompressed size accepted for one IDX file or one array of the
        ``.npz`` file; a corrupt file or a decompression bomb cannot make the loader
        allocate more.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``x_train`` (ndarray of shape (n_train, 28, 28)), ``y_train`` (ndarray of shape
        (n_train,)), ``x_test``, ``y_test`` as stored (uint8 pixels for MNIST), and
        ``source`` (the path read).

    Raises
    ------
    FileNotFoundError
        If no path is given and ``QNTK_MNIST`` is unset, if the path does not exist, or
        if a folder lacks one of the IDX files; the message says where to get MNIST.
    ValueError
        If an ``.npz`` file lacks a key, the arrays have inconsistent shapes, or a
        file is truncated, corrupt or larger than ``max_bytes``; the message names the
        file and the fix.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
    >>> x = np.zeros((4, 28, 28), dtype=np.uint8)
    >>> np.savez(path, x_train=x, y_train=[0, 1, 0, 1], x_test=x, y_test=[1, 0, 1, 0])
    >>> load_mnist(path).x_train.shape
    (4, 28, 28)
    """
    if path is None:
        path = os.environ.get(MNIST_ENV_VAR) or None
        if path is None:
            raise FileNotFoundError(
                f"No MNIST location: `path` is None and {MNIST_ENV_VAR} is not set. "
                + _WHERE_TO_GET
            )
    _check_max_bytes(max_bytes)
    path = os.path.expanduser(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"MNIST `path` does not exist: {path!r}. " + _WHERE_TO_GET
        )
    if os.path.isdir(path):
        found, missing = _find_idx_files(path)
        if missing:
            npz = os.path.join(path, "mnist.npz")
            if os.path.isfile(npz):
                return load_mnist(npz, max_bytes=max_bytes)
            raise FileNotFoundError(
                f"MNIST folder {path!r} lacks the IDX file(s) starting with "
                f"{missing} (and holds no mnist.npz). " + _WHERE_TO_GET
            )
        arrays = {
            key: read_idx(file, max_bytes=max_bytes) for key, file in found.items()
        }
        return Bunch(**_check_arrays(arrays, repr(path)), source=path)
    # We open the file ourselves: numpy leaves its own handle open when the archive
    # is not a readable zip file.
    with open(path, "rb") as fh:
        zipped = fh.read(2) == b"PK"
        fh.seek(0)
        try:
            archive = np.load(fh, allow_pickle=False)
        except _UNREADABLE as exc:
            raise _unreadable_npz(path, exc, zipped) from exc
        if not hasattr(archive, "files"):
            raise ValueError(
                f"MNIST `path` must be an .npz archive with keys {list(NPZ_KEYS)}; "
                f"{path!r} holds a single array. " + _WHERE_TO_GET
            )
        with archive:
            _check_npz_members(archive, path, max_bytes)
            try:
                arrays = {key: np.asarray(archive[key]) for key in NPZ_KEYS}
            except _UNREADABLE as exc:
                raise _unreadable_npz(path, exc, zipped) from exc
    return Bunch(**_check_arrays(arrays, repr(path)), source=path)


# What numpy and zipfile raise on a truncated or corrupt file: BadZipFile (not a zip,
# bad CRC), EOFError (empty or cut member), zlib.error, OSError, ValueError (junk).
_UNREADABLE = (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError)


def _unreadable_npz(path, exc, zipped):
    if zipped:
        return ValueError(
            f"MNIST .npz file {path!r} cannot be read ({type(exc).__name__}: {exc}). "
            + _REDOWNLOAD
            + _WHERE_TO_GET
        )
    return ValueError(
        f"MNIST `path` must be an .npz file or a folder of IDX files; could not read "
        f"{path!r} as .npz ({type(exc).__name__}: {exc}). If it is a partial "
        "download, download it again. " + _WHERE_TO_GET
    )


def _check_npz_members(archive, path, max_bytes):
    """Keys present and no member inflating past ``max_bytes``."""
    missing = [key for key in NPZ_KEYS if key not in archive.files]
    if missing:
        raise ValueError(
            f"MNIST .npz file {path!r} must have keys {list(NPZ_KEYS)}; missing "
            f"{missing} (found {sorted(archive.files)})."
        )
    # The zip directory states each member's uncompressed size, which zipfile never
    # inflates past; np.load allocates what the member's .npy header declares.
    # Checking both bounds what loading allocates.
    for key in NPZ_KEYS:
        info = archive.zip.getinfo(f"{key}.npy")
        if info.file_size > max_bytes:
            raise ValueError(
                f"MNIST .npz file {path!r}: member {info.filename!r} inflates to "
                f"{info.file_size} bytes, more than `max_bytes`={max_bytes}. A corrupt "
                "file or a decompression bomb; if the file is genuine, pass a larger "
                "`max_bytes`."
            )
        try:
            with archive.zip.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
        except _UNREADABLE as exc:
            raise _unreadable_npz(path, exc, zipped=True) from exc
        declared = math.prod(shape) * dtype.itemsize
        if declared > info.file_size:
            raise ValueError(
                f"MNIST .npz file {path!r}: array {key!r} declares shape {shape} "
                f"({declared} bytes) but its member holds {info.file_size} bytes. "
                + _REDOWNLOAD
            )


def binary_pair(X, y, digits=(8, 9), *, labels="pm1"):
    """Keep the samples of two classes and relabel them.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
    y : ndarray of shape (n_samples,)
    digits : tuple of two labels, default=(8, 9)
        The paper uses (8, 9) for the fully-connected network and (0, 1) for the CNN.
    labels : {"pm1", "original"}, default="pm1"
        "pm1": -1 for ``digits[0]`` and +1 for ``digits[1]`` (the paper's targets);
        "original": keep the labels.

    Returns
    -------
    X_pair : ndarray of shape (n_pair, ...)
    y_pair : ndarray of shape (n_pair,)

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(5)[:, None], np.array([8, 3, 9, 8, 1])
    >>> binary_pair(X, y)[1]
    array([-1,  1, -1])
    """
    y = np.asarray(y)
    digits = tuple(digits)
    if len(digits) != 2 or digits[0] == digits[1]:
        raise ValueError(f"`digits` must be two different labels; got {digits!r}.")
    if labels not in ("pm1", "original"):
        raise ValueError(f"`labels` must be 'pm1' or 'original'; got {labels!r}.")
    absent = [d for d in digits if not np.any(y == d)]
    if absent:
        raise ValueError(
            f"`digits` {digits!r}: label(s) {absent} do not occur in `y` (labels "
            f"present: {np.unique(y).tolist()})."
        )
    keep = (y == digits[0]) | (y == digits[1])
    y_pair = y[keep]
    if labels == "pm1":
        y_pair = np.where(y_pair == digits[1], 1, -1)
    return np.asarray(X)[keep], y_pair


def balanced_subset(y, n_samples, random_state=None):
    """Indices of a random subset with the same number of samples of every class.

    Parameters
    ----------
    y : ndarray of shape (n_total,)
    n_samples : int
        Size of the subset; a multiple of the number of classes in ``y``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    indices : ndarray of int of shape (n_samples,)
        Sorted indices into ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> idx = balanced_subset(y, 4, random_state=0)
    >>> np.bincount(y[idx]).tolist()
    [2, 2]
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, Integral)
        or n_samples < classes.size
        or n_samples % classes.size
    ):
        raise ValueError(
            f"`n_samples` must be a positive multiple of the number of classes "
            f"({classes.size}) for a balanced subset; got {n_samples!r}."
        )
    per_class = n_samples // classes.size
    if per_class > counts.min():
        raise ValueError(
            f"`n_samples`={n_samples} needs {per_class} samples per class, but class "
            f"{classes[counts.argmin()]!r} has only {counts.min()}."
        )
    rng = check_random_state(random_state)
    picks = [
        rng.choice(np.flatnonzero(y == c), size=per_class, replace=False)
        for c in classes
    ]
    return np.sort(np.concatenate(picks))


def resize_images(images, size):
    """Resize square images to ``size x size`` (for the CNN's cost on a small CPU).

    Sizes dividing the original side are block averages (28 -> 14, 7); sizes dividing
    32 are a block average after zero-padding to 32 (28 -> 16, 8), which keeps the
    digit's shape exactly; other sizes use linear interpolation
    (:func:`scipy.ndimage.zoom`).

    Parameters
    ----------
    images : ndarray of shape (n_samples, H, H)
    size : int

    Returns
    -------
    resized : ndarray of float64 of shape (n_samples, size, size)

    Examples
    --------
    >>> import numpy as np
    >>> resize_images(np.ones((2, 28, 28)), 14).shape
    (2, 14, 14)
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(
            f"`images` must have shape (n_samples, H, H); got {images.shape}."
        )
    side = images.shape[1]
    if (
        isinstance(size, bool)
        or not isinstance(size, Integral)
        or not 1 <= size <= side
    ):
        raise ValueError(f"`size` must be an int in [1, {side}]; got {size!r}.")
    if size == side:
        return images.copy()
    n = images.shape[0]
    if side % size == 0:
        f = side // size
        return images.reshape(n, size, f, size, f).mean(axis=(2, 4))
    padded_side = 1 << (side - 1).bit_length()
    if padded_side % size == 0:
        pad = padded_side - side
        lo = pad // 2
        padded = np.pad(images, ((0, 0), (lo, pad - lo), (lo, pad - lo)))
        f = padded_side // size
        return padded.reshape(n, size, f, size, f).mean(axis=(2, 4))
    from scipy.ndimage import zoom

    return zoom(images, (1, size / side, size / side), order=1)


class MNISTPreprocessor(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """The paper's preprocessing: one global standardisation, then unit-norm rows.

    ``fit`` computes one mean and one standard deviation over every pixel of every
    training image; ``transform`` subtracts the mean, divides by the standard deviation
    and scales each row to unit L2 norm (rows that are zero stay zero). Works on any
    flattened images, not only MNIST.

    Attributes
    ----------
    mean_ : float
        Mean over all entries of the training data.
    scale_ : float
        Standard deviation over all entries (1.0 when it is zero).
    n_features_in_ : int

    See Also
    --------
    sklearn.preprocessing.Normalizer : the unit-norm step alone.

    Notes
    -----
    Because every row is scaled to unit norm afterwards, dividing by the standard
    deviation changes nothing; it is kept to mirror the paper. Only the subtraction of
    one global scalar mean changes the angles between images, and hence the NTK. The
    paper computes the statistics on "the selected images"; fitting on the training
    images only keeps predictions independent of the test set.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 2.0], [4.0, 2.0]])
    >>> Xt = MNISTPreprocessor().fit_transform(X)
    >>> np.round(np.linalg.norm(Xt, axis=1), 6).tolist()
    [1.0, 1.0]
    """

    def __init__(self):
        pass

    def fit(self, X, y=None):
        """Compute the global mean and standard deviation of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=np.float64)
        self.mean_ = float(X.mean())
        std = float(X.std())
        self.scale_ = std if std > 0 else 1.0
        return self

    def transform(self, X):
        """Standardise with the training statistics and scale rows to unit norm.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of float64 of shape (n_samples, n_features)
        """
        check_is_fitted(self, "mean_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        X = (X - self.mean_) / self.scale_
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.where(norms > 0, norms, 1.0)


def load_binary_mnist(
    digits=(8, 9),
    n_train=512,
    n_test=256,
    *,
    path=None,
    data=None,
    random_state=None,
    flatten=True,
    labels="pm1",
    image_size=None,
):
    """The paper's binary MNIST task: balanced subsets, preprocessed.

    Training samples come from MNIST's training split and test samples from its test
    split, each a balanced random subset of the two digits. Images are optionally
    resized, then preprocessed by :class:`MNISTPreprocessor` fitted on the training
    subset (one global mean and standard deviation, then unit L2 norm per image).

    Parameters
    ----------
    digits : tuple of two ints, default=(8, 9)
        (8, 9) for the paper's fully-connected network, (0, 1) for its CNN.
    n_train : int, default=512
        Balanced training-set size (even).
    n_test : int or None, default=256
        Balanced test-set size (even); None keeps every test image of the two digits.
    path : str, os.PathLike or None, default=None
        Where MNIST is (see :func:`load_mnist`); None reads ``QNTK_MNIST``.
    data : Bunch or None, default=None
        The output of :func:`load_mnist`, to avoid re-reading the files in a loop;
        ``path`` is then ignored.
    random_state : int, RandomState instance or None, default=None
        Seeds both subsets.
    flatten : bool, default=True
        True gives rows of ``size * size`` features (for the fully-connected network
        and for the estimators, which take 2-D input); False keeps images of shape
        ``(size, size, 1)``.
    labels : {"pm1", "original"}, default="pm1"
        Targets in {-1, +1} (``digits[0]`` is -1) or the original digits.
    image_size : int or None, default=None
        Side of the resized images (see :func:`resize_images`); None keeps 28.

    Returns
    -------
    X_train : ndarray of shape (n_train, size * size) or (n_train, size, size, 1)
    y_train : ndarray of shape (n_train,)
    X_test : ndarray of shape (n_test, size * size) or (n_test, size, size, 1)
    y_test : ndarray of shape (n_test,)

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    >>> y = np.repeat([8, 9], 20)
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.npz")
    >>> np.savez(path, x_train=x, y_train=y, x_test=x, y_test=y)
    >>> X, y_tr, X_te, y_te = load_binary_mnist(n_train=8, n_test=4, path=path,
    ...                                         random_state=0)
    >>> X.shape, sorted(y_tr.tolist()), round(float(np.linalg.norm(X[0])), 6)
    ((8, 784), [-1, -1, -1, -1, 1, 1, 1, 1], 1.0)
    """
    if data is None:
        data = load_mnist(path)
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, Integral)
    ):
        raise ValueError(f"`image_size` must be an int or None; got {image_size!r}.")
    rng = check_random_state(random_state)
    x_tr, y_tr = binary_pair(data["x_train"], data["y_train"], digits, labels=labels)
    x_te, y_te = binary_pair(data["x_test"], data["y_test"], digits, labels=labels)
    idx = balanced_subset(y_tr, n_train, rng)
    x_tr, y_tr = x_tr[idx], y_tr[idx]
    if n_test is not None:
        idx = balanced_subset(y_te, n_test, rng)
        x_te, y_te = x_te[idx], y_te[idx]
    x_tr = np.asarray(x_tr, dtype=np.float64)
    x_te = np.asarray(x_te, dtype=np.float64)
    if image_size is not None:
        x_tr, x_te = resize_images(x_tr, image_size), resize_images(x_te, image_size)
    shape = x_tr.shape[1:]
    prep = MNISTPreprocessor().fit(x_tr.reshape(len(x_tr), -1))
    X_train = prep.transform(x_tr.reshape(len(x_tr), -1))
    X_test = prep.transform(x_te.reshape(len(x_te), -1))
    if not flatten:
        X_train = X_train.reshape(-1, *shape, 1)
        X_test = X_test.reshape(-1, *shape, 1)
    return X_train, y_tr, X_test, y_te
