"""Generator and critic of the weight-shared GAN (docs/gan.md §2.1-2.3).

Both networks follow the analysed repository state (`f6393ad`): 5x5 convolutions with SAME padding, HWIO kernels,
truncated-normal init (sigma = 0.02, cut at 2 sigma), zero biases, BatchNorm always on batch statistics
(decay 0.9, eps 1e-5), leaky ReLU slope 0.2.

Generator G (full resolution, no upsampling; s = ``image_size``, h = ``hidden``)::

    z (B,100) -> Dense s*s, BN, lrelu -> (B,s,s,1)
      -> conv "g0" 1->h, BN, lrelu -> conv "gshared" h->h, BN, lrelu -> conv "g2" h->h, BN, lrelu
      -> conv "gt3" h->h, BN, lrelu -> conv "gt1" h->h, BN, lrelu -> conv "g3" h->1, sigmoid  in (0, 1)

Critic D (stride 2 everywhere; s -> ceil(s/2) per layer, 28-14-7-4-2)::

    x (B,s,s,1) -> conv "d0" 1->h, BN, lrelu -> conv "dshared" h->h, BN, lrelu
      -> conv "d2" h->h/2, BN, lrelu -> conv "d3" h/2->h/4, BN, lrelu -> flatten -> Dense 1 -> tanh  in (-1, 1)

``norm=False`` drops the critic's BatchNorm and ``bounded=False`` its tanh (the WGAN-GP critic, docs/gan.md §8).
At h = 64, s = 28 the parameter counts are G = 494,513 and D = 168,593 (BN scale/offset included).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = ["Z_DIM", "Generator", "Critic", "init_params", "count_params", "critic_spatial_sizes",
           "SHARED_LAYERS"]

Z_DIM = 100  # latent dimension; z ~ U(-1, 1)^100 (docs/gan.md §3)

# (generator layer, critic layer, leaves copied D -> G) for each sharing variant (docs/gan.md §2.5)
SHARED_LAYERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "conv2": ("gshared", "dshared", ("kernel",)),  # f6393ad: 2nd conv kernel (the analysed experiment)
    "conv1": ("g0", "d0", ("kernel", "bias")),  # HEAD 1013850: 1st conv kernel and bias
}

_conv_init = nn.initializers.truncated_normal(0.02)  # untruncated sigma 0.02, cut at +-2 sigma like TF
_dense_init = nn.initializers.normal(0.02)


def _bn(name: str) -> nn.BatchNorm:
    # use_running_average=False always: outputs depend on batch statistics only; the moving averages in
    # `batch_stats` are updated (as TF's update ops did) but never read (docs/gan.md §2.1)
    return nn.BatchNorm(use_running_average=False, momentum=0.9, epsilon=1e-5, name=name)


def _conv(features: int, stride: int, name: str) -> nn.Conv:
    return nn.Conv(features, (5, 5), strides=(stride, stride), padding="SAME", kernel_init=_conv_init,
                   bias_init=nn.initializers.zeros, name=name)


class Generator(nn.Module):
    """G(z): (B, 100) noise -> (B, s, s, 1) images in (0, 1) (docs/gan.md §2.2)."""

    hidden: int = 64  # width h of every hidden conv
    image_size: int = 28  # side s of the square output image

    def __post_init__(self):
        _validate.positive_int_fields(self, "hidden", "image_size")
        super().__post_init__()

    @nn.compact
    def __call__(self, z: Float[Array, "B 100"]) -> Float[Array, "B s s 1"]:
        s, h = self.image_size, self.hidden
        x = nn.Dense(s * s, kernel_init=_dense_init, bias_init=nn.initializers.zeros, name="g_lin")(z)
        x = nn.leaky_relu(_bn("g_lin_bn")(x), 0.2).reshape(z.shape[0], s, s, 1)
        for name in ("g0", "gshared", "g2", "gt3", "gt1"):
            x = nn.leaky_relu(_bn(name + "_bn")(_conv(h, 1, name)(x)), 0.2)
        return nn.sigmoid(_conv(1, 1, "g3")(x))


class Critic(nn.Module):
    """D(x): (B, s, s, 1) images -> (B, 1) scores in (-1, 1) (docs/gan.md §2.3)."""

    hidden: int = 64  # width h; later layers have h/2 and h/4 channels
    norm: bool = True  # BatchNorm after each conv (False: WGAN-GP critic)
    bounded: bool = True  # tanh output (False: WGAN-GP critic)

    def __post_init__(self):
        _validate.positive_int_fields(self, "hidden")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Float[Array, "B s s 1"]) -> Float[Array, "B 1"]:
        h = self.hidden
        for name, feats in (("d0", h), ("dshared", h), ("d2", h // 2), ("d3", h // 4)):
            x = _conv(feats, 2, name)(x)
            if self.norm:
                x = _bn(name + "_bn")(x)
            x = nn.leaky_relu(x, 0.2)
        x = nn.Dense(1, kernel_init=_dense_init, bias_init=nn.initializers.zeros, name="d_lin")(
            x.reshape(x.shape[0], -1))
        return jnp.tanh(x) if self.bounded else x


def critic_spatial_sizes(image_size: int) -> tuple[int, ...]:
    """Spatial sides of the critic's activations: s, ceil(s/2), ... (28 -> (28, 14, 7, 4, 2))."""
    sizes = [image_size]
    for _ in range(4):
        sizes.append(math.ceil(sizes[-1] / 2))
    return tuple(sizes)


def init_params(key: jax.Array, hidden: int = 64, image_size: int = 28, *, norm: bool = True,
                bounded: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """Initialise the generator and critic variables.

    Args:
      key: PRNG key; split into one key for G and one for D.
      hidden: width h (>= 4, divisible by 4 so that the critic's h/2 and h/4 layers exist).
      image_size: side s of the images.
      norm, bounded: critic options (see :class:`Critic`).

    Returns:
      ``(g_vars, d_vars)``: Flax variable dicts ``{"params": ..., "batch_stats": ...}`` (float32). ``d_vars``
      has no ``batch_stats`` when ``norm`` is False.

    Example:
      >>> g, d = init_params(jax.random.key(0), hidden=64, image_size=28)
      >>> count_params(g["params"]), count_params(d["params"])
      (494513, 168593)
    """
    key = _validate.prng_key("key", key)
    _validate.positive_int("hidden", hidden)
    _validate.positive_int("image_size", image_size)
    if hidden % 4:
        raise ValueError(f"hidden must be divisible by 4 (critic layers use h/2 and h/4); got hidden={hidden}")
    kg, kd = jax.random.split(key)
    z = jnp.zeros((2, Z_DIM), jnp.float32)
    x = jnp.zeros((2, image_size, image_size, 1), jnp.float32)
    g_vars = Generator(hidden, image_size).init(kg, z)
    d_vars = Critic(hidden, norm, bounded).init(kd, x)
    return dict(g_vars), dict(d_vars)


def count_params(tree: Any) -> int:
    """Total number of scalar entries in a pytree."""
    return int(sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(tree)))
