"""Pareto front, MDL optimum and the frontier fits (issue 5 acceptance 3, 4; tradeoff.md §2.3–§2.5, §7)."""

import math

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavejax.tradeoff import fit_phases, fit_power_law, minimal_sufficient, pareto_front
from wavejax.tradeoff._fits import bootstrap_ci, piecewise_predict
from wavejax.tradeoff._frontier import front_curve, mdl_lengths

# small integer grids make ties and exact duplicates frequent, the hard cases of a front
points = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=40)


def _dominated(c, l_, i):
    return bool(np.any((c <= c[i]) & (l_ <= l_[i]) & ((c < c[i]) | (l_ < l_[i]))))


@settings(max_examples=200, deadline=None)
@given(points)
def test_pareto_front_is_exactly_the_non_dominated_set(pts):
    """Acceptance 3: no returned point is dominated and every omitted point is dominated."""
    c = np.array([p[0] for p in pts], float)
    l_ = np.array([p[1] for p in pts], float) / 3.0
    mask = pareto_front(c, l_)
    for i in range(len(pts)):
        assert mask[i] == (not _dominated(c, l_, i))


@settings(max_examples=150, deadline=None)
@given(points, st.randoms(use_true_random=False))
def test_pareto_front_invariant_to_order_and_duplicates(pts, rnd):
    """Acceptance 3: permuting the input permutes the mask; adding duplicates keeps every copy's status."""
    c = np.array([p[0] for p in pts], float)
    l_ = np.array([p[1] for p in pts], float)
    mask = pareto_front(c, l_)
    perm = list(range(len(pts)))
    rnd.shuffle(perm)
    np.testing.assert_array_equal(pareto_front(c[perm], l_[perm]), mask[perm])
    dup = [rnd.randrange(len(pts)) for _ in range(5)]
    idx = np.array(list(range(len(pts))) + dup)
    np.testing.assert_array_equal(pareto_front(c[idx], l_[idx]), mask[idx])


def test_pareto_front_docstring_case_and_errors():
    assert pareto_front([1, 2, 3, 2], [3.0, 1.0, 0.5, 2.0]).tolist() == [True, True, True, False]
    assert pareto_front([], []).tolist() == []
    with pytest.raises(ValueError, match="losses"):
        pareto_front([1, 2], [1.0])
    with pytest.raises(ValueError, match="costs"):
        pareto_front([1, np.nan], [1.0, 2.0])


def test_front_curve_and_mdl():
    c, l_ = np.array([0.0, 10, 100, 1000]), np.array([1.0, 0.5, 0.2, 0.19])
    np.testing.assert_array_equal(front_curve(c, l_, [2.0, 0.5, 0.3, 0.1]), [0, 10, 100, np.inf])
    n = 1000
    L2 = mdl_lengths(c, l_, n)
    np.testing.assert_allclose(L2, c + n * l_ / math.log(2))
    best = minimal_sufficient(c, l_, n)
    assert best["index"] == int(np.argmin(L2)) == 2  # 1000 bits for 0.01 nat x 1000 symbols: not worth it
    # within a tolerance, the smallest-cost near-optimal front point is chosen
    loose = minimal_sufficient(c, l_, n, tol_bits=L2[1] - L2[2] + 1)
    assert loose["index"] == 1


def _piecewise(u, taus, slopes, a=0.0):
    return piecewise_predict(u, a, tuple(slopes), tuple(taus))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_phase_fit_recovers_breakpoints_and_slopes(seed):
    """Acceptance 4: σ = 0.02 noise in log₁₀; breakpoints within 0.15 decades, slopes within 0.1; BIC picks 2."""
    rng = np.random.default_rng(seed)
    taus, slopes = (2.0, 3.5), (-0.05, -0.8, -0.1)
    u = np.sort(rng.uniform(1.0, 5.0, 60))
    v = _piecewise(u, taus, slopes, a=0.3) + 0.02 * rng.standard_normal(u.size)
    f = fit_phases(u, v)
    assert f.n_breakpoints == 2 and f.bic[2] < f.bic[1] < f.bic[0]
    np.testing.assert_allclose(f.breakpoints, taus, atol=0.15)
    np.testing.assert_allclose(f.slopes, slopes, atol=0.1)


def test_phase_fit_prefers_fewer_breakpoints_on_a_line():
    rng = np.random.default_rng(3)
    u = np.sort(rng.uniform(0, 4, 50))
    f = fit_phases(u, 1.0 - 0.5 * u + 0.02 * rng.standard_normal(50))
    assert f.n_breakpoints == 0
    assert f.slopes[0] == pytest.approx(-0.5, abs=0.02)


def test_one_breakpoint_recovery():
    rng = np.random.default_rng(4)
    u = np.sort(rng.uniform(0, 4, 50))
    f = fit_phases(u, _piecewise(u, (1.7,), (-0.1, -1.0)) + 0.02 * rng.standard_normal(50))
    assert f.n_breakpoints == 1
    assert abs(f.breakpoints[0] - 1.7) <= 0.15


@pytest.mark.parametrize("alpha", [0.3, 0.7, 1.2])
def test_power_law_recovers_the_exponent(alpha):
    """Acceptance 4: ℓ = ℓ_∞ + A·C^{−α} with 1 % multiplicative noise: α within 5 %."""
    rng = np.random.default_rng(5)
    C = np.logspace(1, 6, 40)
    L = (0.4 + 30.0 * C ** (-alpha)) * np.exp(0.01 * rng.standard_normal(C.size))
    f = fit_power_law(C, L)
    assert f.alpha == pytest.approx(alpha, rel=0.05)
    assert f.loss_inf == pytest.approx(0.4, rel=0.05)


def test_fit_errors():
    with pytest.raises(ValueError, match="max_breakpoints"):
        fit_phases(np.arange(10.0), np.arange(10.0), max_breakpoints=3)
    with pytest.raises(ValueError, match="at least"):
        fit_phases(np.arange(3.0), np.arange(3.0))
    with pytest.raises(ValueError, match="positive"):
        fit_power_law([1.0, 2.0, 3.0], [1.0, -1.0, 2.0])


def test_bootstrap_is_deterministic_and_covers():
    x = np.random.default_rng(0).standard_normal(200)
    stat = lambda i: {"mean": x[i].mean(), "nan": math.nan}
    a = bootstrap_ci(stat, 200, key=jax.random.key(1), n_boot=300)
    b = bootstrap_ci(stat, 200, key=jax.random.key(1), n_boot=300)
    assert a == b or (a["lo"]["mean"] == b["lo"]["mean"] and a["hi"]["mean"] == b["hi"]["mean"])
    assert a["lo"]["mean"] < x.mean() < a["hi"]["mean"]
    se = x.std() / math.sqrt(200)
    assert a["hi"]["mean"] - a["lo"]["mean"] == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert a["n_valid"] == {"mean": 300, "nan": 0}


@pytest.mark.parametrize("module", ["cost", "frontier", "fits"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    mod = importlib.import_module(f"wavejax.tradeoff._{module}")
    res = doctest.testmod(mod, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert res.attempted > 0 and res.failed == 0
