"""Training the EMT recipe: the wavejax engine vs a PyTorch loop of the same model (same process, same threads).

Workload (issue 3, acceptance 6): Elman RNN H = 128, d = 8, tanh, no biases, batch 64, binary repeat-copy task
(``wavejax.tasks.task_batch``: s = 8 input steps, horizon 10 or 100, i.e. sequence lengths 18 and
108), MSE over the output phase, Adam 1e-3 + coupled L2 + global-norm clip 1.0. One "step" = fresh batch on the
device + forward + backward + optimizer update. wavejax runs the engine's step (``wavejax.rnn.train_step``)
inside a jitted ``lax.scan`` of ``CHUNK`` steps, exactly what ``wavejax.rnn.train`` runs; PyTorch runs
``benchmarks/baselines/torch_rnn.py`` (``nn.RNN`` + ``nn.Linear`` + ``Adam(weight_decay)`` + ``clip_grad_norm_``).

Rows:

* steps/s at T = 18 and T = 108, wavejax vs torch (target >= 1.0x); the first 3 steps on identical batches from
  an identical init agree (losses and params) before anything is timed;
* fraction of the small-matmul roofline: FLOPs per step (analytic count below) / step time, against the FLOP
  rate of a jitted chain of (64, 128) x (128, 128) products (the step's matmul shape) measured in the same run
  (target >= 0.6);
* the full recipe (20k curriculum steps, data generation, JSONL logging, checkpoints and progress bar, through
  ``wavejax.rnn.train``): a shorter run is timed and extrapolated linearly (padded curriculum: every step has the
  same cost), target <= 240 s;
* padded curriculum vs one compile per level: measured compile time and step time per horizon, combined with the
  spec's level schedule (levels 0-3 take ~700 steps, emt.md §4);
* 8 seeds in one program vs 8 sequential runs of the single-run program (target >= 1.3x): vmapped on one device;
  and, in a child process with one XLA CPU device per core (``--xla_force_host_platform_device_count``, set before
  jax starts), sharded over those devices either vmapped or with ``TrainConfig.member_block=1`` (each device runs
  its members one after another inside the program). The vmapped step's memory traffic grows with the member count
  (hidden states of 8 members at T = 108 exceed the 32 MiB L3), so on this CPU vmapping alone does not pay;
  per-core devices with member_block=1 do. The baseline is the single run of the main process (one device);
* the fused reverse pass of the Elman loop (``elman_recurrence``) vs plain autodiff of the scan.

Scaling (not with ``--quick``; alone with ``--scaling-only``, which updates only the ``scaling`` key of the JSON):
time per training step vs batch B = 16 ... 256 at T = 108, the engine vs the torch loop, best of 5, log-log plot
``results/bench_train_scaling.png`` with fitted exponents.

Threads: ``--threads N`` pins torch (``torch.set_num_threads``, OMP) to N threads and, for N below the CPU count, the
whole process (XLA included, which ignores its thread flags) to N CPUs (default 2, results in ``bench_train.json``;
other N in ``bench_train_threads<N>.json``). The roofline chain of (64, 128) x (128, 128) products runs on one core
either way (its rate was the same with 1 and 2 CPUs: 0.571 / 0.574 ms for the T = 18 step's FLOPs); the training
step gets help from the second core in its large products. On a shared machine torch's OpenMP
threads spin while the other core is busy, which makes its 2-thread time erratic; a 1-thread torch row is
recorded for reference.

Devices: the torch loop runs on ``_common.torch_device`` (CUDA when PyTorch sees a GPU: model, optimizer and batches
there; each timed call waits for its queued work). Every row records its baseline's device (``baseline_device``:
the torch device, JAX's device for a wavejax baseline, None for a fixed target or estimate). When JAX's default
backend is a GPU or TPU the scaling sweep adds B = 1024, 4096 (CPU runs are unchanged).

FLOPs per step (multiply-add = 2), T = s + horizon: forward 2BT(dH + H^2 + Hd); backward 4BTH^2 (dW_hh and the
state gradient) + 2BTdH (dW_uh) + 4BTHd (dW_hy and dh); optimizer and data generation not counted.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    bench_parser,
    compile_time,
    jax_device_label,
    on_device,
    pin_threads,
    ratio_row,
    scaling_plot,
    time_fn,
    torch_device,
    torch_device_label,
    torch_sync,
    update_scaling,
    write_result,
)


def _parser() -> argparse.ArgumentParser:
    p = bench_parser("bench_train", __doc__.split("\n")[0], "fewer repeats and a shorter recipe run (CI smoke test)")
    p.add_argument("--threads", type=int, default=2,
                   help="threads of BOTH sides: XLA's intra-op pool and torch (default 2, the issue's 2 cores)")
    p.add_argument("--sharded-worker", type=int, default=0, help=argparse.SUPPRESS)  # internal: see sharded_seeds()
    p.add_argument("--chunk", type=int, default=20, help=argparse.SUPPRESS)  # of the sharded worker
    p.add_argument("--repeat", type=int, default=7, help=argparse.SUPPRESS)  # of the sharded worker
    return p


_ARGS = _parser().parse_known_args()[0]
THREADS = pin_threads(_ARGS.threads)
if _ARGS.sharded_worker:  # a child process with one XLA CPU device per core (see sharded_seeds)
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                               + f" --xla_force_host_platform_device_count={_ARGS.sharded_worker}").strip()
# XLA's thread-count flags have no effect on its CPU client: pin_threads binds the process to THREADS CPUs instead

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from wavejax import distributed  # noqa: E402
from wavejax.rnn import Elman, TrainConfig, init_state, masked_mse, train, train_step  # noqa: E402
from wavejax.tasks import binary_vb_task, task_batch  # noqa: E402

try:
    import torch

    torch.set_num_threads(THREADS)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from baselines.torch_rnn import TorchElman, TorchTrainer
except ImportError:  # pragma: no cover - torch is in the "bench" extra
    torch = None

S, D, H, BATCH = 8, 8, 128, 64
CURRICULUM = (10, 20, 40, 60, 100)
PHI = jnp.asarray(binary_vb_task("repeat_copy"), jnp.float32)
FULL_STEPS = 20_000
EARLY_STEPS = 700  # steps spent in levels 0-3 (emt.md §4: all levels reached by step ~700)
SCALING_B = (16, 32, 64, 128, 256)  # batch sizes of the scaling plot (T = 108)
if on_device():  # sizes that fill a GPU / TPU
    SCALING_B += (1024, 4096)


def flops_per_step(T: int, B: int = BATCH, H: int = H, d: int = D) -> float:
    """Analytic matmul FLOPs of one training step (see the module docstring)."""
    return 2 * B * T * (d * H + H * H + H * d) + 4 * B * T * H * H + 2 * B * T * d * H + 4 * B * T * H * d


def fixed_batch_fn(horizon: int, batch: int = BATCH):
    """``batch_fn(key, level)`` of the repeat-copy task at a fixed horizon (no curriculum)."""

    def batch_fn(key, level):
        del level
        return task_batch(key, PHI, horizon=horizon, batch=batch)

    return batch_fn


def padded_batch_fn(key, level):
    """The recipe's curriculum in pad mode: horizon 100 always, loss mask stops at s + CURRICULUM[level]."""
    x, y, mask = task_batch(key, PHI, horizon=CURRICULUM[-1], batch=BATCH)
    t = jnp.arange(x.shape[1])
    return x, y, mask & (t < S + jnp.asarray(CURRICULUM, jnp.int32)[level])


