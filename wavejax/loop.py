"""The one chunked training driver: every wavejax trainer supplies its step chunk, the loop is this module's.

:func:`run_chunks` advances a (member-stacked) training state chunk by chunk until it reaches ``total`` steps and
owns everything around the steps:

* **resume**: with ``out`` and ``ckpt_every`` it restores the newest orbax checkpoint of ``out/ckpt`` (an
  unreadable newest one is skipped with a warning) together with the per-step history up to it
  (``out/history/step_XXXXXXXXX.npz``, written before each checkpoint, with the steps logged so far), and
  rebuilds ``out/metrics.jsonl`` from that history (a file cut short, holding duplicates or lines past the
  checkpoint is rewritten; without a checkpoint the file starts afresh). A resumed run's history and metrics
  equal an uninterrupted run's, bit for bit (but a :func:`window_means` line's ``elapsed_s``);
* **run record and lock**: with ``out`` the folder is opened as the ``"engine"`` owner of its record
  (:func:`wavejax.runs.run_folder`: one writer, every file recorded); with ``config`` it refuses to resume
  checkpoints made with another one (listing the differing fields) unless ``overwrite=True``, which removes the
  files the old run wrote first;
* **JSONL metrics** every ``log_every`` steps (a record made by ``log_fn`` from the history window);
* **orbax checkpoints** every ``ckpt_every`` steps and at the end;
* **progress** bar (:func:`wavejax.progress.progress`);
* **sharding**: with several devices the member axis of ``(state, aux)`` is padded (copies of the last member)
  to whole blocks on every device and laid out with :func:`wavejax.distributed.shard_leading`; padding is
  dropped from metrics, checkpoints and the result;
* **one history layout**: ``{metric: float32 array (members, total)}``, NaN where a step did not run.
* **several processes** (:func:`wavejax.distributed.initialize`): the members are laid over the devices of every
  process; step counts and metrics are read through :func:`wavejax.distributed.to_host` (a collective), every
  process saves/restores its shards of the checkpoint (orbax), only process 0 writes ``metrics.jsonl`` and shows
  the bar, and the returned state is gathered into process-local arrays (the same on every process).

A chunk is ``step_chunk(state, aux, start, mesh) -> (state, metrics)``: ``start`` is the current (smallest)
step, ``mesh`` the ``"sweep"`` mesh or ``None``; ``metrics`` maps names to arrays (members, steps of the chunk),
optionally with a boolean ``"valid"`` (members, steps) that marks the steps that ran (a member's valid steps
are consecutive from its own start). ``step_of(state)`` gives the per-member step counts.

Example:
  >>> import jax.numpy as jnp, numpy as np
  >>> def chunk(state, aux, start, mesh):      # two "members" counting up by aux, 3 steps per chunk
  ...     vals = state["x"][:, None] + aux[:, None] * jnp.arange(1, 4)
  ...     return {"x": vals[:, -1], "step": state["step"] + 3}, {"x": vals}
  >>> st = {"x": jnp.zeros(2), "step": jnp.zeros(2, jnp.int32)}
  >>> res = run_chunks(chunk, st, Schedule(total=6, log_every=3), aux=jnp.array([1.0, 10.0]),
  ...                  layout=Layout(step_of=lambda s: s["step"]))
  >>> res.history["x"]
  array([[ 1.,  2.,  3.,  4.,  5.,  6.],
         [10., 20., 30., 40., 50., 60.]], dtype=float32)
"""

from __future__ import annotations

import dataclasses
import io as _bytes
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _runfolder, _validate, distributed, io, runs
from wavejax.progress import progress

__all__ = ["Loop", "Schedule", "Layout", "run_chunks", "window_means", "last_values"]


class Loop(NamedTuple):
    """Result of :func:`run_chunks`: the final (unpadded) state, the history (members, total) and ``out``."""

    state: Any
    history: dict[str, np.ndarray]
    out: Path | None


def window_means(keys: Sequence[str]) -> Callable[[int, dict, int, float], dict]:
    """A ``log_fn``: per-member NaN-mean of ``keys`` over the last ``every`` steps, plus ``elapsed_s``."""

    def log_fn(step: int, hist: dict, every: int, elapsed: float) -> dict:
        lo = max(0, step - every)
        rec: dict[str, Any] = {"step": step, "elapsed_s": round(elapsed, 3)}
        for k in keys:
            w = hist[k][:, lo:step]
            rec[k] = [float(np.nanmean(r)) if np.isfinite(r).any() else math.nan for r in w]
        return rec

    return log_fn


