"""Local MNIST loading (IDX raw and gzipped, npz), preprocessing and balanced splits."""

import gzip
import io
import tracemalloc

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from qntk_sklearn.datasets import (
    MNIST_ENV_VAR,
    MNISTPreprocessor,
    balanced_subset,
    binary_pair,
    load_binary_mnist,
    load_mnist,
    read_idx,
    resize_images,
)

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.tobytes()


@pytest.fixture
def tiny_mnist():
    """12 train and 8 test images of the digits 0, 1, 8, 9 (28x28 uint8)."""
    r = np.random.default_rng(0)
    return {
        "x_train": r.integers(0, 256, size=(12, 28, 28), dtype=np.uint8),
        "y_train": np.array([0, 1, 8, 9] * 3, dtype=np.uint8),
        "x_test": r.integers(0, 256, size=(8, 28, 28), dtype=np.uint8),
        "y_test": np.array([9, 8, 1, 0] * 2, dtype=np.uint8),
    }


def _write_idx(folder, arrays, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in IDX_NAMES.items():
        raw = _idx_bytes(arrays[key])
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_from_idx_folder(tmp_path, tiny_mnist, gz):
    folder = _write_idx(tmp_path / "idx", tiny_mnist, gz)
    data = load_mnist(folder)
    for key in IDX_NAMES:
        np.testing.assert_array_equal(data[key], tiny_mnist[key])
    assert data.x_train.dtype == np.uint8


def test_load_mnist_from_npz_and_env_var(tmp_path, tiny_mnist, monkeypatch):
    path = tmp_path / "mnist.npz"
    np.savez(path, **tiny_mnist)
    np.testing.assert_array_equal(load_mnist(path).y_test, tiny_mnist["y_test"])
    monkeypatch.setenv(MNIST_ENV_VAR, str(path))
    np.testing.assert_array_equal(load_mnist().x_train, tiny_mnist["x_train"])
    # A folder holding only mnist.npz is accepted too.
    np.testing.assert_array_equal(load_mnist(tmp_path).x_test, tiny_mnist["x_test"])


def test_load_mnist_flat_npz_is_reshaped(tmp_path, tiny_mnist):
    flat = dict(tiny_mnist, x_train=tiny_mnist["x_train"].reshape(12, 784))
    np.savez(tmp_path / "flat.npz", **flat)
    assert load_mnist(tmp_path / "flat.npz").x_train.shape == (12, 28, 28)


def test_missing_location_says_where_to_get_mnist(monkeypatch):
    monkeypatch.delenv(MNIST_ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match="QNTK_MNIST.*mnist.npz"):
        load_mnist()


def test_bad_paths_and_files(tmp_path, tiny_mnist):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "nope.npz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="lacks the IDX file"):
        load_mnist(tmp_path / "empty")
    np.savez(tmp_path / "partial.npz", x_train=tiny_mnist["x_train"])
    with pytest.raises(ValueError, match=r"must have keys.*missing \['y_train'"):
        load_mnist(tmp_path / "partial.npz")
    (tmp_path / "junk.npz").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="must be an .npz file"):
        load_mnist(tmp_path / "junk.npz")
    bad = dict(tiny_mnist, y_train=tiny_mnist["y_train"][:5])
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match="one label per image"):
        load_mnist(tmp_path / "bad.npz")


def test_read_idx_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_idx(tmp_path / "missing")
    (tmp_path / "magic").write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="two zero bytes"):
        read_idx(tmp_path / "magic")
    (tmp_path / "code").write_bytes(bytes([0, 0, 0x07, 1]) + bytes(8))
    with pytest.raises(ValueError, match="type code"):
        read_idx(tmp_path / "code")
    good = _idx_bytes(np.arange(6).reshape(2, 3))
    (tmp_path / "short").write_bytes(good[:-1])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "badgz").write_bytes(b"\x1f\x8b" + bytes(10))
    with pytest.raises(ValueError, match="gzipped"):
        read_idx(tmp_path / "badgz")


def _idx_header(shape, code=0x08):
    return bytes([0, 0, code, len(shape)]) + b"".join(
        int(s).to_bytes(4, "big") for s in shape
    )


def test_read_idx_size_error_counts_bytes_without_overflow(tmp_path):
    # 2**31 * 2**31 * 4 = 2**64 entries: a numpy int64 product wraps around to 0.
    shape = (2**31, 2**31, 4)
    (tmp_path / "huge").write_bytes(_idx_header(shape) + bytes(6))
    declared = 16 + 2**64
    with pytest.raises(ValueError, match=rf"\({declared} bytes in all\)"):
        read_idx(tmp_path / "huge")
    # The truncation message states both byte counts exactly.
    (tmp_path / "short").write_bytes(_idx_header((2, 3)) + bytes(5))
    with pytest.raises(ValueError, match=r"\(18 bytes in all\) but the file has 17"):
        read_idx(tmp_path / "short")


