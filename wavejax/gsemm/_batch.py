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

All return a :class:`~wavejax.gsemm.Trajectory` with overlaps only, ``m`` (B, T, K) (the full states of
64 x 10^4 saves would not fit comfortably in memory), and one ``result`` code per member (B,): a member that
runs out of ``max_steps`` or diverges is reported there and the others are unaffected (for ``"stacked"``, one
shared ODE, the Diffrax code is shared and only non-finite members are told apart).
"""

from __future__ import annotations

import dataclasses
import functools

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _memory
from wavejax import _validate as V
from wavejax._matmul import POLICY, matmul_precision
from wavejax.gsemm._device import refuse_f64_on_tpu
from wavejax.gsemm._models import Model, get_model, make_params, overlap_fn
from wavejax.gsemm._saveat import grid_saveat
from wavejax.gsemm._scan import scan_solve
from wavejax.gsemm._simulate import solver_config_or_default, validate_network
from wavejax.gsemm._solve import NONFINITE, SUCCESS, SolverConfig, Trajectory, _code, save_grid, solve
from wavejax.precision import require_dtype

__all__ = ["STRATEGIES", "simulate_batch"]

STRATEGIES = ("stacked", "vmap", "loop", "scan", "projected")


def _batch_norm(y):
    """max_b RMS over the state of member b (leaves have a leading batch axis)."""
    sq = sum(jnp.sum(leaf.reshape(leaf.shape[0], -1) ** 2, axis=1) for leaf in jax.tree.leaves(y))
    n = sum(int(np.prod(leaf.shape[1:])) for leaf in jax.tree.leaves(y))
    return jnp.sqrt(jnp.max(sq) / n)


@dataclasses.dataclass(frozen=True)
class Stacked:
    """The vector field of B members as ONE ODE, ``f(t, (V, V_d), args)`` with V, V_d of shape (B, N)."""

    model: Model

    def __call__(self, t, y, args):
        return jax.vmap(lambda v, vd: self.model(t, (v, vd), args))(*y)


@dataclasses.dataclass(frozen=True)
class Projected:
    """The exact K-dimensional reduction of a linear-feature GSEMM, ``f(t, (a, b), args)`` (module doc).

        T_f da/dt = sqrt(a_s) G sigma_h(h) - a,   T_d db/dt = b_d a - b,   h = sqrt(a_s) a + a_c Phi^T b

    with a = Xi^T v, b = Xi^T v_d; ``args = (Params, G)`` with the Gram matrix G = Xi^T Xi (K, K), so a step
    costs O(K^2).
    """

    model: Model

    def __call__(self, t, y, args):
        p, G = args
        a, b = y
        sa = jnp.sqrt(p.alpha_s)
        s = self.model.hidden.sigma(sa * a + (p.alpha_c * p.phi.T) @ b, p.gamma)
        return (sa * (G @ s) - a) / p.t_f, (p.beta_d * a - b) / p.t_d


@functools.partial(jax.jit, static_argnames=("model", "n_save", "save_every", "cfg", "max_steps"))
def _stacked(model, p, v0s, *, n_save, save_every, cfg, max_steps):
    # float32: no float64 value (solve.solve); matmul precision: wavejax._matmul.POLICY
    with jax.enable_x64(jnp.dtype(v0s.dtype) == jnp.float64), matmul_precision(POLICY["gsemm"]):
        return _stacked_body(model, p, v0s, n_save=n_save, save_every=save_every, cfg=cfg, max_steps=max_steps)


def _stacked_body(model, p, v0s, *, n_save, save_every, cfg, max_steps):
    m = get_model(model)
    ts = save_every * jnp.arange(n_save, dtype=v0s.dtype)
    ov = jax.vmap(overlap_fn(m), in_axes=(None, 0, None))
    slv = {"tsit5": diffrax.Tsit5(), "dopri5": diffrax.Dopri5(), "dopri8": diffrax.Dopri8()}[cfg.solver]
    with grid_saveat(n_save, save_every):  # no host callbacks (issue 19)
        sol = diffrax.diffeqsolve(diffrax.ODETerm(Stacked(m)), slv, 0.0, ts[-1], None, (v0s, jnp.zeros_like(v0s)),
                                  (p, None), saveat=diffrax.SaveAt(ts=ts, fn=lambda t, y, a: ov(t, y, a)),
                                  stepsize_controller=diffrax.PIDController(rtol=cfg.rtol, atol=cfg.atol,
                                                                            norm=_batch_norm),
                                  max_steps=max_steps, throw=False)
    mb = jnp.swapaxes(sol.ys, 0, 1)
    finite = jnp.all(jnp.isfinite(mb), axis=(1, 2))
    code = jax.vmap(lambda f: _code(sol.result, f))(finite)
    return Trajectory(ts, None, None, mb, code)


@functools.partial(jax.jit, static_argnames=("model", "n_save", "stride", "dt", "method"))
def _scan_batch(model, p, v0s, *, n_save, stride, dt, method):
    cfg = SolverConfig(solver=f"{method}_scan", dt=dt)
    one = lambda v0: solve(get_model(model), p, v0, jnp.zeros_like(v0), n_save=n_save,  # noqa: E731
                           save_every=stride * dt, cfg=cfg, max_steps=1, save="overlaps")
    return jax.vmap(one)(v0s)


@functools.partial(jax.jit, static_argnames=("model", "n_save", "stride", "dt", "method"))
def _projected_batch(model, p, v0s, *, n_save, stride, dt, method):
    field = Projected(get_model(model))
    save = lambda t, y, a: y[0] / p.xi.shape[0]  # noqa: E731  (overlaps a / N)

    def one(v0):
        a0 = p.xi.T @ v0
        m, finite = scan_solve(field, (a0, jnp.zeros_like(a0)), (p, p.xi.T @ p.xi), dt=dt, stride=stride, n_save=n_save,
                               method=method, save_fn=save)
        return m, jnp.where(finite, SUCCESS, NONFINITE).astype(jnp.int32)

    m, code = jax.vmap(one)(v0s)
    return Trajectory(dt * stride * jnp.arange(n_save, dtype=v0s.dtype), None, None, m, code)


def _check(model, strategy, method, cfg):
    V.one_of("strategy", strategy, STRATEGIES)
    if strategy == "projected" and model == "lisem":
        raise ValueError("strategy='projected' needs linear features (dsem, dsem_poly); LISEM's tanh(v) does not "
                         "reduce to K dimensions: use strategy='scan'")
    if strategy in ("stacked", "vmap", "loop"):
        V.one_of("solver", cfg.solver, ("tsit5", "dopri5", "dopri8"))
    V.one_of("method", method, ("euler", "rk4"))


def simulate_batch(model: str, xi, phi, v0s, *, t1: float, save_every: float, alpha_s, alpha_c, beta_d=1.0,
                   t_f=1.0, t_d=20.0, gamma=1.0, strategy: str = "stacked", method: str = "euler",
                   solver_config: SolverConfig | None = None, dtype=jnp.float64) -> Trajectory:
    """Solve B trajectories of one network from cues ``v0s`` (B, N), v_d(0) = 0.

    Returns a :class:`~wavejax.gsemm.Trajectory` with ``ts`` (T,), ``m`` (B, T, K), ``m[b, t, mu]`` the
    overlap (1/N) xi^mu . sigma_f(v_b(t)), and ``result`` (B,) codes (0 = successful). ``strategy`` picks the
    batching (module doc); ``solver_config`` (default ``SolverConfig()``) applies to the adaptive strategies, its
    ``dt`` and ``method`` to ``"scan"``/``"projected"``.
    """
    cfg = solver_config_or_default(solver_config)
    N, K = validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d,
                            gamma=gamma)
    _check(model, strategy, method, cfg)
    V.shape("v0s", v0s, (None, N))
    V.finite("v0s", v0s)
    for name, val in (("t1", t1), ("save_every", save_every)):
        V.positive(name, val)
    dtype = refuse_f64_on_tpu(require_dtype(dtype))
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d, gamma=gamma,
                    dtype=dtype)
    n_grid, _ = save_grid(t1, save_every, cfg.dt if strategy in ("scan", "projected") else None)
    B = int(np.shape(v0s)[0])
    _memory.require_fits({"len(v0s)": B, "t1": t1, "save_every": save_every},
                         _memory.nbytes((B, n_grid, K), dtype) + 16 * _memory.nbytes((B, N), dtype),
                         what=f"{B} x {n_grid} saved overlaps and the solver state")
    v0s = jnp.asarray(v0s, dtype)
    if strategy in ("scan", "projected"):
        n_save, stride = save_grid(t1, save_every, cfg.dt)
        run = _scan_batch if strategy == "scan" else _projected_batch
        tr = run(model, p, v0s, n_save=n_save, stride=stride, dt=float(cfg.dt), method=method)
        return tr._replace(ts=save_every * jnp.arange(n_save, dtype=dtype))
    n_save, _ = save_grid(t1, save_every)
    max_steps = cfg.max_steps or max(4096, int(100 * t1))
    if strategy == "stacked":
        return _stacked(model, p, v0s, n_save=n_save, save_every=float(save_every), cfg=cfg, max_steps=max_steps)
    m, zeros = get_model(model), jnp.zeros_like(v0s[0])
    common = dict(n_save=n_save, save_every=float(save_every), cfg=cfg, max_steps=max_steps, save="overlaps")
    if strategy == "vmap":
        tr = jax.vmap(lambda v0: solve(m, p, v0, zeros, **common))(v0s)
        return tr._replace(ts=tr.ts[0])
    outs = [solve(m, p, v0, zeros, **common) for v0 in v0s]
    return Trajectory(outs[0].ts, None, None, jnp.stack([o.m for o in outs]), jnp.stack([o.result for o in outs]))
