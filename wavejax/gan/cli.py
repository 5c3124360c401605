"""``wavejax gan train|evaluate|checks|study|similarity`` (tyro over the library's frozen configs).

Every command is ``fn(cfg, out) -> Result``; the runner (:func:`wavejax._cli.run_subcommands`) adds ``--out`` and
``--preset`` and writes ``out/results.json`` in the one schema.

* ``train`` (:class:`~wavejax.gan.train.GANConfig`): train ``--seeds`` vmapped runs of one sharing variant;
  metrics, sample grids and orbax checkpoints go to ``--out`` and re-running the same command resumes. The
  final kernels are saved as ``g_kernel.npy`` / ``d_kernel.npy``. Presets: quick (CPU digits), full, paper.
* ``evaluate`` / ``study`` (:class:`~wavejax.gan.study.StudyConfig`): the whole study (classifier, baseline vs
  shared, entropies with CIs, FID, similarity report); the ``gan.study`` experiment.
* ``checks``: the ``gan.checks`` experiment (exact parameter counts, TF1 RMSProp parity).
* ``similarity`` (:class:`SimilarityConfig`): the similarity report of two saved kernels (``.npy``, shape
  (5, 5, C_in, C_out)).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from wavejax._cli import experiment_commands, run_subcommands
from wavejax.gan.train import GANConfig
from wavejax.io import atomic_write_text
from wavejax.report import Result, row

__all__ = ["main", "SimilarityConfig", "train_command", "similarity_command"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimilarityConfig:
    """Best-match cosines of a G kernel vs a D kernel with every null baseline and KS tests."""

    g_kernel: Path = Path("g_kernel.npy")  # .npy of the generator kernel (5, 5, C_in, C_out) (``gan train`` writes it)
    d_kernel: Path = Path("d_kernel.npy")  # .npy of the critic kernel, same shape
    d_independent: Path | None = None  # .npy of an independently trained critic's kernel (optional null)
    clip: float = 0.01  # clip bound c of the sign null
    seed: int = 0  # PRNG seed of the random nulls

    @classmethod
    def quick(cls) -> SimilarityConfig:
        """The defaults (the kernels ``gan train`` writes into the current folder)."""
        return cls()

    @classmethod
    def full(cls) -> SimilarityConfig:
        """The defaults (no scale: the work is the size of the kernels)."""
        return cls()


def train_command(cfg: GANConfig, out: Path) -> Result:
    """Train ``cfg`` into ``out`` (resumable); save the seed-stacked final kernels g_kernel.npy, d_kernel.npy."""
    from wavejax.gan.models import SHARED_LAYERS
    from wavejax.gan.run import train

    run = train(cfg, out=out)
    g_layer, d_layer, _ = SHARED_LAYERS["conv2" if cfg.sharing == "none" else cfg.sharing]
    np.save(out / "g_kernel.npy", np.asarray(run.state_g.params[g_layer]["kernel"]))
    np.save(out / "d_kernel.npy", np.asarray(run.state_d.params[d_layer]["kernel"]))
    steps = int(np.min(np.asarray(run.state_g.step)))
    last = {k: v[:, -1].tolist() for k, v in run.history.items()}  # history: (seeds, steps)
    rows = [row(f"{k} at step {steps}, per seed", "finite", " / ".join(f"{x:.4g}" for x in v),
                bool(np.all(np.isfinite(v)))) for k, v in last.items()]
    return Result(rows=rows, metrics={"steps": steps, "last_metrics": last,
                                      "kernels": ["g_kernel.npy", "d_kernel.npy"]},
                  notes=f"{cfg.seeds} seed(s) of sharing={cfg.sharing}; samples in samples/, checkpoints in ckpt/")


def similarity_command(cfg: SimilarityConfig, out: Path) -> Result:
    """Similarity report of the two kernels (``similarity.md``) with every null baseline."""
    from wavejax.gan.similarity import format_similarity_report, null_baselines, similarity_report

    a, b = np.load(cfg.g_kernel), np.load(cfg.d_kernel)
    ind = np.load(cfg.d_independent) if cfg.d_independent is not None else None
    vals = null_baselines(a, b, jax.random.key(cfg.seed), b_independent=ind, clip=cfg.clip)
    rep = similarity_report(vals)
    txt = format_similarity_report(rep)
    atomic_write_text(out / "similarity.md", txt)
    obs = rep["summary"]["observed"]
    return Result(rows=[row("best-match cosine G vs D: mean ± SD", "vs the null baselines",
                            f"{obs['mean']:.3f} ± {obs['sd']:.3f}"),
                        row("similarity verdict", "from the nulls and KS tests", rep["verdict"], None,
                            note=rep["conclusion"])],
                  metrics={"report": rep, "values": vals}, notes=rep["conclusion"])


def commands() -> dict:
    """``{name: (config class, fn)}`` of ``wavejax gan``."""
    exps = experiment_commands("gan")
    return {"train": (GANConfig, train_command), "evaluate": exps["study"], **exps,
            "similarity": (SimilarityConfig, similarity_command)}


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax gan``."""
    run_subcommands("wavejax gan", commands(), argv)
