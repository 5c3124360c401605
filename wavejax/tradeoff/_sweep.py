"""The architecture sweep as a resumable job (docs/tradeoff.md §4 steps 3–4): it only orchestrates groups and resume.

A sweep trains every (family, width) group of the model family with its seeds as the engine's vmapped member
axis (:func:`wavejax.rnn.train`) — by default several widths of one family at once as ONE vmapped program
(width packing, :mod:`wavejax.tradeoff._pack`; ``SweepConfig.pack_widths``/``pack_members``) — then runs the
compression ladder (b, s) on every trained member and evaluates all dequantised models of the group in one
device-sharded vmapped call (:mod:`wavejax.tradeoff._ladder`). Every point is appended to ``<out>/points.jsonl``
as soon as it exists (:func:`wavejax.io.append_jsonl`, one fsynced line; the torn last line of a killed run is cut
off before the next append), keyed by a hash of everything that determines it; a rerun reads the file and
skips every group whose points are all present, so a killed sweep loses at most the group (or pack) in flight
and never duplicates a point (a rerun packs only the unfinished widths).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from wavejax import _memory, _validate, io, runs
from wavejax.tradeoff import _cost
from wavejax.tradeoff._data import TASKS, TaskData, hmm_size, make_batch_fn, make_task
from wavejax.tradeoff._ladder import _point_key, ladder_points, member_diverged
from wavejax.tradeoff._models import FAMILIES, make_model
from wavejax.tradeoff._pack import _packs, _train_pack
from wavejax.tradeoff._predictors import trivial_points

__all__ = ["FULL_HMM", "SweepConfig", "run_sweep", "load_points", "task_summary"]

SWEEP_STATE = ("points.jsonl", "curves.jsonl", "groups", "task.json")  # the sweep's names in its folder

FULL_HMM = "hmm:16x6"  # the full sweep's HMM (16 states, 6 symbols): loss still falls with width at 64


def _check_trace_folder(task: str) -> None:
    """``traces:<folder>`` must name an existing folder holding ``*.npy`` traces (checked before any work)."""
    folder = Path(task.split(":", 1)[1])
    if not folder.is_dir():
        raise ValueError(f"task={task!r}: trace folder {str(folder)!r} does not exist; expected one of {TASKS} "
                         "or 'traces:<folder of .npy files, one 1-D trace each>'")
    if not any(folder.glob("*.npy")):
        raise ValueError(f"task={task!r}: trace folder {str(folder)!r} holds no .npy traces")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """A sweep: task, family × width ladder × seeds, compression ladder, training budget."""

    task: str = "hmm"  # "hmm" | "ar" | "cache" | "traces:<folder>" (data.py)
    length: int = 4096  # steps per program
    n_programs: int = 10  # programs, split 70/15/15 by program
    families: tuple[str, ...] = FAMILIES  # model families (models.py)
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # width ladder
    seeds: int = 3  # seeds per (family, width): the engine's vmapped member axis
    bits: tuple[int, ...] = _cost.BITS_LADDER  # quantiser bits b (32 = float32)
    sparsities: tuple[float, ...] = (0.0, 0.5, 0.9)  # magnitude-pruning fractions s
    # per-tensor quantiser scales: 32 = float32, 8 = int8 log-domain exponent (cost.py); at 8 every point also
    # records ``cost_bits_scale32`` (the same θ̃ with float32 scales). Not part of the group keys (the trained
    # models do not depend on it); part of the point keys when != 32.
    scale_bits: int = 32
    steps: int = 3000  # optimizer steps (fixed cap for every model, §4 step 3)
    batch: int = 32  # sequences per batch
    window: int = 64  # training sequence length T
    burn: int = 8  # first steps of a sequence excluded from the loss (state warm-up)
    lr: float = 1e-2  # Adam learning rate (engine: clip 1, no decay)
    slots: int = 8  # s for the lattice families
    ckpt_every: int = 0  # engine checkpoints inside a group (0: a killed group restarts)
    seed: int = 0  # root PRNG seed (data and models)
    # width packing: train several widths of one family (PACKABLE) as ONE vmapped program, every member padded to
    # the pack's largest width with its extra units' weights at zero and their gradients masked (the width-w
    # member is the width-w model up to float summation order); at most pack_members members per program.
    # Does not change which models are trained (not part of the group keys).
    pack_widths: bool = True
    pack_members: int = 32
    # steps per jitted engine chunk (and per logged loss), capped at ``steps``; steps and ckpt_every must be
    # multiples of it. Only groups the steps into programs, so it is not part of the group keys.
    chunk: int = 100

    def __post_init__(self):
        if self.task not in TASKS and not self.task.startswith("traces:"):
            if not self.task.startswith("hmm:"):
                raise ValueError(f"unknown task={self.task!r}; expected one of {TASKS}, 'hmm:<S>x<A>' or "
                                 "'traces:<folder>'")
            hmm_size(self.task)
        if self.task.startswith("traces:"):
            _check_trace_folder(self.task)
        if not self.families or not self.widths or not self.bits or not self.sparsities:
            raise ValueError("families, widths, bits and sparsities must each hold at least one value")
        for f in self.families:
            _validate.one_of("families", f, FAMILIES)
        for w in self.widths:
            _validate.positive_int("widths", w)
        _validate.positive_int("seeds", self.seeds)
        for b in self.bits:
            _cost._check_bits(b)
        for s in self.sparsities:
            _validate.probability("sparsities", s, closed_right=False)
        _cost._check_scale_bits(self.scale_bits)
        for name in ("length", "n_programs", "steps", "batch", "window", "slots"):
            _validate.positive_int(name, getattr(self, name))
        _validate.nonneg_int("burn", self.burn)
        _validate.nonneg_int("ckpt_every", self.ckpt_every)
        _validate.positive_int("pack_members", self.pack_members)
        _validate.positive_int("chunk", self.chunk)
        _validate.positive("lr", self.lr)
        if self.burn >= self.window:
            raise ValueError(f"burn must be < window; got burn={self.burn}, window={self.window}")
        for name in ("families", "widths", "bits", "sparsities"):
            vals = tuple(getattr(self, name))
            if len(set(vals)) != len(vals):
                raise ValueError(f"{name} must not repeat a value (each would be trained and counted twice); "
                                 f"got {name}={vals}")
        if not self.task.startswith("traces:") and self.n_programs < 3:
            raise ValueError(f"n_programs must be >= 3 (programs are split into train/validation/test); "
                             f"got n_programs={self.n_programs}")
        if self.steps % self.engine_chunk or self.ckpt_every % self.engine_chunk:
            raise ValueError(f"steps and ckpt_every must be multiples of {self.engine_chunk} (the engine's chunk, "
                             f"min(steps, chunk)); got steps={self.steps}, ckpt_every={self.ckpt_every}")

    @property
    def engine_chunk(self) -> int:
        """The engine's chunk: ``min(steps, chunk)``."""
        return min(self.steps, self.chunk)

    def train_config(self):
        """The engine's :class:`wavejax.rnn.TrainConfig` of every group of this sweep."""
        from wavejax.rnn import TrainConfig

        return TrainConfig(steps=self.steps, lr=self.lr, n_levels=1, chunk=self.engine_chunk,
                           log_every=self.engine_chunk, ckpt_every=self.ckpt_every)

    @classmethod
    def quick(cls, task: str = "hmm") -> SweepConfig:
        """The report's quick sweep of ``task`` (one family, 2 seeds; well under a minute per task on 2 CPU
        cores): widths 1–16 (1–8 for "ar"), the whole bits ladder, s ∈ {0, 0.5}."""
        return cls(task=task, length=1024 if task == "ar" else 2048, n_programs=10 if task == "cache" else 8,
                   families=("elman",), widths=(1, 2, 4, 8) if task == "ar" else (1, 2, 4, 8, 16), seeds=2,
                   bits=_cost.BITS_LADDER, sparsities=(0.0, 0.5), steps=600 if task == "hmm" else 400, batch=32,
                   window=32, burn=4, lr=1e-2)

    @classmethod
    def full(cls, task: str = "hmm") -> SweepConfig:
        """The full sweep of ``task``, sized to run on 2 CPU cores in about an hour for all three tasks
        (docs/results/tradeoff_full): Elman and LSTM, widths 1–128, 3 seeds, the whole bits ladder
        b ∈ {1..16, 32} × pruning s ∈ {0, 0.5, 0.9} with 8-bit log-domain scales (cost.py; every point also
        records its cost with float32 scales), 1500 steps; 20 programs of 4096 steps (3 test programs). ``"hmm"``
        is the larger HMM :data:`FULL_HMM` (its entropy-rate floor is exact too): the 4-state HMM of the quick
        sweep is learnt to its floor at ~4·10² bits, so its front cannot span 3 decades. On a GPU the same config
        scales up by its flags, e.g. ``--sweep.families elman lstm lattice --sweep.widths 1 2 4 8 16 32 64 128
        256 --sweep.steps 20000``."""
        return cls(task=FULL_HMM if task == "hmm" else task, length=4096, n_programs=20, families=("elman", "lstm"),
                   widths=(1, 2, 4, 8, 16, 32, 64, 128), seeds=3, bits=_cost.BITS_LADDER,
                   sparsities=(0.0, 0.5, 0.9), scale_bits=8, steps=1500, batch=32, window=32, burn=4, lr=1e-2,
                   pack_members=9)


