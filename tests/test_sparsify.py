"""Sparsity patterns and matrix transformations."""

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from qntk_sklearn.sparsify import (
    balanced_subset,
    class_thresholds,
    condition_diagonal,
    diagonal_pattern,
    max_row_nonzeros,
    paper_conditioning_factor,
    paper_thresholds,
    random_pattern,
    sparse_from_pairs,
    threshold_entries,
)


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=4),
    factor=st.floats(0.2, 5.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_random_pattern_is_lower_within_group_with_full_diagonal(sizes, factor, seed):
    groups = np.repeat(np.arange(len(sizes)), sizes)
    rows, cols = random_pattern(groups, factor, seed)
    n = groups.size
    assert np.all(rows >= cols)
    assert np.all(groups[rows] == groups[cols])
    assert set(rows[rows == cols]) == set(range(n))
    # No pair twice.
    assert np.unique(rows * n + cols).size == rows.size
    # Symmetric once mirrored.
    K = sparse_from_pairs(rows, cols, np.ones(rows.size), n)
    assert (K != K.T).nnz == 0


def test_random_pattern_is_reproducible_and_seed_dependent():
    groups = np.repeat([0, 1], 200)
    a = random_pattern(groups, 1.0, 3)
    b = random_pattern(groups, 1.0, 3)
    c = random_pattern(groups, 1.0, 4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0])
