"""n_jobs, joblib backends (threads, processes, a dask.distributed cluster), progress.

Every parallel path splits the work into the same blocks whatever ``n_jobs`` is and
writes each block's result to its own slot (or reduces with an exact ``max``), so the
results are compared bitwise: the same functions run on the same inputs and shapes,
only on other threads or processes.
"""

import re
import tracemalloc

import joblib
import numpy as np
import pytest

from qntk_sklearn import (
    FullyConnectedNTK,
    QuantumNTKClassifier,
    QuantumNTKRegressor,
    _parallel,
)
from qntk_sklearn._parallel import map_blocks
from qntk_sklearn.estimators import _depth, _ntk
from qntk_sklearn.kernels import NTKKernelBase
from qntk_sklearn.solvers import QSVTSolver


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks small enough that test-sized inputs are split into many of them."""
    monkeypatch.setattr(NTKKernelBase, "_max_block_entries", 2**12)
    monkeypatch.setattr(_ntk, "_PREDICT_BLOCK_ENTRIES", 2**13)
    monkeypatch.setattr(_depth, "_TILE", 64)


@pytest.fixture
def data():
    r = np.random.default_rng(0)
    X = r.normal(size=(300, 12))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    return X[:200], y[:200], X[200:]


def _slow_square(x, delay):
    import time

    time.sleep(delay)
    return x * x


def test_map_blocks_yields_every_index_once_in_any_order():
    tasks = [(i, 0.02 * (i % 3 == 0)) for i in range(12)]
    for n_jobs in (None, 1, 3):
        got = dict(map_blocks(_slow_square, tasks, n_jobs=n_jobs))
        assert got == {i: i * i for i in range(12)}
    # n_jobs=None follows a joblib context, as in scikit-learn.
    with joblib.parallel_config(n_jobs=2):
        assert dict(map_blocks(_slow_square, tasks)) == {i: i * i for i in range(12)}


def test_map_blocks_works_with_backends_that_cannot_stream(monkeypatch):
    # joblib refuses return_as="generator*" for some backends (multiprocessing): then
    # the blocks run in waves of bounded size.
    class ListOnly(joblib.Parallel):
        def __init__(self, *args, return_as="list", **kwargs):
            if return_as != "list":
                raise ValueError("this backend cannot return a generator")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(_parallel.joblib, "Parallel", ListOnly)
    got = dict(map_blocks(pow, [(i, 2) for i in range(23)], n_jobs=2))
    assert got == {i: i * i for i in range(23)}


def test_kernel_block_and_pairs_do_not_depend_on_n_jobs(small_blocks, data):
    X, _, Xte = data
    k = FullyConnectedNTK(depth=30)
    rows = np.arange(200).repeat(3)
    cols = np.random.default_rng(1).integers(0, 200, size=600)
    ref = k.block(X, X), k.block(Xte, X), k.pairs(X, rows=rows, cols=cols)
    for n_jobs in (2, -1):
        np.testing.assert_array_equal(k.block(X, X, n_jobs=n_jobs), ref[0])
        np.testing.assert_array_equal(k.block(Xte, X, n_jobs=n_jobs), ref[1])
        got = k.pairs(X, rows=rows, cols=cols, n_jobs=n_jobs)
        np.testing.assert_array_equal(got, ref[2])
    # The tiles agree with the oracle, a direct evaluation in one piece.
    np.testing.assert_allclose(ref[1], k._block(Xte, X), rtol=1e-13)


@pytest.mark.slow
def test_process_backend_gives_the_same_kernel(small_blocks, data):
    X, _, Xte = data
    k = FullyConnectedNTK(depth=30)
    expected = k.block(Xte, X)
    with joblib.parallel_config(backend="loky", n_jobs=2):
        np.testing.assert_array_equal(k.block(Xte, X), expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda n_jobs: QuantumNTKClassifier(random_state=0, n_jobs=n_jobs),
        lambda n_jobs: QuantumNTKClassifier(
            depth=6, sparsity="none", random_state=0, n_jobs=n_jobs
        ),
        lambda n_jobs: QuantumNTKClassifier(
            depth=20, solver=QSVTSolver(shots=200), random_state=0, n_jobs=n_jobs
        ),
        lambda n_jobs: QuantumNTKRegressor(depth=4, sparsity="none", n_jobs=n_jobs),
    ],
    ids=["paper", "dense", "qsvt-shots", "regressor"],
)
def test_estimators_do_not_depend_on_n_jobs(small_blocks, data, make):
    X, y, Xte = data
    ref = make(1).fit(X, y)
    expected = ref.predict(Xte)
    raw = ref._raw_decision(Xte)
    for n_jobs in (2, -1):
        est = make(n_jobs).fit(X, y)
        assert est.depth_ == ref.depth_
        np.testing.assert_array_equal(est._raw_decision(Xte), raw)
        np.testing.assert_array_equal(est.predict(Xte), expected)
    kernel = est.kernel_.toarray() if hasattr(est.kernel_, "toarray") else est.kernel_
    ref_kernel = (
        ref.kernel_.toarray() if hasattr(ref.kernel_, "toarray") else ref.kernel_
    )
    np.testing.assert_array_equal(kernel, ref_kernel)


def test_n_jobs_is_validated(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="'n_jobs' parameter"):
        QuantumNTKClassifier(n_jobs="all").fit(X, y)


def test_predict_never_holds_the_whole_test_kernel(monkeypatch):
    monkeypatch.setattr(_ntk, "_PREDICT_BLOCK_ENTRIES", 2**16)
    r = np.random.default_rng(2)
    X = r.normal(size=(2000, 10))
    y = np.repeat([0, 1], 1000)
    clf = QuantumNTKClassifier(depth=20, random_state=0, n_jobs=2).fit(X, y)
    clf.decision_function(X[:10])  # caches of the kernel, built once
    peaks = []
    for n_test in (1000, 8000):
        Xte = r.normal(size=(n_test, 10))
        tracemalloc.start()
        clf.decision_function(Xte)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # K_star would be 8000 x 2000 x 8 = 128 MB; blocks are 2**16 entries (0.5 MB,
    # plus the kernel's own work arrays): the peak does not grow with the test set.
    assert peaks[1] < 128e6 / 8
    assert peaks[1] < peaks[0] + 2e6


@pytest.mark.slow
def test_dask_cluster_gives_the_same_predictions(small_blocks, data):
    distributed = pytest.importorskip("distributed")
    X, y, Xte = data
    ref = QuantumNTKClassifier(random_state=0, n_jobs=1).fit(X, y)
    expected = ref._raw_decision(Xte)
    ref_dense = QuantumNTKRegressor(depth=4, sparsity="none").fit(X, y)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as ts:
            clf = QuantumNTKClassifier(random_state=0).fit(X, y)
            got = clf._raw_decision(Xte)
            reg = QuantumNTKRegressor(depth=4, sparsity="none").fit(X, y)
            got_dense = reg.predict(Xte)
        workers = {task["worker"] for task in ts.data}
    assert len(ts.data) > 20 and len(workers) == 2  # the blocks ran on the cluster
    assert clf.depth_ == ref.depth_
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got_dense, ref_dense.predict(Xte))


def test_verbose_0_is_silent_and_verbose_1_shows_tqdm_bars(data, capsys):
    X, y, Xte = data
    clf = QuantumNTKClassifier(random_state=0).fit(X, y)
    clf.predict(Xte)
    clf.quantum_resources_  # noqa: B018 - computed on access
    assert capsys.readouterr() == ("", "")
    clf = QuantumNTKClassifier(random_state=0, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    for stage in ("separation", "kernel pairs"):
        assert re.search(rf"\[qntk\] {stage}: 100%\|", err), err
    clf.predict(Xte)
    clf.quantum_resources_  # noqa: B018
    out, err = capsys.readouterr()
    assert out == ""
    assert re.search(r"\[qntk\] predict: 100%\|.*\| 100/100", err), err
    assert re.search(r"\[qntk\] kernel block: 100%\|", err), err


@pytest.mark.nt
def test_stax_kernel_tiles_in_threads_are_float64_and_do_not_depend_on_n_jobs():
    # jax's float64 switch is per thread: every tile enters it where it runs.
    stax = pytest.importorskip("neural_tangents").stax
    from qntk_sklearn.kernels import StaxKernel

    W_std = FullyConnectedNTK(depth=3)._validated()[1] ** 0.5
    kernel_fn = stax.serial(
        *[stax.Dense(8, W_std=W_std), stax.Erf()] * 3, stax.Dense(1, W_std=W_std)
    )[2]
    k = StaxKernel(kernel_fn=kernel_fn, batch_size=16)
    r = np.random.default_rng(3)
    X, Y = r.normal(size=(50, 6)), r.normal(size=(40, 6))
    expected = k.block(X, Y)
    np.testing.assert_array_equal(k.block(X, Y, n_jobs=2), expected)
    np.testing.assert_array_equal(k.block(X, X, n_jobs=2), k.block(X, X))
    # float64 in the worker threads: the closed form agrees to rounding, not to the
    # 1e-7 of float32.
    np.testing.assert_allclose(
        expected, FullyConnectedNTK(depth=3)(X, Y), rtol=1e-10, atol=1e-14
    )
    rows, cols = np.arange(50), r.integers(0, 50, size=50)
    np.testing.assert_array_equal(
        k.pairs(X, rows=rows, cols=cols, n_jobs=2), k.pairs(X, rows=rows, cols=cols)
    )