def _group_key(cfg: SweepConfig, family: str, width: int) -> str:
    """Hash of everything that determines a group's trained models (not the compression ladder)."""
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("families", "widths", "bits",
                                                                            "sparsities", "ckpt_every",
                                                                            "pack_widths", "pack_members", "chunk",
                                                                            "scale_bits")}
    return f"{family}-w{width}-" + io.config_hash({**fields, "family": family, "width": width})



def task_summary(task: TaskData) -> dict[str, Any]:
    """What the frontier analysis needs about a task: name, discrete, floor, n_test_symbols, shapes."""
    return {"name": task.name, "discrete": task.discrete, "floor": task.floor, "n_symbols": task.n_symbols,
            "n_test_symbols": task.n_test_symbols, "train_shape": list(task.train.shape),
            "test_shape": list(task.test.shape)}


def load_points(out: str | Path) -> list[dict[str, Any]]:
    """The points recorded so far in ``<out>/points.jsonl`` (first record per key wins; the torn last line of
    a killed run is skipped, a corrupt line elsewhere is a ``ValueError`` naming the file and line). Diverged
    models carry ``"loss": None``."""
    seen, pts = set(), []
    for r in io.read_jsonl(Path(out) / "points.jsonl"):
        if r.get("key") not in seen:
            seen.add(r.get("key"))
            pts.append(r)
    return pts