def last_values(step: int, hist: dict, every: int, elapsed: float) -> dict:
    """A ``log_fn``: every metric's per-member value at the last step (``step - 1``); no timing."""
    return {"step": step, **{k: [float(v) for v in h[:, step - 1]] for k, h in hist.items()}}


def _default_step_of(state: Any) -> Any:
    return state.step


ENGINE_STATE = ("ckpt", "history", "metrics.jsonl")  # the engine's names in a run folder (its owner: "engine")
_LOGGED = "_logged"  # history npz key: the (step, elapsed_s) of every metrics line written up to the checkpoint


def _history_path(out: Path, step: int) -> Path:
    return out / "history" / f"step_{step:09d}.npz"


def _resume(out: Path, state: Any, resume: bool, to_ckpt: Callable, from_ckpt: Callable
            ) -> tuple[Any, dict[str, np.ndarray], np.ndarray]:
    """(state, history up to it, logged (step, elapsed) pairs) from the newest checkpoint of ``out/ckpt`` (or
    ``(state, {}, [])``)."""
    restored = io.restore_checkpoint(out / "ckpt", to_ckpt(state)) if resume else None
    if restored is None:
        return state, {}, np.zeros((0, 2))
    done = restored[0]
    past = {}
    hpath = _history_path(out, done)
    if hpath.exists():
        past = io.load_npz(hpath)
    elif distributed.is_main_process():
        warnings.warn(f"{hpath} is missing: the history before step {done} of {out} is NaN", RuntimeWarning,
                      stacklevel=3)
    logged = past.pop(_LOGGED, None)
    if logged is None:  # a history without its log steps: keep the metrics lines up to the checkpoint
        logged = np.array([[r["step"], np.nan] for r in io.read_jsonl(out / "metrics.jsonl") if r["step"] <= done])
    return _placed_like(from_ckpt(state, restored[1]), state), past, np.asarray(logged, np.float64).reshape(-1, 2)


def _placed_like(new: Any, old: Any) -> Any:
    """``new`` with every single-device array uncommitted where ``old``'s is.

    orbax restores each array committed to its device, while a freshly initialised state is uncommitted; ``jax.jit``
    treats the two as different arguments and compiles the step again (about 6 s for the GAN's step, more at 28x28).
    The restored values are small (a model's state), so a host round trip is cheap.
    """
    def put(n: Any, o: Any) -> Any:
        if (isinstance(n, jax.Array) and isinstance(o, jax.Array) and n.committed and not o.committed
                and len(n.devices()) == 1 and n.is_fully_addressable):
            return jnp.asarray(np.asarray(n), dtype=n.dtype)
        return n

    return jax.tree_util.tree_map(put, new, old)


def _rebuild_metrics(out: Path, logged: np.ndarray, hist: dict, every: int, log_fn: Callable) -> None:
    """Write ``metrics.jsonl`` afresh from the checkpointed history: one line per logged step, as the run wrote
    them (a file cut short, holding duplicates or lines past the checkpoint ends equal to an uninterrupted run's).
    """
    if not len(logged) and not (out / "metrics.jsonl").exists():
        return
    regen = bool(hist) and bool(np.isfinite(logged[:, 1]).all())
    old = {} if regen else {r.get("step"): r for r in io.read_jsonl(out / "metrics.jsonl")}
    lines = [io.jsonl_line(log_fn(int(step), hist, every, float(el)) if regen else old[int(step)])
             for step, el in logged if regen or int(step) in old]
    io.atomic_write_text(out / "metrics.jsonl", "".join(lines))


