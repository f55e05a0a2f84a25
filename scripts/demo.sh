#!/usr/bin/env bash
# Set up .venv (core dependencies) and run the main job: scripts/digits_demo.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
exec .venv/bin/python scripts/digits_demo.py "$@"
