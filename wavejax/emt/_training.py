"""Training bias-free tanh RNNs on the binary variable-binding tasks with the shared engine (docs/emt.md §4).

The recipe: Elman RNN (tanh, no bias, U(+-1/sqrt(H)) init, h(0) = 0, bias-free readout), d = 8 in and out, MSE over
the output phase, Adam 1e-3 with coupled L2, global-norm clip 1.0, batch 64, 20,000 steps, horizon curriculum
[10, 20, 40, 60, 100] (advance when a batch's sign accuracy > threshold), test at horizon 200 on 10 fresh batches
of 64. Everything is delegated to :func:`wavejax.rnn.train` (vmapped members, padded curriculum, orbax checkpoints,
JSONL metrics); this module only builds the task side and the member axis:

* :func:`train_task`: one task, ``n_seeds`` seeds as the engine's member axis (member m uses key(seed + m), so a
  seed's run does not depend on how many seeds are trained beside it).
* :func:`train_sweep`: several tasks x L2 values x thresholds x seeds at one hidden width in ONE compiled program
  (tasks enter as the per-member ``data`` of the engine, L2 and threshold as its ``sweep`` values).
* :func:`evaluate_members`: test loss / sign accuracy per member, each on its own task.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate, io
from wavejax.emt._tasks import CURRICULUM, curriculum_batch_fn
from wavejax.rnn import Elman, TrainConfig, evaluate, init_state, train
from wavejax.tasks import binary_vb_task, parse_task_id, task_batch

__all__ = ["EMTConfig", "EMTRun", "train_task", "train_sweep", "evaluate_members", "save_run", "load_run",
           "init_params"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class EMTConfig:
    """One EMT training run (the recipe of docs/emt.md §4 / §7 by default).

    The optimizer, curriculum threshold, step count, chunking and checkpointing are the engine's own
    :class:`wavejax.rnn.TrainConfig` (field ``train``; ``--train.steps`` etc. on the command line); this class adds
    the task side and the member axis. ``train.n_levels`` and ``train.curriculum`` are set from ``curriculum``
    (padded batches) by :meth:`engine`.

    >>> EMTConfig.quick().train.steps, EMTConfig.full().train.steps
    (1000, 20000)
    """

    task: str = "repeat_copy"  # task name (repeat_copy, compose_copy, mix_262676_189, mix_38637_145) or "id1,id2,id3"
    hidden: int = 128  # H
    batch: int = 64  # batch size
    curriculum: tuple[int, ...] = CURRICULUM  # output horizons per level
    seed: int = 0  # seed of the first member
    n_seeds: int = 1  # seeds seed..seed+n_seeds-1 trained together (vmapped)
    test_horizon: int = 200  # output horizon of the test (2x the longest training horizon)
    test_batches: int = 10  # fresh test batches of size ``batch``
    # the engine's settings: steps (20k = 10 epochs x 2000), lr, coupled l2, clip, curriculum threshold, chunk,
    # ckpt_every (rerunning with the same ``out`` resumes), member_block (1: seeds one at a time per device; CPU)
    train: TrainConfig = TrainConfig()

    def __post_init__(self):
        parse_task_id(self.task)
        for k in ("hidden", "batch", "n_seeds", "test_horizon", "test_batches"):
            _validate.positive_int(k, getattr(self, k))
        _validate.nonneg_int("seed", self.seed)
        if not isinstance(self.train, TrainConfig):
            raise TypeError(f"train must be a wavejax.rnn.TrainConfig; got train={self.train!r}")
        if not self.curriculum:
            raise ValueError("curriculum must hold at least one horizon")
        for h in self.curriculum:
            _validate.positive_int("curriculum", h)
        if any(b <= a for a, b in zip(self.curriculum, self.curriculum[1:], strict=False)):
            raise ValueError(f"curriculum must hold strictly increasing horizons; got curriculum={self.curriculum}")

    @classmethod
    def quick(cls) -> EMTConfig:
        """1,000 steps, no checkpoints: the curriculum reaches horizon 100, the model has not converged."""
        return cls(train=TrainConfig(steps=1000, chunk=100, log_every=100, ckpt_every=0))

    @classmethod
    def full(cls) -> EMTConfig:
        """The recipe of docs/emt.md §4 (20k steps)."""
        return cls()

    def engine(self) -> TrainConfig:
        """The engine's :class:`wavejax.rnn.TrainConfig`: ``train`` with the padded curriculum of ``curriculum``.

        A chunk longer than ``train.steps`` is shortened to it (logging and checkpoints then follow the chunk).
        """
        t = self.train
        chunk = min(t.chunk, t.steps)
        if chunk != t.chunk:
            ckpt = t.ckpt_every - t.ckpt_every % chunk if t.ckpt_every >= chunk else 0
            t = dataclasses.replace(t, chunk=chunk, log_every=chunk, ckpt_every=ckpt)
        return dataclasses.replace(t, n_levels=len(self.curriculum), curriculum="pad")


@dataclasses.dataclass(kw_only=True)
class EMTRun:
    """Result of a training run: per-member params (float64 NumPy, leading member axis), curves and tests."""

    params: dict[str, np.ndarray]  # W_uh (M, H, d), W_hh (M, H, H), W_hy (M, d, H)
    history: dict[str, np.ndarray]  # loss / accuracy / grad_norm / level, shape (M, steps)
    test_accuracy: np.ndarray  # (M,) sign accuracy at the test horizon
    test_loss: np.ndarray  # (M,)
    members: list[dict]  # per member: task id, l2, threshold, seed
    hidden: int

    def member_params(self, m: int) -> dict[str, np.ndarray]:
        """The unstacked params of member ``m``."""
        return {k: v[m] for k, v in self.params.items()}


def _keys(seeds: Sequence[int]):
    return jax.vmap(jax.random.key)(jnp.asarray(list(seeds), jnp.uint32))


def evaluate_members(hidden: int, params: dict, phis: np.ndarray, *, key, horizon: int = 200, batch: int = 64,
                     n_batches: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Test (loss, sign accuracy) per member on fresh batches of its own task (lag matrices ``phis[m]``).

    A thin wrapper over :func:`wavejax.rnn.evaluate` with the task as the per-member ``data``.

    Args:
      hidden: H of the Elman model.
      params: stacked Elman params with leading member axis M.
      phis: lag matrices per member, shape ``(M, s, d, d)``.
      key: PRNG key; every member sees batches from the same keys.
      horizon, batch, n_batches: test protocol (docs/emt.md §4: 200, 64, 10).

    Returns:
      Two float64 arrays of shape ``(M,)``.
    """
    _validate.ndim("phis", phis, 4)
    model = Elman(hidden=_validate.positive_int("hidden", hidden), d_out=int(np.shape(phis)[-1]))
    fn = _test_batch_fn(_validate.positive_int("horizon", horizon), _validate.positive_int("batch", batch))
    p32 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float32), params)
    res = evaluate(model, p32, fn, key=key, data=jnp.asarray(phis, jnp.float32), stacked=True,
                   n_batches=_validate.positive_int("n_batches", n_batches))
    return np.asarray(res["loss"], np.float64), np.asarray(res["accuracy"], np.float64)


