"""``wavejax wave rollout|theory|spectra|gradients|travel`` (tyro over frozen dataclass configs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from wavejax._cli import default_out, experiment_command, run_subcommands
from wavejax.io import atomic_write_json
from wavejax.report import line_plot

__all__ = ["main", "RolloutConfig", "AnalysisConfig"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutConfig:
    """Roll a binary task's lattice forward from random +-1 inputs and save the newest rows."""

    task: str = "repeat_copy"  # task name (repeat_copy, compose_copy, mix_262676_189, mix_38637_145)
    horizon: int = 40  # output-phase length after the s = 8 input steps
    batch: int = 16  # number of sequences
    input_mode: Literal["overwrite", "add"] = "overwrite"  # wave.md §2.4
    impl: Literal["shift", "ring", "chunked"] = "shift"  # lattice implementation
    seed: int = 0  # PRNG seed
    out: Path | None = None  # output folder (default runs/wave-rollout-<timestamp>)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalysisConfig:
    """Run one of the TWM headline analyses at a scale."""

    scale: Literal["quick", "full"] = "quick"  # quick: seconds on CPU; full: larger N and lags
    out: Path | None = None  # output folder


def _rollout(cfg: RolloutConfig) -> dict:
    from wavejax.wave import binary_task_batch, binary_vb_task, linear_boundary, rollout

    out = cfg.out or default_out("wave", "rollout")
    phi = binary_vb_task(cfg.task)
    x, y, _ = binary_task_batch(jax.random.key(cfg.seed), phi, horizon=cfg.horizon, batch=cfg.batch)
    m = jnp.arange(x.shape[1]) < 8
    f = linear_boundary(phi.astype(np.float32))
    ys = jax.vmap(lambda xi: rollout(f, jnp.zeros((8, 8), jnp.float32), xi, m, cfg.input_mode, impl=cfg.impl,
                                     save="newest"))(x)
    err = np.abs(np.asarray(ys[:, 8:] - y[:, 8:])).max(axis=(0, 2))
    acc = float((np.sign(np.asarray(ys[:, 8:])) == np.asarray(y[:, 8:])).mean())
    res = {"config": cfg, "max_error": float(err.max()), "sign_accuracy": acc}
    atomic_write_json(out / "results.json", res)
    line_plot(out / "error_vs_time.png", {cfg.input_mode: (np.arange(cfg.horizon), err)}, xlabel="output step",
              ylabel="max |error|", title=f"{cfg.task}: lattice vs targets")
    print(f"{cfg.task} ({cfg.input_mode}): max error {err.max():.3g}, sign accuracy {acc:.4f}; results in {out}")
    return res




def main(argv: list[str]) -> None:
    """Entry point of ``wavejax wave``."""
    jax.config.update("jax_enable_x64", True)
    run_subcommands("wavejax wave", {
        "rollout": (RolloutConfig, _rollout),
        "theory": (type("TheoryConfig", (AnalysisConfig,), {"__doc__": "Theorem 3.1, input modes, basis."}),
                   experiment_command("wave", "theory")),
        "spectra": (type("SpectraConfig", (AnalysisConfig,), {"__doc__": "Spectra of M for the four tasks."}),
                    experiment_command("wave", "spectra")),
        "gradients": (type("GradientsConfig", (AnalysisConfig,), {"__doc__": "Gradient norm vs lag."}),
                      experiment_command("wave", "gradients")),
        "travel": (type("TravelConfig", (AnalysisConfig,), {"__doc__": "The '315' probe travelling."}),
                   experiment_command("wave", "travel")),
    }, argv)
