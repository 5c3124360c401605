"""One step of the sequence engine and its compiled chunk (docs/emt.md §4; docs/wave.md §4).

:class:`TrainConfig` (static settings), :class:`TrainState` (one run's state), :func:`init_state`,
:func:`train_step` (one optimizer step + curriculum update, pure) and the cached, jitted, member-vmapped chunk of
``cfg.chunk`` steps that :func:`wavejax.rnn.train` hands to the driver (:func:`wavejax.loop.run_chunks`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import optax

from wavejax import _validate, distributed
from wavejax._matmul import check_precision, matmul_precision
from wavejax.rnn._metrics import sign_accuracy
from wavejax.rnn._optim import make_optimizer

__all__ = ["TrainConfig", "TrainState", "init_state", "train_step"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Static training settings (hashable: a static ``jit`` argument). Swept values override lr/l2/threshold."""

    steps: int = 20_000  # total optimizer steps (10 epochs x 2000 batches, docs/emt.md §4)
    lr: float = 1e-3  # Adam learning rate (default when not swept)
    l2: float = 0.0  # coupled L2 weight decay added to the gradient inside Adam (default when not swept)
    clip: float = 1.0  # global gradient-norm clip, applied before the decay term
    # curriculum: advance when a batch's accuracy exceeds this (default when not swept)
    threshold: float = 0.96
    n_levels: int = 5  # number of curriculum levels passed to batch_fn as level = 0..n_levels-1
    curriculum: Literal["pad", "compile"] = "pad"  # traced level + padded shapes, or one compile per level
    chunk: int = 100  # steps per compiled lax.scan call (host sync granularity)
    log_every: int = 100  # JSONL metrics every this many steps (multiple of chunk)
    ckpt_every: int = 1000  # orbax checkpoint every this many steps (multiple of chunk; 0 = never)
    # members vmapped together per device (None: a device's whole slice). 1 runs a device's members one after another
    # inside the same compiled program (lax.map): on a CPU with one device per core
    # (XLA_FLAGS=--xla_force_host_platform_device_count=<cores>) this beats vmapping, whose memory traffic grows
    # with the member count (benchmarks/bench_train.py); on GPU/TPU keep None.
    member_block: int | None = None
    # float32 matmul precision of the step (docs/gpu-tpu.md): "highest" = true float32 on TPU (6 bf16 passes) and
    # no TF32 on GPU, what the CPU-measured claims need; "default" lets TPU/GPU use bf16 passes / TF32 (faster)
    matmul_precision: Literal["default", "high", "highest"] = "highest"

    def __post_init__(self):
        _validate.positive_int("steps", self.steps)
        _validate.positive("lr", self.lr)
        _validate.nonneg("l2", self.l2)
        _validate.positive("clip", self.clip)
        _validate.probability("threshold", self.threshold)
        _validate.positive_int("n_levels", self.n_levels)
        _validate.one_of("curriculum", self.curriculum, ("pad", "compile"))
        _validate.positive_int("chunk", self.chunk)
        _validate.positive_int("log_every", self.log_every)
        _validate.nonneg_int("ckpt_every", self.ckpt_every)
        if self.member_block is not None:
            _validate.positive_int("member_block", self.member_block)
        check_precision("matmul_precision", self.matmul_precision)
        if self.log_every % self.chunk:
            raise ValueError(f"log_every={self.log_every} must be a multiple of chunk={self.chunk}")
        if self.ckpt_every % self.chunk:
            raise ValueError(f"ckpt_every={self.ckpt_every} must be a multiple of chunk={self.chunk}")

    @classmethod
    def quick(cls) -> TrainConfig:  # seconds on CPU: tests and notebooks
        return cls(steps=200, chunk=50, log_every=50, ckpt_every=0)

    @classmethod
    def full(cls) -> TrainConfig:  # the paper recipe (docs/emt.md §4)
        return cls()


class TrainState(NamedTuple):
    """State of one run (a leading member axis when swept): step, params, optimizer state, level, key data."""

    step: Any  # int32 scalar, optimizer steps taken
    params: Any  # model parameters (pytree)
    opt_state: Any  # optax state
    level: Any  # int32 scalar, current curriculum level
    key: Any  # uint32 raw key data of the run's base key (per-step key = fold_in(key, step))


