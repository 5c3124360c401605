"""The original +-1-label loss, WGAN losses and TF1 RMSProp parity (gan.md §2.4, §4, §7.3, §7.7; acceptance 2)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wavejax.gan import critic_loss, generator_loss, gradient_penalty, rmsprop_tf1
from wavejax.gan._losses import sigmoid_xent_pm1


def test_zero_critic_gives_2ln2_and_ln2():
    z = jnp.zeros((16, 1))
    assert abs(float(critic_loss("original", z, z)) - 2 * math.log(2)) < 1e-12
    assert abs(float(generator_loss("original", z)) - math.log(2)) < 1e-12


def test_terms_match_softplus_forms_and_optax(key):
    x = jax.random.uniform(key, (1000,), jnp.float64, -1.0, 1.0)
    np.testing.assert_allclose(sigmoid_xent_pm1(x, 1.0), jax.nn.softplus(-x), rtol=1e-12)
    np.testing.assert_allclose(sigmoid_xent_pm1(x, -1.0), jax.nn.softplus(x) + x, rtol=1e-12, atol=1e-15)
    # optax does not check labels in {0, 1}: with labels -1 it computes the same +-1 loss (§2.4)
    np.testing.assert_allclose(sigmoid_xent_pm1(x, 1.0), optax.sigmoid_binary_cross_entropy(x, jnp.ones_like(x)),
                               rtol=1e-12)
    np.testing.assert_allclose(sigmoid_xent_pm1(x, -1.0), optax.sigmoid_binary_cross_entropy(x, -jnp.ones_like(x)),
                               rtol=1e-10, atol=1e-14)
    dr, df = x[:500, None], x[500:, None]
    want = jnp.mean(jax.nn.softplus(-dr)) + jnp.mean(jax.nn.softplus(df) + df)
    np.testing.assert_allclose(critic_loss("original", dr, df), want, rtol=1e-12)
    np.testing.assert_allclose(generator_loss("original", df), jnp.mean(jax.nn.softplus(-df)), rtol=1e-12)


def test_wgan_losses():
    dr, df = jnp.array([[0.5], [0.1]]), jnp.array([[-0.2], [0.4]])
    assert float(critic_loss("wgan", dr, df)) == pytest.approx(0.1 - 0.3)
    assert float(generator_loss("wgan_gp", df)) == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="loss"):
        critic_loss("hinge", dr, df)


def test_gradient_penalty_of_a_linear_critic(key):
    # D(x) = <w, x>: ||grad|| = ||w|| everywhere, so the penalty is (||w|| - 1)^2 exactly
    w = jax.random.normal(key, (1, 4, 4, 1))
    crit = lambda x: jnp.sum(x * w, axis=(1, 2, 3))[:, None]
    real = jax.random.uniform(jax.random.key(1), (5, 4, 4, 1))
    gp = gradient_penalty(crit, real, jnp.zeros_like(real), jax.random.key(2))
    assert float(gp) == pytest.approx((float(jnp.linalg.norm(w)) - 1.0) ** 2, rel=1e-9)


def test_rmsprop_matches_tf1_recurrence():
    # 10 steps on f(p) = 0.5 * sum(a * p^2): TF1 RMSProp, ms_0 = 1, ms <- 0.9 ms + 0.1 g^2,
    # p <- p - lr g / sqrt(ms + 1e-10); float64 so 1e-6 relative leaves a wide margin
    a = np.array([0.3, 2.0, 5.0, 1e-3])
    p = np.array([1.0, -2.0, 0.5, 3.0])
    lr = 0.05
    tx = rmsprop_tf1(lr)
    pj = jnp.asarray(p)
    st = tx.init(pj)
    ms = np.ones_like(p)
    for _ in range(10):
        g = a * p
        ms = 0.9 * ms + 0.1 * g * g
        p = p - lr * g / np.sqrt(ms + 1e-10)
        u, st = tx.update(jnp.asarray(a) * pj, st, pj)
        pj = optax.apply_updates(pj, u)
    np.testing.assert_allclose(np.asarray(pj), p, rtol=1e-6)
    assert not np.allclose(p, [1.0, -2.0, 0.5, 3.0])  # the parameters did move
