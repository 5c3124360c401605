"""Sequence capacity (issue 4 item 7; gsemm.md §5 criterion, §7 A9) and its multi-device sharding."""

import importlib
import json

import jax
import numpy as np
import pytest
from helpers import run_multidevice

from wavejax.gsemm import capacity_curve, capacity_search, fit_growth
from wavejax.gsemm._capacity import cycle_pass, cycle_trial

cap = importlib.import_module("wavejax.gsemm._capacity")


def test_cycle_pass_criterion():
    """Every decoded change must be the successor and the whole cycle must be traversed."""
    ts = np.arange(60.0)

    def overlaps_of(seq, K=3):
        m = np.zeros((60, K))
        for i, s in enumerate(seq):
            m[i * 10:(i + 1) * 10, s] = 1.0
        return m

    assert cycle_pass(ts, overlaps_of([0, 1, 2, 0, 1, 2]))
    assert not cycle_pass(ts, overlaps_of([0, 1, 2, 1, 2, 0]))  # a wrong change
    assert not cycle_pass(ts, overlaps_of([0, 1, 1, 1, 1, 1]))  # stuck: cycle not completed
    assert not cycle_pass(ts, overlaps_of([1, 2, 0, 1, 2, 0]))  # did not start at the cue


def test_capacity_search_finds_threshold(monkeypatch):
    """Doubling + bisection returns the largest passing K of a MONOTONE oracle, trying few K (on the real,
    non-monotone outcome it returns a bisection boundary: see capacity_search)."""
    for kstar in (0, 1, 2, 5, 13, 64, 100):
        def fake(model, key, n, k, *, n_sets, kstar=kstar, **kw):
            return cap.CycleTrial(np.arange(4.0), np.full((n_sets, 4, k), float(k <= kstar)),
                                  np.zeros(n_sets, np.int32))

        monkeypatch.setattr(cap, "cycle_trial", fake)
        monkeypatch.setattr(cap, "cycle_pass", lambda ts, m: bool(m[0, 0] > 0))
        k, tried, failed = capacity_search("dsem", jax.random.key(0), 16, k_max=512)
        assert k == (kstar if kstar >= 2 else 0) and failed == {}
        assert len(tried) <= 2 * int(np.log2(max(kstar, 2))) + 3


def test_fit_growth_recovers_laws():
    n = np.array([16.0, 24, 32, 40])
    lin = fit_growth(n, 3 * n + 1)["linear"]
    assert abs(lin["slope"] - 3) < 1e-9 and lin["r2"] > 1 - 1e-12
    powr = fit_growth(n, 0.5 * n**2.5)["power"]
    assert abs(powr["exponent"] - 2.5) < 1e-9
    ex = fit_growth(n, 2 * np.exp(0.1 * n))["exponential"]
    assert abs(ex["rate"] - 0.1) < 1e-9 and ex["r2"] > 1 - 1e-12


def test_cycle_trial_small_network_passes():
    """DSEM N=16 stores a 4-cycle (measured 4/4 sets pass); LISEM N=25 does not store an 8-cycle."""
    ts, m, res = cycle_trial("dsem", jax.random.key(0), 16, 4, n_sets=4)
    assert m.shape == (4, len(ts), 4) and res.tolist() == [0, 0, 0, 0]
    assert sum(cycle_pass(ts, mk) for mk in m) >= 3
    ts, m, _ = cycle_trial("lisem", jax.random.key(0), 25, 8, n_sets=2)
    assert sum(cycle_pass(ts, mk) for mk in m) == 0


SHARDED = """
import json, jax, numpy as np
from wavejax.precision import enable_x64
enable_x64()
from wavejax.gsemm import capacity_search
from wavejax.gsemm._capacity import cycle_trial
assert jax.device_count() == 4
ts, m, _ = cycle_trial("dsem", jax.random.key(5), 12, 4, n_sets=6)   # 6 sets -> padded to 8 over 4 devices
np.save(OUT, m)
k, tried, _ = capacity_search("dsem", jax.random.key(1), 12, n_sets=6, need=4, k_max=4)
print(json.dumps({"k": k, "tried": tried}))
"""


def test_sharded_capacity_matches_single_device(tmp_path):
    """Issue 7 acceptance 4: the capacity sweep sharded over 4 (forced CPU) devices through
    wavejax.distributed.shard_leading gives the same results as the single-device run."""
    path = tmp_path / "m4.npy"
    out = run_multidevice(f"OUT = {str(path)!r}\n" + SHARDED)
    multi = json.loads(out.strip().splitlines()[-1])
    assert jax.device_count() == 1
    ts, m, _ = cycle_trial("dsem", jax.random.key(5), 12, 4, n_sets=6)
    m4 = np.load(path)
    assert m4.shape == m.shape == (6, len(ts), 4)
    np.testing.assert_allclose(m4, m, rtol=0, atol=1e-12)  # same program per member; bitwise in practice
    k, tried, _ = capacity_search("dsem", jax.random.key(1), 12, n_sets=6, need=4, k_max=4)
    assert k >= 2 and len(tried) >= 2
    assert multi == {"k": k, "tried": {str(a): b for a, b in tried.items()}}


@pytest.mark.slow
def test_capacity_scaling_acceptance():
    """Item 7: DSEM K*(32) >= 4 K*(16); DSEM at N=32 stores more than LISEM at N=200 (measured with this code
    and key(0) folded with N, by the independent check gsemm-check.md §5: K*(16) = 14, K*(32) = 156,
    LISEM K*(200) = 7; K* is a bisection boundary, the outcome is not monotone in K; committed run with the same
    calls: docs/results/gsemm_capacity, 432 s on 2 cores at load average 5-10)."""
    key = jax.random.key(0)
    d = capacity_curve("dsem", key, [16, 32])
    (k16, k32) = d["K"]
    kl = capacity_curve("lisem", key, [200])["K"][0]
    assert k32 >= 4 * k16 and k16 >= 2
    assert k32 > kl
