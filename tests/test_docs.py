"""Fast checks of the documentation sources (the Sphinx build itself is docs/build.sh).

* Every public name (each subpackage's ``__all__``) appears in docs/api.rst, so the API
  reference cannot silently fall behind the package.
* Every gallery script has the title block sphinx-gallery needs.
"""

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.rst"
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))

PUBLIC_MODULES = [
    "qntk_sklearn",
    "qntk_sklearn.estimators",
    "qntk_sklearn.kernels",
    "qntk_sklearn.sparsify",
    "qntk_sklearn.solvers",
    "qntk_sklearn.datasets",
    "qntk_sklearn.experiments",
]

#: Names that are documented in prose rather than as API entries.
NOT_IN_API = {"__version__"}


def _documented_names(text):
    """Names listed in autosummary blocks or declared with ``py:data``."""
    names = set()
    in_autosummary = False
    for line in text.splitlines():
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary:
            if line and not line.startswith(" "):
                in_autosummary = False
            elif line.strip() and not line.strip().startswith(":"):
                names.add(line.strip())
        match = re.match(r"\.\. py:data:: (\w+)", line)
        if match:
            names.add(match.group(1))
    return names


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError:  # pragma: no cover - a subpackage not written yet
        pytest.skip(f"{module_name} is not importable")
    documented = _documented_names(API.read_text(encoding="utf-8"))
    missing = sorted(set(module.__all__) - documented - NOT_IN_API)
    assert not missing, (
        f"public names of {module_name} missing from docs/api.rst: {missing}; add "
        "them to an autosummary block there."
    )


def test_there_are_gallery_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_a_title(path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.name} needs a module docstring (the gallery title)"
    lines = doc.strip().splitlines()
    # sphinx-gallery: "====\nTitle\n====" or "Title\n=====", then a description.
    title = lines[1] if set(lines[0]) == {"="} else lines[0]
    underline = lines[2] if set(lines[0]) == {"="} else lines[1]
    assert title.strip() and set(underline.strip()) == {"="}, path.name
    assert len(underline.strip()) >= len(title.strip()), f"{path.name}: short underline"
    assert len(lines) > 3, f"{path.name}: add a paragraph under the title"
