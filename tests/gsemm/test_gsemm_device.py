"""GSEMM off the CPU (issue 19): no host callbacks in wavejax's Diffrax solves, float64 refused on TPU naming the
setting, and float32 against float64 on the committed cases (docs/results/gsemm_float32, docs/gpu-tpu.md)."""

import diffrax
import equinox.internal as eqxi
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wavejax.gsemm as gs
from wavejax.gsemm._capacity import cycle_trial

KW = dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_f=1.0, t_d=20.0, gamma=1.0)


def _callbacks(fn, *args) -> int:
    return str(jax.make_jaxpr(fn)(*args)).count("callback")


def test_default_solve_has_no_host_callback_and_others_keep_theirs():
    """wavejax's solve traces without Diffrax's saveat.ts callbacks; a plain diffeqsolve outside keeps them (the
    scope is restored), so other users of equinox/Diffrax see no change."""
    xi, phi = gs.cycle_memories(jax.random.key(1), 20, 4)
    assert _callbacks(lambda v0: gs.simulate("dsem", xi, phi, v0, t1=20.0, save_every=0.5, **KW).v, xi[:, 0]) == 0
    plain = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, a: -y), diffrax.Tsit5(), 0.0, 1.0, None, 1.0,
                                saveat=diffrax.SaveAt(ts=jnp.linspace(0.0, 1.0, 3)),
                                stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8))
    assert np.allclose(plain.ys, np.exp(-np.linspace(0, 1, 3)), atol=1e-5)
    assert _callbacks(lambda ts: diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, a: -y), diffrax.Tsit5(), 0.0, 1.0, None, 1.0, saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8)).ys, jnp.linspace(0.0, 1.0, 3)) > 0
    assert eqxi.error_if.__module__.startswith("equinox")


def test_failures_still_reach_result():
    """A solve that runs out of steps reports max_steps_reached through Trajectory.result (nothing raised)."""
    xi, phi = gs.cycle_memories(jax.random.key(1), 20, 4)
    tr = gs.simulate("dsem", xi, phi, xi[:, 0], t1=200.0, save_every=0.5,
                     solver_config=gs.SolverConfig(max_steps=10), **KW)
    assert gs.result_name(tr.result) == "max_steps_reached"


def test_float64_is_refused_on_tpu_naming_the_setting(monkeypatch):
    xi, phi = gs.cycle_memories(jax.random.key(1), 20, 4)
    monkeypatch.setattr(jax, "default_backend", lambda: "tpu")
    for call in (lambda: gs.simulate("dsem", xi, phi, xi[:, 0], t1=5.0, save_every=0.5, **KW),
                 lambda: gs.simulate_batch("dsem", xi, phi, xi.T[:2], t1=5.0, save_every=0.5, **KW),
                 lambda: cycle_trial("dsem", jax.random.key(0), 16, 3, n_sets=1, t1=5.0)):
        with pytest.raises(ValueError, match=r"dtype=jnp\.float32"):
            call()
    tr = gs.simulate("dsem", xi.astype(jnp.float32), phi.astype(jnp.float32), xi[:, 0], t1=5.0, save_every=0.5,
                     dtype=jnp.float32, **KW)
    assert tr.v.dtype == jnp.float32 and int(tr.result) == 0


def test_float32_retrieval_matches_float64():
    """The README network (N=100, K=10), default Tsit5, t1=400: float32 decodes the same sequence with the same
    transition times on the 0.5 save grid as float64 (measured at t1=1000 too: docs/results/gsemm_float32)."""
    out = {}
    for dt in ("float64", "float32"):
        xi, phi = gs.cycle_memories(jax.random.key(1), 100, 10, dtype=dt)
        tr = gs.simulate("dsem", xi, phi, xi[:, 0], t1=400.0, save_every=0.5, dtype=dt, **KW)
        assert int(tr.result) == 0
        out[dt] = gs.decode(np.asarray(tr.ts, np.float64), np.asarray(gs.overlaps(xi, tr.v), np.float64))
    assert out["float32"].sequence.tolist() == out["float64"].sequence.tolist()
    assert len(out["float64"].sequence) >= 10
    np.testing.assert_allclose(out["float32"].times, out["float64"].times, atol=0.5)
