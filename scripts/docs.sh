#!/usr/bin/env bash
# Build the documentation site (warnings are errors; every gallery example runs).
# Sets up .venv with the docs extra; HTML lands in docs/_build/html/index.html.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[docs]"
PYTHON=.venv/bin/python exec bash docs/build.sh "$@"
