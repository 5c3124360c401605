"""``wavejax tradeoff sweep|frontier|report`` (tyro over frozen dataclass configs).

* ``sweep``: train the model family on a task and record every (family, width, seed, b, s) point (resumable: rerun
  with the same ``--out`` to continue a killed sweep).
* ``frontier``: analyse a sweep folder (fronts, compression shift, three-phase and power-law fits, MDL optimum,
  bootstrap CIs) and draw its figures.
* ``report``: run the headline experiments at a scale and print the report rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax

from wavejax._cli import default_out, run_subcommands
from wavejax.io import atomic_write_json, read_json
from wavejax.tradeoff.models import FAMILIES

__all__ = ["main", "SweepArgs", "FrontierArgs", "ReportArgs"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepArgs:
    """Train the model family on a task and write every point to <out>/points.jsonl (resumable)."""

    task: str = "hmm"  # hmm | ar | cache | traces:<folder of .npy files>
    scale: Literal["quick", "full", "custom"] = "quick"  # quick/full presets; custom: the fields below
    families: tuple[str, ...] = FAMILIES  # (custom) model families
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32)  # (custom) width ladder
    seeds: int = 3  # (custom) seeds per (family, width): the vmapped member axis
    bits: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 12, 16, 32)  # (custom) quantiser bits
    sparsities: tuple[float, ...] = (0.0, 0.5, 0.9)  # (custom) pruning fractions
    steps: int = 3000  # (custom) optimizer steps per model
    length: int = 4096  # (custom) steps per program
    seed: int = 0  # root PRNG seed
    out: Path | None = None  # output folder (default runs/tradeoff-sweep-<timestamp>)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FrontierArgs:
    """Analyse a sweep folder: analysis.json plus frontier, raw-vs-compressed, per-family and MDL figures."""

    sweep: Path  # folder written by `wavejax tradeoff sweep`
    n_boot: int = 1000  # bootstrap resamples
    seed: int = 0  # bootstrap PRNG seed
    out: Path | None = None  # output folder (default: the sweep folder)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReportArgs:
    """Run the tradeoff headline experiments (costs, fits, hmm, cache) and print their rows."""

    scale: Literal["quick", "full"] = "quick"  # quick: minutes on CPU; full: GPU hours
    only: tuple[str, ...] = ()  # experiment names, e.g. tradeoff.hmm (default: all)
    out: Path | None = None  # output folder


def _sweep(a: SweepArgs) -> dict:
    from wavejax.tradeoff.experiments import sweep_config
    from wavejax.tradeoff.sweep import SweepConfig, run_sweep

    if a.scale == "custom":
        cfg = SweepConfig(task=a.task, families=a.families, widths=a.widths, seeds=a.seeds, bits=a.bits,
                          sparsities=a.sparsities, steps=a.steps, length=a.length, seed=a.seed)
    else:
        cfg = dataclasses.replace(sweep_config(a.task, a.scale), seed=a.seed)
    out = a.out or default_out("tradeoff", "sweep")
    res = run_sweep(cfg, out)
    atomic_write_json(out / "config.json", cfg)
    print(f"{res['n_points']} points ({len(res['trained'])} groups trained, {len(res['skipped'])} skipped) in "
          f"{res['seconds']:.1f} s; points in {out / 'points.jsonl'}")
    return {"n_points": res["n_points"], "trained": res["trained"], "skipped": res["skipped"]}


def _frontier(a: FrontierArgs) -> dict:
    from wavejax.tradeoff.analysis import analyse
    from wavejax.tradeoff.figures import frontier_figures
    from wavejax.tradeoff.sweep import load_points

    pts = load_points(a.sweep)
    if not pts:
        raise SystemExit(f"no points in {a.sweep / 'points.jsonl'}; run `wavejax tradeoff sweep` first")
    task = read_json(a.sweep / "task.json")
    out = a.out or a.sweep
    res = analyse(pts, task, key=jax.random.key(a.seed), n_boot=a.n_boot)
    atomic_write_json(out / "analysis.json", res)
    figs = frontier_figures(pts, res, out, title=task["name"])
    best, m = res["best"], res["mdl"]
    print(f"{len(res['front'])} front points of {res['n_points']}; best loss {best['loss']:.4f}"
          + (f" (floor {best['floor']:.4f})" if best["floor"] else ""))
    for target, ph in res["phases"].items():
        if "k" in ph:
            print(f"three-phase test on log {target}: BIC chooses k = {ph['k']} breakpoints "
                  f"(BIC {ph['bic']}), slopes {[round(s, 3) for s in ph['slopes']]}")
    print(f"MDL optimum: C = {m['cost_bits']:.0f} bits ({m['family']} w={m['width']} b={m['bits']})")
    print(f"analysis and {len(figs)} figures in {out}")
    return res


def _report(a: ReportArgs) -> dict:
    from wavejax.tradeoff import experiments

    out = a.out or default_out("tradeoff", "report")
    results = {}
    for exp in experiments.EXPERIMENTS:
        if a.only and exp.name not in a.only:
            continue
        sub = out / exp.name
        sub.mkdir(parents=True, exist_ok=True)
        res = exp.run(a.scale, sub)
        results[exp.name] = dataclasses.asdict(res)
        print(f"## {exp.name}: {exp.title}")
        for r in res.rows:
            print(f"  {r.quantity}: {r.measured} (reference {r.paper}; holds: {r.holds})")
    atomic_write_json(out / "results.json", results)
    print(f"results and figures in {out}")
    return results


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax tradeoff``."""
    run_subcommands("wavejax tradeoff", {
        "sweep": (SweepArgs, _sweep),
        "frontier": (FrontierArgs, _frontier),
        "report": (ReportArgs, _report),
    }, argv)
