"""The engine's optimizer: PyTorch Adam + coupled weight decay + Lightning clipping (docs/emt.md §4, §8).

Example:
  >>> import jax.numpy as jnp
  >>> opt = make_optimizer(1e-3, 0.0, 1.0)
  >>> p = {"w": jnp.array([1.0, -2.0])}
  >>> upd, st = opt.update({"w": jnp.array([3.0, -4.0])}, opt.init(p), p)
  >>> [round(float(u), 6) for u in upd["w"]], int(st.count)   # first Adam step: -lr sign(g)
  ([-0.001, 0.001], 1)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = ["AdamState", "make_optimizer"]


class AdamState(NamedTuple):
    """State of :func:`make_optimizer`: step count and the first / second moment pytrees."""

    count: Any  # int32 scalar, steps taken
    mu: Any  # first moment m (same tree as the params)
    nu: Any  # second moment v


def make_optimizer(lr, l2, clip, *, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
                   ) -> optax.GradientTransformation:
    """PyTorch ``clip_grad_norm_`` + ``Adam(weight_decay=l2)`` (coupled L2) as one optax transformation.

    With g the gradient, p the params and t the step (1-based):

        g <- g min(1, clip / (||g||_2 + 1e-6))      (global norm over all leaves; torch.nn.utils.clip_grad_norm_)
        g <- g + l2 p                                (coupled L2: weight decay inside the gradient)
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        p <- p - (lr / (1 - b1^t)) m / (sqrt(v / (1 - b2^t)) + eps)

    the same update as ``optax.chain(clip_by_global_norm(clip), add_decayed_weights(l2), adam(lr))`` (docs/emt.md §8)
    up to float32 rounding, plus torch's 1e-6 in the clip. The update is written with scalar factors and ONE
    elementwise division by a non-broadcast denominator: XLA's algebraic simplifier rewrites chains of divisions
    by broadcast scalars (``(a / b) / c -> a / (b c)``, ``a / b -> a (1 / b)``) differently in differently
    partitioned programs, which changed the last bit of optax's Adam between the sharded and the single-device
    sweep; this form leaves it nothing to rewrite. ``lr``, ``l2`` may be traced scalars (swept).
    """

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return AdamState(jnp.zeros((), jnp.int32), zeros, jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        if params is None:
            raise ValueError("make_optimizer's update needs params (coupled L2)")
        norm = optax.global_norm(grads)
        coef = jnp.minimum(1.0, clip / (norm + 1e-6))
        g = jax.tree.map(lambda gi, pi: gi * coef.astype(gi.dtype) + l2 * pi, grads, params)
        mu = jax.tree.map(lambda m, gi: b1 * m + (1.0 - b1) * gi, state.mu, g)
        nu = jax.tree.map(lambda v, gi: b2 * v + (1.0 - b2) * (gi * gi), state.nu, g)
        count = state.count + 1
        t = count.astype(jnp.float32)
        # 1 - b^t = -expm1(t log b): accurate in float32 (1 - 0.999 rounds to 1.3e-5 relative error in float32;
        # torch computes the corrections in float64)
        c1 = lr / jnp.expm1(t * math.log(b1))  # = -lr / (1 - b1^t), scalar step size with the sign
        c2 = -1.0 / jnp.expm1(t * math.log(b2))  # = 1 / (1 - b2^t), scalar second-moment bias correction
        upd = jax.tree.map(lambda m, v: (m * c1) / (jnp.sqrt(v * c2) + eps), mu, nu)
        return upd, AdamState(count, mu, nu)

    return optax.GradientTransformation(init, update)
