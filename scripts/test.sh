#!/usr/bin/env bash
# Run the whole test suite, setting up two environments:
#   .venv     the core package on the newest jax that pip resolves, plus the test extra;
#             runs every test (the neural-tangents oracle tests skip here);
#   .venv-nt  the package with the neural-tangents extra (jax < 0.6); runs the tests
#             marked `nt` (oracle comparisons, Myrtle CNN), which must run, not skip.
# Extra arguments go to both pytest runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PIP_FLAGS=(-q --disable-pip-version-check)
# pytest-xdist runs two workers on the two cores; one BLAS thread each avoids
# oversubscription (a 600 x 600 eigvalsh took 6.6 s with 2 threads per worker, 0.04 s
# with 1, on this 2-core machine).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

echo "== core environment (.venv)"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install "${PIP_FLAGS[@]}" -e ".[test]"
.venv/bin/python -c "import jax, sklearn, pennylane; print('jax', jax.__version__, '| scikit-learn', sklearn.__version__, '| pennylane', pennylane.__version__)"
.venv/bin/python -m ruff check qntk_sklearn tests benchmarks scripts examples
.venv/bin/python -m pytest -n 2 "$@"

echo "== neural-tangents environment (.venv-nt)"
[ -x .venv-nt/bin/python ] || "$PYTHON" -m venv .venv-nt
.venv-nt/bin/python -m pip install "${PIP_FLAGS[@]}" -e ".[test,neural-tangents]"
.venv-nt/bin/python -c "import jax, neural_tangents; print('jax', jax.__version__, '| neural-tangents', neural_tangents.__version__)" 2>/dev/null
QNTK_REQUIRE_NT=1 TF_CPP_MIN_LOG_LEVEL=3 .venv-nt/bin/python -m pytest -n 2 -m nt "$@"
