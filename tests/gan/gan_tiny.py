"""Shared tiny GAN configuration: tests reuse it so that jitted training chunks compile once per session."""

from wavejax.gan import GANConfig

# 8x8 images, h = 4, batch 8, 2 critic steps, 4 outer steps in chunks of 2, 2 vmapped seeds; the invariants tested
# with it are exact, so size does not matter
TINY = GANConfig(hidden=4, image_size=8, batch=8, lr=1e-3, n_critic=2, steps=4, seeds=2, data="digits",
                 log_every=2, sample_every=2, ckpt_every=2)
