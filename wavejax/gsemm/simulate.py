"""Memories, transition graphs and Diffrax simulation of GSEMM (gsemm.md §3, §4.1, §8).

``simulate`` is the public entry point: validation in Python, then one jitted ``diffeqsolve`` of the state
(v, v_d) (or (v, h, v_d) when T_h > 0). Adaptive solvers use ``PIDController(rtol, atol)``; ``euler``/``rk4``
use ``ConstantStepSize(dt)`` (RK4 is a custom Butcher tableau: Diffrax has no classical RK4 class); the
``*_scan`` solvers are the fixed-step ``lax.scan`` integrators of :mod:`wavejax.gsemm.scan` (fast, and
``rk4_split_scan`` reproduces the authors' operator split bit for bit in structure).

float64: pass float64 arrays with ``jax_enable_x64`` on (logits gamma*h are O(N)); with x64 off ``simulate``
raises (pass ``dtype=jnp.float32`` to run in float32 deliberately).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate as V
from wavejax.gsemm.models import MODELS, Params, get_model, make_params, vector_field, vector_field_h
from wavejax.gsemm.scan import piecewise_current, scan_solve

__all__ = ["cycle_memories", "Trajectory", "simulate", "SOLVERS", "RK4", "check_x64", "validate_network",
           "n_save_points", "solve_params"]

ADAPTIVE = ("tsit5", "dopri5", "dopri8", "kvaerno5")
FIXED = ("euler", "rk4", "heun")
SCAN = ("euler_scan", "rk4_scan", "rk4_split_scan")
SOLVERS = ADAPTIVE + FIXED + SCAN


class Trajectory(NamedTuple):
    """A solved trajectory: ts (T,), v (T, N), v_d (T, N). Batched calls add leading axes to v and v_d."""

    ts: Float[Array, " T"]
    v: Float[Array, "T N"]
    v_d: Float[Array, "T N"]


def cycle_memories(key: jax.Array, n_features: int, n_memories: int,
                   cycles: Sequence[Sequence[int]] | str | None = None, *, dtype=None):
    """Rademacher memories Xi (N, K) and the transition matrix Phi (K, K) of a memory graph (gsemm.md §3).

    Phi[mu, nu] = 1 for a transition mu -> nu (0-based). ``cycles=None``: one cycle 0 -> 1 -> ... -> K-1 -> 0;
    ``"chain"``: the same without the closing edge; a list of disjoint index lists: one cycle per list
    (e.g. ``[[0, 1, 2], [3, 4, 5, 6]]`` as in the authors' notebook).

    Args:
      key: PRNG key. n_features: N. n_memories: K.
      cycles: None, "chain" or disjoint cycles. dtype: float dtype (default float64 if x64 is on).

    Returns:
      (xi, phi) of shapes (N, K) and (K, K).

    Examples:
      >>> xi, phi = cycle_memories(jax.random.key(0), 8, 3)
      >>> phi.tolist()
      [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    N, K = V.positive_int("n_features", n_features), V.positive_int("n_memories", n_memories)
    dtype = dtype or (jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    xi = jax.random.rademacher(key, (N, K), dtype=dtype)
    phi = np.zeros((K, K))
    if cycles is None or cycles == "chain":
        for mu in range(K - 1):
            phi[mu, mu + 1] = 1.0
        if cycles is None:
            phi[K - 1, 0] = 1.0
    elif isinstance(cycles, str):
        raise ValueError(f"unknown cycles={cycles!r}; expected None, 'chain' or a list of disjoint cycles")
    else:
        seen: set[int] = set()
        for cyc in cycles:
            cyc = [int(c) for c in cyc]
            if any(c < 0 or c >= K for c in cyc) or seen & set(cyc) or len(set(cyc)) != len(cyc):
                raise ValueError(f"cycles must be disjoint lists of indices in [0, {K}); got {cycles!r}")
            seen |= set(cyc)
            for a, b in zip(cyc, cyc[1:] + cyc[:1], strict=True):
                if len(cyc) > 1:
                    phi[a, b] = 1.0
    return xi, jnp.asarray(phi, dtype=dtype)


class RK4(diffrax.AbstractERK):
    """Classical 4th-order Runge–Kutta (fixed step only) from a custom Butcher tableau (gsemm.md §8)."""

    tableau = diffrax.ButcherTableau(
        c=np.array([0.5, 0.5, 1.0]), b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]), b_error=np.zeros(4),
        a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])))
    interpolation_cls = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 4


