"""A 16-point tradeoff sweep (Elman, 8 widths x 2 seeds): width-packed and seed-vmapped vs sequential training.

Workload (issue 5, acceptance 9): the HMM task of the sweep (``make_task("hmm")``), Elman widths
1, 2, 3, 4, 6, 8, 12, 16, two seeds each, ``steps`` Adam steps of batch 32 x window 32, float32, the shared engine
:func:`wavejax.rnn.train`, all three in the same process with the same thread count:

* "packed" (the sweep's default, ``SweepConfig(pack_widths=True)``): all 16 models as ONE vmapped program
  (:func:`wavejax.tradeoff._pack.train_packed`: every member zero-padded to width 16 with its gradient masked to
  its own units; 1 compiled program, 1 call);
* "seed-vmapped" (``pack_widths=False``): each width once with its two seeds as the vmapped member axis
  (8 compiled programs, 8 calls);
* "sequential" (the baseline): the 16 models one at a time with the same engine (``n_members=1``).

The member keys are passed explicitly so that all three train identical models (final parameters are checked to
agree to float32 tolerance: vmapped, padded and unvmapped arithmetic may differ in the last bits). Compile time is
measured separately (the first pass of each, which also serves as warm-up); the timed passes are warm (median over
``repeat`` runs, IQR and min recorded).

Scaling (not with ``--quick``; alone with ``--scaling-only``, which updates only the ``scaling`` key of the JSON):
time vs the number of sweep points P = 8, 16, 32, 64 (the 8 widths x 1, 2, 4, 8 seeds, 100 steps): width-packed vs
sequential, warm (compiled first), best of a few, log-log plot ``results/bench_tradeoff_scaling.png`` with fitted
exponents. When JAX's default backend is a GPU or TPU the sweep adds P = 256 (32 seeds); CPU runs are unchanged.
Every row records ``baseline_device``: the sequential baseline is wavejax's engine, so JAX's device.
"""

from __future__ import annotations

import sys
import time

from _common import (
    bench_parser,
    jax_device_label,
    on_device,
    pin_threads,
    ratio_row,
    scaling_plot,
    time_fn,
    update_scaling,
    write_result,
)

THREADS = pin_threads(2)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from wavejax.rnn import TrainConfig, train  # noqa: E402
from wavejax.tradeoff import make_model, make_task  # noqa: E402
from wavejax.tradeoff._data import make_batch_fn, make_loss_fn  # noqa: E402
from wavejax.tradeoff._pack import train_packed  # noqa: E402

WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16)
SEEDS = 2
SCALING_SEEDS = (1, 2, 4, 8)  # seeds per width in the scaling plot: 8, 16, 32, 64 sweep points
if on_device():  # a sweep that fills a GPU / TPU: 256 points
    SCALING_SEEDS += (32,)


def setup(steps, seeds=SEEDS):
    task = make_task("hmm", key=jax.random.key(0), length=1024, n_programs=8)
    batch_fn = make_batch_fn(task, batch=32, window=32, burn=4)
    cfg = TrainConfig(steps=steps, lr=1e-2, n_levels=1, chunk=steps, log_every=steps, ckpt_every=0)
    models = {w: make_model("elman", w, task.d_in) for w in WIDTHS}
    keys = {w: jax.random.split(jax.random.fold_in(jax.random.key(1), w), seeds) for w in WIDTHS}
    return task, batch_fn, cfg, models, keys


def packed(task, batch_fn, cfg, models, keys):
    res = train_packed("elman", list(WIDTHS), [keys[w] for w in WIDTHS], batch_fn, cfg, d_out=task.d_in,
                       loss_fn=make_loss_fn(task))
    return {w: p for w, (p, _) in zip(WIDTHS, res, strict=True)}


def grouped(task, batch_fn, cfg, models, keys):
    return {w: train(models[w], batch_fn, cfg, key=keys[w], n_members=len(keys[w]), loss_fn=make_loss_fn(task),
                     desc=f"w={w}").state.params for w in WIDTHS}


def sequential(task, batch_fn, cfg, models, keys):
    out = {}
    for w in WIDTHS:
        ps = [train(models[w], batch_fn, cfg, key=keys[w][m:m + 1], n_members=1, loss_fn=make_loss_fn(task),
                    desc=f"w={w} seed {m}").state.params for m in range(len(keys[w]))]
        out[w] = jax.tree_util.tree_map(lambda *a: np.concatenate([np.asarray(x) for x in a]), *ps)
    return out


def _first(fn, args):
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - t0


