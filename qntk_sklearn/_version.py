"""The package version, in one place.

``pyproject.toml`` reads it (``[tool.setuptools.dynamic]``) when the package is built,
so the installed distribution's metadata and ``qntk_sklearn.__version__`` cannot
disagree. Bump it here, and add the release to ``docs/changelog.rst``.
"""

__version__ = "0.1.0"
