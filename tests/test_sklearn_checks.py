"""scikit-learn's estimator checks for both estimators."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from qntk_sklearn import QuantumNTKClassifier, QuantumNTKRegressor


def expected_failed_checks(estimator):
    """The paper's random sparsity pattern is drawn per training row, so a point of
    weight 2 and the same point twice give different patterns (and with depth="auto"
    different depths); the dense kernel (sparsity="none") passes the check."""
    if estimator.sparsity in ("random", "threshold"):
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "a random sparsity pattern depends on repeated rows"
            )
        }
    return {}


@parametrize_with_checks(
    [
        QuantumNTKClassifier(random_state=0),
        QuantumNTKRegressor(random_state=0),
        QuantumNTKClassifier(depth=4, sparsity="none", random_state=0),
        QuantumNTKRegressor(depth=4, sparsity="none", random_state=0),
        QuantumNTKRegressor(depth=4, sparsity="none", diag_reg=0.1, t=50.0),
    ],
    expected_failed_checks=expected_failed_checks,
)
# The checks' data have duplicates, constant columns and tiny sets: the degeneracy
# warnings are right to fire there and are not what the checks test.
@pytest.mark.filterwarnings("ignore::qntk_sklearn.SingularSystemWarning")
@pytest.mark.filterwarnings("ignore::qntk_sklearn.CollapsedSolutionWarning")
@pytest.mark.filterwarnings("ignore::qntk_sklearn.IndefiniteKernelWarning")
@pytest.mark.filterwarnings("ignore::qntk_sklearn.DiagonalKernelWarning")
# Some checks' data repeat rows (iris has duplicates); the warning is right there.
@pytest.mark.filterwarnings("ignore::qntk_sklearn.DuplicateSamplesWarning")
def test_sklearn_compatible(estimator, check):
    check(estimator)