def _write_trivial(cfg: SweepConfig, task: TaskData, path: Path, done: set) -> None:
    """Append the zero-cost anchors (last value, means, n-gram tables) not yet in ``done``."""
    data_hash = io.config_hash({k: getattr(cfg, k) for k in ("task", "length", "n_programs", "seed")})
    for pt in trivial_points(list(task.train), list(task.test), discrete=task.discrete, n_symbols=task.n_symbols):
        pt.update(key=f"trivial|{cfg.task}|{pt['family']}|{data_hash}",
                  task=cfg.task, group="trivial", raw_bits=32 * pt["n_params"], raw_bits_b=32 * pt["n_params"])
        if pt["key"] not in done:
            io.append_jsonl(path, pt)
            done.add(pt["key"])


def _write_curve(path: Path, gkey: str, family: str, width: int, loss_hist: Any, chunk: int) -> None:
    """Append a group's training curve to curves.jsonl: per seed, the mean train loss of every ``chunk`` steps
    (None where it diverged), and the total ``steps``."""
    h = np.asarray(loss_hist, np.float64)
    means = h.reshape(h.shape[0], -1, chunk).mean(-1) if h.shape[1] % chunk == 0 else h
    io.append_jsonl(path, {"group": gkey, "family": family, "width": width, "steps": int(h.shape[1]),
                           "loss": [[x if np.isfinite(x) else None for x in row] for row in means.tolist()]})


def _todo(cfg: SweepConfig, done: set) -> tuple[dict[str, list[tuple[int, str]]], list[str]]:
    """``({family: [(width, group key) of unfinished groups]}, [group keys whose points are all present])``."""
    todo: dict[str, list[tuple[int, str]]] = {}
    skipped = []
    for family in cfg.families:
        for width in cfg.widths:
            gkey = _group_key(cfg, family, width)
            want = [_point_key(gkey, m, b, s, cfg.scale_bits)
                    for m in range(cfg.seeds) for b in cfg.bits for s in cfg.sparsities]
            if all(k in done for k in want):
                skipped.append(gkey)
            else:
                todo.setdefault(family, []).append((width, gkey))
    return todo, skipped


