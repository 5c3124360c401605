"""Helpers shared by the per-model command lines (``wavejax/<model>/cli.py``)."""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import tyro

__all__ = ["run_subcommands", "default_out", "experiment_command"]


def default_out(model: str, command: str) -> Path:
    """``runs/<model>-<command>-<timestamp>``: the default output folder of a CLI run."""
    return Path("runs") / f"{model}-{command}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_subcommands(prog: str, commands: Mapping[str, tuple[type, Callable[[Any], Any]]],
                    argv: list[str]) -> Any:
    """Parse ``argv`` into one of the config dataclasses of ``commands`` and call its runner.

    Args:
      prog: program name shown in ``--help`` (e.g. ``"wavejax wave"``).
      commands: ``{name: (ConfigClass, runner)}``; ``runner(cfg)`` does the work.
      argv: the arguments after the model name.
    """
    cfg = tyro.extras.subcommand_cli_from_dict({k: v[0] for k, v in commands.items()}, prog=prog, args=argv)
    for cls, fn in commands.values():
        if type(cfg) is cls:
            return fn(cfg)
    raise RuntimeError(f"no runner for {type(cfg).__name__}")  # pragma: no cover


def experiment_command(model: str, name: str) -> Callable[[Any], dict]:
    """A CLI runner for the headline experiment ``<model>.<name>`` of ``wavejax/<model>/experiments.py``.

    The returned ``run(cfg)`` reads ``cfg.scale`` and ``cfg.out`` (default :func:`default_out`), runs the
    experiment, writes ``results.json`` next to its figures and prints its table rows.
    """

    def run(cfg: Any) -> dict:
        from wavejax.io import atomic_write_json

        experiments = importlib.import_module(f"wavejax.{model}.experiments")
        out = Path(cfg.out or default_out(model, name))
        out.mkdir(parents=True, exist_ok=True)
        exp = next(e for e in experiments.EXPERIMENTS if e.name == f"{model}.{name}")
        res = exp.run(cfg.scale, out)
        atomic_write_json(out / "results.json", dataclasses.asdict(res))
        for r in res.rows:
            print(f"{r.quantity}: {r.measured} (reference {r.paper}; holds: {r.holds})")
        print(f"results and figures in {out}")
        return dataclasses.asdict(res)

    return run
