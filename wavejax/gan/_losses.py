"""GAN losses (docs/gan.md §2.4, §8).

* ``"original"`` (the repository's loss, not the textbook WGAN loss): the critic output D in (-1, 1) is treated as
  a logit of a sigmoid cross-entropy with labels +1 (real) and -1 (fake),
  ``l(x, y) = max(x, 0) - x y + log(1 + exp(-|x|))``, so

      L_D = E_x[softplus(-D(x))] + E_z[softplus(D(G(z))) + D(G(z))],     L_G = E_z[softplus(-D(G(z)))].

  At D = 0: L_D = 2 ln 2, L_G = ln 2.
* ``"wgan"`` (NOT the original; plain WGAN): L_D = E[D(G(z))] - E[D(x)], L_G = -E[D(G(z))].
* ``"wgan_gp"`` (NOT the original; Gulrajani et al. 2017): the WGAN losses on an unbounded critic without
  BatchNorm plus ``lambda * E[(||grad_x D(x_hat)||_2 - 1)^2]`` at random interpolates x_hat, lambda = 10.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = ["LOSSES", "sigmoid_xent_pm1", "critic_loss", "generator_loss", "gradient_penalty"]

LOSSES = ("original", "wgan", "wgan_gp")


def sigmoid_xent_pm1(x: Float[Array, "*shape"], y: float | Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """TF1 ``sigmoid_cross_entropy_with_logits`` with labels y in {+1, -1}: max(x,0) - x y + log(1+e^{-|x|})."""
    return jnp.maximum(x, 0.0) - x * y + jnp.log1p(jnp.exp(-jnp.abs(x)))


def critic_loss(loss: str, d_real: Float[Array, "B 1"], d_fake: Float[Array, "B 1"]) -> Float[Array, ""]:
    """L_D for ``loss`` in ``LOSSES`` (the gradient penalty of ``wgan_gp`` is added separately).

    Args:
      loss: one of ``LOSSES``.
      d_real: critic outputs on a real batch, shape (B, 1).
      d_fake: critic outputs on a generated batch, shape (B, 1).
    """
    if loss == "original":
        return jnp.mean(sigmoid_xent_pm1(d_real, 1.0)) + jnp.mean(sigmoid_xent_pm1(d_fake, -1.0))
    if loss in ("wgan", "wgan_gp"):
        return jnp.mean(d_fake) - jnp.mean(d_real)
    raise ValueError(f"unknown loss={loss!r}; expected one of {LOSSES}")


def generator_loss(loss: str, d_fake: Float[Array, "B 1"]) -> Float[Array, ""]:
    """L_G for ``loss`` in ``LOSSES``; ``d_fake`` has shape (B, 1)."""
    if loss == "original":
        return jnp.mean(sigmoid_xent_pm1(d_fake, 1.0))
    if loss in ("wgan", "wgan_gp"):
        return -jnp.mean(d_fake)
    raise ValueError(f"unknown loss={loss!r}; expected one of {LOSSES}")


def gradient_penalty(critic: Callable[[Array], Array], real: Float[Array, "B s s 1"],
                     fake: Float[Array, "B s s 1"], key: jax.Array) -> Float[Array, ""]:
    """E[(||grad D(x_hat)||_2 - 1)^2] with x_hat = e x + (1 - e) G(z), e ~ U(0, 1) per example.

    ``critic`` must treat examples independently (no BatchNorm), so the gradient of the batch sum gives every
    example's own input gradient.
    """
    e = jax.random.uniform(key, (real.shape[0], 1, 1, 1), real.dtype)
    x_hat = e * real + (1.0 - e) * fake
    g = jax.grad(lambda x: jnp.sum(critic(x)))(x_hat)
    norms = jnp.sqrt(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)
