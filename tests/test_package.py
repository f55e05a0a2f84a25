"""Package metadata: one version everywhere, the license file, the citation file."""

import importlib.metadata
import re
from pathlib import Path

import pytest

import qntk_sklearn

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_distributions():
    try:
        installed = importlib.metadata.version("qntk-sklearn")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        pytest.skip("qntk-sklearn is not installed (pip install -e .)")
    assert qntk_sklearn.__version__ == installed, (
        f"qntk_sklearn.__version__ is {qntk_sklearn.__version__!r} but the installed "
        f"distribution says {installed!r}: reinstall (pip install -e .) after a bump."
    )


def test_version_is_written_once():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "qntk_sklearn._version.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|rc\d+)?", qntk_sklearn.__version__)


def test_license_file_ships_and_matches_the_metadata():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "BSD-3-Clause"
    assert project["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, qntk-sklearn developers" in text
    # PEP 639: a license expression excludes "License ::" classifiers.
    assert not [c for c in project["project"]["classifiers"] if c.startswith("License")]


def test_citation_file_names_this_version_and_the_paper():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    fields = dict(re.findall(r"(?m)^([a-z-]+): (.+)$", text))
    assert fields["cff-version"] == "1.2.0"
    assert fields["type"] == "software"
    assert fields["license"] == "BSD-3-Clause"
    assert fields["version"] == qntk_sklearn.__version__, (
        "CITATION.cff's version must follow qntk_sklearn/_version.py"
    )
    assert "arXiv:2107.09200" in text and "10.48550/arXiv.2107.09200" in text
    for name in ("Zlokapa", "Neven", "Lloyd"):
        assert f"family-names: {name}" in text
