"""scikit-learn's estimator checks for both estimators."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from qntk_sklearn import QuantumNTKClassifier, QuantumNTKRegressor


@parametrize_with_checks(
    [
        QuantumNTKClassifier(random_state=0),
        QuantumNTKRegressor(random_state=0),
        QuantumNTKClassifier(depth=4, sparsity="none", random_state=0),
        QuantumNTKRegressor(depth=4, sparsity="none", random_state=0),
    ]
)
@pytest.mark.filterwarnings("ignore::qntk_sklearn.solvers.SingularSystemWarning")
# Some checks' data repeat rows (iris has duplicates); the warning is right there.
@pytest.mark.filterwarnings("ignore::qntk_sklearn.DuplicateSamplesWarning")
def test_sklearn_compatible(estimator, check):
    check(estimator)
