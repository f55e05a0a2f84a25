"""Blocks of bounded work dispatched through joblib, with a tqdm progress bar.

Every long computation of the package (the kernel between two sets of points, the
kernel on the pairs of a sparsity pattern, the separation of ``depth="auto"``, the
predictions) is a list of independent blocks of bounded memory. :func:`map_blocks`
runs them through :class:`joblib.Parallel`, so that ``n_jobs`` follows scikit-learn's
convention (None means 1 unless a :func:`joblib.parallel_config` context says
otherwise, -1 means all cores) and ``with joblib.parallel_backend("dask"):`` sends the
blocks to a dask.distributed cluster. Threads are the default backend: the blocks
spend their time in numpy ufuncs, BLAS and XLA, which release the GIL, and threads
share the training set instead of copying it to every worker
(``benchmarks/bench_scale.py`` measures both).

Results are handed back with their block index as they complete, and callers write
them into preallocated slots or reduce them with an order-independent operation: the
result never depends on ``n_jobs``, and no more than about ``3 * n_jobs`` finished
blocks wait in memory at a time.
"""

from __future__ import annotations

import joblib
from tqdm.auto import tqdm

#: Blocks in flight per worker when the backend cannot stream results back.
_WAVE_PER_JOB = 4


def _indexed(func, index, *args):
    # The task's arguments stay top-level arguments of the delayed call: the dask
    # backend scatters large top-level arguments once per call, by identity.
    return index, func(*args)


def progress_bar(total, desc, verbose, unit="it"):
    """A tqdm bar on stderr, shown only when ``verbose`` is positive."""
    return tqdm(
        total=total,
        desc=f"[qntk] {desc}",
        unit=unit,
        unit_scale=True,
        disable=not verbose,
        leave=bool(verbose),
        dynamic_ncols=True,
    )


def map_blocks(func, tasks, *, n_jobs=None, verbose=0, desc="blocks", sizes=None):
    """Yield ``(index, func(*tasks[index]))`` for every task, as blocks complete.

    Parameters
    ----------
    func : callable
        Called with the arguments of one task; must be picklable for process-based
        backends (a module-level function or a bound method of a picklable object).
    tasks : sequence of tuple
        Arguments of each block. Large arrays shared by every task (the training set)
        should be passed as the same object in every tuple: the dask backend then
        scatters them to the cluster once.
    n_jobs : int or None, default=None
        Workers, scikit-learn's convention: None means 1 unless in a
        :func:`joblib.parallel_config` context, -1 means all cores.
    verbose : int, default=0
        If positive, a tqdm progress bar on stderr.
    desc : str
        Label of the progress bar.
    sizes : sequence of int or None
        Amount of work of each task for the progress bar (default: 1 each).

    Yields
    ------
    index, result
        In completion order when running in parallel, in task order otherwise: a
        caller must not depend on the order.

    Examples
    --------
    >>> sorted(map_blocks(pow, [(2, 3), (3, 2)], n_jobs=2))
    [(0, 8), (1, 9)]
    """
    tasks = list(tasks)
    sizes = [1] * len(tasks) if sizes is None else [int(s) for s in sizes]
    bar = progress_bar(sum(sizes), desc, verbose)
    try:
        if len(tasks) <= 1 or joblib.effective_n_jobs(n_jobs) == 1:
            for index, args in enumerate(tasks):
                result = func(*args)
                bar.update(sizes[index])
                yield index, result
            return
        delayed = joblib.delayed(_indexed)
        try:
            parallel = joblib.Parallel(
                n_jobs=n_jobs,
                prefer="threads",
                return_as="generator_unordered",
                batch_size=1,
                pre_dispatch="2*n_jobs",
            )
        except ValueError:  # a backend that cannot stream results (multiprocessing)
            parallel = None
        if parallel is not None:
            for index, result in parallel(
                delayed(func, index, *args) for index, args in enumerate(tasks)
            ):
                bar.update(sizes[index])
                yield index, result
            return
        wave = _WAVE_PER_JOB * joblib.effective_n_jobs(n_jobs)
        with joblib.Parallel(n_jobs=n_jobs, prefer="threads") as run:
            for start in range(0, len(tasks), wave):
                done = run(
                    delayed(func, index, *tasks[index])
                    for index in range(start, min(start + wave, len(tasks)))
                )
                for index, result in done:
                    bar.update(sizes[index])
                    yield index, result
    finally:
        bar.close()
