"""Sample-quality evaluation: the TF-tutorial CNN classifier, predictive entropy and classifier-feature FID (§5).

* Classifier (TF "deep MNIST" tutorial, §5): conv 5x5x32 + ReLU + 2x2 max-pool, conv 5x5x64 + ReLU + max-pool,
  dense ``fc`` (1024) + ReLU + dropout (keep 0.5 in training), dense 10. Init truncated normal sigma 0.1, biases 0.1;
  Adam 1e-4, batch 50. Parameterised by image size (SAME pooling: 28 -> 14 -> 7, 8 -> 4 -> 2).
* Predictive entropy of one image: H = -sum_k p_k ln p_k (nats) of the classifier's softmax; lower means more
  confidently digit-like (the entropy half of the Inception Score; no diversity term).
* Classifier-feature FID: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2}) of the ``fc`` features (post-ReLU).
  Not in the original; PROPOSED because an Inception network is meaningless on 8x8 / 28x28 digits.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.loop import Layout, Schedule, run_chunks

__all__ = ["ClassifierConfig", "MNISTClassifier", "TrainedClassifier", "train_classifier", "classifier_logits",
           "classifier_features", "predictive_entropy", "classifier_entropy", "feature_fid",
           "random_probability_entropy", "classifier_entropy_from_probs", "mean_ci", "diff_ci", "random_shift"]

_tn = nn.initializers.truncated_normal(0.1)
_b = nn.initializers.constant(0.1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClassifierConfig:
    """Evaluation classifier training (docs/gan.md §5; defaults = the TF tutorial)."""

    fc: int = 1024  # width of the hidden dense layer (also the FID feature dimension)
    conv: tuple[int, int] = (32, 64)  # channels of the two conv layers (TF tutorial: 32, 64)
    lr: float = 1e-4  # Adam learning rate
    steps: int = 20_000  # training steps
    batch: int = 50  # batch size
    dropout: float = 0.5  # drop probability of the hidden layer in training
    shift: int = 0  # augmentation: translate each training image by up to +-shift pixels (0: none, the original)
    seed: int = 0  # init / batch / dropout seed

    def __post_init__(self):
        for n in ("fc", "steps", "batch"):
            _validate.positive_int(n, getattr(self, n))
        _validate.nonneg_int("shift", self.shift)
        if len(self.conv) != 2:
            raise ValueError(f"conv must hold two channel counts; got conv={self.conv}")
        for c in self.conv:
            _validate.positive_int("conv", c)
        _validate.positive("lr", self.lr)
        _validate.probability("dropout", self.dropout, closed_right=False)

    @classmethod
    def quick(cls, **kw: Any) -> ClassifierConfig:
        """CPU preset for 8x8 digits (seconds): narrower (conv 8/16, fc 64), 500 steps, Adam 3e-3."""
        return cls(**{**dict(fc=64, conv=(8, 16), lr=3e-3, steps=500, batch=50), **kw})

    @classmethod
    def full(cls, **kw: Any) -> ClassifierConfig:
        """The TF tutorial's classifier (the defaults)."""
        return cls(**kw)


class MNISTClassifier(nn.Module):
    """The TF-tutorial CNN: (B, s, s, 1) -> (logits (B, 10), features (B, fc))."""

    fc: int = 1024  # hidden dense width
    dropout: float = 0.5  # drop probability in training
    conv: tuple[int, int] = (32, 64)  # channels of the two conv layers

    @nn.compact
    def __call__(self, x: Float[Array, "B s s 1"], *, train: bool = False) -> tuple[Array, Array]:
        for feats in self.conv:
            x = nn.relu(nn.Conv(feats, (5, 5), padding="SAME", kernel_init=_tn, bias_init=_b)(x))
            x = nn.max_pool(x, (2, 2), (2, 2), padding="SAME")
        h = nn.relu(nn.Dense(self.fc, kernel_init=_tn, bias_init=_b)(x.reshape(x.shape[0], -1)))
        hd = nn.Dropout(self.dropout, deterministic=not train)(h)
        return nn.Dense(10, kernel_init=_tn, bias_init=_b)(hd), h


