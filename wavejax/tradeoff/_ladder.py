"""The compression ladder of a trained group (docs/tradeoff.md §2.2, §4 step 4): quantise + compress every member at
every (b, s), then evaluate all dequantised models in one vmapped, device-sharded call.

Losses: log-loss in nats/step (one-hot symbol tasks) or MSE (real-valued tasks), averaged over the test programs
after a burn-in of ``burn`` steps, each test program run from h(0) = 0 over its whole length.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate
from wavejax.distributed import pad_leading
from wavejax.tradeoff import _cost
from wavejax.tradeoff._data import TaskData, encode, make_eval_loss_fn
from wavejax.tradeoff._models import macs_per_step, state_bits

__all__ = ["evaluate_stack", "ladder_points", "member_diverged"]


class LadderSpec(Protocol):
    """The fields of a sweep config that :func:`ladder_points` reads (:class:`~wavejax.tradeoff.SweepConfig` has
    them); a protocol, so this module does not import the sweep that calls it."""

    task: str
    bits: tuple[int, ...]
    sparsities: tuple[float, ...]
    scale_bits: int
    slots: int
    burn: int


def _point_key(gkey: str, seed: int, bits: int, sparsity: float, scale_bits: int = 32) -> str:
    return f"{gkey}|s{seed}|b{bits}|p{sparsity:g}" + ("" if scale_bits == 32 else f"|k{scale_bits}")


EVAL_BLOCK = 8  # members vmapped together in the evaluation; fixed so that any device count gives the same bits


@functools.lru_cache(maxsize=32)
def _program_batch_fn(task: TaskData, split: str, burn: int, dtype: str) -> Callable:
    """The whole ``split`` programs as ONE fixed batch ``key -> (x, y, mask)`` (the key is ignored): the
    "whole-program" mode of :func:`wavejax.rnn.evaluate`; cached so that equal calls share one compile."""
    data = jnp.asarray(getattr(task, split))
    x, y = encode(data[:, :-1], task, dtype=dtype), encode(data[:, 1:], task, dtype=dtype)
    mask = jnp.arange(x.shape[1]) >= burn

    def batch_fn(key):
        del key
        return x, y, mask

    return batch_fn


def evaluate_stack(model: Any, params: Any, task: TaskData, *, burn: int, split: str = "test",
                   max_members: int = 64, dtype: Any = jnp.float32) -> np.ndarray:
    """Loss of every member of a stacked params pytree (leading axis M) on the whole ``split`` programs.

    Each program is run from h(0) = 0 over its whole length; the loss averages steps t >= ``burn`` of all
    programs. This is :func:`wavejax.rnn.evaluate` in whole-program mode (one fixed batch, ``n_batches=1``, no
    metric) with members vmapped in blocks of :data:`EVAL_BLOCK` over all devices, so the losses are
    bit-identical for any device count; calls of at most ``max_members`` (the last one padded, so one compile
    serves all) bound the memory. ``dtype``: the model inputs (float32 by default, whatever the 64-bit mode).

    Returns:
      float64 array of shape (M,); non-finite where a (dequantised) model diverges.
    """
    from wavejax.rnn import evaluate

    _validate.one_of("split", split, ("train", "val", "test"))
    _validate.positive_int("max_members", max_members)
    batch_fn = _program_batch_fn(task, split, int(burn), jnp.dtype(dtype).name)
    loss_fn = make_eval_loss_fn(task)
    M = int(jax.tree_util.tree_leaves(params)[0].shape[0])
    size = min(M, max_members)
    out = []
    for lo in range(0, M, size):
        block = jax.tree_util.tree_map(lambda a, lo=lo: jnp.asarray(a[lo:lo + size]), params)
        block, n = pad_leading(block, size)  # the last block padded to ``size``: one compile serves all blocks
        res = evaluate(model, block, batch_fn, key=jax.random.key(0), loss_fn=loss_fn, metric_fn=None, n_batches=1,
                       stacked=True, block=EVAL_BLOCK)
        out.append(np.asarray(res["loss"], np.float64)[:n])
    return np.concatenate(out)[:M]


def member_diverged(params: Any, loss_hist: Any = None) -> np.ndarray:
    """Per member of a stacked params pytree (leading axis M): True where a parameter is NaN/inf or the last
    training loss in ``loss_hist`` (M, steps) is non-finite. Host side, no compile; checked before compressing."""
    leaves = jax.tree_util.tree_leaves(params)
    M = int(leaves[0].shape[0])
    bad = np.zeros(M, bool)
    for a in leaves:
        bad |= ~np.isfinite(np.asarray(a, np.float64).reshape(M, -1)).all(axis=1)
    if loss_hist is not None:
        bad |= ~np.isfinite(np.asarray(loss_hist, np.float64).reshape(M, -1)[:, -1])
    return bad


def ladder_points(model: Any, params: Any, task: TaskData, cfg: LadderSpec, *, family: str, width: int,
                  gkey: str, diverged: Any = None) -> list[dict[str, Any]]:
    """Quantise + compress every member of a stacked group at every (b, s) and evaluate them all at once.

    A member with a non-finite parameter, or flagged in ``diverged`` (bool (M,), e.g. from
    :func:`member_diverged` of the training loss), is not compressed: its points carry ``"diverged": True``,
    ``"loss": None`` and ``"cost_bits": None`` (kept off the frontier) and the other members go on.
    """
    M = int(jax.tree_util.tree_leaves(params)[0].shape[0])
    div = member_diverged(params) | (np.zeros(M, bool) if diverged is None else np.asarray(diverged, bool))
    meta, deqs = [], []
    for m in range(M):
        p_m = jax.tree_util.tree_map(lambda a, m=m: np.asarray(a[m], np.float32), params)
        N = _cost.param_count(p_m)
        for b in cfg.bits:
            for s in cfg.sparsities:
                rec = {"key": _point_key(gkey, m, b, s, cfg.scale_bits), "group": gkey, "task": cfg.task,
                       "family": family, "width": width, "seed": m, "bits": b, "sparsity": s,
                       "scale_bits": cfg.scale_bits, "n_params": N, "raw_bits": 32 * N, "raw_bits_b": b * N,
                       "macs": macs_per_step(family, width, task.d_in, task.d_in, slots=cfg.slots),
                       "state_bits": state_bits(family, width, slots=cfg.slots)}
                if div[m]:
                    meta.append({**rec, "diverged": True, "cost_bits": None, "loss": None})
                    continue
                sizes, deq = _cost.compression_costs(p_m, b, s, scale_bits=cfg.scale_bits)
                deqs.append(deq)
                meta.append({**rec, "cost_bits": sizes["best"],
                             "cost_bits_scale32": sizes.get("best_scale32", sizes["best"]), "sizes": sizes,
                             "nonzeros": _cost.nonzeros(deq)})
    live = [rec for rec in meta if not rec.get("diverged")]
    if live:
        stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *deqs)
        losses = evaluate_stack(model, stacked, task, burn=cfg.burn)
        for rec, loss in zip(live, losses, strict=True):
            rec["loss"] = float(loss) if math.isfinite(float(loss)) else None  # None: diverged, off the frontier
    return meta
