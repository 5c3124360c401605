"""The one chunked training driver: every wavejax trainer supplies its step chunk, the loop is this module's.

:func:`run_chunks` advances a (member-stacked) training state chunk by chunk until it reaches ``total`` steps and
owns everything around the steps:

* **resume**: with ``out`` and ``ckpt_every`` it restores the newest orbax checkpoint of ``out/ckpt`` (an
  unreadable newest one is skipped with a warning) together with the per-step history up to it
  (``out/history/step_XXXXXXXXX.npz``, written before each checkpoint), and drops the ``out/metrics.jsonl``
  lines past it (a kill between a log line and the next checkpoint leaves no duplicate; without a checkpoint
  the file starts afresh). A resumed run's history and metrics equal an uninterrupted run's, bit for bit;
* **run record**: with ``out`` and ``config`` it records the config in ``out/ckpt_config.json`` and refuses to
  resume checkpoints made with another one (:func:`wavejax.runs.claim`, listing the differing fields) unless
  ``overwrite=True``, which deletes the old checkpoints, history and metrics first;
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
  >>> res = run_chunks(chunk, st, aux=jnp.array([1.0, 10.0]), total=6, log_every=3, step_of=lambda s: s["step"])
  >>> res.history["x"]
  array([[ 1.,  2.,  3.,  4.,  5.,  6.],
         [10., 20., 30., 40., 50., 60.]], dtype=float32)
"""

from __future__ import annotations

import io as _bytes
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from wavejax import _validate, distributed, io, runs
from wavejax.progress import progress

__all__ = ["Loop", "run_chunks", "window_means", "last_values"]


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


ENGINE_STATE = ("ckpt", "history", "metrics.jsonl")  # what overwrite=True deletes (with ckpt_config.json)


def _history_path(out: Path, step: int) -> Path:
    return out / "history" / f"step_{step:09d}.npz"


def _resume(out: Path, state: Any, resume: bool, to_ckpt: Callable, from_ckpt: Callable
            ) -> tuple[Any, dict[str, np.ndarray]]:
    """(state, history up to it) from the newest checkpoint of ``out/ckpt`` (or ``(state, {})``); trims
    metrics.jsonl to the checkpoint's step (to nothing when none is restored)."""
    restored = io.restore_checkpoint(out / "ckpt", to_ckpt(state)) if resume else None
    done = 0 if restored is None else restored[0]
    if (out / "metrics.jsonl").exists():
        kept = [r for r in io.read_jsonl(out / "metrics.jsonl") if r["step"] <= done]
        io.atomic_write_text(out / "metrics.jsonl", "".join(io.jsonl_line(r) for r in kept))
    if restored is None:
        return state, {}
    past = {}
    hpath = _history_path(out, done)
    if hpath.exists():
        past = io.load_npz(hpath)
    elif distributed.is_main_process():
        warnings.warn(f"{hpath} is missing: the history before step {done} of {out} is NaN", RuntimeWarning,
                      stacklevel=3)
    return from_ckpt(state, restored[1]), past


def _save(out: Path, step: int, tree: Any, hist: dict[str, np.ndarray]) -> None:
    """History up to ``step`` (atomic npz), then the checkpoint; prune histories of dropped checkpoints."""
    buf = _bytes.BytesIO()
    np.savez(buf, **hist)  # every value recorded so far is from a step before its member's checkpointed step
    io.atomic_write_bytes(_history_path(out, step), buf.getvalue())
    kept = set(io.save_checkpoint(out / "ckpt", step, tree))
    if distributed.is_main_process():
        for p in (out / "history").glob("step_*.npz"):
            if int(p.stem[5:]) not in kept:
                p.unlink(missing_ok=True)


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


