import jax, jax.numpy as jnp, numpy as np
def old(pred, y, mask):
    m = jnp.broadcast_to(mask[None, :] if mask.ndim == 1 else mask, pred.shape[:2]).astype(pred.dtype)
    nll = -jnp.sum(y * jax.nn.log_softmax(pred, axis=-1), axis=-1)
    return jnp.sum(m * nll) / jnp.maximum(jnp.sum(m), 1.0)
rng = np.random.default_rng(0)
pred = jnp.asarray(rng.standard_normal((8, 3, 4095, 3)), jnp.float32)
y = jax.nn.one_hot(jnp.asarray(rng.integers(0, 3, (3, 4095))), 3, dtype=jnp.float32)
mask = jnp.arange(4095) >= 4
got = np.asarray(jax.jit(jax.vmap(old, in_axes=(0, None, None)))(pred, y, mask))
loop = np.array([float(jax.jit(old)(pred[i], y, mask)) for i in range(8)])
p = np.asarray(pred, np.float64); logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
want = -(np.asarray(y, np.float64)[None] * logp).sum(-1)[:, :, 4:].mean(axis=(1, 2))
print("jax", jax.__version__); print("vmap", got); print("loop", loop); print("np  ", want)
print("max |vmap-np|", np.abs(got-want).max(), " max |loop-np|", np.abs(loop-want).max())
