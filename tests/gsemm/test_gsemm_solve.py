"""The one solve (issue 11 item 6): Diffrax-form vector field, SolverConfig, result codes as data, the authors'
operator split against an independent NumPy implementation, jit/no-jit variants, trace counts, float32."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import (
    DSEM,
    SolverConfig,
    cycle_memories,
    decode,
    make_params,
    overlaps,
    result_name,
    save_grid,
    simulate,
    simulate_batch,
)
from wavejax.gsemm._models import vector_field
from wavejax.gsemm._scan import scan_solve
from wavejax.gsemm._solve import MAX_STEPS, NONFINITE, SUCCESS

A3 = dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_d=20.0, gamma=1.0)


def test_batch_with_failing_members_returns_codes_and_finite_others():
    """Acceptance 5: a vmapped GSEMM batch where one member runs out of max_steps (Tsit5, a stiff member with
    T_f = 1e-5) and, separately, one member diverges (Euler dt 0.01 with T_f = 0.004: |1 - dt/T_f| > 1) returns a
    failure code for that member and finite, correctly decoded results for the others; nothing is raised."""
    xi, phi = cycle_memories(jax.random.key(0), 40, 4)
    t_fs = jnp.array([1.0, 1e-5, 1.0])
    run = jax.vmap(lambda tf: simulate("dsem", xi, phi, xi[:, 0], t1=60.0, save_every=0.5, t_f=tf, **A3,
                                       solver_config=SolverConfig(max_steps=2000)))
    tr = run(t_fs)
    assert tr.result.tolist() == [SUCCESS, MAX_STEPS, SUCCESS]
    assert result_name(tr.result[1]) == "max_steps_reached"
    for b in (0, 2):
        assert bool(jnp.isfinite(tr.v[b]).all())
        assert decode(tr.ts[b], overlaps(xi, tr.v[b])).sequence.tolist()[:3] == [0, 1, 2]
    run = jax.vmap(lambda tf: simulate("dsem", xi, phi, xi[:, 0], t1=60.0, save_every=0.5, t_f=tf, **A3,
                                       solver_config=SolverConfig(solver="euler_scan", dt=0.01)))
    tr = run(jnp.array([1.0, 1.0, 0.004]))
    assert tr.result.tolist() == [SUCCESS, SUCCESS, NONFINITE]
    assert bool(jnp.isfinite(tr.v[:2]).all()) and not bool(jnp.isfinite(tr.v[2]).all())


@pytest.mark.parametrize("strategy", ["stacked", "vmap", "scan", "projected"])
def test_simulate_batch_returns_trajectory_with_codes(strategy):
    """simulate_batch returns overlaps (B, T, K) and one result code per member; an exhausted step budget is a
    code, not an exception."""
    xi, phi = cycle_memories(jax.random.key(1), 30, 3)
    cues = jnp.stack([xi[:, 0], -xi[:, 1]])
    tr = simulate_batch("dsem", xi, phi, cues, t1=20.0, save_every=1.0, strategy=strategy, method="rk4",
                        solver_config=SolverConfig(dt=0.05), **A3)
    assert tr.m.shape == (2, 21, 3) and tr.result.shape == (2,) and tr.v is None
    assert tr.result.tolist() == [SUCCESS, SUCCESS]
    np.testing.assert_allclose(tr.m[:, 0], np.asarray(cues) @ np.asarray(xi) / 30, atol=1e-12)
    if strategy in ("stacked", "vmap"):
        bad = simulate_batch("dsem", xi, phi, cues, t1=20.0, save_every=1.0, strategy=strategy,
                             solver_config=SolverConfig(max_steps=3), **A3)
        assert bad.result.tolist() == [MAX_STEPS, MAX_STEPS]


def _authors_split_numpy(xi, phi, v, vd, *, a_s, a_c, b_d, t_f, t_d, dt, steps):
    """Independent NumPy version of dynSim.py's split: RK4 for v (v_d frozen), then the RK4 step of the linear
    v_d ODE in closed form c + (v_d - c)(1 - x + x^2/2 - x^3/6 + x^4/24), c = b_d v_new, x = dt / T_d."""
    xi, phi = np.asarray(xi), np.asarray(phi)

    def fv(v, vd):
        h = np.sqrt(a_s) * xi.T @ v + a_c * phi.T @ (xi.T @ vd)
        s = np.exp(h - h.max())
        return (np.sqrt(a_s) * xi @ (s / s.sum()) - v) / t_f

    x = dt / t_d
    poly = 1 - x + x**2 / 2 - x**3 / 6 + x**4 / 24
    for _ in range(steps):
        k1 = fv(v, vd)
        k2 = fv(v + dt / 2 * k1, vd)
        k3 = fv(v + dt / 2 * k2, vd)
        k4 = fv(v + dt * k3, vd)
        v = v + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        c = b_d * v
        vd = c + (vd - c) * poly
    return v, vd


def test_rk4_split_is_the_authors_operator_split():
    """gsemm-check item 1: rk4_split_scan takes an RK4 step for v_d too (v frozen at its new value); it matches an
    independent NumPy implementation of the authors' split to round-off over 40 steps, and differs from the old
    Euler-v_d variant by O(dt^2 / T_d) per step (the check measured 1.24e-6 after 10 steps)."""
    xi, phi = cycle_memories(jax.random.key(2), 50, 5)
    v0 = np.asarray(xi[:, 0]) + 0.1 * np.asarray(jax.random.normal(jax.random.key(3), (50,)))
    vd0 = 0.3 * np.asarray(xi[:, 4])
    kw = dict(a_s=1.0, a_c=2.0, b_d=7.0, t_f=1.0, t_d=20.0, dt=0.01)
    tr = simulate("dsem", xi, phi, v0, vd0=vd0, t1=0.4, save_every=0.1, alpha_s=1.0, alpha_c=2.0, beta_d=7.0,
                  t_d=20.0, solver_config=SolverConfig(solver="rk4_split_scan", dt=0.01))
    for i, n in enumerate((0, 10, 20, 30, 40)):
        v, vd = _authors_split_numpy(xi, phi, v0, vd0, steps=n, **kw)
        np.testing.assert_allclose(tr.v[i], v, rtol=0, atol=1e-13)
        np.testing.assert_allclose(tr.v_d[i], vd, rtol=0, atol=1e-13)
    # the Euler v_d step of the old code is measurably different (so this test can fail)
    p = make_params(xi, phi, alpha_s=1.0, alpha_c=2.0, beta_d=7.0, t_d=20.0)
    v1, vd1 = _authors_split_numpy(xi, phi, v0, vd0, steps=1, **kw)
    vd_euler = vd0 + 0.01 * vector_field(DSEM, p, jnp.asarray(v1), jnp.asarray(vd0))[1]
    assert np.abs(np.asarray(vd_euler) - vd1).max() > 1e-8


class TestVectorFieldVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_model_is_the_diffrax_vector_field(self):
        """Model(t, (v, v_d), (Params, current)) equals vector_field(model, p, v, v_d, current), jitted or not."""
        xi, phi = cycle_memories(jax.random.key(4), 20, 4)
        p = make_params(xi, phi, alpha_s=1.3, alpha_c=0.7, beta_d=2.0, t_f=0.6)
        v, vd, cur = (jax.random.normal(k, (20,)) for k in jax.random.split(jax.random.key(5), 3))
        f = self.variant(lambda t, y, args: DSEM(t, y, args))
        got = f(0.0, (v, vd), (p, cur))
        want = vector_field(DSEM, p, v, vd, cur)
        chex.assert_trees_all_close(got, want, rtol=1e-13, atol=1e-13)
        chex.assert_trees_all_close(f(0.0, (v, vd), (p, None)), vector_field(DSEM, p, v, vd), rtol=1e-13)


def test_scan_solver_traces_once():
    """The jitted scan solve compiles once for new values of the same shapes (chex.assert_max_traces)."""
    chex.clear_trace_counter()
    xi, phi = cycle_memories(jax.random.key(6), 16, 3)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def run(p, v0):
        return scan_solve(DSEM, (v0, jnp.zeros_like(v0)), (p, None), dt=0.05, stride=10, n_save=5, method="rk4")

    for a_c in (1.0, 2.0, 3.0):
        (v, vd), finite = run(make_params(xi, phi, alpha_s=1.0, alpha_c=a_c), xi[:, 0] * a_c)
        assert v.shape == (5, 16) and bool(finite)


def test_float32_smoke():
    """Issue 11 item 5: the core runs in float32 with 64-bit mode off and keeps float32 (the DSEM cycle decodes)."""
    with jax.enable_x64(False):
        xi, phi = cycle_memories(jax.random.key(0), 100, 4, dtype=jnp.float32)
        tr = simulate("dsem", xi, phi, xi[:, 0], t1=80.0, save_every=0.5, alpha_s=1.0, alpha_c=2.0,
                      dtype=jnp.float32)
        assert tr.v.dtype == jnp.float32 and int(tr.result) == SUCCESS
        assert decode(tr.ts, overlaps(xi, tr.v)).sequence.tolist() == [0, 1, 2, 3]
        with pytest.raises(ValueError, match="64-bit"):
            simulate("dsem", xi, phi, xi[:, 0], t1=8.0, save_every=0.5, alpha_s=1.0, alpha_c=2.0)


def test_solver_config_and_save_grid():
    """One stride check and one n_save formula; SolverConfig validates eagerly; simulate takes no loose solver
    keywords (issue 21)."""
    assert save_grid(10.0, 0.5, 0.01) == (21, 50) and save_grid(583.33, 0.03)[0] == 19445
    with pytest.raises(ValueError, match="multiple of dt"):
        save_grid(10.0, 0.5, 0.3)
    with pytest.raises(ValueError, match="solver"):
        SolverConfig(solver="rk45")
    with pytest.raises(ValueError, match="clip"):
        SolverConfig(solver="tsit5", clip=True)
    assert SolverConfig().steps_for(1000.0) == 100_000 and SolverConfig(solver="euler").steps_for(10.0) == 1016
    xi, phi = cycle_memories(jax.random.key(0), 12, 3)
    with pytest.raises(TypeError, match="solver"):
        simulate("dsem", xi, phi, xi[:, 0], t1=1.0, save_every=0.5, alpha_s=1.0, alpha_c=1.0, solver="euler")
