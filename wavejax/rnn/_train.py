"""One training engine for sequence models (docs/emt.md §4, §8; docs/wave.md §4; ARCHITECTURE "one engine").

The pieces, each generic:

* ``model``: any Flax module mapping ``x`` (B, T, d_in) -> predictions (B, T, d_out).
* ``batch_fn(key, level) -> (x, y, mask)`` (or ``batch_fn(key, level, data)`` when a per-member ``data`` pytree
  is swept): a fresh batch generated on device from ``key`` at curriculum level ``level``; ``mask`` has shape
  (T,) or (B, T) and is True where the loss counts. In ``curriculum="pad"`` mode ``level`` is a traced int32
  scalar and every level must return the same shapes (pad to the longest horizon, mask the rest); in
  ``"compile"`` mode it is a Python int and each level may have its own shapes (one compile per level).
* ``loss_fn(pred, y, mask) -> scalar`` (default :func:`masked_mse`) and the sign accuracy :func:`sign_accuracy`.
* :class:`TrainConfig`: frozen, static; swept values (seeds, lr, l2, threshold) are arrays with a leading axis.

Optimizer (PyTorch Adam + coupled weight decay + Lightning clipping, docs/emt.md §4): :func:`make_optimizer`, the
update of ``optax.chain(clip_by_global_norm(clip), add_decayed_weights(l2), adam(lr))`` in a form whose bits do
not depend on how XLA partitions the program.

Curriculum: after every step, if that batch's accuracy > threshold, ``level = min(level + 1, n_levels - 1)``.
The level lives in the train state, so a chunk of ``chunk`` steps is one compiled ``lax.scan`` with no host
round trip. Padding (the default) beats one compile per level for the EMT recipe: the levels below the last
last ~700 of 20k steps, so padding wastes < 1 % of the step time while every extra level costs a compile
(``benchmarks/bench_train.py`` measures both). Steps are keyed by ``fold_in(key, step)``; results are
bit-identical across runs, chunkings and resumes.

The loop (resume, JSONL metrics, checkpoints, progress, sharding) is the generic driver
:func:`wavejax.loop.run_chunks`; this module supplies the engine's chunk (:mod:`wavejax.rnn._step`).

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

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _memory, _validate, distributed
from wavejax.loop import Layout, Schedule, run_chunks, window_means
from wavejax.rnn._metrics import masked_mse
from wavejax.rnn._optim import make_optimizer
from wavejax.rnn._step import TrainConfig, TrainState, _call_batch, _chunk_fn, init_state
from wavejax.runs import describe

__all__ = ["TrainResult", "train"]

HISTORY = ("loss", "accuracy", "grad_norm", "level")  # per-step history of train, each (members, steps)


class TrainResult(NamedTuple):
    """Final (stacked) state, per-step history (members, steps) and the output folder (or None)."""

    state: TrainState
    history: dict[str, np.ndarray]
    out: Path | None


_HP_CHECKS = {"lr": _validate.positive, "l2": _validate.nonneg, "threshold": _validate.probability}  # TrainConfig's


def _hparams(cfg, n, sweep):
    """Per-member hyperparameters (n,) float32; every swept value passes TrainConfig's check of that field."""
    hp = {"lr": cfg.lr, "l2": cfg.l2, "threshold": cfg.threshold}
    for k, v in (sweep or {}).items():
        if k not in hp:
            raise ValueError(f"sweep key {k!r} unknown; sweepable: {tuple(hp)}")
        if not isinstance(v, jax.core.Tracer):
            for i, val in enumerate(np.asarray(v, np.float64).reshape(-1)):
                _HP_CHECKS[k](f"sweep[{k!r}][{i}]", float(val))
        hp[k] = v
    out = {}
    for k, v in hp.items():
        a = jnp.asarray(v, jnp.float32)
        if a.ndim not in (0, 1) or (a.ndim == 1 and a.shape[0] != n):
            raise ValueError(f"sweep[{k!r}] must be a scalar or have shape ({n},); got {a.shape}")
        out[k] = jnp.broadcast_to(a, (n,))
    return out


