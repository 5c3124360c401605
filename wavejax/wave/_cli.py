"""``wavejax wave rollout|theory|spectra|gradients|travel`` (tyro over frozen config classes).

``rollout`` takes :class:`RolloutConfig`; the four analyses are the headline experiments of
:mod:`wavejax.wave._experiments` with their own config class :class:`~wavejax.wave._experiments.WaveConfig` (every
field a flag, ``--preset quick|full``). Every command is ``fn(cfg, out) -> Result``; the runner adds ``--out`` and
writes ``out/results.json``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from wavejax._cli import experiment_commands, run_subcommands
from wavejax.report import Result, line_plot, row

__all__ = ["main", "RolloutConfig", "rollout_command"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutConfig:
    """Roll a binary task's lattice forward from random +-1 inputs and compare the newest rows with the targets."""

    task: str = "repeat_copy"  # task name (repeat_copy, compose_copy, mix_262676_189, mix_38637_145) or "id1,id2,id3"
    horizon: int = 40  # output-phase length after the s = 8 input steps
    batch: int = 16  # number of sequences
    input_mode: Literal["overwrite", "add"] = "overwrite"  # docs/wave.md §2.4
    impl: Literal["shift", "ring", "chunked"] = "shift"  # lattice implementation
    seed: int = 0  # PRNG seed

    @classmethod
    def quick(cls) -> RolloutConfig:
        return cls(horizon=40, batch=16)

    @classmethod
    def full(cls) -> RolloutConfig:
        return cls(horizon=200, batch=64)


def rollout_command(cfg: RolloutConfig, out: Path) -> Result:
    """Lattice (LBC boundary, float32) vs the task targets; writes ``error_vs_time.png``."""
    from wavejax.rnn import sign_accuracy
    from wavejax.tasks import binary_vb_task, parse_task_id, task_batch
    from wavejax.wave import linear_boundary, rollout

    tid = parse_task_id(cfg.task)
    phi = binary_vb_task(tid)
    x, y, out_mask = task_batch(jax.random.key(cfg.seed), phi, horizon=cfg.horizon, batch=cfg.batch)
    m = ~out_mask  # inputs are present during the s = 8 input steps
    f = linear_boundary(phi.astype(np.float32))
    ys = jax.vmap(lambda xi: rollout(f, jnp.zeros((8, 8), jnp.float32), xi, mask=m, input_mode=cfg.input_mode,
                                     impl=cfg.impl, save="newest"))(x)
    err = np.abs(np.asarray(ys[:, 8:] - y[:, 8:])).max(axis=(0, 2))
    acc = float(sign_accuracy(ys, y, out_mask))
    max_err = float(err.max())
    exact = cfg.input_mode == "overwrite" or tid == (255, 0, 0)
    line_plot(out / "error_vs_time.png", {cfg.input_mode: (np.arange(cfg.horizon), err)}, xlabel="output step",
              ylabel="max |error|", title=f"{cfg.task}: lattice vs targets")
    rows = [row(f"{cfg.task} ({cfg.input_mode}): max |lattice − target| over {cfg.horizon} output steps",
                "0 (overwrite, or add on repeat copy)" if exact else "≥ 1 (add mode, lag < s: spec §2.4)", max_err,
                max_err == 0.0 if exact else max_err >= 1.0)]
    return Result(rows=rows, figures=["error_vs_time.png"],
                  metrics={"max_error": max_err, "sign_accuracy": acc, "error_vs_time": err.tolist()})


def commands() -> dict:
    """``{name: (config class, fn)}`` of every ``wavejax wave`` subcommand."""
    return {"rollout": (RolloutConfig, rollout_command), **experiment_commands("wave")}


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax wave``."""
    run_subcommands("wavejax wave", commands(), argv)