def test_read_idx_gzip_bomb_is_refused_before_inflating(tmp_path):
    # A header declaring 2**32 bytes of uint8: refused from the header alone.
    (tmp_path / "big.gz").write_bytes(
        gzip.compress(_idx_header((2**16, 2**16)) + bytes(100))
    )
    with pytest.raises(ValueError, match=r"4294967308 bytes in all.*max_bytes"):
        read_idx(tmp_path / "big.gz")
    with pytest.raises(ValueError, match=r"max_bytes.*got 0"):
        read_idx(tmp_path / "big.gz", max_bytes=0)
    # A header declaring 4 bytes followed by 64 MB of zeros: only what the header
    # declares is inflated (and one byte more, to see that the file is too long).
    with gzip.open(tmp_path / "bomb.gz", "wb", compresslevel=1) as fh:
        fh.write(_idx_header((4,)) + bytes(4))
        for _ in range(64):
            fh.write(bytes(1 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"bomb\.gz.*more data than its header"):
            read_idx(tmp_path / "bomb.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"inflated {peak} bytes to reject a 12-byte IDX file"


def test_read_idx_corrupt_gzip_names_the_file_and_the_fix(tmp_path):
    good = gzip.compress(_idx_bytes(np.arange(100).reshape(10, 10)))
    (tmp_path / "cut-idx1-ubyte.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match=r"cut-idx1-ubyte\.gz.*download it again"):
        read_idx(tmp_path / "cut-idx1-ubyte.gz")
    flipped = bytearray(good)
    flipped[-6] ^= 0xFF  # inside the CRC-32 trailer
    (tmp_path / "crc-idx1-ubyte.gz").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"crc-idx1-ubyte\.gz.*download it again"):
        read_idx(tmp_path / "crc-idx1-ubyte.gz")


@pytest.fixture
def npz_bytes(tmp_path, tiny_mnist):
    np.savez_compressed(tmp_path / "source.npz", **tiny_mnist)
    return (tmp_path / "source.npz").read_bytes()


@pytest.mark.parametrize(
    "damage",
    ["truncated", "empty", "crc"],
)
def test_corrupt_npz_names_the_file_and_the_fix(tmp_path, npz_bytes, damage):
    if damage == "truncated":  # BadZipFile from numpy, before this was caught
        data = npz_bytes[: len(npz_bytes) // 2]
    elif damage == "empty":  # EOFError
        data = b""
    else:  # a flipped byte inside x_train's compressed data: BadZipFile (bad CRC)
        flipped = bytearray(npz_bytes)
        flipped[200] ^= 0xFF
        data = bytes(flipped)
    path = tmp_path / "mnist.npz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"mnist\.npz.*download it again"):
        load_mnist(path)


@pytest.fixture
def open_files(monkeypatch):
    """Every file object opened through ``open`` while the test runs."""
    import builtins

    opened, real_open = [], builtins.open

    def recording_open(*args, **kwargs):
        fh = real_open(*args, **kwargs)
        opened.append(fh)
        return fh

    monkeypatch.setattr(builtins, "open", recording_open)
    return opened


@pytest.mark.parametrize("damage", ["none", "truncated", "crc", "missing_key"])
def test_load_mnist_closes_its_files(tmp_path, npz_bytes, open_files, damage):
    data = npz_bytes
    if damage == "truncated":
        data = npz_bytes[: len(npz_bytes) // 2]
    elif damage == "crc":
        flipped = bytearray(npz_bytes)
        flipped[200] ^= 0xFF
        data = bytes(flipped)
    elif damage == "missing_key":
        np.savez(tmp_path / "partial.npz", x_train=np.zeros((2, 28, 28)))
        data = (tmp_path / "partial.npz").read_bytes()
    path = tmp_path / "mnist.npz"
    path.write_bytes(data)
    del open_files[:]
    try:
        load_mnist(path)
    except Exception:  # which error is the other tests' business; here: handles
        assert damage != "none"
    assert open_files, "load_mnist read no file through open()"
    leaked = [fh.name for fh in open_files if not fh.closed]
    assert not leaked, f"file handles left open: {leaked}"


def test_npz_member_larger_than_max_bytes_is_refused(tmp_path, tiny_mnist):
    np.savez(tmp_path / "mnist.npz", **tiny_mnist)
    with pytest.raises(ValueError, match=r"mnist\.npz.*`max_bytes`=1000"):
        load_mnist(tmp_path / "mnist.npz", max_bytes=1000)


def test_npz_array_header_larger_than_its_member_is_refused(tmp_path, tiny_mnist):
    # An .npy header declaring 2**40 x 28 x 28 bytes over 100 bytes of data: numpy
    # would try to allocate the declared array (MemoryError) before reading.
    import zipfile

    path = tmp_path / "mnist.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in tiny_mnist.items():
            member = io.BytesIO()
            if key == "x_test":
                header = {"descr": "|u1", "fortran_order": False}
                header["shape"] = (2**40, 28, 28)
                np.lib.format.write_array_header_1_0(member, header)
                member.write(bytes(100))
            else:
                np.save(member, array)
            archive.writestr(f"{key}.npy", member.getvalue())
    with pytest.raises(ValueError, match=r"x_test.*declares shape.*download it again"):
        load_mnist(path)


def test_read_idx_gzip_detected_by_content(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "plain-name").write_bytes(gzip.compress(_idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), array)


def test_binary_pair_labels():
    X = np.arange(6)[:, None]
    y = np.array([8, 9, 3, 9, 8, 1])
    Xp, yp = binary_pair(X, y, (8, 9))
    np.testing.assert_array_equal(Xp.ravel(), [0, 1, 3, 4])
    np.testing.assert_array_equal(yp, [-1, 1, 1, -1])
    np.testing.assert_array_equal(binary_pair(X, y, labels="original")[1], [8, 9, 9, 8])
    with pytest.raises(ValueError, match="two different labels"):
        binary_pair(X, y, (8, 8))
    with pytest.raises(ValueError, match=r"label\(s\) \[7\] do not occur"):
        binary_pair(X, y, (7, 8))
    with pytest.raises(ValueError, match="`labels` must be"):
        binary_pair(X, y, labels="01")


def test_balanced_subset():
    y = np.array([0] * 10 + [1] * 6)
    idx = balanced_subset(y, 8, random_state=0)
    assert np.bincount(y[idx]).tolist() == [4, 4]
    np.testing.assert_array_equal(idx, balanced_subset(y, 8, random_state=0))
    assert not np.array_equal(idx, balanced_subset(y, 8, random_state=1))
    with pytest.raises(ValueError, match="multiple of the number of classes"):
        balanced_subset(y, 7)
    with pytest.raises(ValueError, match="has only 6"):
        balanced_subset(y, 14)


def test_preprocessor_uses_training_statistics():
    r = np.random.default_rng(0)
    X_train, X_test = r.uniform(0, 255, (5, 16)), r.uniform(0, 255, (3, 16))
    prep = MNISTPreprocessor().fit(X_train)
    assert prep.mean_ == pytest.approx(X_train.mean())
    assert prep.scale_ == pytest.approx(X_train.std())
    Xt = prep.transform(X_test)
    expected = X_test - X_train.mean()
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(Xt, expected)
    # Constant data: no division by zero, zero rows stay zero.
    np.testing.assert_array_equal(MNISTPreprocessor().fit_transform(np.ones((2, 3))), 0)


@parametrize_with_checks([MNISTPreprocessor()])
def test_preprocessor_sklearn_compatible(estimator, check):
    check(estimator)


def test_resize_images():
    images = np.arange(2 * 28 * 28, dtype=float).reshape(2, 28, 28)
    assert resize_images(images, 14)[0, 0, 0] == pytest.approx(images[0, :2, :2].mean())
    small = resize_images(images, 16)  # zero-padded to 32, then 2x2 means
    assert small.shape == (2, 16, 16)
    assert small.sum() == pytest.approx(images.sum() / 4)
    assert resize_images(images, 10).shape == (2, 10, 10)
    with pytest.raises(ValueError, match=r"`size` must be an int in \[1, 28\]"):
        resize_images(images, 30)


def test_load_binary_mnist(tmp_path, tiny_mnist):
    np.savez(tmp_path / "m.npz", **tiny_mnist)
    X, y, Xt, yt = load_binary_mnist(
        (8, 9), 6, 4, path=tmp_path / "m.npz", random_state=0
    )
    assert X.shape == (6, 784) and Xt.shape == (4, 784)
    assert sorted(y.tolist()) == [-1, -1, -1, 1, 1, 1]
    assert sorted(yt.tolist()) == [-1, -1, 1, 1]
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(Xt, axis=1), 1.0)
    data = load_mnist(tmp_path / "m.npz")
    X2, *_ = load_binary_mnist((8, 9), 6, 4, data=data, random_state=0)
    np.testing.assert_array_equal(X, X2)
    Xi, yi, Xti, _ = load_binary_mnist(
        (0, 1), 4, None, data=data, flatten=False, labels="original", image_size=16
    )
    assert Xi.shape == (4, 16, 16, 1) and Xti.shape == (4, 16, 16, 1)
    assert sorted(yi.tolist()) == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="has only 3"):
        load_binary_mnist((8, 9), 8, data=data)
    with pytest.raises(ValueError, match="`image_size` must be an int"):
        load_binary_mnist((8, 9), 2, 2, data=data, image_size=14.0)
