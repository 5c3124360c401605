"""Batched GSEMM solves: many cues (or many pattern sets) at once, with a choice of batching strategy (§8).

Adaptive solvers under ``jax.vmap`` run in lock-step (every batch member takes the smallest accepted step and the
while-loop body runs for the slowest member), so the best way to batch on CPU is chosen by measurement
(``benchmarks/bench_gsemm.py``; numbers in ``benchmarks/results/bench_gsemm.json``). Strategies:

* ``"stacked"``: ONE ODE whose state is the whole batch (B, N) with a shared adaptive step; the error norm is the
  max over members of each member's RMS error, so every trajectory meets rtol/atol as if solved alone.
* ``"vmap"``: ``jax.vmap`` of the single adaptive solve (lock-step while loop).
* ``"loop"``: a Python loop over one compiled single-trajectory solve.
* ``"scan"``: vmapped fixed-step ``lax.scan`` integrator (``method`` euler/rk4, step ``dt``).
* ``"projected"`` (linear-feature models DSEM / polynomial DSEM only): the same fixed-step scan on the EXACT
  K-dimensional reduction. With sigma_f = identity, v and v_d enter h and the overlaps only through a = Xi^T v and
  b = Xi^T v_d, which obey the closed system

      T_f da/dt = sqrt(a_s) G sigma_h(h) - a,   T_d db/dt = b_d a - b,   h = sqrt(a_s) a + a_c Phi^T b,   G = Xi^T Xi

  (the component of v orthogonal to span(Xi) decays as e^{-t/T_f} and never feeds back). Overlaps are a / N. No
  approximation: the same trajectory up to round-off, at O(K^2) instead of O(NK) work per step.

All return overlaps only, (B, T, K): the full states of 64 x 10^4 saves would not fit comfortably in memory.
"""

from __future__ import annotations

import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.gsemm.models import get_model, make_params, vector_field
from wavejax.gsemm.scan import scan_solve
from wavejax.gsemm.simulate import check_x64, n_save_points, solve_params, validate_network

__all__ = ["STRATEGIES", "simulate_batch"]

STRATEGIES = ("stacked", "vmap", "loop", "scan", "projected")


def _batch_norm(y):
    """max_b RMS over the state of member b (leaves have a leading batch axis)."""
    sq = sum(jnp.sum(leaf.reshape(leaf.shape[0], -1) ** 2, axis=1) for leaf in jax.tree.leaves(y))
    n = sum(int(np.prod(leaf.shape[1:])) for leaf in jax.tree.leaves(y))
    return jnp.sqrt(jnp.max(sq) / n)


@functools.partial(jax.jit, static_argnames=("model", "n_save", "save_every", "solver", "rtol", "atol",
                                             "max_steps"))
def _stacked(model, p, v0s, *, n_save, save_every, solver, rtol, atol, max_steps):
    m = get_model(model)
    ts = save_every * jnp.arange(n_save, dtype=v0s.dtype)

    def vf(t, y, args):
        return jax.vmap(lambda v, vd: vector_field(m, args, v, vd))(*y)

    def fn(t, y, args):
        return m.feature.sigma(y[0], args.gamma) @ args.xi / args.xi.shape[0]

    slv = {"tsit5": diffrax.Tsit5(), "dopri5": diffrax.Dopri5(), "dopri8": diffrax.Dopri8()}[solver]
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vf), slv, 0.0, ts[-1], None, (v0s, jnp.zeros_like(v0s)), p,
                              saveat=diffrax.SaveAt(ts=ts, fn=fn),
                              stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol, norm=_batch_norm),
                              max_steps=max_steps)
    return ts, jnp.swapaxes(sol.ys, 0, 1)


@functools.partial(jax.jit, static_argnames=("model", "n_save", "stride", "dt", "method"))
def _scan_batch(model, p, v0s, *, n_save, stride, dt, method):
    m = get_model(model)
    save = lambda t, v, vd: m.feature.sigma(v, p.gamma) @ p.xi / p.xi.shape[0]  # noqa: E731
    one = lambda v0: scan_solve(m, p, v0, jnp.zeros_like(v0), dt=dt, stride=stride, n_save=n_save,  # noqa: E731
                                method=method, save_fn=save)
    return jax.vmap(one)(v0s)