def run_chunks(step_chunk: Callable, state: Any, *, total: int, log_every: int, ckpt_every: int = 0,
               out: str | Path | None = None, aux: Any = None, stacked: bool = True, shard: bool = True,
               block: int | None = None, step_of: Callable[[Any], Any] = _default_step_of,
               to_ckpt: Callable[[Any], Any] = lambda s: s, from_ckpt: Callable[[Any, Any], Any] = lambda s, t: t,
               log_fn: Callable[[int, dict, int, float], dict] = last_values,
               history_keys: Sequence[str] = (), on_chunk: Callable[[int, Any], None] | None = None,
               callback: Callable[[int, dict], None] | None = None, desc: str = "train", config: Any = None,
               overwrite: bool = False) -> Loop:
    """Run ``step_chunk`` until every member has taken ``total`` steps (see the module docstring).

    Args:
      step_chunk: ``(state, aux, start, mesh) -> (state, metrics)``.
      state: training state; every leaf has the leading member axis unless ``stacked=False`` (one run: no
        padding or sharding, metrics still (1, steps)).
      total, log_every, ckpt_every: steps to reach; JSONL / checkpoint period (``ckpt_every=0``: never, and no
        resume).
      out: folder of ``metrics.jsonl``, ``ckpt/`` and ``history/`` (the per-step history at each checkpoint);
        ``None``: nothing written or resumed.
      aux: per-member constants (leading member axis: hyperparameters, data, keys) padded and sharded with
        the state but neither checkpointed nor returned.
      shard, block: lay the members over all devices; pad them to whole blocks of ``block`` per device.
      step_of: per-member step counts of a state (default ``state.step``).
      to_ckpt, from_ckpt: state -> checkpointed pytree; (template state, restored pytree) -> state.
      log_fn: ``(step, history, log_every, elapsed_s) -> record`` (:func:`last_values`, :func:`window_means`).
      history_keys: metrics allocated up front (all NaN if no chunk runs and no history is restored); the
        other metrics a chunk returns are added when first seen.
      on_chunk: ``on_chunk(step, state)`` after every chunk (padded state; e.g. sample grids).
      callback: ``callback(step, metrics)`` after every chunk; raising stops the run (checkpoints stay valid).
      desc: progress-bar label.
      config: with ``out``, a record of everything that determines the run (JSON-able, e.g.
        :func:`wavejax.runs.describe` of the config, model and data): written to ``out/ckpt_config.json``, and a
        rerun with a different one raises :class:`wavejax.runs.ConfigMismatch` naming the differing fields.
        ``None``: no check (the caller vouches for the folder).
      overwrite: with ``out``, delete the folder's old checkpoints, history, metrics and record first.
    """
    _validate.callable_("step_chunk", step_chunk)
    total = _validate.positive_int("total", total)
    _validate.positive_int("log_every", log_every)
    _validate.nonneg_int("ckpt_every", ckpt_every)
    out = None if out is None else Path(out)
    past: dict[str, np.ndarray] = {}
    if out is not None:
        if config is not None or overwrite:
            runs.claim(out, config, record="ckpt_config.json", overwrite=overwrite, clear=ENGINE_STATE)
        state, past = _resume(out, state, bool(ckpt_every), to_ckpt, from_ckpt)
    n = distributed._leading(state) if stacked else 1
    (state, aux), mesh = _place((state, aux), n, shard, block) if stacked else ((state, aux), None)
    hist = {k: np.full((n, total), np.nan, np.float32) for k in (*history_keys, *past)}
    for k, v in past.items():
        hist[k][:, :min(v.shape[1], total)] = v[:n, :total]
    unpad = (lambda t: distributed.unpad_leading(t, n)) if stacked else (lambda t: t)
    steps = distributed.to_host(step_of(state)).reshape(-1)[:n]
    bar = progress(total=total, desc=desc, initial=int(np.min(steps)))
    t0 = time.perf_counter()
    while (start := int(np.min(steps))) < total:
        state, m = step_chunk(state, aux, start, mesh)
        m = jax.tree_util.tree_map(lambda a: a[:n], distributed.to_host(m)) if stacked else distributed.to_host(m)
        _record(hist, m, steps, total)
        steps = distributed.to_host(step_of(state)).reshape(-1)[:n]
        now = int(np.min(steps))
        bar.update(now - start)
        if out is not None and _crossed(start, now, log_every, total):
            io.append_jsonl(out / "metrics.jsonl", log_fn(now, hist, log_every, time.perf_counter() - t0))
        if out is not None and _crossed(start, now, ckpt_every, total):
            _save(out, now, to_ckpt(unpad(state)), hist)
        if on_chunk is not None:
            on_chunk(now, state)
        if callback is not None:
            callback(now, m)
    bar.close()
    return Loop(distributed.to_local(unpad(state)), hist, out)
