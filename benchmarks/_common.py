"""Shared timing and recording helpers for ``benchmarks/bench_*.py``.

Every benchmark times wavejax against a baseline we wrote (NumPy or PyTorch) in the same process, on the same
shapes, dtype and number of steps, checks the outputs agree, keeps compile time apart from run time, reports the
median and spread of repeated runs and writes ``<out>/<bench>.json``.

``<out>`` is the ``--out`` folder (default ``runs/bench-<timestamp>`` in the working directory). The committed
``benchmarks/results/`` folder is written only when named explicitly (``wavejax bench --update-readme`` does so) and
never by a ``--quick`` run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMITTED = Path(__file__).resolve().parent / "results"  #: the committed full-scale results (README table)
RESULTS = COMMITTED  #: where this process writes; set from ``--out`` by :func:`set_results_dir`


def set_results_dir(out: str | Path | None, *, quick: bool = False) -> Path:
    """Make ``out`` (default ``runs/bench-<timestamp>`` in the working directory) this process's results folder.

    Raises ``SystemExit`` naming the folder when a ``--quick`` run would write into the committed
    ``benchmarks/results/`` (smoke numbers must never replace the full ones). The folder is created on first write.
    """
    global RESULTS
    path = Path(out) if out is not None else Path("runs") / time.strftime("bench-%Y%m%d-%H%M%S")
    path = path.resolve()
    if quick and path == COMMITTED:
        raise SystemExit(f"--out {path}: --quick results never go into the committed benchmarks/results/ folder "
                         "(it holds the full-scale numbers of the README table); pass another --out")
    RESULTS = path
    return path


class _BenchParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose ``parse_args`` also sets the results folder from ``--out``."""

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        a = super().parse_args(args, namespace)
        a.out = set_results_dir(a.out, quick=a.quick)
        return a


def bench_parser(name: str, doc: str, quick_help: str) -> argparse.ArgumentParser:
    """The flags every benchmark takes: ``--quick`` (the runner passes it for ``wavejax bench --quick``),
    ``--out DIR`` (results folder, default ``runs/bench-<timestamp>``; the runner passes it) and ``--scaling-only``
    (run only the scaling sweep; update only the ``scaling`` key of ``<out>/<name>.json``)."""
    p = _BenchParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument("--out", type=Path, default=None,
                   help="results folder (default runs/bench-<timestamp> in the working directory); the committed "
                        "benchmarks/results/ only when named explicitly, and never with --quick")
    p.add_argument("--scaling-only", action="store_true",
                   help=f"run only the scaling sweep; update only the 'scaling' key of results/{name}.json (rows and "
                        "other keys kept) and the scaling PNG")
    return p


def accelerator() -> str | None:
    """``"gpu"``/``"tpu"`` when this host has one that JAX would use, else None (read before jax is imported).

    ``JAX_PLATFORMS=cpu`` means none. A GPU: an NVIDIA device file or ``nvidia-smi``; a TPU: ``/dev/accel0`` or
    the TPU variables of Colab / Cloud TPU VMs.
    """
    import shutil

    plats = os.environ.get("JAX_PLATFORMS", "")
    if plats.strip() == "cpu":
        return None
    if "tpu" in plats or os.path.exists("/dev/accel0") or any(
            os.environ.get(v) for v in ("COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE")):
        return "tpu"
    if "cuda" in plats or os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi"):
        return "gpu"
    return None


def torch_device(torch: Any) -> str:
    """Where the PyTorch baselines run: ``"cuda"`` when PyTorch sees a GPU, else ``"cpu"``."""
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


def torch_sync(torch: Any) -> None:
    """Wait for queued CUDA work (the timed calls must include it); a no-op on CPU."""
    if torch is not None and torch.cuda.is_available():
        torch.cuda.synchronize()


def torch_device_label(torch: Any) -> str:
    """The PyTorch baseline's device as rows record it (``baseline_device``): ``"cuda:<GPU name>"`` or ``"cpu"``."""
    if torch_device(torch) == "cuda":
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return "cpu"


def jax_device_label() -> str:
    """JAX's default device as rows record it (``baseline_device`` of a wavejax baseline): ``"cpu"`` or
    ``"<platform>:<device kind>"`` (e.g. ``"gpu:NVIDIA H100 80GB HBM3"``)."""
    import jax

    dev = jax.devices()[0]
    return "cpu" if dev.platform == "cpu" else f"{dev.platform}:{dev.device_kind}"


