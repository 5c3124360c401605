"""Masked losses and metrics of the sequence engine (docs/emt.md §4): ``fn(pred, y, mask) -> scalar``.

``pred`` and ``y`` have shape (B, T, d); ``mask`` has shape (T,) or (B, T) and is True where the entry counts.

Example:
  >>> import jax.numpy as jnp
  >>> y = jnp.array([[[1.0], [-1.0], [-1.0]]])
  >>> pred = jnp.array([[[0.5], [jnp.nan], [-3.0]]])
  >>> round(float(sign_accuracy(pred, y, jnp.array([True, True, True]))), 4)  # the NaN output counts as wrong
  0.6667
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

__all__ = ["masked_mse", "sign_accuracy"]


def _mask3(mask: Any, y: Any) -> Any:
    m = mask[None, :, None] if mask.ndim == 1 else mask[:, :, None]
    return jnp.broadcast_to(m, y.shape)


def masked_mse(pred: Any, y: Any, mask: Any) -> Any:
    """Mean squared error over the output phase: sum(mask (pred - y)^2) / (count(mask) d), shapes (B, T,
    d)."""
    m = _mask3(mask, y).astype(pred.dtype)
    return jnp.sum(m * (pred - y) ** 2) / jnp.maximum(jnp.sum(m), 1.0)


def sign_accuracy(pred: Any, y: Any, mask: Any) -> Any:
    """Mean over output-phase entries of [sign(pred) == y], sign(0) := +1 (docs/emt.md §4), targets +-1.

    A NaN prediction has no sign and counts as wrong (issue 11 item 9: an all-NaN model scores 0, not the
    fraction of -1 targets).
    """
    m = _mask3(mask, y)
    hit = (jnp.where(pred >= 0, 1.0, -1.0) == y) & ~jnp.isnan(pred) & m
    return jnp.sum(hit) / jnp.maximum(jnp.sum(m), 1)
