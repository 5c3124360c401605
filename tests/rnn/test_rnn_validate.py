"""issue 14 items 5 and 6: the engine under 64-bit mode, and its checks of batches and swept hyperparameters
before anything is compiled (more bad-input cases: tests/test_bad_input.py)."""

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.precision import x64_scope
from wavejax.rnn import Elman, TrainConfig, train

CFG = TrainConfig(steps=20, chunk=10, log_every=10, ckpt_every=0, n_levels=1)


def _default_dtype_batch(key, level):
    """A batch in the default dtype: float64 once 64-bit mode is on."""
    x = jax.random.normal(key, (8, 5, 2))
    return x, x, jnp.ones((5,), bool)


def _float32_batch(key, level):
    x, y, mask = _default_dtype_batch(key, level)
    return x.astype(jnp.float32), y.astype(jnp.float32), mask


def test_train_under_64_bit_mode():
    """issue 14 item 5: float64 batches of a float32 model gave an opaque lax.cond dtype error (the fused Elman
    VJP returned a float64 gradient for the float32 W_hh). Now it trains; params and Adam moments stay float32,
    and the losses match the same batches cast to float32 up to rounding; the scoped mode is restored after."""
    before = jax.config.jax_enable_x64  # tests/conftest.py turns it on; the scope must restore it
    model = Elman(hidden=8, d_out=2)
    with x64_scope():
        assert _default_dtype_batch(jax.random.key(0), 0)[0].dtype == jnp.float64
        res = train(model, _default_dtype_batch, CFG, key=jax.random.key(0), n_members=2)
        ref = train(model, _float32_batch, CFG, key=jax.random.key(0), n_members=2).history["loss"]
    assert jax.config.jax_enable_x64 == before
    for tree in (res.state.params, res.state.opt_state.mu, res.state.opt_state.nu):
        assert {a.dtype for a in jax.tree.leaves(tree)} == {np.dtype(np.float32)}
    assert res.history["loss"].shape == (2, 20) and np.isfinite(ref).all()
    np.testing.assert_allclose(res.history["loss"], ref, rtol=1e-4)
