"""Sphinx configuration of the qntk-sklearn documentation.

Build (from the repository root; warnings are errors, as in CI)::

    bash docs/build.sh

The build needs no network: intersphinx is off and nothing is downloaded. The gallery
scripts in ``examples/`` are executed at build time by sphinx-gallery.

The built site needs no network either: MathJax is copied into ``_static/mathjax`` by
``sphinx-mathjax-offline`` instead of loaded from a CDN, and sphinx-gallery's
execution-times page (which loads jQuery and DataTables from CDNs) is not written.
``docs/check_offline.py``, run by ``docs/build.sh`` after the build, fails the build if
a page loads anything from another host.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

# Keep JAX on the CPU, quietly, for autodoc imports and the gallery.
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import qntk_sklearn  # noqa: E402

DOCS = Path(__file__).resolve().parent

# --- project ---
project = "qntk-sklearn"
author = "qntk-sklearn developers"
copyright = "2026, qntk-sklearn developers"  # noqa: A001 - Sphinx's name
release = qntk_sklearn.__version__
version = ".".join(release.split(".")[:2])

# --- extensions ---
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped in a PyPI package and copied into the build (offline).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
# Where sphinx-mathjax-offline puts MathJax (relative to _static); stated here too so
# that a change of the extension's default cannot bring back the CDN silently.
mathjax_path = "mathjax/tex-chtml.js"

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"  # `x` renders as code, as in numpydoc docstrings

# autosummary writes one stub page per public name into gen_modules/ (git-ignored).
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # signatures are described by numpydoc's Parameters
autodoc_member_order = "groupwise"

# numpydoc renders the Parameters/Attributes/... sections; our class template lists
# the methods itself, so numpydoc's own member tables would duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No intersphinx: CI has no network, and no remote inventory may be fetched.

# --- sphinx-gallery ---
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("qntk_sklearn",),
    "backreferences_dir": "gen_modules/backreferences",
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    # The execution-times page loads jQuery and DataTables from CDNs: not written.
    "write_computation_times": False,
    "plot_gallery": "True",
    # A failing example fails the build (the default); say so explicitly.
    "only_warn_on_example_error": False,
    "abort_on_example_error": False,
}

# --- HTML ---
html_theme = "pydata_sphinx_theme"
html_title = f"qntk-sklearn {release}"
html_theme_options = {
    "navigation_depth": 2,
    # Four header links, a "More" menu (changelog, citing) and the search icon fit on
    # one line at laptop widths; the wide search field did not.
    "header_links_before_dropdown": 4,
    "navbar_persistent": ["search-button"],
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = True
html_context = {"default_mode": "light"}
html_static_path = ["_static"]
html_css_files = ["qntk.css"]

# --- hooks ---
RESULTS_PAGE = DOCS / "results" / "index.rst"


def _drop_missing_results(app, docname, source):
    """Leave the results page out of the main toctree until the experiments wrote it.

    ``docs/results/`` is produced by ``qntk-experiments``; a checkout without it still
    builds without a "nonexisting document" warning.
    """
    if docname == root_doc and not RESULTS_PAGE.exists():
        source[0] = "\n".join(
            line for line in source[0].splitlines() if line.strip() != "results/index"
        )


def _skip_foreign_members(app, what, name, obj, skip, options):
    """Document only members defined in qntk_sklearn.

    Methods inherited from scikit-learn (``get_params``, ``score``, the kernel algebra)
    are documented by scikit-learn; their docstrings cross-reference scikit-learn's
    glossary, which does not exist in this project.
    """
    if what != "class" or skip:
        return skip
    target = obj.fget if isinstance(obj, property) else obj
    target = inspect.unwrap(target) if callable(target) else target
    module = getattr(target, "__module__", None)
    if module is None:  # methods of built-in types, e.g. Exception.add_note
        module = getattr(getattr(target, "__objclass__", None), "__module__", None)
    if module is not None and not module.startswith("qntk_sklearn"):
        return True
    return None


def setup(app):
    app.connect("source-read", _drop_missing_results)
    app.connect("autodoc-skip-member", _skip_foreign_members)