def init_state(model, key, x_example, *, cfg: TrainConfig) -> TrainState:
    """Initial state of one run: params from the first half of ``split(key)``, level 0, step 0."""
    key = _validate.prng_key("key", key)
    pkey, _ = jax.random.split(key)
    params = model.init(pkey, x_example)["params"]
    opt_state = make_optimizer(cfg.lr, cfg.l2, cfg.clip).init(params)
    return TrainState(jnp.int32(0), params, opt_state, jnp.int32(0), jax.random.key_data(key))


def _call_batch(batch_fn, key, level, data):
    return batch_fn(key, level) if data is None else batch_fn(key, level, data)


def train_step(state: TrainState, hp: Mapping[str, Any], data: Any = None, *, model, batch_fn, loss_fn,
               cfg: TrainConfig, level=None) -> tuple[TrainState, dict]:
    """One optimizer step of one run (pure; vmap over members, scan over steps).

    ``hp`` holds scalar arrays ``lr``, ``l2``, ``threshold`` and optionally ``grad_mask`` (a params-shaped
    pytree multiplied into the gradient before clipping, see :func:`train`). ``level`` None (pad mode) uses
    ``state.level``; a Python int (compile mode) builds that level's shapes and skips the step when
    ``state.level`` differs. Returns the new state and metrics ``loss``, ``accuracy``, ``grad_norm``, ``level``
    (level of this batch) and ``valid`` (the step ran).
    """
    with matmul_precision(cfg.matmul_precision):
        return _train_step(state, hp, data, model=model, batch_fn=batch_fn, loss_fn=loss_fn, cfg=cfg, level=level)


def _train_step(state, hp, data, *, model, batch_fn, loss_fn, cfg, level):
    active = state.step < cfg.steps
    if level is not None:
        active = active & (state.level == level)
    lvl = state.level if level is None else level
    key = jax.random.fold_in(jax.random.wrap_key_data(state.key), state.step)

    def do(state):
        x, y, mask = _call_batch(batch_fn, key, lvl, data)

        def loss_of(p):
            pred = model.apply({"params": p}, x)
            return loss_fn(pred, y, mask), pred

        (loss, pred), grads = jax.value_and_grad(loss_of, has_aux=True)(state.params)
        # each gradient in its parameter's dtype: the optimizer state then keeps its dtypes and both lax.cond
        # branches agree (float64 batches of a float32 model under 64-bit mode gave an opaque cond dtype error)
        grads = jax.tree.map(lambda g, p: g.astype(p.dtype), grads, state.params)
        if "grad_mask" in hp:  # per-member 0/1 multipliers (train(grad_mask=...)): frozen entries get 0
            grads = jax.tree.map(lambda g, m: g * m.astype(g.dtype), grads, hp["grad_mask"])
        opt = make_optimizer(hp["lr"], hp["l2"], cfg.clip)
        updates, opt_state = opt.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        acc = sign_accuracy(pred, y, mask).astype(jnp.float32)
        up = (acc > hp["threshold"]) & (state.level < cfg.n_levels - 1)
        new = TrainState(state.step + 1, params, opt_state, state.level + up.astype(jnp.int32), state.key)
        gnorm = optax.global_norm(grads).astype(jnp.float32)
        return new, {"loss": loss.astype(jnp.float32), "accuracy": acc, "grad_norm": gnorm}

    def skip(state):
        nan = jnp.float32(jnp.nan)
        return state, {"loss": nan, "accuracy": nan, "grad_norm": nan}

    new, metrics = jax.lax.cond(active, do, skip, state)
    metrics["level"] = jnp.asarray(state.level, jnp.int32)
    metrics["valid"] = active
    return new, metrics


@functools.lru_cache(maxsize=64)
def _chunk_fn(model, batch_fn, loss_fn, cfg, level, mesh=None):
    """The jitted, vmapped chunk of ``cfg.chunk`` steps (cached: same pieces, same compiled program).

    With a ``mesh`` the vmapped chunk runs under ``shard_map`` over the ``"sweep"`` axis: every device executes
    exactly the single-device vmapped program on its slice of members (no cross-device op exists), so a
    sharded sweep gives the same bits as the unsharded one. Plain ``jit`` with sharded inputs lets the SPMD
    partitioner re-fuse the elementwise optimizer update, which changed the last bit of some parameters.
    """
    def run_one(state, hp, data):
        def body(st, _):
            return train_step(st, hp, data, model=model, batch_fn=batch_fn, loss_fn=loss_fn, cfg=cfg,
                              level=level)

        return jax.lax.scan(body, state, None, length=cfg.chunk)

    return jax.jit(distributed.sweep_vmap(run_one, mesh, block=cfg.member_block), donate_argnums=0)
