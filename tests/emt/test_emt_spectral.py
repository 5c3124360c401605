"""Tests of the spectral phase-matching metric (emt.md §5.2)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavejax.emt import dominant_eigenvalues, spectral_error


def _rot(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_emt_spectral_known_angle():
    # eigenvalues e^{+-i a} vs e^{+-i b}: each pair matched, error |a-b| exactly (float64 round-off only)
    a, b = 0.3, 0.35
    assert spectral_error(_rot(a), 1.2 * _rot(b)) == pytest.approx(0.05, abs=1e-12)  # magnitude ignored


def test_emt_spectral_count_mismatch_is_nan():
    assert math.isnan(spectral_error(np.eye(3), np.eye(2)))
    assert math.isnan(spectral_error(np.zeros((3, 3)), np.zeros((3, 3))))  # nothing above thr


def test_emt_spectral_threshold():
    A = np.diag([1.0, 0.5, -1.0])
    assert len(dominant_eigenvalues(A, 0.9)) == 2
    assert spectral_error(A, np.diag([1.0, -1.0, 0.89])) == 0.0
    assert math.isnan(spectral_error(A, np.diag([1.0, -1.0, 0.89]), thr=0.8))


def test_emt_spectral_greedy_order():
    # A phases (0, 0.5), B phases (0.4, 1.2): greedy: 0->0.4 (0.4), then 0.5->1.2 (0.7): mean 0.55.
    # The order of A matters for greedy matching:
    A = np.diag(np.exp(1j * np.array([0.0, 0.5])))
    B = np.diag(np.exp(1j * np.array([0.4, 1.2])))
    assert spectral_error(A, B) == pytest.approx(0.55, abs=1e-12)
    A2 = np.diag(np.exp(1j * np.array([0.5, 0.0])))  # greedy: 0.5->0.4 (0.1), 0->1.2 (1.2): mean 0.65
    assert spectral_error(A2, B) == pytest.approx(0.65, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(n=st.sampled_from([2, 5, 8]), seed=st.integers(0, 2**16))
def test_emt_spectral_similarity_invariant(n, seed):
    # a similarity transform keeps the spectrum: error ~ 0 (eig round-off of a well-conditioned basis)
    rng = np.random.default_rng(seed)
    P = np.eye(n)[rng.permutation(n)]
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    assert spectral_error(P, Q @ P @ Q.T) < 1e-6


def test_emt_spectral_validation():
    with pytest.raises(ValueError, match="A"):
        spectral_error(np.ones((2, 3)), np.eye(2))
    with pytest.raises(ValueError, match="thr"):
        spectral_error(np.eye(2), np.eye(2), thr=-1.0)
