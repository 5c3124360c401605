"""Solver configuration, the save grid, the trajectory type and the ONE jitted GSEMM solve (docs/gsemm.md §4.1, §8).

:func:`solve` integrates a :class:`~wavejax.gsemm.Model` (the vector field ``f(t, y, args)``) from packed
:class:`~wavejax.gsemm.Params`: Diffrax solvers go through ``diffrax.diffeqsolve(..., throw=False)``, the
``*_scan`` solvers through the one fixed-step solver of :mod:`wavejax.gsemm._scan`. A failed solve is DATA: the
returned :class:`Trajectory` carries an int ``result`` code (``RESULT_CODES``), so under ``jax.vmap`` one failing
member (max_steps exhausted, a diverging fixed-step run) does not crash the batch.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Literal, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from wavejax import _validate as V
from wavejax._matmul import POLICY, matmul_precision
from wavejax.gsemm._models import Model, Params, hidden_input, overlap_fn, piecewise_current, vector_field_h
from wavejax.gsemm._saveat import grid_saveat
from wavejax.gsemm._scan import scan_solve

__all__ = ["SolverConfig", "Trajectory", "RK4", "SOLVERS", "RESULT_CODES", "save_grid", "solve", "result_name"]

ADAPTIVE = ("tsit5", "dopri5", "dopri8", "kvaerno5")
FIXED = ("euler", "rk4", "heun")
SCAN = ("euler_scan", "rk4_scan", "rk4_split_scan")
SOLVERS = ADAPTIVE + FIXED + SCAN

# Trajectory.result codes (int32; stable across Diffrax versions).
SUCCESS, MAX_STEPS, NONFINITE, SOLVER_FAILED = 0, 1, 2, 3
RESULT_CODES = ("successful", "max_steps_reached", "nonfinite", "solver_failed")


def result_name(code) -> str:
    """Name of a :attr:`Trajectory.result` code, e.g. ``result_name(1) == "max_steps_reached"``."""
    return RESULT_CODES[int(code)]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SolverConfig:
    """How to integrate a GSEMM (hashable: a static argument of the jitted solve).

    Examples:
      >>> SolverConfig(solver="rk4_scan", dt=0.05).fixed_step
      True
    """

    solver: Literal["tsit5", "dopri5", "dopri8", "kvaerno5", "euler", "rk4", "heun", "euler_scan", "rk4_scan",
                    "rk4_split_scan"] = "tsit5"  # adaptive (PID), fixed-step Diffrax, or *_scan (lax.scan)
    rtol: float = 1e-6  # relative tolerance of the adaptive solvers
    atol: float = 1e-8  # absolute tolerance of the adaptive solvers
    dt: float = 0.01  # step of the fixed-step solvers
    max_steps: int | None = None  # Diffrax step budget (None: t1/dt + 16 fixed, max(4096, 100 t1) adaptive)
    clip: bool = False  # clip v to [-1, 1] after every step (scan solvers only; author notebooks)

    def __post_init__(self):
        V.one_of("solver", self.solver, SOLVERS)
        for name in ("rtol", "atol", "dt"):
            V.positive(name, getattr(self, name))
        if self.max_steps is not None:
            V.positive_int("max_steps", self.max_steps)
        if self.clip and self.solver not in SCAN:
            raise ValueError(f"clip=True is only supported by the scan solvers {SCAN}; got solver={self.solver!r}")

    @property
    def fixed_step(self) -> bool:
        """True for the fixed-step solvers (Diffrax euler/rk4/heun and the scan solvers)."""
        return self.solver not in ADAPTIVE

    def steps_for(self, t1: float) -> int:
        """The step budget for an integration to ``t1``."""
        if self.max_steps is not None:
            return int(self.max_steps)
        return int(np.ceil(t1 / self.dt)) + 16 if self.fixed_step else max(4096, int(100 * t1))


class Trajectory(NamedTuple):
    """A solved trajectory.

    ts (T,) saved times; v (T, N), v_d (T, N) the states (None when only overlaps were saved); m (T, K) the
    overlaps (1/N) Xi^T sigma_f(v) (None when the states were saved); result: int32 code, 0 = successful,
    1 = max_steps_reached, 2 = nonfinite state, 3 = another Diffrax failure (``RESULT_CODES``). Batched calls add
    leading axes to every field but ts (ts too under ``jax.vmap``). Values saved after a failure are inf/NaN.
    """

    ts: Float[Array, " T"]
    v: Float[Array, "T N"] | None
    v_d: Float[Array, "T N"] | None
    m: Float[Array, "T K"] | None = None
    result: Int[Array, ""] | int = SUCCESS

    @property
    def ok(self):
        """Boolean (array) of successful solves."""
        return jnp.asarray(self.result) == SUCCESS


def save_grid(t1: float, save_every: float, dt: float | None = None) -> tuple[int, int]:
    """The ONE save grid: ``(n_save, stride)`` for saved times 0, save_every, ..., <= t1.

    n_save = floor(t1 / save_every + 1e-9) + 1. With ``dt`` (fixed-step scan), ``stride = save_every / dt`` must be
    an integer (ValueError otherwise); without, stride is 0.

    Examples:
      >>> save_grid(10.0, 0.5, 0.01)
      (21, 50)
    """
    n_save = int(np.floor(t1 / save_every + 1e-9)) + 1
    if dt is None:
        return n_save, 0
    stride = int(round(save_every / dt))
    if stride < 1 or abs(stride * dt - save_every) > 1e-9 * save_every:
        raise ValueError(f"save_every must be a multiple of dt for fixed-step scans; got save_every={save_every}, "
                         f"dt={dt}")
    return n_save, stride


class RK4(diffrax.AbstractERK):
    """Classical 4th-order Runge–Kutta (fixed step only) from a custom Butcher tableau (docs/gsemm.md §8)."""

    tableau = diffrax.ButcherTableau(
        c=np.array([0.5, 0.5, 1.0]), b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]), b_error=np.zeros(4),
        a_lower=(np.array([0.5]), np.array([0.0, 0.5]), np.array([0.0, 0.0, 1.0])))
    interpolation_cls = diffrax.ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        return 4


def _diffrax_solver(solver: str):
    return {"tsit5": diffrax.Tsit5(), "dopri5": diffrax.Dopri5(), "dopri8": diffrax.Dopri8(),
            "kvaerno5": diffrax.Kvaerno5(), "euler": diffrax.Euler(), "rk4": RK4(), "heun": diffrax.Heun()}[solver]


def _code(sol_result, finite) -> jax.Array:
    R = diffrax.RESULTS
    code = jnp.where(sol_result == R.successful, SUCCESS,
                     jnp.where(sol_result == R.max_steps_reached, MAX_STEPS, SOLVER_FAILED))
    return jnp.where((code == SUCCESS) & ~finite, NONFINITE, code).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class _WithHidden:  # explicit hidden dynamics y = (v, h, v_d), T_h > 0 (a hashable vector field for Diffrax)
    model: Model

    def __call__(self, t, y, args):
        p, current = args
        return vector_field_h(self.model, p, *y, piecewise_current(current, t))


def _tree_finite(y) -> jax.Array:
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(y)]))


@functools.partial(jax.jit, static_argnames=("model", "n_save", "save_every", "cfg", "max_steps", "save",
                                             "explicit_h"))
def solve(model: Model, p: Params, v0, vd0, current=None, *, n_save: int, save_every: float, cfg: SolverConfig,
          max_steps: int, save: str = "state", explicit_h: bool = False) -> Trajectory:
    """Jitted core of :func:`~wavejax.gsemm.simulate` on packed Params (no validation; vmappable).

    ``save="state"`` fills ``v, v_d`` (T, N); ``save="overlaps"`` fills ``m`` (T, K) only (small: for long batched
    runs). The result code is never raised (``throw=False``). A float32 solve is traced with 64-bit mode off, so
    its module holds no float64 value, not even Diffrax's scalars (what XLA:TPU needs; docs/gpu-tpu.md).
    """
    with jax.enable_x64(jnp.dtype(v0.dtype) == jnp.float64), matmul_precision(POLICY["gsemm"]):
        return _solve(model, p, v0, vd0, current, n_save=n_save, save_every=save_every, cfg=cfg, max_steps=max_steps,
                      save=save, explicit_h=explicit_h)


def _solve(model, p, v0, vd0, current, *, n_save, save_every, cfg, max_steps, save, explicit_h) -> Trajectory:
    ts = save_every * jnp.arange(n_save, dtype=v0.dtype)
    args = (p, current)
    ov = overlap_fn(model)
    pick = (lambda y: (y[0], y[-1])) if explicit_h else (lambda y: y)
    save_fn = (lambda t, y, a: pick(y)) if save == "state" else (lambda t, y, a: ov(t, pick(y), a))
    if cfg.solver in SCAN:
        _, stride = save_grid(save_every * (n_save - 1), save_every, cfg.dt)
        out, finite = scan_solve(model, (v0, vd0), args, dt=cfg.dt, stride=stride, n_save=n_save,
                                 method=cfg.solver.removesuffix("_scan"), save_fn=save_fn, clip=cfg.clip)
        code = jnp.where(finite, SUCCESS, NONFINITE).astype(jnp.int32)
    else:
        field, y0 = model, (v0, vd0)
        if explicit_h:
            field, y0 = _WithHidden(model), (v0, hidden_input(model, p, v0, vd0), vd0)
        if cfg.solver in ADAPTIVE:
            ctrl = diffrax.PIDController(rtol=cfg.rtol, atol=cfg.atol)
            if isinstance(current, tuple):
                ctrl = diffrax.ClipStepSizeController(ctrl, jump_ts=current[0])
            dt0 = None
        else:
            ctrl, dt0 = diffrax.ConstantStepSize(), cfg.dt
        with grid_saveat(n_save, save_every):  # no host callbacks: the grid is checked here (issue 19)
            sol = diffrax.diffeqsolve(diffrax.ODETerm(field), _diffrax_solver(cfg.solver), 0.0, ts[-1], dt0, y0,
                                      args, saveat=diffrax.SaveAt(ts=ts, fn=save_fn), stepsize_controller=ctrl,
                                      max_steps=max_steps, throw=False)
        out = sol.ys
        code = _code(sol.result, _tree_finite(out))
    if save == "state":
        return Trajectory(ts, out[0], out[1], None, code)
    return Trajectory(ts, None, None, out, code)
