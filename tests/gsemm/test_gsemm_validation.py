"""Item 9: bad input raises a clear ValueError/TypeError naming the argument, before anything is solved."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import (
    OnlineConfig,
    SolverConfig,
    capacity_search,
    cycle_memories,
    decode,
    energy,
    overlaps,
    simulate,
    simulate_batch,
)


@pytest.fixture
def no_solve(monkeypatch):
    """Any call that reaches the jitted solver fails the test: errors must come first."""

    def boom(*a, **k):
        raise AssertionError("the solver was reached")

    monkeypatch.setattr(importlib.import_module("wavejax.gsemm._simulate"), "solve", boom)
    monkeypatch.setattr(importlib.import_module("wavejax.gsemm._batch"), "_stacked", boom)


@pytest.fixture(scope="module")
def net():
    return cycle_memories(jax.random.key(0), 12, 3)


KW = dict(t1=10.0, save_every=1.0, alpha_s=1.0, alpha_c=2.0)


@pytest.mark.parametrize("change,match", [
    (dict(model="hopfield"), "model"),
    (dict(t_d=-1.0), "t_d"),
    (dict(t_f=0.0), "t_f"),
    (dict(alpha_c=-0.5), "alpha_c"),
    (dict(beta_d=float("nan")), "beta_d"),
    (dict(t1=-5.0), "t1"),
    (dict(gamma=-1.0), "gamma"),
    (dict(xi_scale=0.5), "xi"),
    (dict(phi_shape=(3, 4)), "phi"),
    (dict(v0_len=11), "v0"),
    (dict(v0_nan=True), "v0"),
    (dict(vd0=np.zeros(5)), "vd0"),
    (dict(solver_config=SolverConfig(solver="euler_scan"), t_h=0.5), "t_h"),
])
def test_simulate_rejects_bad_input(change, match, net, no_solve):
    xi, phi = net
    v0 = np.asarray(xi[:, 0])
    kw = dict(KW)
    model = change.pop("model", "dsem")
    if change.pop("xi_scale", None):
        xi = 0.5 * xi
    if shp := change.pop("phi_shape", None):
        phi = np.zeros(shp)
    if n := change.pop("v0_len", None):
        v0 = v0[:n]
    if change.pop("v0_nan", False):
        v0 = v0.copy()
        v0[2] = np.nan
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        simulate(model, xi, phi, v0, **kw)


def test_other_entry_points_reject_bad_input(net, no_solve):
    xi, phi = net
    with pytest.raises(ValueError, match="v0s"):
        simulate_batch("dsem", xi, phi, np.zeros((4, 11)), **KW)
    with pytest.raises(ValueError, match="strategy"):
        simulate_batch("dsem", xi, phi, np.zeros((4, 12)), strategy="pmap", **KW)
    with pytest.raises(ValueError, match="projected"):
        simulate_batch("lisem", xi, phi, np.zeros((4, 12)), strategy="projected", **KW)
    with pytest.raises(ValueError, match="v and v_d"):
        energy("dsem", xi, phi, np.zeros(12), np.zeros(11), alpha_s=1.0, alpha_c=1.0)
    with pytest.raises(ValueError, match="model"):
        energy("gamm", xi, phi, np.zeros(12), np.zeros(12), alpha_s=1.0, alpha_c=1.0)
    with pytest.raises(ValueError, match="v"):
        overlaps(xi, np.zeros((5, 11)))
    with pytest.raises(ValueError, match="ts"):
        decode(np.arange(4.0), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="model"):
        capacity_search("lisa", jax.random.key(0), 16)
    with pytest.raises(TypeError, match="n_features"):
        capacity_search("dsem", jax.random.key(0), 16.5)
    with pytest.raises(ValueError, match="t_d"):
        OnlineConfig(t_d=-1.0)


def test_float64_needs_x64(net):
    xi, phi = net
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="64-bit mode"):
            simulate("dsem", np.asarray(xi), np.asarray(phi), np.asarray(xi[:, 0]), **KW)
    tr = simulate("dsem", xi, phi, xi[:, 0], dtype=jnp.float32, **KW)  # explicit float32 runs
    assert tr.v.dtype == jnp.float32
