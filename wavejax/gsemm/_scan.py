"""The fixed-step ``lax.scan`` solver of GSEMM (docs/gsemm.md §4.1): Euler, RK4 and the authors' RK4 operator split.

ONE scan solver for every fixed-step path (``simulate``'s ``*_scan`` solvers, ``simulate_batch``'s ``scan`` and
``projected`` strategies, the capacity sweep, recall after learning). It integrates any vector field in Diffrax's
``f(t, y, args)`` form (a :class:`~wavejax.gsemm.Model` is one; so is the projected K-dimensional system of
:mod:`wavejax.gsemm._batch`) on a pytree state ``y = (v, v_d)``: an outer ``lax.scan`` over save intervals, an inner
one over ``stride`` steps, no step-size control. Batch with ``jax.vmap`` outside.

* ``euler``:     y <- y + dt f(t, y)
* ``rk4``:       classical RK4 on the joint state y
* ``rk4_split``: the authors' operator split (``dynSim.py`` ``DynamicalSystem.update``): v takes an RK4 step with
  v_d frozen, then v_d takes an RK4 step with v frozen at its new value. For the linear delay ODE
  T_d dv_d/dt = b_d sigma_f(v) - v_d that second step is v_d <- c + (v_d - c)(1 - x + x^2/2 - x^3/6 + x^4/24),
  c = b_d sigma_f(v_new), x = dt/T_d (the RK4 step of a linear ODE is its 4th-order Taylor polynomial).

Each method is written once (:func:`euler_step`, :func:`rk4_step`; the split composes :func:`rk4_step` twice).
The split reproduces the authors' update formulas step for step (same stages, same order); it is not
bit-for-bit equal to their NumPy code (different summation order: round-off level, see the tests).

A step that leaves the finite numbers (an unstable dt, a diverging member of a batch) is reported, not raised:
:func:`scan_solve` returns a ``finite`` flag alongside the saved values.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__: list[str] = []  # internal: the one fixed-step solver behind gsemm.solve

SCAN_METHODS = ("euler", "rk4", "rk4_split")


def _axpy(a, x, y):  # y + a * x over pytrees
    return jax.tree.map(lambda xi, yi: yi + a * xi, x, y)


def euler_step(f: Callable, t, y, args, dt):
    """One explicit Euler step y + dt f(t, y, args) on a pytree y."""
    return _axpy(dt, f(t, y, args), y)


def rk4_step(f: Callable, t, y, args, dt):
    """One classical RK4 step on a pytree y: y + dt/6 (k1 + 2 k2 + 2 k3 + k4)."""
    k1 = f(t, y, args)
    k2 = f(t + dt / 2, _axpy(dt / 2, k1, y), args)
    k3 = f(t + dt / 2, _axpy(dt / 2, k2, y), args)
    k4 = f(t + dt, _axpy(dt, k3, y), args)
    return jax.tree.map(lambda yy, a, b, c, d: yy + dt / 6 * (a + 2 * b + 2 * c + d), y, k1, k2, k3, k4)


def split_step(f: Callable, t, y, args, dt):
    """The authors' operator split on ``y = (v, v_d)``: RK4 for v with v_d frozen, then RK4 for v_d with the new v."""
    v, vd = y
    v_new = rk4_step(lambda tt, vv, a: f(tt, (vv, vd), a)[0], t, v, args, dt)
    vd_new = rk4_step(lambda tt, dd, a: f(tt, (v_new, dd), a)[1], t, vd, args, dt)
    return v_new, vd_new


_STEPS = {"euler": euler_step, "rk4": rk4_step, "rk4_split": split_step}


def _finite(y) -> jax.Array:
    return jnp.all(jnp.asarray([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(y)]))


def scan_solve(f: Callable, y0, args, *, dt: float, stride: int, n_save: int, method: str = "euler",
               save_fn: Callable | None = None, clip: bool = False):
    """Integrate ``dy/dt = f(t, y, args)`` from t = 0 with fixed step ``dt``; save every ``stride`` steps.

    Args:
      f: vector field ``f(t, y, args)`` (e.g. a :class:`~wavejax.gsemm.Model`).
      y0: initial state pytree (``(v0, vd0)`` for GSEMM). args: passed to ``f`` and ``save_fn``.
      dt: step size; stride: steps between saves; n_save: number of saved points (t = 0, stride dt, ...).
      method: one of ``SCAN_METHODS``.
      save_fn: what to save, ``save_fn(t, y, args) -> pytree`` (Diffrax ``SaveAt(fn=...)`` form); default y.
      clip: clip the first leaf of y (v) to [-1, 1] after every step (some author notebooks; not the model).

    Returns:
      ``(saved, finite)``: the saved pytree with a leading axis of length ``n_save`` and a scalar bool, False
      when the state left the finite numbers (saved values after that point are inf/NaN).
    """
    if method not in _STEPS:
        raise ValueError(f"method must be one of {SCAN_METHODS}; got method={method!r}")
    step = _STEPS[method]
    save_fn = save_fn or (lambda t, y, a: y)

    def inner(carry, _):
        t, y = carry
        y = step(f, t, y, args, dt)
        if clip:
            y = (jnp.clip(y[0], -1.0, 1.0), *y[1:])
        return (t + dt, y), None

    def outer(carry, _):
        carry, _ = jax.lax.scan(inner, carry, None, length=stride)
        t, y = carry
        return carry, save_fn(t, y, args)

    t0 = jnp.zeros((), jax.tree.leaves(y0)[0].dtype)
    first = save_fn(t0, y0, args)
    (_, y_end), rest = jax.lax.scan(outer, (t0, y0), None, length=n_save - 1)
    saved = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b], axis=0), first, rest)
    return saved, _finite(y_end)