@struct.dataclass
class TrainedClassifier:
    """A trained evaluation classifier: params plus its (static) module and held-out test accuracy."""

    params: Any
    module: MNISTClassifier = struct.field(pytree_node=False)
    test_accuracy: float = struct.field(pytree_node=False, default=math.nan)


def train_classifier(x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                     cfg: ClassifierConfig = ClassifierConfig()) -> TrainedClassifier:
    """Train the classifier on ``(x, y)`` (float32 (N, s, s, 1), int labels) and measure test accuracy."""
    _validate.ndim("x", x, 4)
    _validate.shape("y", y, (x.shape[0],))
    module = MNISTClassifier(cfg.fc, cfg.dropout, tuple(cfg.conv))
    key = jax.random.key(cfg.seed)
    params = module.init(key, jnp.zeros((1, *x.shape[1:]), jnp.float32))["params"]
    params = _fit(params, jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.int32), key, module=module, cfg=cfg)
    clf = TrainedClassifier(params=params, module=module)
    pred = np.concatenate([np.asarray(jnp.argmax(classifier_logits(clf, x_test[i:i + 1000]), -1))
                           for i in range(0, len(x_test), 1000)])
    return clf.replace(test_accuracy=float(np.mean(pred == np.asarray(y_test))))


def _fit(params, x, y, key, *, module, cfg):
    """Adam on cross-entropy for ``cfg.steps`` steps through the shared driver (:func:`wavejax.loop.run_chunks`,
    one run: no member axis); the whole fit is one chunk, one compiled ``lax.scan``."""
    state = {"step": jnp.zeros((), jnp.int32), "params": params, "opt": optax.adam(cfg.lr).init(params)}

    def chunk(state, aux, start, mesh):
        return _fit_chunk(state, x, y, key, module=module, cfg=cfg, n=cfg.steps - start), {}

    res = run_chunks(chunk, state, Schedule(total=cfg.steps, log_every=cfg.steps, desc="classifier"),
                     layout=Layout(stacked=False, step_of=lambda s: s["step"]))
    return res.state["params"]


@partial(jax.jit, static_argnames=("module", "cfg", "n"))
def _fit_chunk(state, x, y, key, *, module, cfg, n):
    """``n`` Adam steps in one ``lax.scan``; step t draws its batch and dropout from ``fold_in(key, t)``."""
    tx = optax.adam(cfg.lr)

    def step(carry, t):
        p, s = carry
        kb, kd = jax.random.split(jax.random.fold_in(key, t))
        kb, ks = jax.random.split(kb)
        idx = jax.random.randint(kb, (cfg.batch,), 0, x.shape[0])
        xb = random_shift(ks, x[idx], cfg.shift) if cfg.shift else x[idx]

        def loss_fn(p):
            logits, _ = module.apply({"params": p}, xb, train=True, rngs={"dropout": kd})
            return optax.softmax_cross_entropy_with_integer_labels(logits, y[idx]).mean()

        g = jax.grad(loss_fn)(p)
        u, s = tx.update(g, s, p)
        return (optax.apply_updates(p, u), s), None

    ts = state["step"] + jnp.arange(n, dtype=jnp.int32)
    (params, opt), _ = jax.lax.scan(step, (state["params"], state["opt"]), ts)
    return {"step": state["step"] + n, "params": params, "opt": opt}


def random_shift(key: jax.Array, images: Float[Array, "B s s C"], shift: int) -> Float[Array, "B s s C"]:
    """Translate each image by an independent integer offset (dy, dx) ~ U{-shift..shift}^2, filling with zeros:
    out[b, i, j] = images[b, i - dy_b, j - dx_b] (0 outside the image)."""
    _validate.nonneg_int("shift", shift)
    _validate.ndim("images", images, 4)
    b, s1, s2, _ = images.shape
    off = jax.random.randint(key, (b, 2), -shift, shift + 1)
    pad = jnp.pad(images, ((0, 0), (shift, shift), (shift, shift), (0, 0)))

    def one(img, o):
        return jax.lax.dynamic_slice(img, (shift - o[0], shift - o[1], 0), (s1, s2, img.shape[-1]))

    return jax.vmap(one)(pad, off)


