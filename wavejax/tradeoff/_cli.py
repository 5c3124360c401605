"""``wavejax tradeoff sweep|frontier|report|costs|fits|hmm|ar|cache`` (tyro over the library's frozen configs).

* ``sweep``: train the model family on a task and record every (family, width, seed, b, s) point
  (:class:`~wavejax.tradeoff.SweepConfig`, every field a flag; resumable: rerun with the same ``--out`` to
  continue a killed sweep). ``--preset quick`` is the report's quick sweep of the HMM task
  (:meth:`SweepConfig.quick`), ``--preset full`` the full one (:meth:`SweepConfig.full`: under an hour for the three
  tasks on 2 CPU cores; scale it up on a GPU with its flags).
* ``frontier``: analyse a sweep folder (fronts, compression shift, three-phase and power-law fits, MDL optimum,
  bootstrap CIs) and draw its figures into ``--out``.
* ``costs``, ``fits``, ``hmm``, ``ar``, ``cache``: one headline experiment each, with its own config class
  (:func:`wavejax._cli.experiment_commands`); ``--sweep.widths 1 2`` etc. set the task sweeps.
* ``report``: all (or ``--only``) tradeoff experiments through :func:`wavejax.report.reproduce`, i.e.
  ``wavejax reproduce --only tradeoff`` with its report.md.

Every command writes ``<out>/results.json`` in the one schema of :mod:`wavejax.report._results`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax

from wavejax import _validate
from wavejax._cli import experiment_commands, run_subcommands
from wavejax.io import atomic_write_json, read_json
from wavejax.report import Result, row
from wavejax.tradeoff._sweep import SweepConfig

__all__ = ["main", "FrontierConfig", "ReportConfig"]


def _sweep(cfg: SweepConfig, out: Path) -> Result:
    from wavejax.distributed import is_main_process
    from wavejax.tradeoff._figures import sweep_figure
    from wavejax.tradeoff._sweep import load_points, run_sweep

    res = run_sweep(cfg, out)  # one record, out/wavejax-run.json: the runner as "cli", run_sweep as "sweep"
    fig = sweep_figure(load_points(out), out, title=cfg.task) if is_main_process() else None
    n_trained = len(res["trained"])
    return Result(rows=[row(f"{cfg.task}: points recorded in points.jsonl", "—", res["n_points"], None,
                            note=f"{n_trained} groups trained, {len(res['skipped'])} skipped")],
                  figures=[fig] if fig else [],
                  metrics={"n_points": res["n_points"], "trained": res["trained"], "skipped": res["skipped"],
                           "seconds": res["seconds"], "points": str(out / "points.jsonl")})


@dataclasses.dataclass(frozen=True, kw_only=True)
class FrontierConfig:
    """Analyse a sweep folder: analysis.json plus frontier, raw-vs-compressed, per-family and MDL figures."""

    sweep: Path | None = None  # folder written by `wavejax tradeoff sweep` (required)
    n_boot: int = 1000  # bootstrap resamples
    seed: int = 0  # bootstrap PRNG seed

    def __post_init__(self):
        _validate.positive_int("n_boot", self.n_boot)

    @classmethod
    def quick(cls) -> FrontierConfig:
        return cls(n_boot=100)

    @classmethod
    def full(cls) -> FrontierConfig:
        return cls(n_boot=1000)


def _frontier(cfg: FrontierConfig, out: Path) -> Result:
    from wavejax.tradeoff._analysis import analyze
    from wavejax.tradeoff._experiments import task_rows
    from wavejax.tradeoff._figures import frontier_figures
    from wavejax.tradeoff._sweep import load_points

    if cfg.sweep is None:
        raise ValueError("sweep must name a folder written by `wavejax tradeoff sweep`; got sweep=None")
    pts = load_points(cfg.sweep)
    if not pts:
        raise ValueError(f"sweep={str(cfg.sweep)!r} holds no points ({cfg.sweep / 'points.jsonl'}); run "
                         "`wavejax tradeoff sweep` first")
    task = read_json(cfg.sweep / "task.json")
    res = analyze(pts, task, key=jax.random.key(cfg.seed), n_boot=cfg.n_boot)
    atomic_write_json(out / "analysis.json", res)
    figs = frontier_figures(pts, res, out, title=task["name"])
    rows = task_rows(task["name"], res, floor=task["floor"], discrete=task["discrete"])
    return Result(rows=rows, figures=list(figs), metrics={"analysis": res})


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReportConfig:
    """Run the tradeoff headline experiments (costs, fits, hmm, ar, cache) and write report.md into --out."""

    scale: Literal["quick", "full"] = "quick"  # quick: minutes on CPU; full: under an hour on 2 CPU cores
    only: tuple[str, ...] = ()  # experiment names, e.g. tradeoff.hmm (default: every tradeoff experiment)
    cache: Path | None = None  # cached experiment results (default <out>/cache)

    def __post_init__(self):
        for name in self.only:
            if not name.startswith("tradeoff."):
                raise ValueError(f"only must name tradeoff experiments (tradeoff.<name>); got only={self.only!r}")

    @classmethod
    def quick(cls) -> ReportConfig:
        return cls()

    @classmethod
    def full(cls) -> ReportConfig:
        return cls(scale="full")


def _report(cfg: ReportConfig, out: Path) -> Result:
    from wavejax.report._reproduce import reproduce

    reproduce(out, scale=cfg.scale, cache=cfg.cache or out / "cache", only=cfg.only or ("tradeoff.",))
    summary = read_json(out / "results.json")["metrics"]["experiments"]  # the report's own results.json
    rows = [row(r["quantity"], r["paper"], r["measured"], r["holds"], r["note"])
            for e in summary.values() for r in e["rows"]]
    return Result(rows=rows, figures=["report.md"], metrics={"experiments": summary})


def commands() -> dict:
    """``{name: (config class, fn)}`` of every ``wavejax tradeoff`` subcommand."""
    return {"sweep": (SweepConfig, _sweep), "frontier": (FrontierConfig, _frontier), "report": (ReportConfig, _report),
            **experiment_commands("tradeoff")}


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax tradeoff``."""
    run_subcommands("wavejax tradeoff", commands(), argv)
