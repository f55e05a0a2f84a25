"""Shared fixtures: seeded data, jax float64 on, deterministic hypothesis."""

import os

import jax
import numpy as np
import pytest
from hypothesis import settings

jax.config.update("jax_enable_x64", True)

# Hypothesis draws random examples unless told otherwise, so an unchanged tree could
# fail at random. The suite runs derandomized (the same examples every run, as CI
# needs); HYPOTHESIS_PROFILE=explore draws fresh examples to hunt for new failures.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def blobs():
    """Two well-separated classes on the unit sphere in 10 dimensions (60 points)."""
    r = np.random.default_rng(1)
    centers = np.eye(10)[:2] * 3.0
    y = np.repeat([0, 1], 30)
    X = centers[y] + r.normal(size=(60, 10))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, y


@pytest.fixture
def digits_small():
    """400 digits (all 10 classes), unit-normalised."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:400] / np.linalg.norm(X[:400], axis=1, keepdims=True)
    return X, y[:400]
