"""What to paste into a bug report: versions, JAX devices, BLAS threads.

Modelled on :func:`sklearn.show_versions` and PennyLane's ``qml.about()``. Versions are
read from the installed distributions' metadata, so an optional dependency is never
imported (neural-tangents would import TensorFlow); only JAX and threadpoolctl, both
already required, are imported to describe the devices and the thread pools. Every
section is gathered on its own: a broken JAX install prints its error in the JAX
section instead of hiding the rest of the report.
"""

from __future__ import annotations

import os
import platform
import sys

#: Distributions the package needs (pyproject's ``dependencies``), plus the two
#: scikit-learn brings that decide parallelism.
REQUIRED = (
    "numpy",
    "scipy",
    "scikit-learn",
    "jax",
    "jaxlib",
    "pennylane",
    "tqdm",
    "joblib",
    "threadpoolctl",
)

#: Distributions used when present (extras, experiments, progress, parallelism).
OPTIONAL = (
    "neural-tangents",
    "dask",
    "distributed",
    "pyqsp",
    "matplotlib",
)

#: Environment variables that change thread counts or the JAX platform and precision.
ENVIRONMENT_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "JAX_PLATFORMS",
    "JAX_ENABLE_X64",
    "XLA_FLAGS",
)

NOT_INSTALLED = "not installed"


def _system_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
        "cpu_count": str(os.cpu_count()),
    }


def _distribution_versions(names):
    """Installed version of each distribution, from metadata (nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


def _jax_info():
    import jax

    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "devices": ", ".join(str(d) for d in devices),
        "jax_enable_x64": (
            f"{jax.config.read('jax_enable_x64')} (global; the kernels turn float64 on "
            "locally)"
        ),
    }


def _threadpool_info():
    """One dict per BLAS/OpenMP library loaded in this process (threadpoolctl)."""
    # numpy and scipy load their BLAS when imported; import them so the report
    # describes the libraries a fit would use even in a fresh interpreter.
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "num_threads", "prefix", "version", "filepath")
    return [{key: str(pool.get(key)) for key in keys} for pool in threadpool_info()]


def _environment():
    return {name: os.environ.get(name, "unset") for name in ENVIRONMENT_VARIABLES}


def _gather(fn):
    """``fn()``, or a one-entry dict holding the error that stopped it."""
    try:
        return fn()
    except Exception as exc:  # a report must print even from a broken install
        return {"error": f"{type(exc).__name__}: {exc}"}


def _print_section(title, info):
    print(f"\n{title}:")
    width = max((len(key) for key in info), default=0)
    for key, value in info.items():
        print(f"{key:>{width + 2}}: {value}")


def show_versions():
    """Print the versions and settings that a bug report needs.

    Prints the package version; Python and the platform; the versions of the
    required dependencies (numpy, scipy, scikit-learn, jax, jaxlib, PennyLane, tqdm,
    joblib, threadpoolctl) and of the optional ones (neural-tangents, Dask,
    pyqsp, matplotlib; "not installed" when absent); JAX's backend, devices and
    float64 setting; the BLAS/OpenMP thread pools (via threadpoolctl); and the
    environment variables that change them.

    Versions come from the installed distributions' metadata: optional
    dependencies are not imported.

    See Also
    --------
    sklearn.show_versions : the same report for scikit-learn.

    Examples
    --------
    >>> from qntk_sklearn import show_versions
    >>> show_versions()  # doctest: +SKIP
    <BLANKLINE>
    qntk-sklearn: 0.1.0
    <BLANKLINE>
    System:
          python: 3.11.7 ...
    """
    from ._version import __version__

    print(f"\nqntk-sklearn: {__version__}")
    _print_section("System", _system_info())
    _print_section("Python dependencies", _distribution_versions(REQUIRED))
    _print_section("Optional dependencies", _distribution_versions(OPTIONAL))
    _print_section("JAX", _gather(_jax_info))
    pools = _gather(_threadpool_info)
    if isinstance(pools, dict):  # the error
        _print_section("Threadpool info (threadpoolctl)", pools)
    elif not pools:
        _print_section("Threadpool info (threadpoolctl)", {"pools": "none loaded"})
    for pool in pools if isinstance(pools, list) else ():
        _print_section("Threadpool info (threadpoolctl)", pool)
    _print_section("Environment variables", _environment())
