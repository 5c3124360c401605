"""One training engine for sequence models (emt.md §4, §8; wave.md §4; ARCHITECTURE "one engine").

The pieces, each generic:

* ``model``: any Flax module mapping ``x`` (B, T, d_in) -> predictions (B, T, d_out).
* ``batch_fn(key, level) -> (x, y, mask)`` (or ``batch_fn(key, level, data)`` when a per-member ``data`` pytree
  is swept): a fresh batch generated on device from ``key`` at curriculum level ``level``; ``mask`` has shape
  (T,) or (B, T) and is True where the loss counts. In ``curriculum="pad"`` mode ``level`` is a traced int32
  scalar and every level must return the same shapes (pad to the longest horizon, mask the rest); in
  ``"compile"`` mode it is a Python int and each level may have its own shapes (one compile per level).
* ``loss_fn(pred, y, mask) -> scalar`` (default :func:`masked_mse`) and the sign accuracy :func:`sign_accuracy`.
* :class:`TrainConfig`: frozen, static; swept values (seeds, lr, l2, threshold) are arrays with a leading axis.

Optimizer (PyTorch Adam + coupled weight decay + Lightning clipping, emt.md §4): :func:`make_optimizer`, the
update of ``optax.chain(clip_by_global_norm(clip), add_decayed_weights(l2), adam(lr))`` in a form whose bits do
not depend on how XLA partitions the program.

Curriculum: after every step, if that batch's accuracy > threshold, ``level = min(level + 1, n_levels - 1)``.
The level lives in the train state, so a chunk of ``chunk`` steps is one compiled ``lax.scan`` with no host
round trip. Padding (the default) beats one compile per level for the EMT recipe: the levels below the last
last ~700 of 20k steps, so padding wastes < 1 % of the step time while every extra level costs a compile
(``benchmarks/bench_train.py`` measures both). Steps are keyed by ``fold_in(key, step)``; results are
bit-identical across runs, chunkings and resumes.

Sweeps: ``n_members`` runs are one ``vmap``-ed program. With several devices the member axis is padded to a
multiple of the device count and laid out with :func:`wavejax.distributed.shard_leading`; the chunk runs under
``shard_map`` (each device executes the vmapped program on its members) and the results are bit-identical to
the single-device sweep and to separate runs (tested on CPU with 4 forced host devices).

Example:
  >>> import jax, jax.numpy as jnp
  >>> from wavejax.rnn import Elman, TrainConfig, train
  >>> def batch_fn(key, level):               # toy task: echo the input through a linear readout
  ...     x = jax.random.normal(key, (8, 5, 2), jnp.float32)
  ...     return x, x, jnp.ones((5,), bool)
  >>> cfg = TrainConfig(steps=20, chunk=10, log_every=10, ckpt_every=0, n_levels=1)
  >>> res = train(Elman(hidden=8, d_out=2), batch_fn, cfg, key=jax.random.key(0), n_members=3)
  >>> res.history["loss"].shape               # (members, steps)
  (3, 20)
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from wavejax import _validate, distributed, io
from wavejax.progress import progress
from wavejax.rnn.evaluation import evaluate
from wavejax.rnn.metrics import masked_mse, sign_accuracy

__all__ = ["AdamState", "TrainConfig", "TrainState", "TrainResult", "masked_mse", "sign_accuracy", "make_optimizer",
           "init_state", "train_step", "train", "evaluate", "shard_members"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Static training settings (hashable: a static ``jit`` argument). Swept values override lr/l2/threshold."""

    steps: int = 20_000  # total optimizer steps (10 epochs x 2000 batches, emt.md §4)
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
        if self.log_every % self.chunk:
            raise ValueError(f"log_every={self.log_every} must be a multiple of chunk={self.chunk}")
        if self.ckpt_every % self.chunk:
            raise ValueError(f"ckpt_every={self.ckpt_every} must be a multiple of chunk={self.chunk}")

    @classmethod
    def quick(cls) -> TrainConfig:  # seconds on CPU: tests and notebooks
        return cls(steps=200, chunk=50, log_every=50, ckpt_every=0)

    @classmethod
    def full(cls) -> TrainConfig:  # the paper recipe (emt.md §4)
        return cls()


class TrainState(NamedTuple):
    """State of one run (a leading member axis when swept): step, params, optimizer state, level, key data."""

    step: Any  # int32 scalar, optimizer steps taken
    params: Any  # model parameters (pytree)
    opt_state: Any  # optax state
    level: Any  # int32 scalar, current curriculum level
    key: Any  # uint32 raw key data of the run's base key (per-step key = fold_in(key, step))


