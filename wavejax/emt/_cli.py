"""``wavejax emt train|analyze|table``: generated from the library configs by :func:`wavejax._cli.run_subcommands`.

    wavejax emt train --task repeat_copy --hidden 128 --train.steps 20000 --out runs/rc   # rerun resumes
    wavejax emt analyze --run runs/rc --out runs/rc-analysis                             # spectrum, basis, figures
    wavejax emt table --preset full --seeds 20                                           # Table 1 sweep

``train`` takes every field of :class:`~wavejax.emt.EMTConfig` (the engine's settings as ``--train.*``),
``table`` every field of :class:`~wavejax.emt.TableConfig`, ``analyze`` those of :class:`AnalyzeConfig`;
``--preset quick|full`` seeds the defaults; each command writes ``out/results.json`` (one schema) and its side
files (``run.npz``, ``table1.md``, figures).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np

from wavejax._cli import run_subcommands
from wavejax.emt._table import TableConfig
from wavejax.emt._training import EMTConfig
from wavejax.report import Result, row

__all__ = ["main", "AnalyzeConfig", "train_command", "analyze_command", "table_command"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalyzeConfig:
    """Analyse a trained run: spectrum vs theory, spectral error, privileged basis (both groundings), figures."""

    X64: ClassVar[bool] = True  # the analysis runs in float64

    run: Path | None = None  # folder written by ``wavejax emt train`` (holds run.npz); required
    member: int = -1  # member (seed) index; -1 = all members
    claims: bool = True  # attach the paper-scale claims (a converged 20k-step model)

    @classmethod
    def quick(cls) -> AnalyzeConfig:
        """Rows without claims (a short run has not converged)."""
        return cls(claims=False)

    @classmethod
    def full(cls) -> AnalyzeConfig:
        """Rows with the acceptance claims."""
        return cls()


def train_command(cfg: EMTConfig, out: Path) -> Result:
    """Train ``cfg`` into ``out`` (checkpoints, metrics.jsonl, run.npz, members.json); rerunning resumes."""
    from wavejax.emt._training import train_task

    run = train_task(cfg, out)
    fig = _training_figure(run, out, f"emt {cfg.task}, H = {cfg.hidden}: training curves")
    rows = [row(f"seed {m['seed']}: test sign accuracy at horizon {cfg.test_horizon}", "≥ 0.99 (full recipe)",
                float(acc)) for m, acc in zip(run.members, run.test_accuracy, strict=True)]
    metrics = {"test_accuracy": run.test_accuracy, "final_level": run.history["level"][:, -1],
               "final_train_accuracy": np.nanmean(run.history["accuracy"][:, -100:], axis=1)}
    return Result(rows=rows, metrics=metrics, figures=[fig], notes=f"run written to {out} (analyze with: wavejax "
                                                                   f"emt analyze --run {out})")


def _training_figure(run, out: Path, title: str) -> str:
    """Write ``training.png`` (loss, accuracy, curriculum level of every member) into ``out``; return its name."""
    from wavejax.distributed import is_main_process
    from wavejax.emt._figures import plot_training

    if is_main_process():  # only process 0 writes files
        plot_training(Path(out) / "training.png", run.history, [f"seed {m['seed']}" for m in run.members],
                      title=title)
    return "training.png"


def analyze_command(cfg: AnalyzeConfig, out: Path) -> Result:
    """Rows, metrics and figures of each member of ``cfg.run`` (figures into ``out``).

    With H < s*d (no room for the circuit) the circuit comparison is skipped with a note and the rest (curriculum,
    accuracy, spectrum) is reported; a member the analysis cannot handle otherwise is reported in the metrics and
    notes instead of crashing.
    """
    from wavejax.emt._experiments import trained_rows
    from wavejax.emt._training import load_run

    if cfg.run is None:
        raise SystemExit("wavejax emt analyze: --run is required (the folder written by wavejax emt train)")
    run = load_run(cfg.run)
    if cfg.member != -1 and not 0 <= cfg.member < len(run.members):
        raise SystemExit(f"--member {cfg.member} out of range: the run has {len(run.members)} members")
    members = range(len(run.members)) if cfg.member == -1 else [cfg.member]
    rows, figs, metrics, notes = [], [_training_figure(run, out, f"{cfg.run}: training curves")], {}, []
    for m in members:
        try:
            r, f, mt = trained_rows(run, m, Path(out), full=cfg.claims)
        except ValueError as e:
            metrics[str(m)] = {"error": str(e)}
            notes.append(f"member {m}: not analysed: {e}")
            rows.append(row(f"member {m}: analysis", "a trained run with H >= s*d", "not analysed", note=str(e)))
            continue
        rows, figs, metrics[str(m)] = rows + r, figs + f, mt
        if "circuit_skipped" in mt:
            notes.append(f"member {m}: {mt['circuit_skipped']}")
    return Result(rows=rows, figures=figs, metrics=metrics, notes="; ".join(notes))


def table_command(cfg: TableConfig, out: Path) -> Result:
    """The Table-1 sweep of ``cfg`` (``table1.md`` / ``table1.json`` in ``out``); the L2 = 0.1 chance claim is
    attached when the sweep runs the recipe's step count."""
    from wavejax.distributed import is_main_process
    from wavejax.emt._experiments import table_result

    res = table_result(cfg, out, claims=cfg.train.steps >= TableConfig.full().train.steps)
    if is_main_process():  # only process 0 wrote table1.md (other hosts may not see out/ at all)
        print((out / "table1.md").read_text())
    return res


COMMANDS = {"train": (EMTConfig, train_command), "analyze": (AnalyzeConfig, analyze_command),
            "table": (TableConfig, table_command)}


def commands() -> dict:
    """``{name: (config class, fn)}`` of every ``wavejax emt`` subcommand."""
    return dict(COMMANDS)


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax emt``."""
    run_subcommands("wavejax emt", COMMANDS, argv)