def classifier_logits(clf: TrainedClassifier, images: Float[Array, "B s s 1"]) -> Float[Array, "B 10"]:
    """Deterministic (no dropout) logits of ``images`` (float32 (B, s, s, 1) in [0, 1])."""
    return clf.module.apply({"params": clf.params}, jnp.asarray(images, jnp.float32))[0]


def classifier_features(clf: TrainedClassifier, images: Float[Array, "B s s 1"]) -> Float[Array, "B fc"]:
    """The hidden dense layer's post-ReLU activations (the FID features)."""
    return clf.module.apply({"params": clf.params}, jnp.asarray(images, jnp.float32))[1]


def predictive_entropy(logits: Float[Array, "B K"]) -> Float[Array, " B"]:
    """H(softmax(logits)) = -sum_k p_k ln p_k in nats, per row (0 for one-hot, ln K for uniform)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.sum(jnp.exp(logp) * logp, axis=-1)


def classifier_entropy(clf: TrainedClassifier, images: Float[Array, "B s s 1"]) -> tuple[float, float]:
    """Mean and SD over images of the classifier's predictive entropy (nats; docs/gan.md §5)."""
    _validate.ndim("images", images, 4)
    h = np.asarray(predictive_entropy(classifier_logits(clf, images)))
    return float(h.mean()), float(h.std())


def random_probability_entropy(key: jax.Array, n: int = 100_000) -> tuple[float, float]:
    """Entropy of random probability vectors p = u / sum(u), u ~ U(0, 1)^10 (reference 2.1149 +- 0.0865)."""
    u = jax.random.uniform(key, (n, 10), jnp.float32)
    return classifier_entropy_from_probs(u / jnp.sum(u, axis=1, keepdims=True))


def classifier_entropy_from_probs(p: Float[Array, "B K"]) -> tuple[float, float]:
    """Mean and SD of H(p) = -sum_k p_k ln p_k over the rows of probability vectors p (B, K)."""
    _validate.ndim("p", p, 2)
    _validate.distribution("p", p)
    h = np.asarray(-jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0), axis=1))
    return float(h.mean()), float(h.std())


def feature_fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets of shape (N, F) (float64 on host)."""
    import scipy.linalg

    a, b = np.asarray(feats_a, np.float64), np.asarray(feats_b, np.float64)
    _validate.ndim("feats_a", a, 2)
    _validate.shape("feats_b", b, (None, a.shape[1]))
    mu_a, mu_b = a.mean(0), b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(sa @ sb)
    covmean = np.real(covmean)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(sa) + np.trace(sb) - 2.0 * np.trace(covmean))


def mean_ci(x: np.ndarray, *, z: float = 1.96) -> tuple[float, float, float]:
    """(mean, lower, upper) of a normal-approximation 95% confidence interval for the mean of ``x``."""
    x = np.asarray(x, np.float64).ravel()
    if x.size < 2:
        raise ValueError(f"x needs at least 2 values for a confidence interval; got x.size={x.size}")
    m, se = float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - z * se, m + z * se


def diff_ci(a: np.ndarray, b: np.ndarray, *, z: float = 1.96) -> tuple[float, float, float]:
    """(mean(a) - mean(b), lower, upper): Welch normal-approximation 95% interval of a difference of means.

    se = sqrt(var(a)/n_a + var(b)/n_b) (sample variances, ddof = 1); the interval is the difference +- z se.
    """
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.size < 2 or b.size < 2:
        raise ValueError(f"a and b need at least 2 values each; got a.size={a.size}, b.size={b.size}")
    d = float(a.mean() - b.mean())
    se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    return d, d - z * se, d + z * se