class TrainResult(NamedTuple):
    """Final (stacked) state, per-step history (members, steps) and the output folder (or None)."""

    state: TrainState
    history: dict[str, np.ndarray]
    out: Path | None


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

    the same update as ``optax.chain(clip_by_global_norm(clip), add_decayed_weights(l2), adam(lr))`` (emt.md §8)
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


def init_state(model, key, x_example, *, cfg: TrainConfig) -> TrainState:
    """Initial state of one run: params from the first half of ``split(key)``, level 0, step 0."""
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


def shard_members(tree: Any, n_members: int) -> Any:
    """Place the leading member axis of ``tree`` across all devices (thin wrapper, kept for compatibility).

    Same as ``wavejax.distributed.shard_leading(tree, pad=False)[0]``: a no-op on one device or when
    ``n_members`` is not a multiple of the device count. :func:`train` pads and shards by itself.
    """
    n = _validate.positive_int("n_members", n_members)
    tree, m = distributed.shard_leading(tree, pad=False)
    if m != n:
        raise ValueError(f"n_members={n} does not match the leading axis {m} of tree")
    return tree


def _hparams(cfg, n, sweep):
    hp = {"lr": cfg.lr, "l2": cfg.l2, "threshold": cfg.threshold}
    for k, v in (sweep or {}).items():
        if k not in hp:
            raise ValueError(f"sweep key {k!r} unknown; sweepable: {tuple(hp)}")
        hp[k] = v
    out = {}
    for k, v in hp.items():
        a = jnp.asarray(v, jnp.float32)
        if a.ndim not in (0, 1) or (a.ndim == 1 and a.shape[0] != n):
            raise ValueError(f"sweep[{k!r}] must be a scalar or have shape ({n},); got {a.shape}")
        out[k] = jnp.broadcast_to(a, (n,))
    return out


