"""``wavejax gan train|evaluate|checks|study|similarity`` (tyro over the library's frozen configs).

Every command is ``fn(cfg, out) -> Result``; the runner (:func:`wavejax._cli.run_subcommands`) adds ``--out`` and
``--preset`` and writes ``out/results.json`` in the one schema.

* ``train`` (:class:`~wavejax.gan.GANConfig`): train ``--seeds`` vmapped runs of one sharing variant;
  metrics, sample grids and orbax checkpoints go to ``--out`` and re-running the same command resumes. The
  final kernels are saved as ``g_kernel.npy`` / ``d_kernel.npy``. Presets: quick (CPU digits), full, paper.
* ``evaluate`` / ``study`` (:class:`~wavejax.gan.StudyConfig`): the whole study (classifier, baseline vs
  shared, entropies with CIs, FID, similarity report); the ``gan.study`` experiment.
* ``checks``: the ``gan.checks`` experiment (exact parameter counts, TF1 RMSProp parity).
* ``similarity`` (:class:`SimilarityConfig`): the similarity report of a ``gan train`` folder (``--run DIR``: its
  seed-stacked kernels, every seed pooled or ``--member I``) or of two saved kernels (``.npy``, shape
  (5, 5, C_in, C_out) or (seeds, 5, 5, C_in, C_out)).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import jax
import numpy as np

from wavejax._cli import experiment_commands, run_subcommands
from wavejax.gan._train import GANConfig
from wavejax.io import atomic_write_bytes, atomic_write_text
from wavejax.report import Result, row

__all__ = ["main", "SimilarityConfig", "train_command", "similarity_command"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SimilarityConfig:
    """Best-match cosines of a G kernel vs a D kernel with every null baseline and KS tests."""

    run: Path | None = None  # folder written by ``wavejax gan train``: its g_kernel.npy / d_kernel.npy (overrides both)
    g_kernel: Path = Path("g_kernel.npy")  # .npy of the generator kernel (5, 5, C_in, C_out) or (seeds, 5, 5, ...)
    d_kernel: Path = Path("d_kernel.npy")  # .npy of the critic kernel, same shape
    d_independent: Path | None = None  # .npy of an independently trained critic's kernel (optional null)
    member: int = -1  # seed index of seed-stacked kernels (``gan train`` writes one per seed); -1 = every seed, pooled
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
    from wavejax.gan._models import SHARED_LAYERS
    from wavejax.gan._run import train

    run = train(cfg, out=out)
    g_layer, d_layer, _ = SHARED_LAYERS["conv2" if cfg.sharing == "none" else cfg.sharing]
    for name, kernel in (("g_kernel.npy", run.state_g.params[g_layer]["kernel"]),
                         ("d_kernel.npy", run.state_d.params[d_layer]["kernel"])):
        buf = io.BytesIO()
        np.save(buf, np.asarray(kernel))
        atomic_write_bytes(out / name, buf.getvalue())  # recorded in the run folder's record
    steps = int(np.min(np.asarray(run.state_g.step)))
    last = {k: v[:, -1].tolist() for k, v in run.history.items()}  # history: (seeds, steps)
    rows = [row(f"{k} at step {steps}, per seed", "finite", " / ".join(f"{x:.4g}" for x in v),
                bool(np.all(np.isfinite(v)))) for k, v in last.items()]
    grids = sorted((out / "samples").glob("step_*.png"))  # the newest 5x5 sample grid of seed 0
    return Result(rows=rows, figures=[str(grids[-1].relative_to(out))] if grids else [],
                  metrics={"steps": steps, "last_metrics": last, "kernels": ["g_kernel.npy", "d_kernel.npy"]},
                  notes=f"{cfg.seeds} seed(s) of sharing={cfg.sharing}; samples in samples/, checkpoints in ckpt/")


def _load_kernels(path: Path, flag: str) -> np.ndarray:
    """Load a kernel ``.npy`` as (seeds, kh, kw, C_in, C_out) float32; a ValueError names ``flag``, path and shape."""
    if not Path(path).is_file():
        raise ValueError(f"{flag}={str(path)!r}: no such file (pass --run with a `wavejax gan train` folder, or "
                         "--g-kernel / --d-kernel with .npy kernels)")
    try:
        k = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"{flag}={str(path)!r}: not a readable .npy array ({e})") from None
    if k.ndim == 4:
        k = k[None]
    if k.ndim != 5 or 0 in k.shape:
        raise ValueError(f"{flag}={str(path)!r}: expected a conv kernel (kh, kw, C_in, C_out) or seed-stacked kernels "
                         f"(seeds, kh, kw, C_in, C_out) as `wavejax gan train` writes; got shape {k.shape}")
    return np.asarray(k, np.float32)


def _similarity_inputs(cfg: SimilarityConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, list[int]]:
    """``(G, D, D_independent or None, seed indices)``: kernels (seeds, kh, kw, C_in, C_out), shapes checked."""
    paths = ((cfg.run / "g_kernel.npy", "run"), (cfg.run / "d_kernel.npy", "run")) if cfg.run is not None else (
        (cfg.g_kernel, "g_kernel"), (cfg.d_kernel, "d_kernel"))
    g, d = (_load_kernels(p, f) for p, f in paths)
    if g.shape != d.shape:
        raise ValueError(f"the generator kernel {paths[0][0]} has shape {g.shape} but the critic kernel "
                         f"{paths[1][0]} has shape {d.shape} (as (seeds, kh, kw, C_in, C_out)); they must be equal")
    ind = None if cfg.d_independent is None else _load_kernels(cfg.d_independent, "d_independent")
    if ind is not None and (ind.shape[1:] != g.shape[1:] or ind.shape[0] not in (1, g.shape[0])):
        raise ValueError(f"d_independent={str(cfg.d_independent)!r} has shape {ind.shape}; it must be one kernel "
                         f"{g.shape[1:]} or one per seed {g.shape} like the critic kernel {paths[1][0]}")
    if cfg.member != -1 and not 0 <= cfg.member < g.shape[0]:
        raise ValueError(f"member={cfg.member} is out of range: {paths[0][0]} holds {g.shape[0]} seed(s) "
                         "(use -1 for all)")
    return g, d, ind, list(range(g.shape[0])) if cfg.member == -1 else [cfg.member]


def similarity_command(cfg: SimilarityConfig, out: Path) -> Result:
    """Similarity report (``similarity.md``, ``best_match_hist.png``) of G vs D kernels with every null baseline.

    Seed-stacked kernels (``--run`` of a ``gan train`` folder) are compared seed by seed (seed ``i``'s G with seed
    ``i``'s D, nulls drawn with ``fold_in(key, i)``) and the per-seed cosines pooled; ``--member`` selects one seed.
    """
    from wavejax.gan._similarity import format_similarity_report, null_baselines, similarity_report
    from wavejax.report._plots import hist_plot

    g, d, ind, seeds = _similarity_inputs(cfg)
    key = jax.random.key(cfg.seed)
    per = [null_baselines(g[i], d[i], jax.random.fold_in(key, i), clip=cfg.clip,
                          b_independent=None if ind is None else ind[i if ind.shape[0] > 1 else 0]) for i in seeds]
    vals = {k: np.concatenate([v[k] for v in per]) for k in per[0]}
    rep = similarity_report(vals)
    txt = format_similarity_report(rep)
    atomic_write_text(out / "similarity.md", txt)
    hist_plot(out / "best_match_hist.png", {k: v for k, v in vals.items() if not k.startswith("aligned")}, bins=30,
              title=f"best-match cosine G vs D (seeds {seeds}) and nulls", xlabel="cosine")
    obs = rep["summary"]["observed"]
    return Result(rows=[row("best-match cosine G vs D: mean ± SD", "vs the null baselines",
                            f"{obs['mean']:.3f} ± {obs['sd']:.3f}"),
                        row("similarity verdict", "from the nulls and KS tests", rep["verdict"], None,
                            note=rep["conclusion"])],
                  figures=["best_match_hist.png"],
                  metrics={"report": rep, "values": vals, "seeds": seeds,
                           "observed_mean_per_seed": [float(np.mean(v["observed"])) for v in per]},
                  notes=rep["conclusion"])


def commands() -> dict:
    """``{name: (config class, fn)}`` of ``wavejax gan``."""
    exps = experiment_commands("gan")
    return {"train": (GANConfig, train_command), "evaluate": exps["study"], **exps,
            "similarity": (SimilarityConfig, similarity_command)}


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax gan``."""
    run_subcommands("wavejax gan", commands(), argv)