@functools.lru_cache(maxsize=32)
def _test_batch_fn(horizon: int, batch: int):
    """``batch_fn(key, phi)`` of the test (one object per protocol: the evaluator reuses its compiled program)."""
    return functools.partial(_test_batch, horizon=horizon, batch=batch)


def _test_batch(key, phi, *, horizon: int, batch: int):
    return task_batch(key, phi, horizon=horizon, batch=batch)


@functools.lru_cache(maxsize=32)
def _batch_fn(task: tuple[int, int, int] | None, batch: int, horizons: tuple[int, ...]):
    """One training batch function per (task, batch, curriculum): the engine then reuses its compiled chunk.

    ``task=None``: the task is the engine's per-member ``data`` (a swept task axis).
    """
    return curriculum_batch_fn(None if task is None else binary_vb_task(task), batch=batch, horizons=horizons)


def _run(cfg: EMTConfig, members: list[dict], out: Path | None, desc: str) -> EMTRun:
    phis = np.stack([binary_vb_task(m["task"]) for m in members])
    same_task = all(m["task"] == members[0]["task"] for m in members)
    batch_fn = _batch_fn(members[0]["task"] if same_task else None, cfg.batch, tuple(cfg.curriculum))
    sweep = {"l2": np.asarray([m["l2"] for m in members], np.float32),
             "threshold": np.asarray([m["threshold"] for m in members], np.float32)}
    model = Elman(hidden=cfg.hidden, d_out=phis.shape[-1])
    res = train(model, batch_fn, cfg.engine(), key=_keys([m["seed"] for m in members]), n_members=len(members),
                sweep=sweep, data=None if same_task else jnp.asarray(phis, jnp.float32), out=out, desc=desc,
                config={"emt": cfg, "members": members})
    params = {k: np.asarray(v, np.float64) for k, v in jax.device_get(res.state.params).items()}
    loss, acc = evaluate_members(cfg.hidden, params, phis, key=jax.random.key(10_000 + cfg.seed),
                                 horizon=cfg.test_horizon, batch=cfg.batch, n_batches=cfg.test_batches)
    history = dict(res.history)  # complete after a resume too (the engine restores it)
    run = EMTRun(params=params, history=history, test_accuracy=acc, test_loss=loss, members=members,
                 hidden=cfg.hidden)
    if out is not None:
        save_run(run, out)
    return run