@functools.partial(jax.jit, static_argnames=("model", "n_save", "stride", "dt", "method"))
def _projected_batch(model, p, v0s, *, n_save, stride, dt, method):
    m = get_model(model)
    sa = jnp.sqrt(p.alpha_s)
    G = p.xi.T @ p.xi  # (K, K)
    cross = p.alpha_c * p.phi.T  # (K, K); linear-feature models use c = 1

    def f(a, b):
        s = m.hidden.sigma(sa * a + cross @ b, p.gamma)
        return (sa * (G @ s) - a) / p.t_f, (p.beta_d * a - b) / p.t_d

    def step(y, _):
        a, b = y
        if method == "euler":
            da, db = f(a, b)
            return (a + dt * da, b + dt * db), None
        k1 = f(a, b)
        k2 = f(a + dt / 2 * k1[0], b + dt / 2 * k1[1])
        k3 = f(a + dt / 2 * k2[0], b + dt / 2 * k2[1])
        k4 = f(a + dt * k3[0], b + dt * k3[1])
        return (a + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
                b + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])), None

    def one(v0):
        def outer(y, _):
            y, _ = jax.lax.scan(step, y, None, length=stride)
            return y, y[0]

        a0 = p.xi.T @ v0
        _, rest = jax.lax.scan(outer, (a0, jnp.zeros_like(a0)), None, length=n_save - 1)
        return jnp.concatenate([a0[None], rest], axis=0) / p.xi.shape[0]

    return jax.vmap(one)(v0s)


def simulate_batch(model: str, xi, phi, v0s, *, t1: float, save_every: float, alpha_s, alpha_c, beta_d=1.0,
                   t_f=1.0, t_d=20.0, gamma=1.0, strategy: str = "stacked", solver: str = "tsit5",
                   rtol: float = 1e-6, atol: float = 1e-8, dt: float = 0.01, method: str = "euler",
                   max_steps: int | None = None, dtype=jnp.float64):
    """Solve B trajectories of one network from cues ``v0s`` (B, N), v_d(0) = 0; return (ts (T,), m (B, T, K)).

    ``m[b, t, mu]`` is the overlap (1/N) xi^mu . sigma_f(v_b(t)). ``strategy`` picks the batching (module doc);
    ``solver``/``rtol``/``atol`` apply to the adaptive strategies, ``dt``/``method`` to ``"scan"``.
    """
    N, K = validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d,
                            gamma=gamma)
    V.one_of("strategy", strategy, STRATEGIES)
    if strategy == "projected" and model == "lisem":
        raise ValueError("strategy='projected' needs linear features (dsem, dsem_poly); LISEM's tanh(v) does not "
                         "reduce to K dimensions: use strategy='scan'")
    V.one_of("solver", solver, ("tsit5", "dopri5", "dopri8"))
    V.one_of("method", method, ("euler", "rk4"))
    V.shape("v0s", v0s, (None, N))
    V.finite("v0s", v0s)
    for name, val in (("t1", t1), ("save_every", save_every), ("dt", dt)):
        V.positive(name, val)
    check_x64(dtype)
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d, gamma=gamma,
                    dtype=dtype)
    v0s = jnp.asarray(v0s, dtype)
    n_save = n_save_points(t1, save_every)
    max_steps = int(max_steps or max(4096, 100 * t1))
    common = dict(n_save=n_save, save_every=float(save_every), solver=solver, rtol=float(rtol), atol=float(atol),
                  max_steps=max_steps)
    if strategy == "stacked":
        return _stacked(model, p, v0s, **common)
    if strategy in ("scan", "projected"):
        stride = int(round(save_every / dt))
        if abs(stride * dt - save_every) > 1e-9 * save_every:
            raise ValueError(f"save_every={save_every} must be a multiple of dt={dt}")
        ts = save_every * jnp.arange(n_save, dtype=dtype)
        run = _scan_batch if strategy == "scan" else _projected_batch
        return ts, run(model, p, v0s, n_save=n_save, stride=stride, dt=float(dt), method=method)
    zeros = jnp.zeros_like(v0s[0])
    if strategy == "vmap":
        ts, m = jax.vmap(lambda v0: solve_params(model, p, v0, zeros, save="overlaps", **common))(v0s)
        return ts[0], m
    outs = [solve_params(model, p, v0, zeros, save="overlaps", **common) for v0 in v0s]
    return outs[0][0], jnp.stack([o[1] for o in outs])