def check_x64(dtype) -> None:
    """Raise a clear error when float64 is requested but ``jax_enable_x64`` is off."""
    if jnp.dtype(dtype) == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError("dtype=float64 requires jax_enable_x64: call jax.config.update('jax_enable_x64', True) "
                         "before creating arrays (or pass dtype=jnp.float32 to run in float32 deliberately)")


def validate_network(model, xi, phi, *, alpha_s, alpha_c, beta_d, t_f, t_d, gamma, t_h=0.0) -> tuple[int, int]:
    """Shared argument checks of the public GSEMM functions; returns (N, K)."""
    V.one_of("model", model, tuple(MODELS))
    N, K = V.ndim("xi", xi, (2,))
    V.shape("phi", phi, (K, K))
    V.pm_one("xi", xi)
    V.finite("phi", phi)
    for name, val in (("alpha_s", alpha_s), ("alpha_c", alpha_c), ("beta_d", beta_d), ("t_h", t_h)):
        V.nonneg(name, val)
    for name, val in (("t_f", t_f), ("t_d", t_d), ("gamma", gamma)):
        V.positive(name, val)
    if model == "lisem":
        V.positive("alpha_s", alpha_s)  # LISEM's cross term is a_c / sqrt(a_s)
    return N, K


def n_save_points(t1: float, save_every: float) -> int:
    """Number of saved times 0, save_every, ..., <= t1."""
    return int(np.floor(t1 / save_every + 1e-9)) + 1


def simulate(model: str, xi, phi, v0, *, t1: float, save_every: float, alpha_s, alpha_c, beta_d=1.0, t_f=1.0,
             t_d=20.0, gamma=1.0, solver: str = "tsit5", rtol: float = 1e-6, atol: float = 1e-8, dt: float = 0.01,
             vd0=None, t_h: float = 0.0, current=None, max_steps: int | None = None, clip: bool = False,
             dtype=jnp.float64) -> Trajectory:
    """Simulate a GSEMM from the cue ``v0`` (gsemm.md §2.2, §8).

        T_f dv/dt = sqrt(a_s) Xi sigma_h(h) - v + I(t),   T_d dv_d/dt = b_d sigma_f(v) - v_d

    Args:
      model: "lisem", "dsem" or "dsem_poly".
      xi: memories (N, K), entries +-1. phi: transitions (K, K). v0: cue (N,). vd0: initial delay (N,), default 0.
      t1: end time; save_every: spacing of saved times (ts = 0, save_every, ...).
      alpha_s, alpha_c, beta_d, t_f, t_d, gamma: model scalars (LISEM uses the code's a_c convention, §2.4).
      solver: one of ``SOLVERS``; adaptive ones use ``PIDController(rtol, atol)``; fixed ones use ``dt``.
      t_h: > 0 adds explicit hidden dynamics (stiff for small t_h: use "kvaerno5").
      current: optional input I(t) as ``(edges (P+1,), patterns (P, N))``, piecewise constant.
      max_steps: solver step budget (default: enough for t1 at dt, or 100 steps per time unit when adaptive).
      clip: clip v to [-1, 1] after each step (scan solvers only; author notebooks).
      dtype: computation dtype (float64 needs ``jax_enable_x64``).

    Returns:
      :class:`Trajectory` (ts (T,), v (T, N), v_d (T, N)). vmap over v0 / vd0 / xi / phi / scalars works.

    Raises:
      ValueError: bad shapes, non +-1 memories, negative time constants, unknown model/solver, NaN in v0.

    Examples:
      >>> xi, phi = cycle_memories(jax.random.key(0), 100, 4)
      >>> tr = simulate("dsem", xi, phi, xi[:, 0], t1=80.0, save_every=0.5, alpha_s=1.0, alpha_c=2.0)
      >>> seq, dwell = decode(tr.ts, overlaps(xi, tr.v))
      >>> seq.tolist(), dwell.tolist()
      ([0, 1, 2, 3], [17.5, 23.0, 25.5])
    """
    N, K = validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d,
                            gamma=gamma, t_h=t_h)
    V.one_of("solver", solver, SOLVERS)
    V.shape("v0", v0, (N,))
    V.finite("v0", v0)
    if vd0 is not None:
        V.shape("vd0", vd0, (N,))
        V.finite("vd0", vd0)
    for name, val in (("t1", t1), ("save_every", save_every), ("rtol", rtol), ("atol", atol), ("dt", dt)):
        V.positive(name, val)
    check_x64(dtype)
    if t_h and solver in SCAN:
        raise ValueError(f"t_h > 0 needs a Diffrax solver, not solver={solver!r}")
    if clip and solver not in SCAN:
        raise ValueError(f"clip=True is only supported by the scan solvers {SCAN}; got solver={solver!r}")
    if current is not None:
        V.shape("current patterns", current[1], (None, N))
        V.shape("current edges", current[0], (current[1].shape[0] + 1,))
        current = (jnp.asarray(current[0], dtype), jnp.asarray(current[1], dtype))
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d, t_h=t_h,
                    gamma=gamma, dtype=dtype)
    v0 = jnp.asarray(v0, dtype)
    vd0 = jnp.zeros_like(v0) if vd0 is None else jnp.asarray(vd0, dtype)
    n_save = n_save_points(t1, save_every)
    if max_steps is None:
        max_steps = int(np.ceil(t1 / dt)) + 16 if solver not in ADAPTIVE else max(4096, int(100 * t1))
    ts, (v, vd) = solve_params(model, p, v0, vd0, current, n_save=n_save, save_every=float(save_every),
                               solver=solver, rtol=float(rtol), atol=float(atol), dt=float(dt),
                               max_steps=int(max_steps), explicit_h=bool(t_h), clip=bool(clip))
    return Trajectory(ts, v, vd)