def engine_chunk(model, batch_fn, cfg, n_members: int, seed: int = 0, mesh=None, block: int | None = None):
    """(run, state0): ``run()`` advances ``cfg.chunk`` steps of the engine for ``n_members`` vmapped runs.

    With a multi-device ``mesh`` the member axis is sharded over it (``wavejax.distributed``, as ``train`` does);
    ``block``: ``TrainConfig.member_block`` (members per vmapped block on each device).
    """
    keys = jax.random.split(jax.random.key(seed), n_members)
    x0 = batch_fn(keys[0], 0)[0]
    state = jax.vmap(lambda k: init_state(model, k, x0, cfg=cfg))(keys)
    hp = {k: jnp.full((n_members,), getattr(cfg, k), jnp.float32) for k in ("lr", "l2", "threshold")}

    def one(st, hp):
        body = lambda s, _: train_step(s, hp, model=model, batch_fn=batch_fn, loss_fn=masked_mse, cfg=cfg)  # noqa: E731
        return jax.lax.scan(body, st, None, length=cfg.chunk)

    if mesh is not None:
        (state, hp), _ = distributed.shard_leading((state, hp), mesh)
    fn = jax.jit(distributed.sweep_vmap(one, mesh, block=block), donate_argnums=0)
    box = [jax.tree.map(jnp.copy, state)]

    def run():
        box[0], m = fn(box[0], hp)
        return m["loss"]

    return run, state