def train_task(cfg: EMTConfig, out: str | Path | None = None) -> EMTRun:
    """Train ``cfg.n_seeds`` seeds of one task (docs/emt.md §4); ``out`` holds checkpoints, metrics.jsonl, run.npz."""
    tid = parse_task_id(cfg.task)
    members = [{"task": tid, "l2": cfg.train.l2, "threshold": cfg.train.threshold, "seed": cfg.seed + m}
               for m in range(cfg.n_seeds)]
    return _run(cfg, members, None if out is None else Path(out), desc=f"emt {cfg.task} H={cfg.hidden}")


def train_sweep(cfg: EMTConfig, tasks: Sequence[str | tuple[int, int, int]], l2s: Sequence[float],
                thresholds: Sequence[float], seeds: Sequence[int], out: str | Path | None = None) -> EMTRun:
    """Tasks x L2 x thresholds x seeds at hidden width ``cfg.hidden``, as one vmapped member axis.

    Member order is ``itertools.product(tasks, l2s, thresholds, seeds)``; ``cfg.task``, ``cfg.train.l2``,
    ``cfg.train.threshold``, ``cfg.seed`` and ``cfg.n_seeds`` are ignored.
    """
    if not (tasks and l2s and thresholds and seeds):
        raise ValueError("tasks, l2s, thresholds and seeds must be non-empty")
    members = [{"task": parse_task_id(t), "l2": float(lam), "threshold": float(th), "seed": int(sd)}
               for t, lam, th, sd in itertools.product(tasks, l2s, thresholds, seeds)]
    return _run(cfg, members, None if out is None else Path(out), desc=f"emt sweep H={cfg.hidden}")


def save_run(run: EMTRun, out: str | Path) -> Path:
    """Write ``run.npz`` (params, history, tests) and ``members.json`` into ``out``."""
    out = Path(out)
    arrays = {f"params/{k}": v for k, v in run.params.items()}
    arrays |= {f"history/{k}": v for k, v in run.history.items()}
    arrays |= {"test_accuracy": run.test_accuracy, "test_loss": run.test_loss, "hidden": np.asarray(run.hidden)}
    import io as _io

    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    io.atomic_write_bytes(out / "run.npz", buf.getvalue())
    io.atomic_write_json(out / "members.json", [{**m, "task": list(m["task"])} for m in run.members])
    return out / "run.npz"


def load_run(out: str | Path) -> EMTRun:
    """Read a run written by :func:`train_task` / :func:`train_sweep` (``run.npz`` + ``members.json``)."""
    out = Path(out)
    if not (out / "run.npz").exists():
        raise FileNotFoundError(f"{out / 'run.npz'} not found: train first (wavejax emt train --out {out})")
    z = io.load_npz(out / "run.npz")
    members = [{**m, "task": tuple(m["task"])} for m in io.read_json(out / "members.json")]
    return EMTRun(params={k.split("/", 1)[1]: z[k] for k in z if k.startswith("params/")},
                  history={k.split("/", 1)[1]: z[k] for k in z if k.startswith("history/")},
                  test_accuracy=z["test_accuracy"], test_loss=z["test_loss"], members=members,
                  hidden=int(z["hidden"]))


def init_params(hidden: int, seed: int, d: int = 8) -> dict[str, np.ndarray]:
    """The engine's initial Elman parameters of member seed ``seed`` (before training), float64 NumPy.

    >>> init_params(16, 0)["W_hh"].shape
    (16, 16)
    """
    x = jnp.zeros((1, 9, _validate.positive_int("d", d)), jnp.float32)
    st = init_state(Elman(hidden=_validate.positive_int("hidden", hidden), d_out=d), jax.random.key(seed), x,
                    cfg=TrainConfig(steps=1))
    return {k: np.asarray(v, np.float64) for k, v in st.params.items()}
