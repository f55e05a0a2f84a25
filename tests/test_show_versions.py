"""show_versions(): the bug-report printout."""

import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import textwrap

import pytest

import qntk_sklearn
from qntk_sklearn import _show_versions, show_versions


def test_prints_versions_devices_and_thread_pools(capsys):
    show_versions()
    out = capsys.readouterr().out
    assert f"qntk-sklearn: {qntk_sklearn.__version__}" in out
    for section in (
        "System:",
        "Python dependencies:",
        "Optional dependencies:",
        "JAX:",
        "Threadpool info (threadpoolctl):",
        "Environment variables:",
    ):
        assert f"\n{section}\n" in out
    import jax
    import numpy
    import sklearn

    assert re.search(rf"\n +numpy: {re.escape(numpy.__version__)}\n", out)
    assert re.search(rf"\n +scikit-learn: {re.escape(sklearn.__version__)}\n", out)
    assert re.search(rf"\n +jax: {re.escape(jax.__version__)}\n", out)
    assert re.search(r"\n +neural-tangents: (\d\S*|not installed)\n", out)
    assert re.search(rf"\n +backend: {jax.default_backend()}\n", out)
    assert re.search(r"\n +jax_enable_x64: (True|False) ", out)
    assert re.search(r"\n +user_api: blas\n", out)
    assert re.search(r"\n +num_threads: \d+\n", out)
    assert re.search(r"\n +OPENBLAS_NUM_THREADS: ", out)


def test_absent_distribution_reads_not_installed():
    versions = _show_versions._distribution_versions(["no-such-distribution-qntk"])
    assert versions == {"no-such-distribution-qntk": "not installed"}


def test_a_broken_section_does_not_hide_the_report(capsys, monkeypatch):
    def broken():
        raise RuntimeError("no backend")

    monkeypatch.setattr(_show_versions, "_jax_info", broken)
    show_versions()
    out = capsys.readouterr().out
    assert "JAX:\n  error: RuntimeError: no backend\n" in out
    assert "Environment variables:" in out


def _report_in_a_fresh_interpreter():
    code = textwrap.dedent(
        """
        import sys
        import qntk_sklearn
        qntk_sklearn.show_versions()
        heavy = sorted(m for m in ("neural_tangents", "tensorflow", "dask", "pyqsp")
                       if m in sys.modules)
        print("IMPORTED", heavy)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
    )
    return result.stdout


def test_absent_optional_dependency_is_reported_not_imported():
    out = _report_in_a_fresh_interpreter()
    assert "IMPORTED []" in out
    if importlib.util.find_spec("neural_tangents") is None:
        assert re.search(r"\n +neural-tangents: not installed\n", out)


@pytest.mark.nt
def test_installed_neural_tangents_is_reported_not_imported():
    # Learning its version must not import it (it imports TensorFlow: seconds, GBs).
    if importlib.util.find_spec("neural_tangents") is None:
        pytest.skip("the neural-tangents extra is not installed")
    out = _report_in_a_fresh_interpreter()
    version = importlib.metadata.version("neural-tangents")
    assert re.search(rf"\n +neural-tangents: {re.escape(version)}\n", out)
    assert "IMPORTED []" in out