def check_agreement(horizon: int, n: int = 3) -> dict:
    """Same init, same n batches: per-step losses and final params of the engine vs torch."""
    model = Elman(hidden=H, d_out=D)
    cfg = TrainConfig(steps=10**6, chunk=1, log_every=1, ckpt_every=0, n_levels=1)
    keys = jax.random.split(jax.random.key(42), n)
    batches = [task_batch(k, PHI, horizon=horizon, batch=BATCH) for k in keys]
    state = init_state(model, jax.random.key(1), batches[0][0], cfg=cfg)
    dev = torch_device(torch)
    tm = TorchElman(D, H, D).load_wavejax(state.params).to(dev)
    tt = TorchTrainer(tm, lr=cfg.lr, l2=cfg.l2, clip=cfg.clip, horizon=horizon, batch=BATCH, device=dev)
    hp = {"lr": jnp.float32(cfg.lr), "l2": jnp.float32(cfg.l2), "threshold": jnp.float32(cfg.threshold)}
    step = jax.jit(lambda st, data: train_step(st, hp, data, model=model, batch_fn=lambda k, lv, dt: dt,
                                               loss_fn=masked_mse, cfg=cfg))
    lj, lt = [], []
    for x, y, mask in batches:
        state, m = step(state, (x, y, mask))
        lj.append(float(m["loss"]))
        lt.append(float(tt.step(*(torch.from_numpy(np.asarray(a)).to(dev) for a in (x, y, mask)))))
    pt = tm.wavejax_params()
    dp = max(float(np.abs(np.asarray(state.params[k]) - pt[k]).max()) for k in pt)
    dl = max(abs(a - b) / abs(b) for a, b in zip(lj, lt))
    # float32 sums in another order; Adam's first steps move every weight by ~lr = 1e-3
    assert dl < 1e-5 and dp < 1e-5, (lj, lt, dp)
    return {"losses_wavejax": lj, "losses_torch": lt, "max_rel_loss_diff": dl, "max_abs_param_diff": dp}


def matmul_roofline(n: int = 2000) -> dict:
    """FLOP/s of a jitted chain of n dependent (B, H) x (H, H) products (orthogonal H x H: no overflow)."""
    W = jnp.asarray(np.linalg.qr(np.random.default_rng(0).standard_normal((H, H)))[0], jnp.float32)
    h0 = jax.random.normal(jax.random.key(0), (BATCH, H), jnp.float32)
    fn = jax.jit(lambda h: jax.lax.fori_loop(0, n, lambda i, h: h @ W, h))
    compile_time(lambda: fn(h0))
    t = time_fn(lambda: fn(h0), repeat=7)
    return {"flops_per_s": 2 * BATCH * H * H * n / t["median"], "best_flops_per_s": 2 * BATCH * H * H * n / t["min"],
            "time": t}


def add_best(row: dict, t_jax: dict, t_base: dict) -> dict:
    """Also record best-of ratios (min / min): on a shared machine the minimum is the least disturbed run."""
    if "min" in t_jax and "min" in t_base:
        row["wavejax_min_s"], row["baseline_min_s"] = t_jax["min"], t_base["min"]
        row["ratio_best"] = t_base["min"] / t_jax["min"]
    return row


def per_step(t: dict, steps: int) -> dict:
    return {k: (v / steps if k in ("median", "min", "max", "iqr") else v) for k, v in t.items()}


def time_engine(horizon: int, chunk: int, repeat: int, *, n_members: int = 1, fused: bool = True,
                batch: int = BATCH, mesh=None, block: int | None = None) -> tuple:
    model = Elman(hidden=H, d_out=D, fused_grad=fused)
    cfg = TrainConfig(steps=10**6, chunk=chunk, log_every=chunk, ckpt_every=0, n_levels=1)
    run, _ = engine_chunk(model, fixed_batch_fn(horizon, batch), cfg, n_members, mesh=mesh, block=block)
    comp = compile_time(run)
    return per_step(time_fn(run, repeat=repeat), chunk), comp


