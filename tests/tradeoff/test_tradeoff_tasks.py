"""Tasks with a known floor, the cache model and the trivial anchors (tradeoff.md §3, §4 step 2)."""

from collections import OrderedDict

import jax
import numpy as np
import pytest

from wavejax.tradeoff import (
    CacheConfig,
    hmm_entropy_rate,
    hmm_forward_nll,
    hmm_sample,
    make_task,
    simulate_cache,
    switching_ar,
    unifilar_hmm,
)
from wavejax.tradeoff._cache import kernel_addresses, program_traces
from wavejax.tradeoff._predictors import last_value, ngram_real, ngram_symbols
from wavejax.tradeoff._tasks import split_programs, switching_ar_params, windows


def test_hmm_entropy_rate_matches_the_forward_algorithm(key):
    """The closed-form entropy rate equals the long-run mean Bayes log-loss (forward algorithm), within 4 s.e."""
    hmm = unifilar_hmm(key, n_states=4, n_symbols=3)
    xs = hmm_sample(jax.random.fold_in(key, 1), hmm, 20000)
    nll = np.asarray(hmm_forward_nll(hmm, xs), np.float64)[100:]
    H = hmm_entropy_rate(hmm)
    se = nll.std() / np.sqrt(nll.size) * 3  # steps are correlated; 3x the iid standard error is generous
    assert abs(nll.mean() - H) <= 4 * se, (nll.mean(), H, se)
    assert 0 < H < np.log(3)
    # unifilar: every row of nxt is a function of (state, symbol), and P is a stochastic matrix
    np.testing.assert_allclose(np.asarray(hmm.transition).sum(1), 1.0, rtol=1e-6)


def test_switching_ar_residual_is_the_noise_floor(key):
    """With the phase known, the one-step residual of the AR recursion has variance σ² (the MSE floor)."""
    p = switching_ar_params(key, K=3, p=2, sigma=0.1)
    x, k = (np.asarray(a) for a in switching_ar(jax.random.fold_in(key, 1), p, 20000))
    mu, a = np.asarray(p.mu, np.float64), np.asarray(p.a, np.float64)
    t = np.arange(2, x.size)
    pred = mu[k[t]] + a[k[t], 0] * (x[t - 1] - mu[k[t]]) + a[k[t], 1] * (x[t - 2] - mu[k[t]])
    r = x[t] - pred
    assert r.var() == pytest.approx(0.01, rel=0.05)
    assert len(np.unique(k)) == 3
    assert np.all(np.diff(k)[np.diff(k) != 0] != 0)


def _lru_reference(addrs, cfg):
    sets = [OrderedDict() for _ in range(cfg.n_sets)]
    hits = []
    for a in addrs:
        line = int(a) // cfg.line
        s, tag = line % cfg.n_sets, line // cfg.n_sets
        od = sets[s]
        if tag in od:
            od.move_to_end(tag)
            hits.append(True)
        else:
            if len(od) == cfg.ways:
                od.popitem(last=False)
            od[tag] = None
            hits.append(False)
    return np.array(hits)


@pytest.mark.parametrize("kernel", ["matmul_naive", "matmul_tiled", "sort", "stencil", "pointer_chase"])
def test_cache_model_matches_a_reference_lru(kernel):
    cfg = CacheConfig(n_sets=8, ways=2, line=64)
    addrs = kernel_addresses(kernel, {"matmul_naive": 8, "matmul_tiled": 16, "sort": 64, "stencil": 12,
                                      "pointer_chase": 256}[kernel], seed=1)[:3000]
    np.testing.assert_array_equal(np.asarray(simulate_cache(addrs, cfg)), _lru_reference(addrs, cfg))


def test_program_traces_switch_between_kernels(key):
    progs = program_traces(key, 3, n_segments=6, interval=64, dwell=(4, 8))
    assert len(progs) == 3
    for m, lab in progs.values():
        assert m.shape == lab.shape and m.dtype == np.float32
        assert np.all((m >= 0) & (m <= 1))
        assert np.any(np.diff(lab) != 0)  # at least one kernel switch
    # different kernels have different miss rates: the trace carries the phase
    m, lab = next(iter(progs.values()))
    means = [m[lab == k].mean() for k in np.unique(lab)]
    assert np.ptp(means) > 0.02


def test_make_task_splits_and_floors(key):
    td = make_task("hmm", key=key, length=300, n_programs=7)
    assert td.discrete and td.train.shape[0] + td.val.shape[0] + td.test.shape[0] == 7
    assert td.floor == pytest.approx(hmm_entropy_rate(unifilar_hmm(jax.random.split(key, 3)[0])))
    ar = make_task("ar", key=key, length=300, n_programs=5)
    assert not ar.discrete and 0 < ar.floor < 0.05  # σ² = 0.01 over the per-program variance (~0.5–1.5)
    np.testing.assert_allclose([ar.test.mean(), ar.test.var()], [0.0, 1.0], atol=1e-4)
    with pytest.raises(ValueError, match="name"):
        make_task("nope", key=key)
    big = make_task("hmm:6x4", key=key, length=300, n_programs=5)  # the same draw at a given size, exact floor
    assert big.name == "hmm:6x4" and big.n_symbols == 4 and big.train.max() <= 3
    hmm = unifilar_hmm(jax.random.split(key, 3)[0], n_states=6, n_symbols=4)
    assert big.floor == pytest.approx(hmm_entropy_rate(hmm))
    for bad in ("hmm:6", "hmm:axb", "hmm:0x3", "hmm:4x1"):
        with pytest.raises(ValueError, match="task name"):
            make_task(bad, key=key)
    with pytest.raises(ValueError, match="at least 3"):
        split_programs(["a", "b"], key=key)
    with pytest.raises(ValueError, match="window"):
        windows(np.arange(3), 5)


def test_trivial_anchors():
    rng = np.random.default_rng(0)
    x = [rng.standard_normal(200).astype(np.float32) for _ in range(3)]
    lv = last_value(x[2:])
    assert lv["loss"] == pytest.approx(np.mean(np.diff(x[2].astype(np.float64)) ** 2))
    assert lv["cost_bits"] == 0
    ng = ngram_real(x[:2], x[2:], n=1)
    assert 0.8 < ng["loss"] < 1.3 and ng["cost_bits"] > 0  # iid noise: conditional mean ≈ global mean
    s = [rng.integers(0, 3, 500) for _ in range(3)]
    u = ngram_symbols(s[:2], s[2:], 3, n=0)
    assert u["loss"] == pytest.approx(np.log(3), abs=0.05)  # uniform symbols: ln 3 nats