def _check_batch(model, batch_fn, loss_fn, cfg, keys, data, init_params) -> None:
    """Shapes of ONE traced batch against the model (``jax.eval_shape``: traced, nothing compiled or run).

    x must be (B, T, d_in); y the model output's shape (B, T, d_out) (or broadcast to it); mask (T,) or (B, T);
    ``loss_fn`` a scalar.
    """
    d0 = None if data is None else jax.tree.map(lambda a: a[0], data)
    if cfg.curriculum == "pad":
        batch = jax.eval_shape(lambda k, lv: _call_batch(batch_fn, k, lv, d0), keys[0], jnp.int32(0))
    else:
        batch = jax.eval_shape(lambda k: _call_batch(batch_fn, k, 0, d0), keys[0])
    if not isinstance(batch, tuple | list) or len(batch) != 3:
        raise TypeError(f"batch_fn must return a tuple (x, y, mask); got {type(batch).__name__}")
    x, y, mask = batch
    if len(x.shape) != 3:
        raise ValueError(f"batch_fn's x (inputs) must have shape (B, T, d_in); got shape {x.shape}")
    B, T = x.shape[:2]
    if init_params is None:
        pred = jax.eval_shape(lambda k, x: model.init_with_output(jax.random.split(k)[0], x)[0], keys[0], x)
    else:
        p0 = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype), init_params)
        pred = jax.eval_shape(lambda p, x: model.apply({"params": p}, x), p0, x)
    try:
        fits = np.broadcast_shapes(tuple(y.shape), tuple(pred.shape)) == tuple(pred.shape)
    except ValueError:
        fits = False
    if not fits:  # the losses and sign_accuracy compare y with the prediction elementwise
        raise ValueError(f"batch_fn's y (targets) must have the model output's shape (B, T, d_out) = "
                         f"{tuple(pred.shape)} (or broadcast to it); got shape {tuple(y.shape)}")
    if tuple(mask.shape) not in ((T,), (B, T)):
        raise ValueError(f"batch_fn's mask must have shape (T,) = ({T},) or (B, T) = ({B}, {T}); got shape "
                         f"{tuple(mask.shape)}")
    loss = jax.eval_shape(loss_fn, pred, y, mask)
    if getattr(loss, "shape", None) != ():
        raise ValueError(f"loss_fn must return a scalar; got shape {getattr(loss, 'shape', type(loss).__name__)}")
    _check_memory(model, keys.shape[0], x, pred)


def _check_memory(model, n: int, x, pred) -> None:
    """Refuse (ValueError naming the sizes) a run whose activations for backprop cannot fit: n_members x B x T x
    (d_in + 2 d_out + 6 H) values (x, y, prediction, and an LSTM's gates and states per step; a lower bound)."""
    B, T, d_in = (int(s) for s in x.shape)
    H = int(getattr(model, "hidden", 0) or 0)
    per_step = d_in + 2 * int(pred.shape[-1]) + 6 * H
    _memory.require_fits({"n_members": n, "batch B": B, "T": T, "hidden": H},
                         _memory.nbytes((n, B, T, per_step), x.dtype), what="activations kept for backprop")


