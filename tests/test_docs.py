"""Fast checks of the documentation sources (the Sphinx build itself is docs/build.sh).

* Every public name (each subpackage's ``__all__``) appears in the API reference
  (docs/api.rst and its pages docs/api/*.rst), so it cannot silently fall behind the
  package.
* Every gallery script has the title block sphinx-gallery needs.
* The built site loads nothing from the network (docs/check_offline.py, which
  docs/build.sh runs after each build; tested here, and run on docs/_build/html when
  a build is there).
"""

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
API_PAGES = [ROOT / "docs" / "api.rst", *sorted((ROOT / "docs" / "api").glob("*.rst"))]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
BUILT_HTML = ROOT / "docs" / "_build" / "html"

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
    documented = set()
    for page in API_PAGES:
        documented |= _documented_names(page.read_text(encoding="utf-8"))
    missing = sorted(set(module.__all__) - documented - NOT_IN_API)
    assert not missing, (
        f"public names of {module_name} missing from the API reference: {missing}; "
        "add them to an autosummary block of their subpackage's page, "
        "docs/api/<subpackage>.rst."
    )


def test_api_reference_has_one_page_per_subpackage():
    toctree = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    for name in ("kernels", "sparsify", "solvers", "estimators", "datasets"):
        assert (ROOT / "docs" / "api" / f"{name}.rst").is_file()
        assert f"   api/{name}\n" in toctree


def test_no_page_has_its_own_contents_box():
    # The theme's "On this page" sidebar lists the sections already; a ``contents``
    # directive adds a second box and turns every section title into a link.
    sources = [
        path
        for path in (ROOT / "docs").rglob("*.rst")
        if not {"_build", "auto_examples", "gen_modules"} & set(path.parts)
    ]
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources
        if ".. contents::" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, f"remove the `.. contents::` directive from {offenders}"


def _check_offline():
    spec = importlib.util.spec_from_file_location(
        "check_offline", ROOT / "docs" / "check_offline.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_offline_check_finds_network_loads_and_missing_files(tmp_path):
    check = _check_offline()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "local.js").write_text("")
    (tmp_path / "_static" / "macros.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'  # an asset, not a page
    )
    (tmp_path / "good.html").write_text(
        '<script src="_static/local.js"></script>'
        '<a href="https://arxiv.org/abs/2107.09200">paper</a>'
        '<link rel="canonical" href="https://example.org/">'
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.html").write_text(
        '<script defer src="https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js">'
        "</script>"
        '<link rel="stylesheet" href="//fonts.example/f.css">'
        '<img src="http://example.org/logo.png"/>'
        '<script src="../_static/mathjax/tex-chtml.js"></script>'
    )
    found = check.problems(tmp_path)
    assert len(found) == 4, found
    assert all(line.startswith("sub/bad.html: ") for line in found)
    assert any("mathjax@4" in line and "network" in line for line in found)
    assert any("missing ../_static/mathjax/tex-chtml.js" in line for line in found)
    assert check.main([str(tmp_path)]) == 1
    (tmp_path / "sub" / "bad.html").unlink()
    assert check.main([str(tmp_path)]) == 0


@pytest.mark.skipif(
    not (BUILT_HTML / "index.html").exists(),
    reason="docs not built here (docs/build.sh builds them and runs the same check)",
)
def test_built_site_loads_nothing_from_the_network():
    check = _check_offline()
    assert check.problems(BUILT_HTML) == []
    assert (BUILT_HTML / "_static" / "mathjax" / "tex-chtml.js").is_file()
    math_page = (BUILT_HTML / "user_guide" / "method.html").read_text(encoding="utf-8")
    assert '<script defer="defer" src="../_static/mathjax/tex-chtml.js' in math_page


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
