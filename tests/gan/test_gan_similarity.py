"""Best-match cosine, null baselines, KS tests and the report's conclusion (gan.md §5 (c), §7.10-11; acc. 5-6)."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavejax.gan import NULLS, best_match_cosine, null_baselines, similarity_report
from wavejax.gan._similarity import clip_fraction, format_similarity_report


def _loop(a, b):
    """Brute force: every slice of a against every slice of b, in plain Python."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    out = []
    for i, j in itertools.product(range(a.shape[2]), range(a.shape[3])):
        u = a[:, :, i, j].ravel()
        best = -np.inf
        for k, m in itertools.product(range(b.shape[2]), range(b.shape[3])):
            v = b[:, :, k, m].ravel()
            best = max(best, u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
        out.append(best)
    return np.array(out)


@settings(max_examples=6, deadline=None)
@given(ci=st.sampled_from([1, 3]), co=st.sampled_from([2, 5]), seed=st.integers(0, 2**16))
def test_equals_brute_force_loop(ci, co, seed):
    ka, kb = jax.random.split(jax.random.key(seed))
    a = jax.random.normal(ka, (5, 5, ci, co), jnp.float64)
    b = jax.random.normal(kb, (5, 5, co, 4), jnp.float64)
    np.testing.assert_allclose(best_match_cosine(a, b), _loop(a, b), rtol=1e-12, atol=1e-12)


def test_self_match_is_one_and_channel_permutation_invariant(key):
    a = jax.random.normal(key, (5, 5, 8, 6))
    np.testing.assert_allclose(best_match_cosine(a, a), 1.0, atol=1e-6)  # float32 norms
    b = jax.random.normal(jax.random.key(1), (5, 5, 8, 6))
    pb = b[:, :, jnp.array([3, 1, 7, 0, 2, 6, 5, 4])][:, :, :, jnp.array([5, 0, 4, 1, 3, 2])]
    np.testing.assert_array_equal(best_match_cosine(a, b), best_match_cosine(a, pb))
    # the entry order is slice (i, j) -> i * C_out + j
    s = best_match_cosine(a[:, :, :, :1] * 0 + a[:, :, 2:3, 4:5], b)
    np.testing.assert_allclose(s, best_match_cosine(a, b)[2 * 6 + 4], rtol=1e-6)


def test_blocked_path_matches_dense():
    from wavejax.gan import _similarity as similarity

    a = jax.random.normal(jax.random.key(3), (5, 5, 9, 7), jnp.float64)
    b = jax.random.normal(jax.random.key(4), (5, 5, 4, 4), jnp.float64)
    dense = similarity._best_match_impl(a, b, block=10_000)
    blocked = similarity._best_match_impl(a, b, block=8)  # 63 rows -> 8 blocks incl. padding
    np.testing.assert_allclose(blocked, dense, rtol=1e-12)


def test_gaussian_null_mean_is_stable_across_draws():
    # §7.11: for independent Gaussian (5, 5, 64, 64) kernels the null mean varies by < 0.01 across 5 draws
    means = []
    for s in range(5):
        ka, kb = jax.random.split(jax.random.key(100 + s))
        means.append(float(jnp.mean(best_match_cosine(jax.random.normal(ka, (5, 5, 64, 64), jnp.float32),
                                                      jax.random.normal(kb, (5, 5, 64, 64), jnp.float32)))))
    assert max(means) - min(means) < 0.01
    assert 0.5 < np.mean(means) < 0.8  # the max over 4096 candidates in 25 dims is far from 0


def test_zero_slice_and_bad_input():
    a = jnp.zeros((5, 5, 1, 2))
    b = jax.random.normal(jax.random.key(0), (5, 5, 2, 2))
    np.testing.assert_array_equal(best_match_cosine(a, b), 0.0)
    with pytest.raises(ValueError, match="a must have 4"):
        best_match_cosine(jnp.zeros((5, 5, 3)), b)
    with pytest.raises(ValueError, match="same spatial"):
        best_match_cosine(jnp.zeros((3, 3, 1, 1)), b)


def test_null_baselines_and_report_with_unrelated_kernels():
    # G and D unrelated (independent Gaussians): every null matches and the verdict is "not above chance"
    ka, kb, kc = jax.random.split(jax.random.key(7), 3)
    a = 0.02 * jax.random.normal(ka, (5, 5, 16, 16))
    b = 0.01 * jnp.sign(jax.random.normal(kb, (5, 5, 16, 16)))
    b_ind = 0.01 * jnp.sign(jax.random.normal(kc, (5, 5, 16, 16)))
    vals = null_baselines(a, b, jax.random.key(8), b_independent=b_ind)
    assert set(NULLS) <= set(vals)
    assert all(v.shape == (256,) for v in vals.values())
    np.testing.assert_array_equal(vals["channel_shuffled"], vals["observed"])  # invariance by construction
    rep = similarity_report(vals)
    assert set(rep["ks"]) == set(NULLS)
    assert rep["ks"]["channel_shuffled"]["statistic"] == 0.0
    assert rep["verdict"] == "not above chance"
    assert "NOT ABOVE CHANCE" in rep["conclusion"]
    txt = format_similarity_report(rep)
    for n in NULLS:
        assert n in txt


def test_report_says_above_chance_when_g_copies_d():
    # G = D + small noise: the observed similarity is far above every null, and the report must say so
    kb, kn = jax.random.split(jax.random.key(9))
    b = 0.01 * jnp.sign(jax.random.normal(kb, (5, 5, 16, 16)))
    a = b + 0.002 * jax.random.normal(kn, b.shape)
    vals = null_baselines(a, b, jax.random.key(10), b_independent=jnp.roll(b, 1, axis=0))
    rep = similarity_report(vals)
    assert rep["verdict"] == "above chance", rep["conclusion"]
    assert all(rep["above_chance"].values())
    assert rep["summary"]["observed"]["mean"] > 0.95
    assert rep["summary"]["aligned_observed"]["mean"] > 0.95 > rep["summary"]["aligned_channel_shuffled"]["mean"]


def test_clip_fraction():
    w = np.array([0.01, -0.0095, 0.0089, 0.0, -0.01])
    assert clip_fraction(w, 0.01) == pytest.approx(3 / 5)
    with pytest.raises(ValueError, match="c must"):
        clip_fraction(w, 0.0)
