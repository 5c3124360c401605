"""``wavejax bench --device-suite``: throughput of every model at device sizes, recorded per device (issue 19).

One command, sized for at most 8 minutes on one GPU (not yet run on one: docs/gpu-tpu.md). It times, on the
default JAX backend and without CPU pinning:

* ``wave``: the lattice rollout (chunked), B sequences x T ticks, rollout ticks per second;
* ``emt_table1``: the engine training a Table-1 slice (EMT Elman H=128, the four tasks as member data), member-steps
  per second of one chunk after the compiled first chunk;
* ``gsemm_batch``: a 1,024-trajectory DSEM batch (N=100, K=10, t1=1000, Tsit5, ``strategy="stacked"``), float32
  (the dtype every backend compiles; docs/results/gsemm_float32 validates it), trajectories per second;
* ``gan``: the GAN outer step of the paper configuration (h=64, B=64, 28x28, one seed; synthetic uniform images:
  the speed does not depend on their content), steps per second.

Every entry records its compile time separately. ``--quick`` (the CPU smoke test of the suite) runs the same code at
tiny sizes. Results: ``<out>/device-suite-<machine>.json`` (:func:`wavejax._bench.machine_id`: CPU model, cores and
the accelerator's device kind).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.io import atomic_write_json

__all__ = ["SuiteSizes", "DEVICE", "SMOKE", "run_device_suite"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SuiteSizes:
    """Problem sizes of the suite."""

    wave_batch: int
    wave_ticks: int
    emt_members: int
    emt_hidden: int
    emt_chunk: int
    gsemm_batch: int
    gsemm_n: int
    gsemm_k: int
    gsemm_t1: float
    gan_hidden: int
    gan_image: int
    gan_batch: int
    gan_images: int
    gan_steps: int


DEVICE = SuiteSizes(wave_batch=16_384, wave_ticks=1000, emt_members=480, emt_hidden=128, emt_chunk=100,
                    gsemm_batch=1024, gsemm_n=100, gsemm_k=10, gsemm_t1=1000.0, gan_hidden=64, gan_image=28,
                    gan_batch=64, gan_images=70_000, gan_steps=50)
SMOKE = SuiteSizes(wave_batch=8, wave_ticks=40, emt_members=2, emt_hidden=8, emt_chunk=2, gsemm_batch=4, gsemm_n=20,
                   gsemm_k=4, gsemm_t1=20.0, gan_hidden=4, gan_image=8, gan_batch=8, gan_images=64, gan_steps=2)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn())
    return out, time.perf_counter() - t0


def _wave(z: SuiteSizes) -> dict[str, Any]:
    from wavejax.tasks import binary_vb_task
    from wavejax.wave import linear_boundary, rollout

    f = linear_boundary(jnp.asarray(binary_vb_task((255, 0, 0)), jnp.float32))
    mask = jnp.arange(z.wave_ticks) < 8
    run = jax.jit(jax.vmap(lambda x: rollout(f, jnp.zeros((8, 8), jnp.float32), x, mask=mask, impl="chunked")))
    xs = jnp.sign(jax.random.normal(jax.random.key(0), (z.wave_batch, z.wave_ticks, 8), jnp.float32))
    _, first = _timed(lambda: run(xs))
    _, t = _timed(lambda: run(xs))
    return {"batch": z.wave_batch, "ticks": z.wave_ticks, "first_call_s": first, "seconds": t,
            "ticks_per_s": z.wave_batch * z.wave_ticks / t}


def _emt(z: SuiteSizes) -> dict[str, Any]:
    from wavejax.emt import CURRICULUM, curriculum_batch_fn
    from wavejax.rnn import Elman, TrainConfig, masked_mse, train
    from wavejax.tasks import binary_vb_task, parse_task_id

    tasks = ("repeat_copy", "compose_copy", "mix_262676_189", "mix_38637_145")
    phis = np.stack([binary_vb_task(parse_task_id(t)) for t in tasks])
    data = jnp.asarray(phis[np.arange(z.emt_members) % len(tasks)], jnp.float32)
    cfg = TrainConfig(steps=2 * z.emt_chunk, chunk=z.emt_chunk, log_every=z.emt_chunk, ckpt_every=0,
                      n_levels=len(CURRICULUM))
    stamps: list[float] = []
    t0 = time.perf_counter()
    train(Elman(hidden=z.emt_hidden, d_out=8), curriculum_batch_fn(None, batch=64, horizons=CURRICULUM), cfg,
          key=jax.random.key(0), n_members=z.emt_members, data=data, loss_fn=masked_mse,
          callback=lambda step, m: stamps.append(time.perf_counter()), desc="device suite emt")
    chunk_s = stamps[1] - stamps[0]
    return {"members": z.emt_members, "hidden": z.emt_hidden, "chunk_steps": z.emt_chunk,
            "first_chunk_s": stamps[0] - t0, "chunk_s": chunk_s, "member_steps_per_s": z.emt_members *
            z.emt_chunk / chunk_s}


def _gsemm(z: SuiteSizes) -> dict[str, Any]:
    from wavejax.gsemm import cycle_memories, simulate_batch

    xi, phi = cycle_memories(jax.random.key(1), z.gsemm_n, z.gsemm_k, dtype=jnp.float32)
    v0s = xi[:, jnp.arange(z.gsemm_batch) % z.gsemm_k].T
    kw = dict(t1=z.gsemm_t1, save_every=0.5, alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_f=1.0, t_d=20.0, gamma=1.0,
              dtype=jnp.float32, strategy="stacked")
    tr, first = _timed(lambda: simulate_batch("dsem", xi, phi, v0s, **kw))
    tr, t = _timed(lambda: simulate_batch("dsem", xi, phi, v0s, **kw))
    return {"trajectories": z.gsemm_batch, "n": z.gsemm_n, "k": z.gsemm_k, "t1": z.gsemm_t1, "dtype": "float32",
            "first_call_s": first, "seconds": t, "trajectories_per_s": z.gsemm_batch / t,
            "successful": int(np.sum(np.asarray(tr.result) == 0))}


def _gan(z: SuiteSizes) -> dict[str, Any]:
    from wavejax.gan import GANConfig, create_states, outer_step

    # the paper step on random images of the suite size (the smoke size is 8x8: the 8x8 digits data set)
    cfg = GANConfig.paper(hidden=z.gan_hidden, image_size=z.gan_image, batch=z.gan_batch, seeds=1,
                          data="mnist" if z.gan_image == 28 else "digits")
    step = jax.jit(lambda g, d, k, x: outer_step(g, d, k, x, cfg=cfg))
    sg, sd = create_states(jax.random.key(0), cfg)
    data = jax.random.uniform(jax.random.key(1), (z.gan_images, z.gan_image, z.gan_image, 1), jnp.float32)
    (sg, sd, _), first = _timed(lambda: step(sg, sd, jax.random.key(2), data))
    t0 = time.perf_counter()
    for i in range(z.gan_steps):
        sg, sd, m = step(sg, sd, jax.random.key(3 + i), data)
    jax.block_until_ready(m)
    t = time.perf_counter() - t0
    return {"hidden": z.gan_hidden, "image": z.gan_image, "batch": z.gan_batch, "n_critic": cfg.n_critic,
            "loss": cfg.loss, "first_call_s": first, "steps": z.gan_steps, "seconds": t,
            "steps_per_s": z.gan_steps / t}


PARTS: dict[str, Callable[[SuiteSizes], dict[str, Any]]] = {"wave": _wave, "emt_table1": _emt,
                                                            "gsemm_batch": _gsemm, "gan": _gan}


def run_device_suite(out: str | Path, *, quick: bool = False) -> Path:
    """Run the suite (``quick``: the tiny CPU smoke sizes) and write ``<out>/device-suite-<machine>.json``.

    A part that raises is recorded under ``failures`` and the others still run.
    """
    from wavejax._bench import machine_id, machine_info

    sizes = SMOKE if quick else DEVICE
    rec: dict[str, Any] = {"machine": machine_info(), "scale": "smoke" if quick else "device",
                           "sizes": dataclasses.asdict(sizes), "results": {}, "failures": {}}
    for name, part in PARTS.items():
        t0 = time.perf_counter()
        try:
            rec["results"][name] = {**part(sizes), "wall_s": time.perf_counter() - t0}
        except Exception as e:  # noqa: BLE001 - recorded, the other parts still run
            rec["failures"][name] = f"{type(e).__name__}: {e}"[:2000]
        print(f"device suite {name}: {rec['results'].get(name) or rec['failures'][name]}", flush=True)
    path = Path(out) / f"device-suite-{machine_id()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, rec)
    return path
