"""Memories, transition graphs and the public GSEMM simulation entry point (docs/gsemm.md §3, §4.1, §8).

``simulate`` validates in Python, packs :class:`~wavejax.gsemm.Params` and calls the one jitted
:func:`~wavejax.gsemm.solve` with a frozen :class:`~wavejax.gsemm.SolverConfig`: adaptive Diffrax
solvers use ``PIDController(rtol, atol)``, ``euler``/``rk4``/``heun`` ``ConstantStepSize(dt)`` (RK4 is a custom
Butcher tableau: Diffrax has no classical RK4 class), and the ``*_scan`` solvers the fixed-step ``lax.scan`` solver
of :mod:`wavejax.gsemm._scan` (``rk4_split_scan`` is the authors' operator split: RK4 for v with v_d frozen, then
RK4 for v_d with the new v). Every Diffrax call has ``throw=False``: failures come back as ``Trajectory.result``.

float64 by default (logits gamma*h are O(N)): it needs 64-bit mode (``wavejax.precision.enable_x64()``); with the
mode off ``simulate`` raises, and ``dtype=jnp.float32`` runs in float32 deliberately.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _memory
from wavejax import _validate as V
from wavejax.gsemm._device import refuse_f64_on_tpu
from wavejax.gsemm._models import MODELS, get_model, make_params
from wavejax.gsemm._solve import SCAN, SolverConfig, Trajectory, save_grid, solve
from wavejax.precision import require_dtype

__all__ = ["cycle_memories", "simulate"]

def cycle_memories(key: jax.Array, n_features: int, n_memories: int,
                   cycles: Sequence[Sequence[int]] | str | None = None, *, dtype=jnp.float64):
    """Rademacher memories Xi (N, K) and the transition matrix Phi (K, K) of a memory graph (docs/gsemm.md §3).

    Phi[mu, nu] = 1 for a transition mu -> nu (0-based). ``cycles=None``: one cycle 0 -> 1 -> ... -> K-1 -> 0;
    ``"chain"``: the same without the closing edge; a list of disjoint index lists: one cycle per list
    (e.g. ``[[0, 1, 2], [3, 4, 5, 6]]`` as in the authors' notebook).

    Args:
      key: PRNG key. n_features: N. n_memories: K.
      cycles: None, "chain" or disjoint cycles. dtype: float dtype (default float64: needs 64-bit mode).

    Returns:
      (xi, phi) of shapes (N, K) and (K, K).

    Examples:
      >>> xi, phi = cycle_memories(jax.random.key(0), 8, 3, dtype=jnp.float32)
      >>> phi.tolist()
      [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    key = V.prng_key("key", key)
    N, K = V.positive_int("n_features", n_features), V.positive_int("n_memories", n_memories)
    dtype = refuse_f64_on_tpu(require_dtype(dtype))
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


def validate_cue(name: str, v0, n: int) -> None:
    """Shape (n,) and finite values of a cue / initial state."""
    V.shape(name, v0, (n,))
    V.finite(name, v0)


def solver_config_or_default(solver_config: SolverConfig | None) -> SolverConfig:
    """``solver_config``, or the default :class:`SolverConfig` (Tsit5 + PID) when it is None."""
    if solver_config is None:
        return SolverConfig()
    if not isinstance(solver_config, SolverConfig):
        raise TypeError(f"solver_config must be a SolverConfig; got solver_config={solver_config!r}")
    return solver_config


def simulate(model: str, xi, phi, v0, *, t1: float, save_every: float, alpha_s, alpha_c, beta_d=1.0, t_f=1.0,
             t_d=20.0, gamma=1.0, solver_config: SolverConfig | None = None, vd0=None, t_h: float = 0.0,
             current=None, save: str = "state", dtype=jnp.float64) -> Trajectory:
    """Simulate a GSEMM from the cue ``v0`` (docs/gsemm.md §2.2, §8).

        T_f dv/dt = sqrt(a_s) Xi sigma_h(h) - v + I(t),   T_d dv_d/dt = b_d sigma_f(v) - v_d

    Args:
      model: "lisem", "dsem", "dsem_poly" or "expsm".
      xi: memories (N, K), entries +-1. phi: transitions (K, K). v0: cue (N,). vd0: initial delay (N,), default 0.
      t1: end time; save_every: spacing of saved times (ts = 0, save_every, ...).
      alpha_s, alpha_c, beta_d, t_f, t_d, gamma: model scalars (LISEM uses the code's a_c convention, §2.4).
      solver_config: a :class:`~wavejax.gsemm.SolverConfig` (solver, rtol, atol, dt, max_steps, clip); default
        ``SolverConfig()`` (Tsit5 + PID, rtol 1e-6, atol 1e-8).
      t_h: > 0 adds explicit hidden dynamics (stiff for small t_h: use "kvaerno5"; not with scan solvers).
      current: optional input I(t): an (N,) array or ``(edges (P+1,), patterns (P, N))``, piecewise constant.
      save: "state" (v, v_d) or "overlaps" (m only).
      dtype: computation dtype (float64 needs 64-bit mode).

    Returns:
      :class:`~wavejax.gsemm.Trajectory` (ts (T,), v (T, N), v_d (T, N), result code). vmap over
      v0 / vd0 / xi / phi / scalars works; a failed member has ``result != 0`` (never an exception).

    Raises:
      ValueError: bad shapes, non +-1 memories, negative time constants, unknown model/solver, NaN in v0.

    Examples:
      >>> from wavejax.gsemm import decode, overlaps
      >>> from wavejax.precision import x64_scope
      >>> with x64_scope():
      ...     xi, phi = cycle_memories(jax.random.key(0), 100, 4)
      ...     tr = simulate("dsem", xi, phi, xi[:, 0], t1=80.0, save_every=0.5, alpha_s=1.0, alpha_c=2.0)
      ...     seq, dwell = decode(tr.ts, overlaps(xi, tr.v))
      >>> seq.tolist(), dwell.tolist(), int(tr.result)
      ([0, 1, 2, 3], [17.5, 23.0, 25.5], 0)
    """
    cfg = solver_config_or_default(solver_config)
    N, K = validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d,
                            gamma=gamma, t_h=t_h)
    validate_cue("v0", v0, N)
    if vd0 is not None:
        validate_cue("vd0", vd0, N)
    for name, val in (("t1", t1), ("save_every", save_every)):
        V.positive(name, val)
    V.one_of("save", save, ("state", "overlaps"))
    dtype = refuse_f64_on_tpu(require_dtype(dtype))
    if t_h and cfg.solver in SCAN:
        raise ValueError(f"t_h > 0 needs a Diffrax solver, not solver={cfg.solver!r}")
    n_save, _ = save_grid(t1, save_every, cfg.dt if cfg.solver in SCAN else None)
    _memory.require_fits({"t1": t1, "save_every": save_every},
                         _memory.nbytes((n_save, 2 * N if save == "state" else xi.shape[1]), dtype),
                         what=f"{n_save} saved states")
    if isinstance(current, tuple):
        V.shape("current patterns", current[1], (None, N))
        V.shape("current edges", current[0], (current[1].shape[0] + 1,))
        current = (jnp.asarray(current[0], dtype), jnp.asarray(current[1], dtype))
    elif current is not None:
        V.shape("current", current, (N,))
        current = jnp.asarray(current, dtype)
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=t_f, t_d=t_d, t_h=t_h,
                    gamma=gamma, dtype=dtype)
    v0 = jnp.asarray(v0, dtype)
    vd0 = jnp.zeros_like(v0) if vd0 is None else jnp.asarray(vd0, dtype)
    return solve(get_model(model), p, v0, vd0, current, n_save=n_save, save_every=float(save_every), cfg=cfg,
                 max_steps=cfg.steps_for(t1), save=save, explicit_h=bool(t_h))