def _save(out: Path, step: int, tree: Any, hist: dict[str, np.ndarray], logged: list) -> None:
    """History up to ``step`` (atomic npz, with the logged steps), then the checkpoint; prune the histories of
    dropped checkpoints that the run folder's record lists."""
    buf = _bytes.BytesIO()
    # every value recorded so far is from a step before its member's checkpointed step
    np.savez(buf, **hist, **{_LOGGED: np.asarray(logged, np.float64).reshape(-1, 2)})
    io.atomic_write_bytes(_history_path(out, step), buf.getvalue())
    kept = set(io.save_checkpoint(out / "ckpt", step, tree))
    if distributed.is_main_process():  # only histories this run folder's record lists: a user's file stays
        for p in (out / "history").glob("step_*.npz"):
            if p.stem[5:].isdigit() and int(p.stem[5:]) not in kept:
                _runfolder.remove_recorded(p)


def _place(tree: Any, n: int, shard: bool, block: int | None) -> tuple[Any, Any]:
    """Pad the member axis to whole blocks per device and shard it; returns (tree, mesh or None)."""
    mesh = distributed.sweep_mesh() if shard and n > 1 and distributed.n_devices() > 1 else None
    per = (1 if mesh is None else mesh.devices.size) * (block or 1)
    if per > 1:
        tree, _ = distributed.pad_leading(tree, per)
    if mesh is not None:
        tree, _ = distributed.shard_leading(tree, mesh)
    return tree, mesh


def _record(hist: dict, m: dict, starts: np.ndarray, total: int) -> None:
    """Scatter the chunk's valid per-step metrics into ``hist`` (allocated on first use) at their steps."""
    n = starts.shape[0]
    valid = np.asarray(m["valid"], bool) if "valid" in m else None
    for k, v in m.items():
        if k == "valid":
            continue
        v = np.asarray(v, np.float32).reshape(n, -1)
        h = hist.setdefault(k, np.full((n, total), np.nan, np.float32))
        for i in range(n):
            vals = v[i] if valid is None else v[i][valid[i]]
            steps = int(starts[i]) + np.arange(len(vals))
            keep = steps < total
            h[i, steps[keep]] = vals[keep]