def torch_runner(horizon: int, steps: int, batch: int = BATCH):
    """``run()``: ``steps`` steps of the torch loop on ``torch_device`` (model, optimizer, batches), waiting for the
    queued CUDA work so that a timed call includes it."""
    dev = torch_device(torch)
    tt = TorchTrainer(TorchElman(D, H, D).to(dev), horizon=horizon, batch=batch, device=dev)

    def run():
        loss = tt.run(steps)
        torch_sync(torch)
        return loss

    return run


def time_torch(horizon: int, steps: int, repeat: int, batch: int = BATCH) -> dict:
    return per_step(time_fn(torch_runner(horizon, steps, batch), repeat=repeat), steps)


def full_recipe(steps: int, chunk: int = 100) -> dict:
    """Time ``wavejax.rnn.train`` on the padded-curriculum recipe for ``steps`` steps; extrapolate to 20k."""
    model = Elman(hidden=H, d_out=D)
    cfg = TrainConfig(steps=steps, chunk=chunk, log_every=chunk, ckpt_every=1000, n_levels=len(CURRICULUM))
    marks = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = train(model, padded_batch_fn, cfg, key=jax.random.key(0), out=Path(tmp) / "run",
                    callback=lambda step, m: marks.append((step, time.perf_counter() - t0)))
        total = time.perf_counter() - t0
    first_step, first_t = marks[0]
    steady = (total - first_t) / (steps - first_step)  # per step, logging + checkpoints included
    return {"steps_run": steps, "total_s": total, "first_chunk_s": first_t, "steady_s_per_step": steady,
            "extrapolated_20k_s": first_t + (FULL_STEPS - first_step) * steady,
            "final_level": int(res.history["level"][0, -1]), "final_accuracy": float(res.history["accuracy"][0, -1])}


def row(case: str, t_jax: dict, baseline: str, t_base: dict, **kw) -> dict:
    """``ratio_row`` plus the best-of ratio."""
    return add_best(ratio_row(case, t_jax, baseline, t_base, **kw), t_jax, t_base)


def scaling_sweep(name: str, chunk: int = 20, torch_steps: int = 2, repeat: int = 5, horizon: int = 100) -> dict:
    """Time per training step vs batch B (SCALING_B) at T = S + horizon: engine (``chunk`` steps per call) and torch
    (``torch_steps`` per call), best of ``repeat`` calls after a warm-up call (about 30 s on a quiet 2-core CPU)."""
    T = S + horizon
    print(f"bench_train: scaling in batch B at T={T} ...", flush=True)
    series = {"wavejax engine": [], "torch nn.RNN loop": []}
    for B in SCALING_B:
        tj, comp = time_engine(horizon, chunk, repeat, batch=B)  # compile_time first: compile kept apart
        series["wavejax engine"].append(tj["min"])
        tt = time_torch(horizon, torch_steps, repeat, batch=B) if torch is not None else {"min": float("nan")}
        series["torch nn.RNN loop"].append(tt["min"])
        print(f"  B={B}: engine {tj['min'] * 1e3:.2f} ms/step (compile {comp:.1f} s), torch "
              f"{tt['min'] * 1e3:.2f} ms/step", flush=True)
    rec = scaling_plot(name, list(SCALING_B), series, xlabel="batch B",
                       ylabel=f"time per training step (s, best of {repeat})",
                       title=f"Elman H={H} training step, T={T}, {THREADS} thread(s): time vs batch")
    return {**rec, "T": T, "threads": THREADS, "repeat": repeat, "stat": "min",
            "baseline_device": torch_device_label(torch) if torch is not None else None}


