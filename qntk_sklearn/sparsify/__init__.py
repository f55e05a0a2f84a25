"""Sparsification of the kernel matrix (the second step of the method).

Patterns are built first, as (row, column) pairs; only their entries are evaluated.
"""

from ._patterns import (
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

__all__ = [
    "balanced_subset",
    "class_thresholds",
    "condition_diagonal",
    "diagonal_pattern",
    "max_row_nonzeros",
    "paper_conditioning_factor",
    "paper_thresholds",
    "random_pattern",
    "sparse_from_pairs",
    "threshold_entries",
]
