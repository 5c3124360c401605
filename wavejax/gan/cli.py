"""``wavejax gan train|evaluate|similarity`` (tyro over frozen dataclass configs).

* ``train``: train ``--seeds`` vmapped runs of one sharing variant; metrics, sample grids and orbax checkpoints go
  to ``--out`` and re-running the same command resumes.
* ``evaluate``: the whole study (classifier, baseline vs shared, entropies with CIs, FID, similarity report).
* ``similarity``: the similarity report of two saved kernels (``.npy``, shape (5, 5, C_in, C_out)).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax
import numpy as np

from wavejax._cli import default_out, run_subcommands
from wavejax.io import atomic_write_json, atomic_write_text

__all__ = ["main", "TrainCommand", "EvaluateCommand", "SimilarityCommand"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainCommand:
    """Train the GAN (baseline or shared) and save the final kernels as .npy."""

    scale: Literal["quick", "full"] = "quick"  # quick: 8x8 digits on CPU; full: the paper run on MNIST
    sharing: Literal["none", "conv2", "conv1"] = "conv2"  # none | conv2 (f6393ad, analysed) | conv1 (HEAD)
    loss: Literal["original", "wgan", "wgan_gp"] | None = None  # default: the scale's (quick: wgan_gp; full: original)
    clip: float | None = None  # critic clip bound c (default 0.01 for original / wgan, 0 for wgan_gp)
    steps: int | None = None  # outer steps (default: the scale's)
    seeds: int | None = None  # vmapped seeds (default: the scale's)
    mnist_dir: Path | None = None  # folder with the MNIST IDX files (full scale)
    out: Path | None = None  # output folder (default runs/gan-train-<timestamp>); re-run to resume


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvaluateCommand:
    """Train baseline and shared, evaluate sample entropy / FID and run the similarity study."""

    scale: Literal["quick", "full"] = "quick"  # quick: 8x8 digits on CPU; full: MNIST (needs mnist_dir)
    mnist_dir: Path | None = None  # folder with the MNIST IDX files (full scale)
    out: Path | None = None  # output folder


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimilarityCommand:
    """Best-match cosines of a G kernel vs a D kernel with every null baseline and KS tests."""

    g_kernel: Path  # .npy of the generator kernel (5, 5, C_in, C_out)
    d_kernel: Path  # .npy of the critic kernel, same shape
    d_independent: Path | None = None  # .npy of an independently trained critic's kernel (optional null)
    clip: float = 0.01  # clip bound c of the sign null
    seed: int = 0  # PRNG seed of the random nulls
    out: Path | None = None  # output folder


def _cfgs(scale: str, mnist_dir: Path | None, **kw):
    from wavejax.gan.evaluate import ClassifierConfig
    from wavejax.gan.train import GANConfig

    kw = {k: v for k, v in kw.items() if v is not None}
    if scale == "quick":
        return GANConfig.quick(**kw), ClassifierConfig.quick()
    if mnist_dir is None:
        raise ValueError("--mnist-dir is required at scale full (a folder with the MNIST IDX files)")
    return GANConfig.full(data="mnist", mnist_dir=mnist_dir, **kw), ClassifierConfig()


def _train(cmd: TrainCommand) -> dict:
    from wavejax.gan.models import SHARED_LAYERS
    from wavejax.gan.run import train

    clip = cmd.clip
    if clip is None and cmd.loss is not None:
        clip = 0.0 if cmd.loss == "wgan_gp" else 0.01
    cfg, _ = _cfgs(cmd.scale, cmd.mnist_dir, sharing=cmd.sharing, loss=cmd.loss, clip=clip, steps=cmd.steps,
                   seeds=cmd.seeds)
    out = cmd.out or default_out("gan", "train")
    run = train(cfg, out=out)
    g_layer, d_layer, _ = SHARED_LAYERS["conv2" if cfg.sharing == "none" else cfg.sharing]
    np.save(out / "g_kernel.npy", np.asarray(run.state_g.params[g_layer]["kernel"]))
    np.save(out / "d_kernel.npy", np.asarray(run.state_d.params[d_layer]["kernel"]))
    last = {k: v[-1].tolist() for k, v in run.history.items() if k != "step"}
    res = {"config": cfg, "steps": int(run.history["step"][-1]), "last_metrics": last}
    atomic_write_json(out / "results.json", res)
    print(f"trained {cfg.seeds} seed(s) of sharing={cfg.sharing} to step {res['steps']}: {last}")
    print(f"kernels (seeds, 5, 5, C_in, C_out) in {out}/g_kernel.npy, d_kernel.npy; samples in {out}/samples")
    return res


def _evaluate(cmd: EvaluateCommand) -> dict:
    from wavejax.gan.study import run_study

    cfg, clf_cfg = _cfgs(cmd.scale, cmd.mnist_dir)
    out = cmd.out or default_out("gan", "evaluate")
    res = run_study(cfg, clf_cfg, out=out, n_eval=256 if cmd.scale == "quick" else 640)
    atomic_write_json(out / "results.json", res)
    for name, e in res["entropy"].items():
        print(f"entropy {name}: {e['mean']:.4f} ± {e['sd']:.4f}")
    d = res["baseline_minus_shared"]
    print(f"baseline − shared: {d['diff']:+.4f} (95% CI [{d['lo']:+.4f}, {d['hi']:+.4f}])")
    print(f"classifier test accuracy {res['classifier_test_accuracy']:.4f}")
    print(res["similarity_table"])
    print(f"results and figures in {out}")
    return res


def _similarity(cmd: SimilarityCommand) -> dict:
    from wavejax.gan.similarity import format_similarity_report, null_baselines, similarity_report

    a, b = np.load(cmd.g_kernel), np.load(cmd.d_kernel)
    ind = np.load(cmd.d_independent) if cmd.d_independent is not None else None
    vals = null_baselines(a, b, jax.random.key(cmd.seed), b_independent=ind, clip=cmd.clip)
    rep = similarity_report(vals)
    out = cmd.out or default_out("gan", "similarity")
    atomic_write_json(out / "results.json", {"report": rep, "values": vals})
    txt = format_similarity_report(rep)
    atomic_write_text(out / "similarity.md", txt)
    print(txt)
    return rep


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax gan``."""
    run_subcommands("wavejax gan", {
        "train": (TrainCommand, _train),
        "evaluate": (EvaluateCommand, _evaluate),
        "similarity": (SimilarityCommand, _similarity),
    }, argv)
