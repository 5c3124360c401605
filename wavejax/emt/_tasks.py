"""The horizon curriculum of the EMT recipe (docs/emt.md §4) on top of the shared task module.

The task vocabulary (task ids, decoding to F, lag matrices, the batch generator) has ONE implementation, in
:mod:`wavejax.tasks` (:func:`~wavejax.tasks.parse_task_id`, :func:`~wavejax.tasks.decode_task`,
:func:`~wavejax.tasks.lag_matrices`, :func:`~wavejax.tasks.task_batch`, :func:`~wavejax.tasks.task_table`,
:data:`~wavejax.tasks.NAMED_TASKS`). This module adds

* :data:`CURRICULUM`: the output-phase lengths per level;
* :func:`curriculum_batch_fn`: the generator as a ``batch_fn(key, level[, phi])`` of the training engine
  (:func:`wavejax.rnn.train`): every level is padded to the longest horizon and the output mask stops at
  ``s + horizons[level]``; by causality the gradient equals the one of the unpadded sequence.

Layout is batch-first: x, y have shape ``(B, s + L, d)`` (the original is sequence-first (T, B, d)).
F has shape ``(s*d, d)``: row (slot) ``k*d + c`` is time t - s + k (k = 0 oldest), dim c; exactly one +-1 per column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from wavejax import _validate
from wavejax.tasks import task_batch

__all__ = ["CURRICULUM", "curriculum_batch_fn"]

#: The horizon curriculum of the recipe (docs/emt.md §4): output-phase lengths per level.
CURRICULUM: tuple[int, ...] = (10, 20, 40, 60, 100)


def curriculum_batch_fn(phi: np.ndarray | None, *, batch: int, horizons: Sequence[int] = CURRICULUM,
                        dtype=jnp.float32) -> Callable:
    """``batch_fn(key, level[, phi])`` for :func:`wavejax.rnn.train` (``curriculum="pad"``).

    Every batch is generated at the longest horizon ``max(horizons)``; the mask is True for
    ``s <= t < s + horizons[level]``, so the loss and the sign accuracy only see the current level's horizon.
    Since the RNN is causal, padded steps do not change the loss or its gradient.

    Args:
      phi: lag matrices ``(s, d, d)`` closed over (one task); ``None``: the task is the per-member ``data``
        argument of the engine (a swept task axis).
      batch: batch size.
      horizons: increasing output-phase lengths per curriculum level.
      dtype: dtype of the batch.

    Returns:
      The batch function; ``level`` may be a Python int or a traced int32 scalar.
    """
    batch = _validate.positive_int("batch", batch)
    hz = tuple(_validate.positive_int("horizons", h) for h in horizons)
    if not hz or list(hz) != sorted(hz):
        raise ValueError(f"horizons must be a non-empty increasing sequence; got {horizons!r}")
    if phi is not None:
        _validate.ndim("phi", phi, 3)
        phi_c = np.asarray(phi, np.float64)
    hmax = hz[-1]
    hz_arr = np.asarray(hz, np.int32)

    def batch_fn(key, level, data=None):
        p = jnp.asarray(phi_c if data is None else data, dtype)
        s = p.shape[0]
        x, y, _ = task_batch(key, p, horizon=hmax, batch=batch, dtype=dtype)
        t = jnp.arange(s + hmax)
        mask = (t >= s) & (t < s + jnp.asarray(hz_arr)[level])
        return x, y, mask

    return batch_fn

