"""Fixed-step ``lax.scan`` integrators for GSEMM (gsemm.md §4.1): Euler, RK4 and the authors' RK4 operator split.

These are the fast path for long fixed-step runs (capacity sweeps, benchmarks, parity with ``dynSim.py``): one
``lax.scan`` over save intervals, an inner ``lax.scan`` over ``stride`` steps, no step-size control. The state is
``(v, v_d)``, each of shape (N,); batch with ``jax.vmap`` outside.

* ``euler``:     y <- y + dt f(y)
* ``rk4``:       classical RK4 on the joint state (v, v_d)
* ``rk4_split``: ``dynSim.py``: v takes an RK4 step with v_d frozen, then v_d takes an Euler step with the new v
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from wavejax.gsemm.models import Model, Params, vector_field

__all__ = ["SCAN_METHODS", "scan_solve", "piecewise_current"]

SCAN_METHODS = ("euler", "rk4", "rk4_split")


def piecewise_current(current, t):
    """I(t) for ``current = (edges (P+1,), patterns (P, N))``: patterns[i] on [edges[i], edges[i+1]), else 0."""
    if current is None:
        return None
    edges, pats = current
    idx = jnp.searchsorted(edges, t, side="right") - 1
    inside = (idx >= 0) & (idx < pats.shape[0])
    return jnp.where(inside, pats[jnp.clip(idx, 0, pats.shape[0] - 1)], 0.0)


def _step_fn(model: Model, p: Params, method: str, dt: float, current) -> Callable:
    def f(t, v, vd):
        return vector_field(model, p, v, vd, piecewise_current(current, t))

    def euler(t, v, vd):
        dv, dvd = f(t, v, vd)
        return v + dt * dv, vd + dt * dvd

    def rk4(t, v, vd):
        k1 = f(t, v, vd)
        k2 = f(t + dt / 2, v + dt / 2 * k1[0], vd + dt / 2 * k1[1])
        k3 = f(t + dt / 2, v + dt / 2 * k2[0], vd + dt / 2 * k2[1])
        k4 = f(t + dt, v + dt * k3[0], vd + dt * k3[1])
        return tuple(y + dt / 6 * (a + 2 * b + 2 * c + d) for y, a, b, c, d in zip((v, vd), k1, k2, k3, k4,
                                                                                   strict=True))

    def rk4_split(t, v, vd):
        fv = lambda tt, vv: f(tt, vv, vd)[0]  # noqa: E731  (v_d frozen during the v step)
        k1 = fv(t, v)
        k2 = fv(t + dt / 2, v + dt / 2 * k1)
        k3 = fv(t + dt / 2, v + dt / 2 * k2)
        k4 = fv(t + dt, v + dt * k3)
        v_new = v + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return v_new, vd + dt * f(t, v_new, vd)[1]

    return {"euler": euler, "rk4": rk4, "rk4_split": rk4_split}[method]


def scan_solve(model: Model, p: Params, v0, vd0, *, dt: float, stride: int, n_save: int, method: str = "euler",
               save_fn: Callable | None = None, current=None, clip: bool = False):
    """Integrate from t=0 with fixed step ``dt``; save ``save_fn(t, v, v_d)`` every ``stride`` steps.

    Args:
      model, p: the GSEMM instance and its :class:`Params`.
      v0, vd0: initial feature and delay states, shape (N,).
      dt: step size; stride: steps between saves; n_save: number of saved points (t = 0, stride dt, ...).
      method: one of ``SCAN_METHODS``.
      save_fn: what to save, ``(t, v, v_d) -> pytree``; default the state ``(v, v_d)``.
      current: optional piecewise-constant input ``(edges, patterns)`` (see :func:`piecewise_current`).
      clip: clip v to [-1, 1] after every step (some author notebooks; not part of the model).

    Returns:
      The saved pytree with a leading axis of length ``n_save``.
    """
    step = _step_fn(model, p, method, dt, current)
    save_fn = save_fn or (lambda t, v, vd: (v, vd))

    def inner(carry, _):
        t, v, vd = carry
        v, vd = step(t, v, vd)
        if clip:
            v = jnp.clip(v, -1.0, 1.0)
        return (t + dt, v, vd), None

    def outer(carry, _):
        carry, _ = jax.lax.scan(inner, carry, None, length=stride)
        t, v, vd = carry
        return carry, save_fn(t, v, vd)

    t0 = jnp.zeros((), v0.dtype)
    first = save_fn(t0, v0, vd0)
    _, rest = jax.lax.scan(outer, (t0, v0, vd0), None, length=n_save - 1)
    return jax.tree.map(lambda a, b: jnp.concatenate([a[None], b], axis=0), first, rest)
