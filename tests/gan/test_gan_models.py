"""Shapes, ranges, spatial sizes and exact parameter counts of G and D (gan.md §2, §7.1-2; issue 6 acceptance 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gan import Critic, Generator, count_params, init_params
from wavejax.gan._models import critic_spatial_sizes


def test_paper_parameter_counts_are_exact(key):
    # spec §2.3 / issue 6: BN scale and offset included; kernel of the shared layer is 5*5*64*64 = 102,400
    g, d = jax.eval_shape(lambda k: init_params(k, 64, 28), key)
    assert count_params(g["params"]) == 494_513
    assert count_params(d["params"]) == 168_593
    assert g["params"]["gshared"]["kernel"].shape == (5, 5, 64, 64)
    assert d["params"]["dshared"]["kernel"].shape == (5, 5, 64, 64)
    assert count_params(g["params"]) - 5 * 5 * 64 * 64 == 392_113  # G-trainable in the f6393ad shared variant


def test_h256_parameter_counts(key):
    g, d = jax.eval_shape(lambda k: init_params(k, 256, 28), key)
    assert (count_params(g["params"]), count_params(d["params"])) == (6_650_993, 2_671_169)


def test_critic_spatial_sizes_paper():
    assert critic_spatial_sizes(28) == (28, 14, 7, 4, 2)
    assert critic_spatial_sizes(8) == (8, 4, 2, 1, 1)


def test_shapes_and_ranges_paper_config(key):
    # the paper configuration at a small batch: G(z) (B,28,28,1) in (0,1); D(x) (B,1) in (-1,1); intermediates
    # of D follow 28-14-7-4-2 and the critic flattens 2*2*16 = 64 features at h = 64
    @jax.jit
    def fwd(key):
        g, d = init_params(key, 64, 28)
        z = jax.random.uniform(jax.random.key(1), (3, 100), jnp.float32, -1, 1)
        x, _ = Generator(64, 28).apply(g, z, mutable=["batch_stats"])
        y, v = Critic(64).apply(d, x, mutable=["batch_stats", "intermediates"], capture_intermediates=True)
        return x, y, v["intermediates"]

    x, y, inter = fwd(key)
    assert x.shape == (3, 28, 28, 1)
    assert bool(jnp.all((x > 0) & (x < 1)))
    assert y.shape == (3, 1)
    assert bool(jnp.all((y > -1) & (y < 1)))
    sides = [inter[n]["__call__"][0].shape[1] for n in ("d0", "dshared", "d2", "d3")]
    assert [28, *sides] == [28, 14, 7, 4, 2]
    assert inter["d3"]["__call__"][0].shape[1:] == (2, 2, 16)  # 64 flattened features


def test_init_statistics(key):
    g, _ = init_params(key, 64, 28)
    k = np.asarray(g["params"]["gshared"]["kernel"])
    assert np.abs(k).max() <= 0.04 + 1e-7  # truncated at 2 sigma, sigma = 0.02
    assert abs(k.std() - 0.02 * 0.8796) < 1e-3  # SD of N(0, 1) truncated at +-2 is 0.8796
    assert np.all(np.asarray(g["params"]["gshared"]["bias"]) == 0)
    w = np.asarray(g["params"]["g_lin"]["kernel"])
    assert abs(w.std() - 0.02) < 5e-4  # 78,400 draws of N(0, 0.02^2)


def test_batchnorm_uses_batch_statistics(key):
    # BN is always in training mode (§2.1, §7.6): the output for an example depends on its batch
    g, d = init_params(key, 8, 8)
    x = jax.random.uniform(jax.random.key(2), (4, 8, 8, 1))
    y1, _ = Critic(8).apply(d, x, mutable=["batch_stats"])
    y2, _ = Critic(8).apply(d, x.at[1:].set(0.5), mutable=["batch_stats"])
    assert not np.allclose(y1[0], y2[0])
    # and the stored moving averages are never read: changing them changes nothing
    d2 = {**d, "batch_stats": jax.tree_util.tree_map(lambda a: a + 3.0, d["batch_stats"])}
    y3, _ = Critic(8).apply(d2, x, mutable=["batch_stats"])
    np.testing.assert_array_equal(y1, y3)


def test_bad_arguments_raise_before_compile(key):
    with pytest.raises(ValueError, match="hidden"):
        init_params(key, hidden=6)
    with pytest.raises(ValueError, match="image_size"):
        init_params(key, hidden=8, image_size=0)
    with pytest.raises(TypeError, match="hidden"):
        init_params(key, hidden=8.0)