def sharded_seeds(chunk: int, repeat: int) -> dict | None:
    """8 vmapped seeds sharded over one XLA CPU device per core, timed in a child process.

    ``--xla_force_host_platform_device_count`` must be set before jax starts, so a child process
    (``--sharded-worker N``) times the sharded 8-seed program at T = 18 and 108, and also the single run there.
    The ratio rows use the single run of THIS process (one device), the faster configuration for it: with N host
    devices the single 2-thread run slowed down by up to 40 % at T = 18 in our measurements, which would flatter
    the ratio. Returns ``{T: {"sharded": time dict, "single_in_child": time dict, "compile_s": float}}``.
    """
    import json
    import subprocess

    if THREADS < 2:
        return None
    cmd = [sys.executable, __file__, "--threads", str(THREADS), "--sharded-worker", str(THREADS),
           "--chunk", str(chunk), "--repeat", str(repeat)]
    env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    return {int(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def _sharded_worker(chunk: int, repeat: int) -> None:
    import json

    assert jax.device_count() == _ARGS.sharded_worker, jax.devices()
    mesh = distributed.sweep_mesh()
    res = {}
    for horizon in (10, 100):
        t8, c8 = time_engine(horizon, chunk, repeat, n_members=8, mesh=mesh)
        tb, cb = time_engine(horizon, chunk, repeat, n_members=8, mesh=mesh, block=1)
        t1, _ = time_engine(horizon, chunk, repeat)
        res[S + horizon] = {"sharded": t8, "compile_s": c8, "sharded_block1": tb, "compile_s_block1": cb,
                            "single_in_child": t1}
    print(json.dumps(res), flush=True)


def main(argv=None):
    a = _parser().parse_args(argv)
    if a.sharded_worker:
        _sharded_worker(a.chunk, a.repeat)
        return 0
    name = "bench_train" if THREADS == 2 else f"bench_train_threads{THREADS}"
    if a.scaling_only:
        update_scaling(name, scaling_sweep(name), threads=THREADS, xla_flags=os.environ.get("XLA_FLAGS", ""))
        return 0
    repeat = 3 if a.quick else 7
    chunk = 10 if a.quick else 20
    torch_steps = 3 if a.quick else 5
    rows, extra = [], {}
    tdev, jdev = torch_device_label(torch), jax_device_label()
    print(f"bench_train: threads={THREADS} (torch and XLA), jax devices={jax.devices()}", flush=True)
    roof = matmul_roofline(500 if a.quick else 2000)
    extra["matmul_roofline_gflops"] = roof["flops_per_s"] / 1e9
    print(f"  small-matmul roofline (64x128 @ 128x128): {roof['flops_per_s'] / 1e9:.1f} GFLOP/s", flush=True)
    step_times = {}
    for horizon in (10, 100):
        T = S + horizon
        if torch is not None:
            extra[f"agreement_T{T}"] = check_agreement(horizon)
        tj, comp = time_engine(horizon, chunk, repeat)
        step_times[T] = (tj, comp)
        fl = flops_per_step(T)
        common = dict(work=1.0, work_unit="steps", T=T, compile_s=comp, flops_per_step=fl)
        if torch is not None:
            tt = time_torch(horizon, torch_steps, repeat)
            rows.append(row(f"steps/s T={T} (H=128, B=64) vs torch", tj, "torch nn.RNN loop", tt, target=1.0,
                                  torch_flops_per_s=fl / tt["median"], baseline_device=tdev, **common))
        ideal = {"median": fl / roof["flops_per_s"], "iqr": 0.0, "min": fl / roof["best_flops_per_s"]}
        rows.append(row(f"fraction of small-matmul roofline T={T}", tj, "roofline time", ideal, target=0.6,
                              wavejax_flops_per_s=fl / tj["median"], roofline_flops_per_s=roof["flops_per_s"],
                              T=T, baseline_device=jdev))
        print(f"  T={T}: {1 / tj['median']:.0f} steps/s, {fl / tj['median'] / 1e9:.1f} GFLOP/s, compile {comp:.1f} s",
              flush=True)

    # the fused reverse pass of the Elman loop vs autodiff of the scan
    ta, _ = time_engine(100, chunk, repeat, fused=False)
    rows.append(row("T=108 fused reverse pass vs autodiff of the scan", step_times[108][0],
                          "wavejax autodiff scan", ta, T=108, baseline_device=jdev))

    # 8 seeds: one vmapped program vs 8 sequential runs of the single-run program
    for horizon in (10, 100):
        T = S + horizon
        t8, c8 = time_engine(horizon, chunk, repeat, n_members=8)
        seq = {k: (8 * v if k in ("median", "min", "max", "iqr") else v) for k, v in step_times[T][0].items()}
        rows.append(row(f"8 seeds vmapped vs 8 sequential runs, T={T}", t8, "8 sequential runs", seq,
                              target=1.3, compile_s=c8, T=T, baseline_device=jdev))
    # the same 8 seeds sharded over one CPU device per core (what `train` does when several devices exist)
    sh = None if a.quick else sharded_seeds(chunk, repeat)
    for T, r in (sh or {}).items():
        seq = {k: (8 * v if k in ("median", "min", "max", "iqr") else v) for k, v in step_times[T][0].items()}
        seq_child = r["single_in_child"]["median"] * 8
        for key, label, comp in (("sharded", "vmapped + sharded", "compile_s"),
                                 ("sharded_block1", "in one program, sharded (member_block=1)", "compile_s_block1")):
            rows.append(row(f"8 seeds {label} over {THREADS} CPU devices vs 8 sequential runs, T={T}", r[key],
                            "8 sequential runs (1 device)", seq, target=1.3, compile_s=r[comp], T=T,
                            baseline_device=jdev,
                            ratio_vs_sequential_in_child=seq_child / r[key]["median"],
                            note=f"timed in a child process with {THREADS} host devices; baseline = the single "
                                 "run of the main process (one device, the faster configuration for it)"))

    # torch with one thread (its OpenMP threads spin when the cores are shared), for the record
    if torch is not None and THREADS > 1:
        torch.set_num_threads(1)
        t1 = time_torch(100, torch_steps, repeat)
        torch.set_num_threads(THREADS)
        rows.append(row("steps/s T=108 vs torch with 1 thread (info)", step_times[108][0],
                              "torch nn.RNN loop, 1 thread", t1, T=108, baseline_device=tdev))

    # curriculum: padded (one compile, every step at T = 108) vs one compile per level (T = 8 + horizon)
    levels = {}
    for horizon in CURRICULUM:
        T = S + horizon
        if T in step_times:
            levels[T] = step_times[T]
        elif not a.quick:
            levels[T] = time_engine(horizon, chunk, repeat)
    Ts = sorted(levels)
    t_of = lambda T: float(np.interp(T, Ts, [levels[x][0]["median"] for x in Ts]))  # noqa: E731
    c_of = lambda T: float(np.interp(T, Ts, [levels[x][1] for x in Ts]))  # noqa: E731
    early = EARLY_STEPS // (len(CURRICULUM) - 1)
    comp_total = sum(c_of(S + h) + early * t_of(S + h) for h in CURRICULUM[:-1])
    comp_total += c_of(108) + (FULL_STEPS - EARLY_STEPS) * t_of(108)
    pad_total = c_of(108) + FULL_STEPS * t_of(108)
    rows.append(row("20k recipe: padded curriculum vs compile per level (estimate)", {"median": pad_total,
                          "iqr": 0.0}, "one compile per level", {"median": comp_total, "iqr": 0.0},
                          measured_T=Ts, interpolated=a.quick, early_steps=EARLY_STEPS, baseline_device=None,
                          note="estimate = sum over levels of compile time + steps x measured step time"))

    # the full recipe through wavejax.rnn.train (logging, checkpoints, progress bar), extrapolated to 20k steps
    fr = full_recipe(300 if a.quick else 1500)
    extra["full_recipe"] = fr
    rows.append(row("full recipe 20k steps (extrapolated from a shorter run) vs 240 s target",
                          {"median": fr["extrapolated_20k_s"], "iqr": 0.0}, "4-minute target",
                          {"median": 240.0, "iqr": 0.0}, target=1.0, baseline_device=None, **fr))
    print(f"  full recipe: {fr['steps_run']} steps in {fr['total_s']:.1f} s -> 20k steps ~ "
          f"{fr['extrapolated_20k_s']:.0f} s (extrapolated)", flush=True)
    scaling = None if a.quick else scaling_sweep(name, chunk)
    for r in rows:
        if "ratio_best" in r:
            print(f"  best-of ratio {r['case']}: {r['ratio_best']:.2f}")
    write_result(name, rows, threads=THREADS, xla_flags=os.environ.get("XLA_FLAGS", ""), quick=a.quick, chunk=chunk,
                 **extra, scaling=scaling,
                 note="shared 2-core machine: timings are noisy; ratio = baseline median / wavejax median")


if __name__ == "__main__":
    sys.exit(main())