def train(model, batch_fn: Callable, cfg: TrainConfig, *, key, n_members: int = 1, sweep=None, data=None,
          loss_fn: Callable = masked_mse, out: str | Path | None = None, shard: bool = True,
          desc: str = "train", callback: Callable[[int, dict], None] | None = None, init_params: Any = None,
          grad_mask: Any = None, config: Any = None, overwrite: bool = False) -> TrainResult:
    """Train ``n_members`` runs of ``model`` in one compiled program (vmap over members, sharded over devices).

    Args:
      model: Flax module (B, T, d_in) -> (B, T, d_out).
      batch_fn: ``batch_fn(key, level[, data]) -> (x, y, mask)``, see the module docstring. One traced batch is
        checked against the model before anything compiles (``jax.eval_shape``): x (B, T, d_in), y the
        prediction's shape (B, T, d_out), mask (T,) or (B, T); a ValueError names the array and both shapes.
      cfg: :class:`TrainConfig`.
      key: PRNG key; member m uses ``split(key, n_members)[m]`` (params from its first split, batches from
        ``fold_in(member_key, step)``). An array of ``n_members`` keys is used as the member keys directly.
      n_members: size of the leading sweep axis (seeds x hyperparameters).
      sweep: optional ``{"lr"|"l2"|"threshold": array (n_members,)}`` per-member hyperparameters; every value
        passes the check of the TrainConfig field (lr > 0 finite, l2 >= 0, threshold in [0, 1]).
      data: optional pytree with leading axis n_members passed to ``batch_fn`` (e.g. per-member task operators).
      loss_fn: ``loss_fn(pred, y, mask) -> scalar``.
      out: folder for ``metrics.jsonl``, ``ckpt/`` (orbax) and ``history/``; rerunning with the same ``out`` and
        the same run resumes from the newest checkpoint, with the full history. The run (``cfg``, the model's
        fields, the loss and batch functions by name, the member keys, swept values and data by digest, and
        ``config``) is recorded in ``out/wavejax-run.json``; a rerun that differs in any of them raises
        :class:`wavejax.runs.ConfigMismatch` naming the fields (:func:`wavejax.runs.claim`). ``None``: nothing
        written.
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
      config: the caller's own record of the run (e.g. its config dataclass; a batch function's closure is
        invisible to this function, so callers whose task lives there should pass it).
      overwrite: with ``out``, discard the folder's old checkpoints, history and metrics and start afresh.

    Returns:
      :class:`TrainResult` with the stacked final state and per-step history arrays of shape (members, steps)
      (a resumed run's history is restored from ``out/history``: the same as an uninterrupted run's).
    """
    key = _validate.prng_key("key", key)
    n = _validate.positive_int("n_members", n_members)
    _validate.callable_("batch_fn", batch_fn)
    if cfg.curriculum == "compile" and n > 1:
        raise ValueError("curriculum='compile' needs n_members=1 (members may sit at different levels); "
                         "use curriculum='pad' for sweeps")
    _validate.callable_("loss_fn", loss_fn)
    hp = _hparams(cfg, n, sweep)
    keys = key if key.ndim == 1 else jax.random.split(key, n)
    if keys.shape != (n,):
        raise ValueError(f"key must be one key or an array of n_members={n} keys; got shape {keys.shape}")
    if init_params is not None:
        _check_stacked("init_params", init_params, n)
    _check_batch(model, batch_fn, loss_fn, cfg, keys, data, init_params)
    state = _initial_state(model, batch_fn, cfg, keys, data, init_params)
    if grad_mask is not None:
        _check_stacked("grad_mask", grad_mask, n)
        if jax.tree.structure(grad_mask) != jax.tree.structure(state.params):
            raise ValueError("grad_mask must have the tree structure of the params")
        hp = {**hp, "grad_mask": jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), grad_mask)}
    state = jax.tree.map(jnp.copy, state)  # own buffers: the chunk donates its state argument

    def chunk(state, aux, start, mesh):
        level = None if cfg.curriculum == "pad" else int(np.min(distributed.to_host(state.level)))
        return _chunk_fn(model, batch_fn, loss_fn, cfg, level, mesh)(state, *aux)

    record = None if out is None else describe(
        {"train": cfg, "model": model, "batch_fn": batch_fn, "loss_fn": loss_fn, "keys": keys, "sweep": sweep,
         "data": data, "init_params": init_params, "grad_mask": grad_mask, "caller": config})
    schedule = Schedule(total=cfg.steps, log_every=cfg.log_every, ckpt_every=cfg.ckpt_every,
                        log_fn=window_means(("loss", "accuracy", "level")), history_keys=HISTORY, callback=callback,
                        desc=desc)
    res = run_chunks(chunk, state, schedule, aux=(hp, data), layout=Layout(shard=shard, block=cfg.member_block),
                     out=out, config=record, overwrite=overwrite)
    return TrainResult(res.state, res.history, res.out)


def _initial_state(model, batch_fn, cfg, keys, data, init_params) -> TrainState:
    """Stacked step-0 states: ``model.init`` from the member keys, or ``init_params`` (leading axis n)."""
    n = keys.shape[0]
    x0 = _call_batch(batch_fn, keys[0], 0, None if data is None else jax.tree.map(lambda a: a[0], data))[0]
    if init_params is None:
        return jax.vmap(lambda k: init_state(model, k, x0, cfg=cfg))(keys)
    _check_stacked("init_params", init_params, n)
    opt0 = make_optimizer(cfg.lr, cfg.l2, cfg.clip)
    return jax.vmap(lambda p, k: TrainState(jnp.int32(0), p, opt0.init(p), jnp.int32(0),
                                            jax.random.key_data(k)))(init_params, keys)


def _check_stacked(name, tree, n):
    bad = [a.shape for a in jax.tree.leaves(tree) if not a.shape or a.shape[0] != n]
    if bad or not jax.tree.leaves(tree):
        raise ValueError(f"{name} leaves must have a leading axis n_members={n}; got shapes {bad}")
