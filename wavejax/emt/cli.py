"""``wavejax emt train|analyse|table`` (tyro over frozen dataclass configs).

    wavejax emt train --task repeat_copy --hidden 128 --steps 20000 --out runs/rc     # rerun resumes
    wavejax emt analyse --run runs/rc                                                # spectrum, basis, figures
    wavejax emt table --scale full --seeds 20                                        # Table 1 sweep
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax
import numpy as np

from wavejax._cli import default_out, run_subcommands
from wavejax.io import atomic_write_json

__all__ = ["main", "TrainCLIConfig", "AnalyseConfig", "TableCLIConfig"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainCLIConfig:
    """Train a bias-free tanh RNN on a binary variable-binding task (the recipe of emt.md §4)."""

    task: str = "repeat_copy"  # name (repeat_copy, compose_copy, mix_262676_189, mix_38637_145) or "id1,id2,id3"
    hidden: int = 128  # H
    steps: int = 20_000  # optimizer steps
    l2: float = 0.0  # coupled L2
    threshold: float = 0.96  # curriculum threshold
    batch: int = 64  # batch size
    lr: float = 1e-3  # Adam learning rate
    seed: int = 0  # first seed
    n_seeds: int = 1  # seeds trained together (vmapped)
    member_block: int | None = None  # 1: a device's seeds one after another in the program (CPU, one device per core)
    test_batches: int = 10  # test batches at horizon 200
    ckpt_every: int = 1000  # checkpoint period; rerunning with the same --out resumes
    out: Path | None = None  # output folder (default runs/emt-train-<timestamp>)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalyseConfig:
    """Analyse a trained run: spectrum vs theory, spectral error, privileged basis, figures."""

    run: Path  # folder written by ``wavejax emt train`` (holds run.npz)
    member: int = -1  # member (seed) index; -1 = all members
    out: Path | None = None  # output folder (default: the run folder)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableCLIConfig:
    """The Table-1 sweep: tasks x H x L2 x thresholds x seeds; writes table1.md next to the paper's numbers."""

    scale: Literal["quick", "full"] = "quick"  # quick: smoke sweep in seconds; full: the paper's sweep
    seeds: int | None = None  # override the number of seeds
    steps: int | None = None  # override the number of steps
    hiddens: tuple[int, ...] | None = None  # override H values
    out: Path | None = None  # output folder (default runs/emt-table-<timestamp>)


def _train(cfg: TrainCLIConfig) -> dict:
    from wavejax.emt.training import EMTConfig, train_task

    out = cfg.out or default_out("emt", "train")
    ecfg = EMTConfig(task=cfg.task, hidden=cfg.hidden, steps=cfg.steps, l2=cfg.l2, threshold=cfg.threshold,
                     batch=cfg.batch, lr=cfg.lr, seed=cfg.seed, n_seeds=cfg.n_seeds, ckpt_every=cfg.ckpt_every,
                     test_batches=cfg.test_batches, member_block=cfg.member_block)
    run = train_task(ecfg, out)
    res = {"config": ecfg, "test_accuracy": run.test_accuracy, "final_level": run.history["level"][:, -1],
           "final_train_accuracy": np.nanmean(run.history["accuracy"][:, -100:], axis=1)}
    atomic_write_json(out / "results.json", res)
    for m, acc in zip(run.members, run.test_accuracy, strict=True):
        print(f"seed {m['seed']}: test sign accuracy at horizon {ecfg.test_horizon}: {acc:.5f}")
    print(f"run written to {out} (analyse with: wavejax emt analyse --run {out})")
    return res


def _analyse(cfg: AnalyseConfig) -> dict:
    from wavejax.emt.experiments import trained_rows
    from wavejax.emt.training import load_run

    run = load_run(cfg.run)
    out = cfg.out or cfg.run
    members = range(len(run.members)) if cfg.member == -1 else [cfg.member]
    if cfg.member != -1 and not 0 <= cfg.member < len(run.members):
        raise SystemExit(f"--member {cfg.member} out of range: the run has {len(run.members)} members")
    res = {}
    for m in members:
        rows, figs, metrics = trained_rows(run, m, Path(out), full=True)
        res[str(m)] = {"rows": [dataclasses.asdict(r) for r in rows], "figures": figs, "metrics": metrics}
        for r in rows:
            print(f"{r.quantity}: {r.measured} (target {r.paper}; holds: {r.holds})")
    atomic_write_json(Path(out) / "analysis.json", res)
    print(f"analysis and figures in {out}")
    return res


def _table(cfg: TableCLIConfig) -> dict:
    from wavejax.emt.experiments import TableConfig, run_table

    out = cfg.out or default_out("emt", "table")
    base = TableConfig.quick() if cfg.scale == "quick" else TableConfig.full()
    over = {k: v for k, v in (("seeds", cfg.seeds), ("steps", cfg.steps), ("hiddens", cfg.hiddens)) if v is not None}
    tcfg = dataclasses.replace(base, **over)
    res = run_table(cfg.scale, out, tcfg)
    atomic_write_json(out / "results.json", dataclasses.asdict(res))
    print((out / "table1.md").read_text())
    print(f"table written to {out / 'table1.md'}")
    return dataclasses.asdict(res)


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax emt``."""
    jax.config.update("jax_enable_x64", True)
    run_subcommands("wavejax emt", {
        "train": (TrainCLIConfig, _train),
        "analyse": (AnalyseConfig, _analyse),
        "table": (TableCLIConfig, _table),
    }, argv)