def _diffrax_solver(solver: str):
    return {"tsit5": diffrax.Tsit5(), "dopri5": diffrax.Dopri5(), "dopri8": diffrax.Dopri8(),
            "kvaerno5": diffrax.Kvaerno5(), "euler": diffrax.Euler(), "rk4": RK4(), "heun": diffrax.Heun()}[solver]


@functools.partial(jax.jit, static_argnames=("model", "n_save", "save_every", "solver", "rtol", "atol", "dt",
                                             "max_steps", "explicit_h", "clip", "save"))
def solve_params(model: str, p: Params, v0, vd0, current=None, *, n_save: int, save_every: float,
                 solver: str = "tsit5", rtol: float = 1e-6, atol: float = 1e-8, dt: float = 0.01,
                 max_steps: int = 100_000, explicit_h: bool = False, clip: bool = False, save: str = "state"):
    """Jitted core of :func:`simulate` on packed :class:`Params` (no validation; vmappable).

    Returns ``(ts, saved)``: ``save="state"`` saves ``(v, v_d)``, each (T, N); ``save="overlaps"`` saves the
    overlaps (T, K) of sigma_f(v) with the memories, (1/N) Xi^T sigma_f(v) (small: for long batched runs).
    """
    m = get_model(model)
    ts = save_every * jnp.arange(n_save, dtype=v0.dtype)
    if save == "state":
        save_fn = lambda t, v, vd: (v, vd)  # noqa: E731
    else:
        save_fn = lambda t, v, vd: m.feature.sigma(v, p.gamma) @ p.xi / p.xi.shape[0]  # noqa: E731
    if solver in SCAN:
        stride = int(round(save_every / dt))
        if abs(stride * dt - save_every) > 1e-9 * save_every:
            raise ValueError(f"save_every={save_every} must be a multiple of dt={dt} for scan solvers")
        method = solver.removesuffix("_scan")
        out = scan_solve(m, p, v0, vd0, dt=dt, stride=stride, n_save=n_save, method=method,
                         save_fn=save_fn, current=current, clip=clip)
        return ts, out
    if explicit_h:
        def vf(t, y, args):
            return vector_field_h(m, args, *y, piecewise_current(current, t))

        from wavejax.gsemm.models import hidden_input
        y0 = (v0, hidden_input(m, p, v0, vd0), vd0)
        fn = lambda t, y, args: save_fn(t, y[0], y[2])  # noqa: E731
    else:
        def vf(t, y, args):
            return vector_field(m, args, *y, piecewise_current(current, t))

        y0 = (v0, vd0)
        fn = lambda t, y, args: save_fn(t, *y)  # noqa: E731
    if solver in ADAPTIVE:
        ctrl = diffrax.PIDController(rtol=rtol, atol=atol)
        if current is not None:
            ctrl = diffrax.ClipStepSizeController(ctrl, jump_ts=current[0])
        dt0 = None
    else:
        ctrl, dt0 = diffrax.ConstantStepSize(), dt
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vf), _diffrax_solver(solver), 0.0, ts[-1], dt0, y0, p,
                              saveat=diffrax.SaveAt(ts=ts, fn=fn), stepsize_controller=ctrl,
                              max_steps=max_steps)
    return ts, sol.ys