def _check_memory(cfg: SweepConfig) -> None:
    """Refuse a sweep whose data or largest training pack cannot fit (a lower bound: the programs as float32 with
    up to 16 channels; seeds x batch x window x (6 width) activations and seeds x 4 (width + 16)^2 x 3 Adam params)."""
    w = max(cfg.widths)
    need = (_memory.nbytes((cfg.n_programs, cfg.length, 16)) + _memory.nbytes((cfg.seeds, cfg.batch, cfg.window, 6 * w))
            + _memory.nbytes((cfg.seeds, 3 * 4 * (w + 16) ** 2)))
    _memory.require_fits({"length": cfg.length, "n_programs": cfg.n_programs, "max(widths)": w, "seeds": cfg.seeds,
                          "batch": cfg.batch, "window": cfg.window}, need, what="task data and the widest model")


def run_sweep(cfg: SweepConfig, out: str | Path, *, on_group: Callable[[str], None] | None = None,
              overwrite: bool = False) -> dict[str, Any]:
    """Run (or resume) the sweep, appending every point to ``<out>/points.jsonl``.

    Args:
      cfg: :class:`SweepConfig`.
      out: output folder; rerunning with the same folder and config skips finished groups. The config is
        recorded as the ``"sweep"`` owner of ``<out>/wavejax-run.json``; another config (any field) raises
        :class:`wavejax.runs.ConfigMismatch` naming the differing fields (:func:`wavejax.runs.claim`).
      on_group: called with the group key after each trained group's points are written.
      overwrite: remove the files the old sweep wrote (points, curves, group checkpoints) first (a fresh sweep).

    Returns:
      ``{"trained": [group keys trained now], "skipped": [groups already complete], "n_points": int,
      "seconds": float, "task": TaskData}``.
    """
    _check_memory(cfg)  # before the folder is claimed
    out = runs.folder(out)
    with runs.run_folder(out, cfg, owner="sweep", state=SWEEP_STATE, overwrite=overwrite):
        return _sweep(cfg, out, on_group)


def _sweep(cfg: SweepConfig, out: Path, on_group: Callable[[str], None] | None) -> dict[str, Any]:
    from wavejax.progress import progress

    path = out / "points.jsonl"
    t0 = time.perf_counter()
    root = jax.random.key(cfg.seed)
    task = make_task(cfg.task, key=jax.random.fold_in(root, 0), length=cfg.length, n_programs=cfg.n_programs)
    io.atomic_write_json(out / "task.json", task_summary(task))
    done = {r.get("key") for r in io.read_jsonl(path)}
    _write_trivial(cfg, task, path, done)
    tcfg = cfg.train_config()
    batch_fn = make_batch_fn(task, batch=cfg.batch, window=cfg.window, burn=cfg.burn)
    todo, skipped = _todo(cfg, done)
    curved = {r.get("group") for r in io.read_jsonl(out / "curves.jsonl")}  # a rerun never duplicates a curve
    trained = []
    packs = [(family, pack) for family, groups in todo.items() for pack in _packs(cfg, family, groups)]
    for family, pack in progress(packs, total=len(packs), desc=f"sweep {cfg.task}"):
        for width, gkey, params, loss_hist in _train_pack(cfg, family, pack, task, batch_fn, tcfg, root, out):
            if gkey not in curved:
                _write_curve(out / "curves.jsonl", gkey, family, width, loss_hist, cfg.engine_chunk)
            model = make_model(family, width, task.d_in, slots=cfg.slots)
            diverged = member_diverged(params, loss_hist)  # checked BEFORE compressing: divergence is data
            for rec in ladder_points(model, params, task, cfg, family=family, width=width, gkey=gkey,
                                     diverged=diverged):
                if rec["key"] not in done:
                    # float32 mean (as recorded since issue 7): the per-step losses of a packed group agree across
                    # device counts only to ~1 float32 ulp, which a float64 mean would expose
                    end = np.asarray(loss_hist[rec["seed"], -10:], np.float32)
                    rec["train_loss_end"] = float(np.nanmean(end)) if np.isfinite(end).any() else None
                    io.append_jsonl(path, rec)
                    done.add(rec["key"])
            trained.append(gkey)
            if on_group is not None:
                on_group(gkey)
    return {"trained": trained, "skipped": skipped, "n_points": len(load_points(out)),
            "seconds": time.perf_counter() - t0, "task": task}
