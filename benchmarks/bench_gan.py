"""One outer step of the weight-shared GAN (5 critic updates + copy + 1 generator update): wavejax vs PyTorch.

Workload (issue 6, acceptance 7): the original recipe (clip c = 0.01 before each critic update, +-1-label sigmoid
cross-entropy, TF1 RMSProp, the 2nd-conv kernel copied D -> G), float32, CPU configuration: 8x8 images (scikit-
learn digits), h = 16, batch 64; ``--quick`` also; the full run adds h = 8, batch 32 (the CPU training config's
sizes). wavejax runs ``outer_step`` under ``jax.jit`` (one call per outer step) and
``wavejax.gan._train._train_steps`` (10 outer steps in one ``lax.scan``, time / 10); PyTorch runs the same step
eagerly with ``torch._foreach`` RMSProp, same thread count. Agreement: with Flax weights copied into the torch
modules, G(z), D(x) and the critic loss agree on the same inputs (the two steps draw different random batches,
so trajectories are not compared).

28x28 rows (issue 20; not with ``--quick``; alone with ``--rows28-only``, which skips the sweeps): the paper's
image size at h = 16 and h = 64, B = 64, wavejax and torch timed interleaved, each row with XLA's FLOP count of the
step, its GFLOP/s and the fraction of a 2048^2 float32 matmul's rate measured in the same process; the full run adds
the critic phase's old ``lax.fori_loop`` form at h = 16 (JSON only) and sweeps in width h = 8 ... 64 (B = 64) and
batch B = 16 ... 128 (h = 16), ``results/bench_gan28_{width,batch}_scaling.png`` (``benchmarks/_gan28.py``).

Devices: the torch side runs on ``_common.torch_device`` (CUDA when PyTorch sees a GPU; each timed call waits for
its queued work), recorded per row as ``baseline_device``. When JAX's default backend is a GPU or TPU, an 8x8 row at
h = 64, B = 1024 and scaling points B = 512, 2048 are added (CPU runs are unchanged).

Scaling (not with ``--quick``; alone with ``--scaling-only``, which updates only the ``scaling`` key of the JSON):
time of one outer step vs batch B = 8 ... 128 at h = 8, ``outer_step`` under ``jit`` (compiled and warmed up
first) vs torch eager, best of a few, log-log plot ``results/bench_gan_scaling.png`` with fitted exponents.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import (
    bench_parser,
    compile_time,
    matmul_peak,
    on_device,
    pin_threads,
    ratio_row,
    scaling_plot,
    time_fn,
    torch_device_label,
    update_scaling,
    write_result,
)

THREADS = pin_threads(2)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from wavejax.gan import GANConfig, create_states, outer_step  # noqa: E402
from wavejax.gan._data import load_digits  # noqa: E402
from wavejax.gan._train import _train_steps  # noqa: E402 -- the scanned form, kept for this comparison

sys.path.insert(0, str(Path(__file__).resolve().parent))

SCALING_B = (8, 16, 32, 64, 128)  # batch sizes of the scaling plot (h = 8)
DEVICE_SIZES = ((64, 1024),) if on_device() else ()  # (h, B) 8x8 rows that fill a GPU / TPU
if on_device():
    SCALING_B += (512, 2048)


def case(hidden, batch, rows, repeat):
    import _gan28
    import torch

    torch.set_num_threads(THREADS)
    cfg = GANConfig(hidden=hidden, image_size=8, batch=batch, sharing="conv2", data="digits", steps=10)
    x = load_digits(8)[0]
    data = jnp.asarray(x)
    sg, sd = create_states(jax.random.key(0), cfg)
    tg, _, torch_step = _gan28.torch_side(hidden, 8, batch, x)
    _gan28.agree(hidden, 8, batch, x, sg, sd, tg)

    # timing
    t_torch = time_fn(torch_step, repeat=repeat, warmup=2)
    step = jax.jit(outer_step, static_argnames="cfg")
    state = {"g": sg, "d": sd, "k": 0}

    def run_step():
        state["k"] += 1
        state["g"], state["d"], m = step(state["g"], state["d"], jax.random.key(state["k"]), data, cfg=cfg)
        return m

    c1 = compile_time(run_step)
    t_step = time_fn(run_step, repeat=repeat, warmup=2)
    scan = jax.jit(_train_steps, static_argnames=("cfg", "n"))

    def run_scan():
        state["g"], state["d"], m = scan(state["g"], state["d"], jax.random.key(1), data, cfg=cfg, n=10)
        return m

    c10 = compile_time(run_scan)
    t_scan = time_fn(run_scan, repeat=max(3, repeat // 2), warmup=1)
    t_scan = {k: (v / 10 if k != "repeat" else v) for k, v in t_scan.items()}
    label = f"8x8 h={hidden} B={batch} outer step (5 critic + 1 G)"
    dev = torch_device_label(torch)
    rows.append(ratio_row(f"{label}, jit per step", t_step, "torch eager", t_torch, target=2.0, work=1,
                          work_unit="outer_steps", compile_s=c1, baseline_device=dev))
    rows.append(ratio_row(f"{label}, scan of 10 (per step)", t_scan, "torch eager", t_torch, target=2.0, work=1,
                          work_unit="outer_steps", compile_s=c10, baseline_device=dev))


def scaling_sweep(hidden=8, repeat=4):
    """Time of one outer step vs batch B (SCALING_B): jitted ``outer_step`` (compiled first) vs torch eager, best of
    ``repeat`` after two warm-up steps each."""
    import _gan28
    import torch

    torch.set_num_threads(THREADS)
    print(f"bench_gan: scaling in batch B (8x8, h={hidden}) ...", flush=True)
    x = load_digits(8)[0]
    data = jnp.asarray(x)
    step = jax.jit(outer_step, static_argnames="cfg")
    series = {"wavejax outer_step (jit)": [], "torch eager": []}
    for B in SCALING_B:
        cfg = GANConfig(hidden=hidden, image_size=8, batch=B, sharing="conv2", data="digits", steps=10)
        sg, sd = create_states(jax.random.key(0), cfg)
        state = {"g": sg, "d": sd, "k": 0}

        def run_step(state=state, cfg=cfg):
            state["k"] += 1
            state["g"], state["d"], m = step(state["g"], state["d"], jax.random.key(state["k"]), data, cfg=cfg)
            return m

        c = compile_time(run_step)
        t_j = time_fn(run_step, repeat=repeat, warmup=2)
        t_t = time_fn(_gan28.torch_side(hidden, 8, B, x)[2], repeat=repeat, warmup=2)
        series["wavejax outer_step (jit)"].append(t_j["min"])
        series["torch eager"].append(t_t["min"])
        print(f"  B={B}: wavejax {t_j['min'] * 1e3:.2f} ms (compile {c:.1f} s), torch {t_t['min'] * 1e3:.2f} ms",
              flush=True)
    rec = scaling_plot("bench_gan", list(SCALING_B), series, xlabel="batch B",
                       ylabel=f"time per outer step (s, best of {repeat})",
                       title=f"Shared GAN outer step, 8x8, h={hidden}, {THREADS} thread(s): time vs batch")
    return {**rec, "hidden": hidden, "threads": THREADS, "repeat": repeat, "stat": "min",
            "baseline_device": torch_device_label(torch)}


def main(argv=None):
    p = bench_parser("bench_gan", __doc__, "one 8x8 size, fewer repetitions, no 28x28 rows, no scaling sweep")
    p.add_argument("--rows28-only", action="store_true",
                   help="only the 28x28 rows (h = 16, 64 at B = 64; no loop-form row, no sweeps)")
    a = p.parse_args(argv)
    if a.scaling_only:
        update_scaling("bench_gan", scaling_sweep(), threads=THREADS, dtype="float32", loss="original",
                       sharing="conv2")
        return 0
    import _gan28

    repeat = 5 if a.quick else 9
    rows = []
    sizes = [] if a.rows28_only else [(16, 64)] if a.quick else [(16, 64), (8, 32)]
    sizes += [] if a.rows28_only else list(DEVICE_SIZES)
    for hidden, batch in sizes:
        case(hidden, batch, rows, repeat)
    peak = scaling28 = None
    if not a.quick:
        peak = matmul_peak()
        print(f"bench_gan: float32 2048^2 matmul peak {peak / 1e9:.0f} GFLOP/s; 28x28 rows ...", flush=True)
        rows28, scaling28 = _gan28.rows_and_scaling(THREADS, peak, 5, quick=a.rows28_only)
        rows += rows28
    scaling = None if a.quick or a.rows28_only else scaling_sweep()
    write_result("bench_gan", rows, threads=THREADS, dtype="float32", loss="original", sharing="conv2",
                 scaling=scaling, scaling28=scaling28 or None, matmul_peak_gflop_per_s=peak and peak / 1e9)


if __name__ == "__main__":
    sys.exit(main())
