"""The binary linear variable-binding tasks of EMT (emt.md §2.2, §3).

Task decoding and the data generator have ONE implementation, in :mod:`wavejax.wave.hds`
(:func:`~wavejax.wave.hds.decode_task`, :func:`~wavejax.wave.hds.binary_vb_task`,
:func:`~wavejax.wave.hds.binary_task_batch`); this module re-exports them under the EMT names and adds what the
EMT experiments need on top:

* :data:`TASKS`: the four tasks of Table 1 keyed by name (results are keyed by the explicit id, since the T2/T3
  labels of the sources are ambiguous);
* :func:`task_table`: F read back as ``j <- (sign, lag, src)``: y_j(t) = sign * y_src(t - lag);
* :func:`make_batch`: the generator in the spec's API, from F instead of the lag matrices;
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
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.wave.hds import NAMED_TASKS, binary_task_batch, binary_vb_task, decode_task, operator_to_phi

__all__ = ["TASKS", "CURRICULUM", "decode_task", "binary_vb_task", "task_id", "task_table", "make_batch",
           "curriculum_batch_fn"]

#: The four tasks of the spec (s = d = 8), name -> (id1, id2, id3); the same dict as ``wavejax.wave.NAMED_TASKS``.
TASKS: dict[str, tuple[int, int, int]] = NAMED_TASKS

#: The horizon curriculum of the recipe (emt.md §4): output-phase lengths per level.
CURRICULUM: tuple[int, ...] = (10, 20, 40, 60, 100)


def task_id(task: str | tuple[int, int, int] | Sequence[int]) -> tuple[int, int, int]:
    """The explicit 3-integer id of a task name or id (validated by decoding it with s = d = 8)."""
    if isinstance(task, str):
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; named tasks are {tuple(TASKS)}")
        return TASKS[task]
    decode_task(tuple(task) if isinstance(task, list) else task)  # raises ValueError on a malformed id
    return tuple(int(v) for v in task)  # type: ignore[return-value]


def task_table(F: np.ndarray, s: int, d: int) -> list[tuple[int, int, int]]:
    """Read F back as one ``(sign, lag, src)`` per output dim j: y_j(t) = sign * y_src(t - lag) (emt.md §3).

    Args:
      F: the selection operator, shape ``(s*d, d)`` with exactly one nonzero (+-1) per column.
      s: history length.
      d: state dimension.

    Returns:
      A list of d tuples ``(sign, lag, src)`` with lag in 1..s, src in 0..d-1.

    Examples:
      >>> task_table(decode_task((255, 0, 0)), 8, 8)[:2]           # repeat copy: y(t) = y(t-8)
      [(1, 8, 0), (1, 8, 1)]
    """
    _validate.shape("F", F, (s * d, d))
    F = np.asarray(F)
    out = []
    for j in range(d):
        nz = np.flatnonzero(F[:, j])
        if len(nz) != 1 or abs(F[nz[0], j]) != 1:
            raise ValueError(f"F column {j} must have exactly one +-1 entry; it has {len(nz)} nonzeros")
        k, c = divmod(int(nz[0]), d)
        out.append((int(np.sign(F[nz[0], j])), s - k, c))
    return out


def make_batch(key: Array, F: np.ndarray, s: int, horizon: int, batch: int, *, dtype=jnp.float32
               ) -> tuple[Float[Array, "B T d"], Float[Array, "B T d"], Array]:
    """A fresh batch of the task with operator F (emt.md §3; generated on device from ``key``).

    Input phase: u(t) in {-1, +1}^d i.i.d. uniform for t = 0..s-1, then 0. Targets: y(t) = 0 for t < s; for t >= s
    y(t) = F^T vec(w(t)), w(t) = [y(t-s), ..., y(t-1)] oldest first, seeded with y(t) = u(t) for t < s.

    Args:
      key: PRNG key.
      F: selection operator ``(s*d, d)``.
      s: history length (input-phase length).
      horizon: output-phase length L >= 1.
      batch: batch size B >= 1.
      dtype: dtype of x, y.

    Returns:
      ``(x, y, mask)`` with x, y of shape ``(B, s + L, d)`` and mask ``(s + L,)`` True on the output phase.
    """
    s = _validate.positive_int("s", s)
    d = _validate.shape("F", F, (None, None))[1]
    _validate.shape("F", F, (s * d, d))
    return binary_task_batch(key, operator_to_phi(np.asarray(F), s, d), horizon=horizon, batch=batch, dtype=dtype)


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
        x, y, _ = binary_task_batch(key, p, horizon=hmax, batch=batch, dtype=dtype)
        t = jnp.arange(s + hmax)
        mask = (t >= s) & (t < s + jnp.asarray(hz_arr)[level])
        return x, y, mask

    return batch_fn

