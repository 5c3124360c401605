"""The whole study in one call: classifier, baseline vs shared GAN, sample entropy with CIs, FID, weight analysis.

``run_study(cfg, clf_cfg, out=...)`` reproduces gan.md §5-6 at any scale:

1. trains the evaluation classifier on the training split and measures its test accuracy;
2. trains the baseline (``sharing="none"``) and the shared model (``cfg.sharing``, default the analysed 2nd-conv
   kernel copy), ``cfg.seeds`` vmapped seeds each;
3. mean predictive entropy (nats) of ``n_eval`` samples per seed for untrained G, baseline, shared, real test data
   and random probability vectors, the baseline - shared difference with a 95% CI, and a classifier-feature FID;
4. the weight study on the baseline's seed-0 kernels (G "gshared" vs D "dshared"): kernel images, histograms,
   clip-bound fractions, best-match cosines and every null baseline with KS tests (the independent critic is the
   baseline's seed-1 critic), and the conclusion that follows from them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import numpy as np

from wavejax import _validate
from wavejax.gan.data import load_digits, load_mnist, split_train_test
from wavejax.gan.evaluate import (
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
from wavejax.gan.models import SHARED_LAYERS
from wavejax.gan.run import init_states, load_training_data, sample_seeds, train
from wavejax.gan.similarity import clip_fraction, format_similarity_report, null_baselines, similarity_report
from wavejax.gan.train import GANConfig

__all__ = ["run_study", "classifier_data"]


def classifier_data(cfg: GANConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) for the evaluation classifier: MNIST train/test or an 80/20 digits split."""
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


def run_study(cfg: GANConfig, clf_cfg: ClassifierConfig, *, out: str | Path | None = None, n_eval: int = 640,
              shared: str = "conv2", figures: bool = True) -> dict[str, Any]:
    """Run the study (module docstring) and return its numbers; figures go to ``out`` when given.

    Args:
      cfg: GAN configuration (its ``sharing`` is ignored: both ``"none"`` and ``shared`` are trained).
      clf_cfg: evaluation-classifier configuration.
      out: output folder (training runs under ``out/none`` and ``out/<shared>``, resumable; figures in ``out``).
      n_eval: generated samples per seed for the entropy and FID (gan.md: 640 = 10 batches of 64).
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
    clf = train_classifier(xtr, ytr, xte, yte, clf_cfg)
    res["classifier_test_accuracy"] = clf.test_accuracy
    data = load_training_data(cfg)
    key = jax.random.key(cfg.seed + 1000)
    batch = min(64, n_eval)

    ent: dict[str, np.ndarray] = {}
    real = xte[:n_eval * cfg.seeds]
    ent["real"] = _entropies(clf, real)
    sg0, _ = init_states(dataclasses.replace(cfg, sharing="none"))
    imgs = {"untrained": np.asarray(sample_seeds(sg0, key, n_eval, cfg=cfg, batch=batch))}
    runs = {}
    for sharing in ("none", shared):
        c = dataclasses.replace(cfg, sharing=sharing)
        runs[sharing] = train(c, out=None if out is None else out / sharing, data=data, desc=f"gan {sharing}")
        imgs[sharing] = np.asarray(sample_seeds(runs[sharing].state_g, key, n_eval, cfg=c, batch=batch))
    for name in ("untrained", "none", shared):
        ent[name] = _entropies(clf, imgs[name].reshape(-1, *imgs[name].shape[2:]))
    rp = random_probability_entropy(jax.random.key(0))
    res["entropy"] = {n: {"mean": float(v.mean()), "sd": float(v.std()), "ci95": mean_ci(v)[1:], "n": int(v.size)}
                      for n, v in ent.items()}
    res["entropy"]["random_probability_vectors"] = {"mean": rp[0], "sd": rp[1]}
    res["entropy_per_seed"] = {n: imgs_ent.reshape(cfg.seeds, -1).mean(1).tolist()
                               for n, imgs_ent in ent.items() if n != "real"}
    res["baseline_minus_shared"] = dict(zip(("diff", "lo", "hi"), diff_ci(ent["none"], ent[shared]), strict=True))
    res["untrained_minus_baseline"] = dict(zip(("diff", "lo", "hi"), diff_ci(ent["untrained"], ent["none"]),
                                               strict=True))
    res["untrained_minus_shared"] = dict(zip(("diff", "lo", "hi"), diff_ci(ent["untrained"], ent[shared]),
                                             strict=True))
    res["diversity"] = {n: dict(zip(("marginal_entropy", "n_classes"), _class_marginal(clf, x), strict=True))
                        for n, x in (("real", real), *((k, imgs[k].reshape(-1, *imgs[k].shape[2:]))
                                                        for k in ("untrained", "none", shared)))}
    f_real = np.asarray(classifier_features(clf, real))
    res["fid"] = {n: feature_fid(np.asarray(classifier_features(clf, imgs[n].reshape(-1, *imgs[n].shape[2:]))),
                                 f_real) for n in ("untrained", "none", shared)}
    res["classifier_entropy_real_check"] = classifier_entropy(clf, real[:64])[0]

    # weight study: baseline seed 0, G "gshared" vs D "dshared"; independent critic = baseline seed 1
    g_layer, d_layer, _ = SHARED_LAYERS["conv2"]
    base = runs["none"]
    A = np.asarray(base.state_g.params[g_layer]["kernel"][0])
    B = np.asarray(base.state_d.params[d_layer]["kernel"][0])
    B_ind = np.asarray(base.state_d.params[d_layer]["kernel"][1]) if cfg.seeds > 1 else None
    S = np.asarray(runs[shared].state_d.params[SHARED_LAYERS[shared][1]]["kernel"][0])
    c = cfg.clip if cfg.clip > 0 else 0.01
    vals = null_baselines(A, B, jax.random.key(cfg.seed + 7), b_independent=B_ind, clip=c)
    rep = similarity_report(vals)
    res["similarity"] = {k: v for k, v in rep.items()}
    res["similarity_table"] = format_similarity_report(rep)
    res["weights"] = {
        "shared_clip_fraction": clip_fraction(S, c), "baseline_D_clip_fraction": clip_fraction(B, c),
        "baseline_G_clip_fraction": clip_fraction(A, c), "baseline_G_sd": float(A.std()),
        "baseline_D_sd": float(B.std()), "shared_sd": float(S.std()), "clip": c,
    }
    if out is not None and figures:
        _figures(out, imgs, xte, A, B, S, vals, ent, shared)
        res["figures"] = ["samples.png", "kernels.png", "weight_hist.png", "best_match_hist.png", "entropy_hist.png"]
    return res


def _figures(out: Path, imgs: dict, xte: np.ndarray, A: np.ndarray, B: np.ndarray, S: np.ndarray,
             vals: dict, ent: dict, shared: str) -> None:
    from wavejax.report import hist_plot, image_grid

    out.mkdir(parents=True, exist_ok=True)
    rows = [xte[:8, ..., 0]] + [imgs[n][0, :8, ..., 0] for n in ("untrained", "none", shared)]
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
