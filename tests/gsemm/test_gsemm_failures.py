"""Failures are data (issue 22 §7): a failed GSEMM solve reaches the caller's record as its result code and reason,
and counts as failed, in capacity, dwell, learning and the online runs (before, only the GSEMM CLI read it).

Every failure is forced for real: a tiny step budget (``max_steps=1``) for the adaptive solves, or an explicit
Euler step far past stability (``dt / t_f = 50``) for the scan solves, which then overflow to inf.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import (
    CompetitiveConfig,
    EnergyRuleConfig,
    OnlineConfig,
    capacity_curve,
    capacity_search,
    learn,
)
from wavejax.gsemm._capacity import cycle_trial
from wavejax.gsemm._online import contrastive_runs
from wavejax.precision import x64_scope


@pytest.fixture(autouse=True)
def _x64():
    with x64_scope(True):
        yield


UNSTABLE = dict(dt=0.5, save_every=0.5, t_f=0.01)  # forward Euler with dt / t_f = 50: overflows


def test_capacity_counts_a_failed_solve_as_failed_with_its_reason():
    ts, m, res = cycle_trial("dsem", jax.random.key(0), 8, 3, n_sets=2, **UNSTABLE)
    assert res.tolist() == [2, 2] and not np.isfinite(m).all()
    k, tried, failed = capacity_search("dsem", jax.random.key(0), 8, n_sets=2, need=1, k_max=4, **UNSTABLE)
    assert (k, tried, failed) == (0, {2: 0}, {2: {"nonfinite": 2}})
    curve = capacity_curve("dsem", jax.random.key(0), [8], n_sets=2, need=1, k_max=4, **UNSTABLE)
    assert curve["K"] == [0] and curve["failed"] == [{2: {"nonfinite": 2}}]
    ok = capacity_search("dsem", jax.random.key(0), 8, n_sets=2, need=1, k_max=4)
    assert ok[0] >= 2 and ok[2] == {}  # the same search with a stable step: no failure recorded


def test_capacity_experiment_turns_failures_into_failed_rows(tmp_path, monkeypatch):
    import importlib

    exp = importlib.import_module("wavejax.gsemm._experiments")
    real = exp.capacity_curve
    monkeypatch.setattr(exp, "capacity_curve", lambda model, key, ns, **kw: real(model, key, ns[:1], **kw, **UNSTABLE))
    res = exp.run_capacity(exp.CapacityConfig(dsem_ns=(8,), lisem_ns=(9,), boundary=False, n_sets=2, need=1), tmp_path)
    bad = [r for r in res.rows if "solves that failed" in r.quantity]
    assert len(bad) == 3 and all(r.holds is False for r in bad)
    assert bad[0].measured == "N=8, K=2: {'nonfinite': 2}"


def test_dwell_cli_records_the_failure_in_results_json(tmp_path):
    from wavejax.gsemm._cli import main

    main(["dwell", "--network.t-f", "0.01", "--t1", "300", "--dt", "0.5", "--rs", "0.5", "1.05",
          "--out", str(tmp_path)])
    d = json.loads((tmp_path / "results.json").read_text())
    assert [(c["measured"], c["holds"]) for c in d["claims"]] == [("nonfinite", False), ("nonfinite", False)]
    assert d["metrics"]["failed"] == [{"r": 0.5, "result": "nonfinite"}, {"r": 1.05, "result": "nonfinite"}]
    assert d["metrics"]["sweep"] == []  # no dwell number from a failed solve


def _competitive(**kw):
    return CompetitiveConfig(n_hidden=4, **kw)


@pytest.mark.parametrize("rule, cfg", [("energy", EnergyRuleConfig), ("competitive", _competitive)])
def test_learn_reports_max_steps_reached(rule, cfg):
    pats = jnp.asarray(np.array([[1, -1, 1], [-1, 1, 1]], float))
    st = learn(rule, jax.random.key(0), pats, cfg=cfg(clamp_time=5.0, max_steps=1))
    assert int(st.result) == 1 and int(st.count) == 2  # max_steps_reached, kept past the second presentation
    assert int(learn(rule, jax.random.key(0), pats, cfg=cfg(clamp_time=5.0)).result) == 0


def test_learn_refuses_a_bad_step_budget():
    with pytest.raises(ValueError, match="max_steps"):
        EnergyRuleConfig(max_steps=0)


def test_online_runs_carry_the_learning_failure():
    pats = jax.random.rademacher(jax.random.key(1), (3, 8), dtype=jnp.float64)
    base = OnlineConfig(n_features=8, n_patterns=3, n_hidden=5, steps_per_memory=200)
    bad = OnlineConfig(n_features=8, n_patterns=3, n_hidden=5, steps_per_memory=200, t_f=1e-5)  # dt / t_f = 100
    runs = contrastive_runs(jnp.stack([jax.random.key(0), jax.random.key(1)]), pats, [base, bad])
    assert (runs[0]["result"], runs[0]["reason"]) == (0, "successful")
    assert (runs[1]["result"], runs[1]["reason"]) == (2, "nonfinite")
    st = learn("contrastive", jax.random.key(0), pats, cfg=bad)
    assert int(st.result) == 2