def test_random_pattern_has_about_factor_ln_n_nonzeros_per_row(factor):
    n = 4000
    groups = np.repeat([0, 1], n // 2)
    rows, cols = random_pattern(groups, factor, 0)
    off_diagonal_per_row = 2 * np.sum(rows != cols) / n
    expected = factor * math.log(n)
    # Each row draws Binomial(n_c, p) entries and receives about as many from the rows
    # below it; repeats merged lose a fraction ~ expected / n_c.
    assert abs(off_diagonal_per_row - expected) < 0.05 * expected


def test_random_pattern_matches_paper_probability_for_two_balanced_classes():
    # The paper: p = 2 ln n / n over all columns, then between-class entries zeroed.
    # Per row, within-class draws are Binomial(n/2, 2 ln n / n): mean ln n.
    n = 2000
    groups = np.repeat([0, 1], n // 2)
    counts = []
    for seed in range(5):
        rows, cols = random_pattern(groups, 1.0, seed)
        counts.append(2 * np.sum(rows != cols) / n)
    assert abs(np.mean(counts) - math.log(n)) < 0.03 * math.log(n)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2", True])
def test_random_pattern_rejects_bad_factor(bad):
    with pytest.raises(ValueError, match="`sparsity_factor` must be a positive"):
        random_pattern(np.zeros(10), bad)


def test_sparse_from_pairs_requires_lower_triangle():
    with pytest.raises(ValueError, match="lower triangle"):
        sparse_from_pairs(np.array([0]), np.array([1]), np.array([1.0]), 2)


def test_diagonal_pattern_and_max_row_nonzeros():
    rows, cols = diagonal_pattern(5)
    K = sparse_from_pairs(rows, cols, np.arange(1.0, 6.0), 5)
    assert max_row_nonzeros(K) == 1
    np.testing.assert_array_equal(K.toarray(), np.diag(np.arange(1.0, 6.0)))
    assert max_row_nonzeros(np.ones((3, 4))) == 4


def test_thresholds_drop_small_in_class_entries_and_keep_diagonal():
    groups = np.array([0, 0, 0, 1, 1])
    K_subset = np.array(
        [
            [1.0, 0.9, 0.1, 0.0, 0.0],
            [0.9, 1.0, 0.5, 0.0, 0.0],
            [0.1, 0.5, 1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 0.3],
            [0.0, 0.0, 0.0, 0.3, 1.0],
        ]
    )
    thresholds = class_thresholds(K_subset, groups, percentile=50)
    assert thresholds == {0: 0.5, 1: 0.3}
    rows = np.array([0, 1, 2, 2, 1, 3, 4, 4])
    cols = np.array([0, 0, 0, 1, 1, 3, 3, 4])
    values = np.array([1.0, 0.9, 0.1, 0.5, 1.0, 0.05, 0.3, 0.01])
    r, c, v = threshold_entries(rows, cols, values, groups, thresholds)
    kept = set(zip(r.tolist(), c.tolist(), strict=True))
    assert kept == {(0, 0), (1, 0), (2, 1), (1, 1), (3, 3), (4, 3), (4, 4)}
    assert (4, 4) in kept  # the diagonal survives even below the threshold


def test_class_thresholds_rejects_bad_percentile():
    with pytest.raises(ValueError, match="`percentile` must be in"):
        class_thresholds(np.eye(2), np.zeros(2), percentile=101)


def test_condition_diagonal_changes_only_the_diagonal():
    K = sp.csr_matrix(np.array([[2.0, 0.5, 0.0], [0.5, 3.0, 0.1], [0.0, 0.1, 4.0]]))
    f = paper_conditioning_factor(100)
    assert f == pytest.approx(0.76 * math.log(100) ** 0.9)
    out = condition_diagonal(K, f).toarray()
    np.testing.assert_allclose(np.diag(out), (1 + f) * np.diag(K.toarray()))
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_array_equal(out[off], K.toarray()[off])
    with pytest.raises(ValueError, match="`factor` must be a non-negative"):
        condition_diagonal(K, -1.0)


def _notebook_thresholds(K, labels, q=90):
    """The authors' notebook, transcribed: per class the q-th percentile of |K * M|
    over the whole matrix, M the class's off-diagonal block; k_thresh the largest
    off-diagonal |K|."""
    out = {}
    for c in np.unique(labels):
        M = np.outer(labels == c, labels == c).astype(float)
        np.fill_diagonal(M, 0.0)
        out[c.item()] = np.percentile(np.abs(K * M), q)
    k_thresh = np.max(np.abs(K - np.diag(np.diag(K))))
    return out, k_thresh


def test_paper_thresholds_equal_the_notebook_formula():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(16, 5))
    K = A @ A.T + 0.3  # a fixed 16 x 16 kernel with entries of both signs
    labels = np.repeat([-1, 1], 8)
    rng.shuffle(labels)
    thresholds, k_thresh = paper_thresholds(K, labels)
    expected, expected_k = _notebook_thresholds(K, labels)
    assert thresholds == pytest.approx(expected, rel=1e-15)
    assert k_thresh == pytest.approx(expected_k, rel=1e-15)
    # About the 54th percentile of the in-class values (zeros outside the block).
    for c, t in thresholds.items():
        block = K[np.ix_(labels == c, labels == c)][~np.eye(8, dtype=bool)]
        assert 0.3 < np.mean(np.abs(block) <= t) < 0.8


def test_paper_rule_keeps_entries_strictly_above_the_threshold():
    groups = np.array([0, 0, 0])
    rows, cols = np.array([1, 2, 2, 0]), np.array([0, 0, 1, 0])
    values = np.array([0.5, 0.7, -0.9, 0.1])
    r, c, v = threshold_entries(rows, cols, values, groups, {0: 0.5}, strict=True)
    # 0.5 == t is dropped (K > t), -0.9 is dropped (signed K), the diagonal stays.
    assert list(zip(r.tolist(), c.tolist(), strict=True)) == [(2, 0), (0, 0)]


def test_balanced_subset_and_bad_percentile():
    groups = np.repeat([0, 1], [30, 5])
    idx = balanced_subset(groups, 16, random_state=0)
    assert np.bincount(groups[idx]).tolist() == [8, 5]
    with pytest.raises(ValueError, match=r"`percentile` must be in \[0, 100\]"):
        paper_thresholds(np.eye(2), np.zeros(2), percentile=-1)
