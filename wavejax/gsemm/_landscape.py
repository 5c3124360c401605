"""Energy of GSEMM and the moving energy minimum (docs/gsemm.md §2.3, §5 "Energy-surface analysis").

At a time t the fast state sees the instantaneous surface E(.; v_d(t)). Minimising it from each memory xi^mu
gives the "memory fixed points"; minimising from the current v(t) gives the "current fixed point", whose identity
switches from xi^mu to xi^{mu+1} as v_d loads xi^mu. Minimisation is plain gradient descent with ``jax.grad`` of
the energy (fixed step count, so it is vmappable over starts and times).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.gsemm._models import Params, energy_params, get_model, make_params
from wavejax.gsemm._simulate import validate_network
from wavejax.precision import require_dtype

__all__ = ["energy", "minimize", "MovingMinimum", "moving_minimum"]


def energy(model: str, xi, phi, v, v_d, *, alpha_s, alpha_c, beta_d=1.0, gamma=1.0, dtype=jnp.float64):
    """Energy E(v; v_d) of docs/gsemm.md §2.3 with h algebraic (``beta_d`` does not enter E; kept for symmetry).

    Args:
      model: "lisem", "dsem" or "dsem_poly". xi (N, K), phi (K, K).
      v, v_d: states of shape (N,) or (T, N) (then E is evaluated per row).

    Returns:
      E, shape () or (T,).

    Examples:
      >>> from wavejax.gsemm import cycle_memories
      >>> f32 = dict(dtype=jnp.float32)
      >>> xi, phi = cycle_memories(jax.random.key(0), 16, 3, **f32)
      >>> e = energy("dsem", xi, phi, xi[:, 0], jnp.zeros(16), alpha_s=1.0, alpha_c=0.0, **f32)
      >>> bool(e < energy("dsem", xi, phi, -0.5 * xi[:, 0], jnp.zeros(16), alpha_s=1.0, alpha_c=0.0, **f32))
      True
    """
    N, _ = validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=1.0, t_d=1.0,
                            gamma=gamma)
    dtype = require_dtype(dtype)
    v, v_d = jnp.asarray(v, dtype), jnp.asarray(v_d, dtype)
    if v.shape != v_d.shape or v.shape[-1] != N or v.ndim not in (1, 2):
        raise ValueError(f"v and v_d must both have shape (N,) or (T, N) with N={N}; got {v.shape}, {v_d.shape}")
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, gamma=gamma, dtype=dtype)
    return _energy_jit(model, p, v, v_d)


@functools.partial(jax.jit, static_argnames="model")
def _energy_jit(model, p, v, v_d):
    f = functools.partial(energy_params, get_model(model), p)
    return jax.vmap(f)(v, v_d) if v.ndim == 2 else f(v, v_d)


@functools.partial(jax.jit, static_argnames=("model", "steps"))
def minimize(model: str, p: Params, v_start, v_d, *, steps: int = 400, lr: float = 0.2):
    """Gradient descent v <- v - lr dE/dv on E(.; v_d) from ``v_start`` (N,), ``steps`` times; returns (v*, E(v*))."""
    m = get_model(model)
    grad = jax.grad(energy_params, argnums=2)

    def body(_, v):
        return v - lr * grad(m, p, v, v_d)

    v = jax.lax.fori_loop(0, steps, body, v_start)
    return v, energy_params(m, p, v, v_d)


class MovingMinimum(NamedTuple):
    """Minima of E(.; v_d(t)) at chosen times (T = number of times, K memories).

    mem_energy (T, K): E at the minimum reached from each xi^mu; mem_state (T, K): which memory that minimum
    overlaps most; cur_energy (T,), cur_state (T,): the minimum reached from v(t); cur_pc1 (T,), mem_pc1 (T, K):
    projections of the minima on the first principal component of the memories.
    """

    times: np.ndarray
    mem_energy: np.ndarray
    mem_state: np.ndarray
    cur_energy: np.ndarray
    cur_state: np.ndarray
    cur_pc1: np.ndarray
    mem_pc1: np.ndarray


def moving_minimum(model: str, xi, phi, traj, times, *, alpha_s, alpha_c, beta_d=1.0, gamma=1.0, steps=400,
                   lr=0.2) -> MovingMinimum:
    """Minimise E(.; v_d(t)) from each memory and from v(t) at the saved times nearest to ``times``.

    Args:
      traj: a :class:`~wavejax.gsemm.Trajectory` (ts (T,), v (T, N), v_d (T, N)).
      times: the analysis times (M,). Other arguments as in :func:`energy`.

    Returns:
      :class:`MovingMinimum` with M rows.
    """
    validate_network(model, xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_f=1.0, t_d=1.0,
                     gamma=gamma)
    ts = np.asarray(traj.ts)
    idx = np.clip(np.searchsorted(ts, np.asarray(times, float)), 0, len(ts) - 1)
    dtype = jnp.asarray(traj.v).dtype
    p = make_params(xi, phi, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, gamma=gamma, dtype=dtype)
    v_now, vd_now = jnp.asarray(traj.v)[idx], jnp.asarray(traj.v_d)[idx]
    X = jnp.asarray(xi, dtype)
    sf = lambda v: get_model(model).feature.sigma(v, p.gamma)  # noqa: E731
    scale = jnp.sqrt(p.alpha_s) if model != "lisem" else 1.0  # DSEM minima sit near sqrt(a_s) xi^mu
    mem_starts = scale * X.T  # (K, N)

    def at_time(vd, v):
        mins = jax.vmap(lambda s: minimize(model, p, s, vd, steps=steps, lr=lr))(mem_starts)
        cur = minimize(model, p, v, vd, steps=steps, lr=lr)
        return mins, cur

    (mv, me), (cv, ce) = jax.vmap(at_time)(vd_now, v_now)
    Xn = np.asarray(X)
    centred = Xn.T - Xn.T.mean(0)
    pc1 = np.linalg.svd(centred, full_matrices=False)[2][0]
    mem_state = np.asarray(jnp.argmax(sf(mv) @ X, axis=-1))
    cur_state = np.asarray(jnp.argmax(sf(cv) @ X, axis=-1))
    return MovingMinimum(ts[idx], np.asarray(me), mem_state, np.asarray(ce), cur_state,
                         np.asarray(cv) @ pc1, np.asarray(mv) @ pc1)