def train(model, batch_fn: Callable, cfg: TrainConfig, *, key, n_members: int = 1, sweep=None, data=None,
          loss_fn: Callable = masked_mse, out: str | Path | None = None, shard: bool = True,
          desc: str = "train", callback: Callable[[int, dict], None] | None = None, init_params: Any = None,
          grad_mask: Any = None) -> TrainResult:
    """Train ``n_members`` runs of ``model`` in one compiled program (vmap over members, sharded over devices).

    Args:
      model: Flax module (B, T, d_in) -> (B, T, d_out).
      batch_fn: ``batch_fn(key, level[, data]) -> (x, y, mask)``, see the module docstring.
      cfg: :class:`TrainConfig`.
      key: PRNG key; member m uses ``split(key, n_members)[m]`` (params from its first split, batches from
        ``fold_in(member_key, step)``). An array of ``n_members`` keys is used as the member keys directly.
      n_members: size of the leading sweep axis (seeds x hyperparameters).
      sweep: optional ``{"lr"|"l2"|"threshold": array (n_members,)}`` per-member hyperparameters.
      data: optional pytree with leading axis n_members passed to ``batch_fn`` (e.g. per-member task operators).
      loss_fn: ``loss_fn(pred, y, mask) -> scalar``.
      out: folder for ``metrics.jsonl`` and ``ckpt/`` (orbax); rerunning with the same ``out`` resumes from
        the newest checkpoint. ``None``: nothing written.
      shard: with several devices and ``n_members > 1``, pad the member axis to a multiple of the device count
        and spread it over all devices (``wavejax.distributed.shard_leading``, ``shard_map``); same bits as
        ``shard=False``.
      desc: progress-bar label.
      callback: ``callback(step, metrics)`` after every chunk (host side; raising stops training, e.g. to
        simulate an interrupt; the last checkpoint stays valid).
      init_params: optional stacked initial params (leading axis n_members, the tree ``model.init`` gives)
        used instead of ``model.init``; the member keys still drive the batches.
      grad_mask: optional stacked pytree like the params (leading axis n_members) multiplied into every
        gradient before clipping. Entries whose mask is 0 and whose initial value is 0 stay exactly 0 under
        Adam and coupled L2 (e.g. zero-padded units, so members of different widths share one program).

    Returns:
      :class:`TrainResult` with the stacked final state and per-step history arrays of shape (members, steps)
      (NaN for steps before a resume point, which are not recomputed).
    """
    n = _validate.positive_int("n_members", n_members)
    _validate.callable_("batch_fn", batch_fn)
    if cfg.curriculum == "compile" and n > 1:
        raise ValueError("curriculum='compile' needs n_members=1 (members may sit at different levels); "
                         "use curriculum='pad' for sweeps")
    hp = _hparams(cfg, n, sweep)
    keys = key if key.ndim == 1 else jax.random.split(key, n)
    if keys.shape != (n,):
        raise ValueError(f"key must be one key or an array of n_members={n} keys; got shape {keys.shape}")
    x0 = _call_batch(batch_fn, keys[0], 0, None if data is None else jax.tree.map(lambda a: a[0], data))[0]
    if init_params is None:
        state = jax.vmap(lambda k: init_state(model, k, x0, cfg=cfg))(keys)
    else:
        _check_stacked("init_params", init_params, n)
        opt0 = make_optimizer(cfg.lr, cfg.l2, cfg.clip)
        state = jax.vmap(lambda p, k: TrainState(jnp.int32(0), p, opt0.init(p), jnp.int32(0),
                                                 jax.random.key_data(k)))(init_params, keys)
    if grad_mask is not None:
        _check_stacked("grad_mask", grad_mask, n)
        if jax.tree.structure(grad_mask) != jax.tree.structure(state.params):
            raise ValueError("grad_mask must have the tree structure of the params")
        hp = {**hp, "grad_mask": jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), grad_mask)}
    state = jax.tree.map(jnp.copy, state)  # own buffers: the chunk donates its state argument
    out = None if out is None else Path(out)
    if out is not None and cfg.ckpt_every:
        restored = io.restore_checkpoint(out / "ckpt", state)
        if restored is not None:
            state = restored[1]
            done = int(restored[0])
            kept = [r for r in io.read_jsonl(out / "metrics.jsonl") if r["step"] <= done]
            io.atomic_write_text(out / "metrics.jsonl", "".join(_jsonl(r) for r in kept))
    mesh = None
    if shard and n > 1 and distributed.n_devices() > 1:
        mesh = distributed.sweep_mesh()
    # pad the member axis to whole blocks on every device (copies of the last member, dropped below)
    per = (1 if mesh is None else mesh.devices.size) * (cfg.member_block or 1)
    if per > 1:
        (state, hp, data), _ = distributed.pad_leading((state, hp, data), per)
    if mesh is not None:
        (state, hp, data), _ = distributed.shard_leading((state, hp, data), mesh)
    fns: dict[Any, Callable] = {}
    hist = {k: np.full((n, cfg.steps), np.nan, np.float32) for k in ("loss", "accuracy", "grad_norm", "level")}
    step0 = int(np.min(np.asarray(state.step)))
    bar = progress(total=cfg.steps, desc=desc, initial=step0)
    t0 = time.perf_counter()
    while int(np.min(np.asarray(state.step))) < cfg.steps:
        starts = np.asarray(state.step)
        start = int(np.min(starts))
        level = None if cfg.curriculum == "pad" else int(np.min(np.asarray(state.level)))
        if level not in fns:
            fns[level] = _chunk_fn(model, batch_fn, loss_fn, cfg, level, mesh)
        state, m = fns[level](state, hp, data)
        m = jax.device_get(distributed.unpad_leading(m, n))
        starts = starts[:n]
        valid = np.asarray(m["valid"])
        _record(hist, m, valid, starts)
        now = int(np.min(np.asarray(state.step)))
        bar.update(now - start)
        if out is not None and (now // cfg.log_every > start // cfg.log_every or now >= cfg.steps):
            _log(out, now, hist, cfg.log_every, time.perf_counter() - t0)
        if out is not None and cfg.ckpt_every and (now // cfg.ckpt_every > start // cfg.ckpt_every
                                                   or now >= cfg.steps):
            io.save_checkpoint(out / "ckpt", now, distributed.unpad_leading(state, n))
        if callback is not None:
            callback(now, m)
    bar.close()
    return TrainResult(distributed.unpad_leading(state, n), hist, out)


def _check_stacked(name, tree, n):
    bad = [a.shape for a in jax.tree.leaves(tree) if not a.shape or a.shape[0] != n]
    if bad or not jax.tree.leaves(tree):
        raise ValueError(f"{name} leaves must have a leading axis n_members={n}; got shapes {bad}")


def _record(hist, m, valid, starts):
    """Scatter the chunk's valid per-step metrics into ``hist`` at their step indices."""
    for i in range(valid.shape[0]):
        idx = np.nonzero(valid[i])[0]
        steps = int(starts[i]) + np.arange(len(idx))  # valid steps of a chunk are consecutive
        for k in hist:
            hist[k][i, steps] = np.asarray(m[k][i], np.float32)[idx]


def _jsonl(r):
    import json

    return json.dumps(io.to_jsonable(r), allow_nan=False) + "\n"


def _log(out, step, hist, every, elapsed):
    lo = max(0, step - every)
    rec = {"step": step, "elapsed_s": round(elapsed, 3)}
    for k in ("loss", "accuracy", "level"):
        w = hist[k][:, lo:step]
        rec[k] = [float(np.nanmean(r)) if np.isfinite(r).any() else math.nan for r in w]
    io.append_jsonl(out / "metrics.jsonl", rec)