def on_device() -> bool:
    """Whether JAX's default backend is a GPU or TPU: the benchmarks then add their device-size cases."""
    import jax

    return jax.default_backend() in ("gpu", "tpu")


def pin_threads(n: int = 2) -> int:
    """Pin BLAS/OpenMP threads (call before importing numpy/torch/jax) for both sides of a comparison.

    Sets the BLAS/OpenMP thread counts and, when ``n`` is below the number of CPUs this process may use, binds the
    process to ``n`` of them (``sched_setaffinity``). XLA's CPU client ignores its thread-count flags in the
    jax 0.10 we use (a 2048 x 2048 product took 36-38 ms with and without them, 78 ms on one core), so the
    affinity mask is what holds every side, XLA included, to ``n`` cores. On a host with a GPU or TPU
    (:func:`accelerator`) nothing is pinned: wavejax runs on the device and the CPU binding would only slow its
    host side (returns the CPU count).
    """
    if accelerator() is not None:
        return os.cpu_count() or 1
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if n < len(cpus):
            os.sched_setaffinity(0, set(cpus[:n]))
    return n


def steady_malloc() -> bool:
    """Make glibc reuse large freed blocks instead of returning them to the OS (call once, before any thread starts).

    Both sides of a rollout benchmark allocate a fresh (B, T, d) output per call (32 MB at B = 1024). NumPy does so on
    the main thread, XLA on its worker threads, and glibc gives each thread an arena of its own (up to 8 per core:
    16 on the 2-core machine). A 32 MB block that does not fit an arena's first heap gets a heap of its own (a new
    64 MiB ``mmap``), and when the block is freed glibc deletes that heap (``munmap``) whatever the trim threshold
    says. The next call then faults its 8,000 fresh pages again: ~8,000 minor faults per call and 2.9 ms vs 11-12 ms
    for the same XLA call, depending on the process's allocation history (issue 20; benchmarks/README.md).

    Sets one arena (``M_ARENA_MAX`` = 1: every thread allocates from the main heap), no ``mmap`` for blocks below
    1 GiB (``M_MMAP_THRESHOLD``) and no trimming below 1 GiB (``M_TRIM_THRESHOLD``), so every call of both sides
    reuses a freed block. The arena limit takes effect for threads that have not allocated yet, hence "before any
    thread starts" (before numpy, torch or jax is imported). Returns False where mallopt is unavailable.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
        return all(libc.mallopt(k, v) == 1 for k, v in ((m_mmap_threshold, 1 << 30), (m_trim_threshold, 1 << 30),
                                                         (m_arena_max, 1)))
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False


def block(x: Any) -> Any:
    try:
        import jax

        return jax.block_until_ready(x)
    except Exception:  # pragma: no cover - non-jax values
        return x


def time_fn(fn: Callable[[], Any], *, repeat: int = 7, warmup: int = 1, min_time: float = 0.0,
            settle: float = 0.3, max_calls: int | None = None) -> dict[str, float]:
    """Time ``fn()`` (already compiled) ``repeat`` times after ``warmup`` calls, or more calls until ``min_time``
    seconds have passed (at most ``max_calls``, default ``10 * repeat``).

    ``settle`` seconds of sleep come first: the worker threads of the side timed before (PyTorch's OpenMP pool,
    OpenBLAS) keep spinning for a while after their last call and would steal the cores from this side (measured:
    the B = 1024 lattice rollout took 11 ms right after the torch loop and 2.9 ms after a pause).

    Returns ``{"median", "min", "max", "iqr", "repeat"}`` in seconds and ``"minor_faults"``, the median number of
    minor page faults per call: a load-independent sign of the allocator's slow mode (a fresh 32 MB output faults
    ~8,500 pages; a reused one none). GC is disabled while timing.
    """
    time.sleep(settle)
    for _ in range(warmup):
        block(fn())
    times, faults = [], []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        t_start = time.perf_counter()
        while len(times) < repeat or (time.perf_counter() - t_start) < min_time:
            f0 = _minor_faults()
            t0 = time.perf_counter()
            block(fn())
            times.append(time.perf_counter() - t0)
            faults.append(_minor_faults() - f0)
            if len(times) >= (10 * repeat if max_calls is None else max_calls):
                break
    finally:
        if gc_was:
            gc.enable()
    return {**_stats(times), "minor_faults": statistics.median(faults)}


def _minor_faults() -> int:
    """Minor page faults of this process so far (0 where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_pair(fa: Callable[[], Any], fb: Callable[[], Any], *, repeat: int = 5, warmup: int = 1,
              settle: float = 0.3) -> tuple[dict[str, float], dict[str, float]]:
    """Time two functions interleaved, A B A B ... (``repeat`` calls each, after ``warmup`` calls each).

    On a shared or thermally drifting machine a slow phase then hits both sides alike, so their ratio is a paired
    comparison. ``settle`` seconds of sleep precede every call (the other side's worker threads stop spinning);
    use it for calls of ~10 ms and more. Returns ``(stats_a, stats_b)`` as :func:`time_fn`, each with the load
    average at the end (``"load"``). GC is disabled while timing.
    """
    for _ in range(warmup):
        block(fa())
        block(fb())
    ta, tb = [], []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            for fn, times in ((fa, ta), (fb, tb)):
                time.sleep(settle)
                t0 = time.perf_counter()
                block(fn())
                times.append(time.perf_counter() - t0)
    finally:
        if gc_was:
            gc.enable()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return tuple({**_stats(t), "load": load} for t in (ta, tb))  # type: ignore[return-value]


def _stats(times: list[float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "iqr": q[2] - q[0],
            "repeat": len(times)}


def compile_flops(jitted: Any, *args: Any, **kwargs: Any) -> tuple[Callable[..., Any], float, float]:
    """Compile ``jitted`` for these arguments: ``(compiled, flops, seconds)``.

    ``compiled`` takes the non-static arguments only; ``flops`` is XLA's own cost analysis of the compiled program
    (``nan`` when XLA gives none; a loop counts its body once, so use loop-free programs for a FLOP rate);
    ``seconds`` is the trace + compile time.
    """
    t0 = time.perf_counter()
    compiled = jitted.lower(*args, **kwargs).compile()
    seconds = time.perf_counter() - t0
    ca = compiled.cost_analysis()
    ca = ca[0] if isinstance(ca, list | tuple) else ca
    return compiled, float((ca or {}).get("flops", float("nan"))), seconds


def matmul_peak(n: int = 2048, repeat: int = 7) -> float:
    """This process's float32 FLOP rate (FLOP/s) on an ``n x n`` product under ``jax.jit``: best of ``repeat``."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    block(f(a))
    return 2.0 * n**3 / time_fn(lambda: f(a), repeat=repeat, warmup=2)["min"]


def compile_time(fn: Callable[[], Any]) -> float:
    """Seconds of the first call (trace + compile + one run)."""
    t0 = time.perf_counter()
    block(fn())
    return time.perf_counter() - t0


def machine_info() -> dict[str, Any]:
    import jax
    import jaxlib

    info = {
        "machine": platform.node(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "device": str(jax.devices()[0].device_kind),
        "platform": jax.devices()[0].platform,
        "n_devices": jax.device_count(),
        "threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_device"] = torch_device_label(torch)
    except ImportError:
        pass
    return info


def write_result(name: str, rows: list[dict[str, Any]], **extra: Any) -> Path:
    """Write ``<out>/<name>.json`` atomically and print the ratio table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine_info(), "rows": rows, **extra}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    os.replace(tmp, path)
    print(f"\n{name}: results written to {path}")
    for r in rows:
        tgt = r.get("target")
        ok = "" if tgt is None else ("  [meets target]" if r["ratio"] >= tgt else f"  [BELOW target {tgt}x]")
        print(f"  {r['case']}: wavejax {r['wavejax_s'] * 1e3:.3f} ms vs {r['baseline']} "
              f"{r['baseline_s'] * 1e3:.3f} ms -> {r['ratio']:.2f}x{ok}")
    return path


def ratio_row(case: str, t_jax: dict[str, float], baseline: str, t_base: dict[str, float], *,
              target: float | None = None, work: float | None = None, work_unit: str = "", **extra: Any
              ) -> dict[str, Any]:
    """One result row: medians, spreads, ratio baseline/wavejax and optional throughput ``work / time``."""
    row = {"case": case, "wavejax_s": t_jax["median"], "wavejax_iqr_s": t_jax["iqr"], "baseline": baseline,
           "baseline_s": t_base["median"], "baseline_iqr_s": t_base["iqr"],
           "ratio": t_base["median"] / t_jax["median"], "target": target}
    if "min" in t_jax and "min" in t_base:  # best-of-repeats ratio: the robust one on a shared, noisy machine
        row.update(wavejax_min_s=t_jax["min"], baseline_min_s=t_base["min"], ratio_best=t_base["min"] / t_jax["min"])
    for side, t in (("wavejax", t_jax), ("baseline", t_base)):
        if "minor_faults" in t:  # page faults per call (time_fn): the allocator's slow mode shows here
            row[f"{side}_minor_faults"] = t["minor_faults"]
    if work is not None:
        row["work"] = work
        row[f"wavejax_{work_unit or 'work'}_per_s"] = work / t_jax["median"]
        row[f"baseline_{work_unit or 'work'}_per_s"] = work / t_base["median"]
    row.update(extra)
    return row


def fit_exponent(sizes: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) against log(size): time ~ size**exponent (NaN with < 2 valid points)."""
    import math

    pts = [(math.log(x), math.log(t)) for x, t in zip(sizes, times, strict=True) if x > 0 and t > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return float("nan")
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def scaling_plot(name: str, sizes: list[float], series: dict[str, list[float]], *, xlabel: str,
                 ylabel: str = "time (s)", title: str = "") -> dict[str, Any]:
    """Log-log plot of time vs work size for each series, with the fitted exponent in the legend.

    Writes ``<out>/<name>_scaling.png`` and returns the record to store in the benchmark's JSON
    (``write_result(name, rows, scaling=scaling_plot(...))``): ``{"x", "sizes", "times", "exponents", "figure"}``.

    Args:
      name: benchmark name (``bench_<workload>``).
      sizes: work sizes (batch, T, N, sweep points), one per measurement.
      series: ``{label: times}`` with one time (seconds, e.g. the median) per size; NaN/None entries are skipped.
      xlabel: what the size is, e.g. ``"batch B"``.
    """
    exps, curves = {}, {}
    for label, times in series.items():
        pairs = [(x, t) for x, t in zip(sizes, times, strict=True) if t is not None and t == t and t > 0]
        exps[label] = fit_exponent([p[0] for p in pairs], [p[1] for p in pairs])
        curves[f"{label} (exponent {exps[label]:.2f})"] = ([p[0] for p in pairs], [p[1] for p in pairs])
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig = RESULTS / f"{name}_scaling.png"
    try:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter

        from wavejax.report._plots import save_figure  # selects the Agg backend

        f, ax = plt.subplots(figsize=(6, 4))
        for label, (x, y) in curves.items():
            ax.plot(x, y, marker="o", ms=3, label=label)
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel,
               title=title or f"{name}: time vs {xlabel} (log-log, fitted exponent)")
        # ticks at the swept sizes, plain numbers: over 1-2 decades matplotlib's log-axis minor labels overlap
        ax.set_xticks(list(sizes), [f"{x:g}" for x in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save_figure(f, fig)
    except ImportError:  # pragma: no cover - plotting is optional for the numbers
        fig = None
    for label, e in exps.items():
        print(f"  scaling {label}: time ~ {xlabel}^{e:.2f}")
    return {"x": xlabel, "sizes": list(sizes), "times": {k: list(v) for k, v in series.items()},
            "exponents": exps, "figure": None if fig is None else fig.name}


def update_scaling(name: str, scaling: dict[str, Any], **extra: Any) -> Path:
    """``--scaling-only``: store ``scaling`` as the ``scaling`` key of ``<out>/<name>.json``, nothing else.

    Every other key of an existing file (rows, machine, settings) is kept as it is; the file is rewritten atomically
    (temp file + ``os.replace``). The record gets its own ``date``, ``load_average`` and ``machine`` (node name)
    because the file's ``machine`` block describes the run of the rows. Without a file: ``write_result(name, [],
    scaling=scaling, **extra)``.
    """
    scaling = {**scaling, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": platform.node()}
    if hasattr(os, "getloadavg"):
        scaling["load_average"] = list(os.getloadavg())
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return write_result(name, [], scaling=scaling, **extra)
    payload = json.loads(path.read_text())
    payload["scaling"] = scaling
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    os.replace(tmp, path)
    print(f"\n{name}: scaling record written to {path} (rows and other keys kept)")
    return path
