#!/usr/bin/env bash
# Build the HTML documentation with warnings as errors, as CI does.
#
#   bash docs/build.sh            # full build, runs every gallery example
#   PYTHON=/path/to/python bash docs/build.sh
#
# Uses the current python (or $PYTHON) with the "docs" extra installed:
#   pip install -e ".[docs]"
# Writes only inside docs/ (docs/_build, docs/auto_examples, docs/gen_modules and
# docs/sg_execution_times.rst, all git-ignored); creates nothing global. Then checks
# that no page loads anything from the network (docs/check_offline.py).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python}"

# Start clean so that stale generated pages cannot hide a warning.
rm -rf "$here/_build" "$here/auto_examples" "$here/gen_modules" \
    "$here/sg_execution_times.rst"

# Matplotlib must not open windows; keep JAX on the CPU.
export MPLBACKEND=Agg
export JAX_PLATFORMS="${JAX_PLATFORMS:-cpu}"
# One BLAS thread (unless set): the examples' matrices are small, and a multi-threaded
# OpenBLAS on a busy 2-core runner spins; a 600x600 eigvalsh went from 0.04 s to 6 s.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"

"$python" -m sphinx -W --keep-going -b html "$here" "$here/_build/html" "$@"
# The site must work opened from disk without a network (no CDN scripts).
"$python" "$here/check_offline.py" "$here/_build/html"