def _crossed(start: int, now: int, every: int, total: int) -> bool:
    return bool(every) and (now // every > start // every or now >= total)


def _same(state: Any) -> Any:
    return state


def _restored(state: Any, tree: Any) -> Any:
    return tree


@dataclasses.dataclass(frozen=True, kw_only=True)
class Schedule:
    """When :func:`run_chunks` stops, logs and checkpoints, and what it calls after every chunk.

    Attributes:
      total, log_every, ckpt_every: steps to reach; JSONL / checkpoint period (``ckpt_every=0``: never, and no
        resume).
      log_fn: ``(step, history, log_every, elapsed_s) -> record`` (:func:`last_values`, :func:`window_means`).
      history_keys: metrics allocated up front (all NaN if no chunk runs and no history is restored); the
        other metrics a chunk returns are added when first seen.
      on_chunk: ``on_chunk(step, state)`` after every chunk (padded state; e.g. sample grids).
      callback: ``callback(step, metrics)`` after every chunk; raising stops the run (checkpoints stay valid).
      desc: progress-bar label.
    """

    total: int
    log_every: int
    ckpt_every: int = 0
    log_fn: Callable[[int, dict, int, float], dict] = last_values
    history_keys: tuple[str, ...] = ()
    on_chunk: Callable[[int, Any], None] | None = None
    callback: Callable[[int, dict], None] | None = None
    desc: str = "train"

    def __post_init__(self):
        _validate.positive_int("total", self.total)
        _validate.positive_int("log_every", self.log_every)
        _validate.nonneg_int("ckpt_every", self.ckpt_every)
        object.__setattr__(self, "history_keys", tuple(self.history_keys))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Layout:
    """How :func:`run_chunks` lays out, counts and checkpoints the state.

    Attributes:
      stacked: every leaf of the state (and ``aux``) has the leading member axis; ``False``: one run (no padding
        or sharding, metrics still (1, steps)).
      shard, block: lay the members over all devices; pad them to whole blocks of ``block`` per device.
      step_of: per-member step counts of a state (default ``state.step``).
      to_ckpt, from_ckpt: state -> checkpointed pytree; (template state, restored pytree) -> state.
    """

    stacked: bool = True
    shard: bool = True
    block: int | None = None
    step_of: Callable[[Any], Any] = _default_step_of
    to_ckpt: Callable[[Any], Any] = _same
    from_ckpt: Callable[[Any, Any], Any] = _restored


def run_chunks(step_chunk: Callable, state: Any, schedule: Schedule, *, aux: Any = None, layout: Layout = Layout(),
               out: str | Path | None = None, config: Any = None, overwrite: bool = False) -> Loop:
    """Run ``step_chunk`` until every member has taken ``schedule.total`` steps (see the module docstring).

    Args:
      step_chunk: ``(state, aux, start, mesh) -> (state, metrics)``.
      state: training state; every leaf has the leading member axis unless ``layout.stacked`` is False.
      schedule: steps, logging and checkpoint periods, per-chunk hooks (:class:`Schedule`).
      aux: per-member constants (leading member axis: hyperparameters, data, keys) padded and sharded with
        the state but neither checkpointed nor returned.
      layout: member axis, sharding, step counts and checkpoint conversion (:class:`Layout`).
      out: folder of ``metrics.jsonl``, ``ckpt/`` and ``history/`` (the per-step history at each checkpoint);
        ``None``: nothing written or resumed.
      config: with ``out``, a record of everything that determines the run (JSON-able, e.g.
        :func:`wavejax.runs.describe` of the config, model and data): recorded in ``out/wavejax-run.json``, and a
        rerun with a different one raises :class:`wavejax.runs.ConfigMismatch` naming the differing fields.
        ``None``: no check (the caller vouches for the folder).
      overwrite: with ``out``, remove the files the folder's old run wrote first (only those: see
        :mod:`wavejax.runs`).
    """
    _validate.callable_("step_chunk", step_chunk)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a wavejax.loop.Schedule; got {type(schedule).__name__}")
    if not isinstance(layout, Layout):
        raise TypeError(f"layout must be a wavejax.loop.Layout; got {type(layout).__name__}")
    if out is None:
        return _drive(step_chunk, state, schedule, layout, aux, None)
    out = runs.folder(out)
    with runs.run_folder(out, config, owner="engine", state=ENGINE_STATE, overwrite=overwrite):
        return _drive(step_chunk, state, schedule, layout, aux, out)


def _drive(step_chunk: Callable, state: Any, r: Schedule, lay: Layout, aux: Any, out: Path | None) -> Loop:
    total = r.total
    past: dict[str, np.ndarray] = {}
    logged = np.zeros((0, 2))
    if out is not None:
        state, past, logged = _resume(out, state, bool(r.ckpt_every), lay.to_ckpt, lay.from_ckpt)
    n = distributed._leading(state) if lay.stacked else 1
    (state, aux), mesh = _place((state, aux), n, lay.shard, lay.block) if lay.stacked else ((state, aux), None)
    hist = {k: np.full((n, total), np.nan, np.float32) for k in (*r.history_keys, *past)}
    for k, v in past.items():
        hist[k][:, :min(v.shape[1], total)] = v[:n, :total]
    if out is not None:
        _rebuild_metrics(out, logged, hist, r.log_every, r.log_fn)
    logs = [tuple(x) for x in logged.tolist()]
    unpad = (lambda t: distributed.unpad_leading(t, n)) if lay.stacked else (lambda t: t)
    steps = distributed.to_host(lay.step_of(state)).reshape(-1)[:n]
    bar = progress(total=total, desc=r.desc, initial=int(np.min(steps)))
    t0 = time.perf_counter()
    while (start := int(np.min(steps))) < total:
        state, m = step_chunk(state, aux, start, mesh)
        m = jax.tree_util.tree_map(lambda a: a[:n], distributed.to_host(m)) if lay.stacked else distributed.to_host(m)
        _record(hist, m, steps, total)
        steps = distributed.to_host(lay.step_of(state)).reshape(-1)[:n]
        now = int(np.min(steps))
        bar.update(now - start)
        if out is not None and _crossed(start, now, r.log_every, total):
            elapsed = time.perf_counter() - t0
            io.append_jsonl(out / "metrics.jsonl", r.log_fn(now, hist, r.log_every, elapsed))
            logs.append((now, elapsed))
        if out is not None and _crossed(start, now, r.ckpt_every, total):
            _save(out, now, lay.to_ckpt(unpad(state)), hist, logs)
        if r.on_chunk is not None:
            r.on_chunk(now, state)
        if r.callback is not None:
            r.callback(now, m)
    bar.close()
    return Loop(distributed.to_local(unpad(state)), hist, out)
