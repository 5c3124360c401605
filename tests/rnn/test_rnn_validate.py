"""issue 14 items 5 and 6: the engine under 64-bit mode, and its checks of batches and swept hyperparameters
before anything is compiled (more bad-input cases: tests/test_bad_input.py)."""

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.precision import x64_scope
from wavejax.rnn import Elman, TrainConfig, masked_mse, train

CFG = TrainConfig(steps=10, chunk=10, log_every=10, ckpt_every=0, n_levels=1)


def _default_dtype_batch(key, level):
    """A batch in the default dtype: float64 once 64-bit mode is on."""
    x = jax.random.normal(key, (8, 5, 2))
    return x, x, jnp.ones((5,), bool)


def test_train_under_64_bit_mode():
    """issue 14 item 5: float64 batches of a float32 model gave an opaque lax.cond dtype error (the fused Elman
    VJP returned a float64 gradient for the float32 W_hh). Now it trains: params and Adam moments stay float32,
    the first logged loss equals the loss of the initial params on the first batch computed here independently,
    and the scoped 64-bit mode is restored afterwards."""
    before = jax.config.jax_enable_x64  # tests/conftest.py turns it on; the scope must restore it
    model, key = Elman(hidden=8, d_out=2), jax.random.key(0)
    with x64_scope():
        assert _default_dtype_batch(key, 0)[0].dtype == jnp.float64
        res = train(model, _default_dtype_batch, CFG, key=key, n_members=1)
        (k,) = jax.random.split(key, 1)  # member key; params from split(k)[0], step-0 batch from fold_in(k, 0)
        x, y, mask = _default_dtype_batch(jax.random.fold_in(k, 0), 0)
        p0 = model.init(jax.random.split(k)[0], x)["params"]
        want = float(masked_mse(model.apply({"params": p0}, x), y, mask))
    assert jax.config.jax_enable_x64 == before
    for tree in (res.state.params, res.state.opt_state.mu, res.state.opt_state.nu):
        assert {a.dtype for a in jax.tree.leaves(tree)} == {np.dtype(np.float32)}
    loss = res.history["loss"]
    assert loss.shape == (1, CFG.steps) and np.isfinite(loss).all()
    np.testing.assert_allclose(loss[0, 0], want, rtol=1e-6)
    assert not np.array_equal(np.asarray(res.state.params["W_hh"][0]), np.asarray(p0["W_hh"]))