def scaling_sweep(steps=100, repeat=3, seq_repeat=1):
    """Time vs number of sweep points (8 widths x SCALING_SEEDS seeds): width-packed (compiled by a first pass, best
    of ``repeat``) vs sequential (every width compiled by a first pass at 1 seed, best of ``seq_repeat``)."""
    print(f"bench_tradeoff: scaling in the number of sweep points ({steps} steps) ...", flush=True)
    points = [len(WIDTHS) * n for n in SCALING_SEEDS]
    series = {"wavejax width-packed (1 program)": [], "sequential engine": []}
    # one task / batch_fn / models for every size (a new batch_fn closure would mean new compiles); P varies the keys
    task, batch_fn, cfg, models, keys = setup(steps, max(SCALING_SEEDS))
    _first(sequential, (task, batch_fn, cfg, models, {w: k[:1] for w, k in keys.items()}))  # compiles the 8 programs
    for n in SCALING_SEEDS:
        args = (task, batch_fn, cfg, models, {w: k[:n] for w, k in keys.items()})
        _, c = _first(packed, args)
        t_p = time_fn(lambda args=args: packed(*args), repeat=repeat, warmup=0)
        t_s = time_fn(lambda args=args: sequential(*args), repeat=seq_repeat, warmup=0)
        series["wavejax width-packed (1 program)"].append(t_p["min"])
        series["sequential engine"].append(t_s["min"])
        print(f"  P={len(WIDTHS) * n}: packed {t_p['min']:.3f} s (first pass {c:.1f} s), sequential "
              f"{t_s['min']:.3f} s", flush=True)
    rec = scaling_plot("bench_tradeoff", points, series, xlabel="sweep points P", ylabel="time (s, best of a few)",
                       title=f"Elman sweep, 8 widths x P/8 seeds, {steps} steps, {THREADS} thread(s)")
    return {**rec, "steps": steps, "threads": THREADS, "repeat": {"packed": repeat, "sequential": seq_repeat},
            "stat": "min"}


def main(argv=None):
    a = bench_parser("bench_tradeoff", __doc__, "100 steps, 2 repetitions, no scaling sweep").parse_args(argv)
    if a.scaling_only:
        update_scaling("bench_tradeoff", scaling_sweep(), threads=THREADS, widths=WIDTHS, dtype="float32")
        return 0
    steps = 100 if a.quick else 200
    repeat = 2 if a.quick else 5
    args = setup(steps)
    pp, c_pack = _first(packed, args)
    pg, c_group = _first(grouped, args)
    ps, c_seq = _first(sequential, args)
    max_dev = 0.0
    for w in WIDTHS:  # same models
        for x, y, z in zip(jax.tree_util.tree_leaves(pp[w]), jax.tree_util.tree_leaves(pg[w]),
                           jax.tree_util.tree_leaves(ps[w]), strict=True):
            np.testing.assert_allclose(np.asarray(x), np.asarray(z), rtol=1e-3, atol=1e-4)
            np.testing.assert_allclose(np.asarray(y), np.asarray(z), rtol=1e-3, atol=1e-4)
            max_dev = max(max_dev, float(np.max(np.abs(np.asarray(x) - np.asarray(z)))))
    t_p = time_fn(lambda: packed(*args), repeat=repeat, warmup=0)
    t_g = time_fn(lambda: grouped(*args), repeat=repeat, warmup=0)
    t_s = time_fn(lambda: sequential(*args), repeat=repeat, warmup=0)
    work = len(WIDTHS) * SEEDS * steps
    case = f"16-point sweep (8 widths x 2 seeds, {steps} steps)"
    first = {"packed": c_pack, "seed_vmapped": c_group, "sequential": c_seq}
    dev = jax_device_label()  # the baseline is wavejax's own sequential engine, on JAX's device
    rows = [
        ratio_row(f"{case} warm, width-packed (1 program)", t_p, "sequential engine", t_s, target=4.0, work=work,
                  work_unit="model_steps", first_pass_s=first, max_abs_param_dev_vs_sequential=max_dev,
                  baseline_device=dev),
        ratio_row(f"{case} warm, seed-vmapped (8 programs)", t_g, "sequential engine", t_s, work=work,
                  work_unit="model_steps", first_pass_s=first, baseline_device=dev),
        ratio_row("same, first pass (compile included), width-packed", {"median": c_pack, "iqr": 0.0},
                  "sequential engine", {"median": c_seq, "iqr": 0.0}, target=4.0, work=work,
                  work_unit="model_steps", baseline_device=dev),
        ratio_row("same, first pass (compile included), seed-vmapped", {"median": c_group, "iqr": 0.0},
                  "sequential engine", {"median": c_seq, "iqr": 0.0}, work=work, work_unit="model_steps",
                  baseline_device=dev),
    ]
    scaling = None if a.quick else scaling_sweep()
    write_result("bench_tradeoff", rows, threads=THREADS, steps=steps, repeat=repeat, widths=WIDTHS, seeds=SEEDS,
                 dtype="float32", scaling=scaling)


if __name__ == "__main__":
    sys.exit(main())
