"""Batched lattice rollout with a linear boundary: wavejax vs a NumPy loop and a PyTorch loop (same process).

Workload (issue 2, acceptance 9): T = 1000 autonomous ticks of the lattice x(t) = sum_l phi_l x(t-l) from a random
substrate (the free-running continuation phase of the binary tasks), batches B = 1, 16, 1024 at s = d = 8 (repeat
copy) and B = 64 at s = 256, d = 1 (a random AR(256) with Dirichlet weights: a convex combination of the window, so
float32 rounding cannot grow); float32; output = the newest rows (B, T, d).

Baselines are the straightforward loops a user would write: per tick one (B, s*d) @ (s*d, d) product and a shift of
the window, in NumPy and in PyTorch. All three sides run on the same cores (``--threads``, default 2); on a GPU host
the PyTorch loop runs on CUDA. Every row records its baseline's device (``baseline_device``; NumPy: ``"cpu"``).
wavejax runs ``rollout`` vmapped over the batch with ``impl="chunked"`` (K input-free ticks per
(B, s*d) @ (s*d, K*d) product, or one (B, s*d) @ (s*d, T*d) product for B >= 128; the headline rows with the
targets) and ``impl="shift"`` (the reference scan, for information; kept out of the README table). Every output is
checked against the NumPy loop (bit-exact for the repeat-copy cases; float32 rounding for the AR case). A scaling
plot shows time vs batch B at s = d = 8 with fitted exponents.
"""

from __future__ import annotations

import argparse
import os
import sys

from _common import (
    accelerator,
    bench_parser,
    compile_time,
    pin_threads,
    ratio_row,
    scaling_plot,
    steady_malloc,
    time_fn,
    torch_device,
    torch_device_label,
    torch_sync,
    update_scaling,
    write_result,
)


def _parser() -> argparse.ArgumentParser:
    p = bench_parser("bench_wave", __doc__, "smoke run: T = 200, 3 repetitions, no scaling sweep")
    p.add_argument("--threads", type=int, default=int(os.environ.get("WAVEJAX_BENCH_THREADS", "2")),
                   help="cores for every side (BLAS/OpenMP threads and a CPU affinity mask that also holds XLA); "
                        "default 2 ($WAVEJAX_BENCH_THREADS), the development machine's cores")
    return p


# the thread count must be fixed before numpy / torch / jax are imported
THREADS = _parser().parse_known_args()[0].threads
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
pin_threads(THREADS)  # also binds the process to THREADS CPUs: XLA's own thread-count flags have no effect
STEADY_MALLOC = steady_malloc()  # before any thread starts: one glibc arena, see _common.steady_malloc

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from wavejax.tasks import binary_vb_task  # noqa: E402
from wavejax.wave import linear_boundary, rollout  # noqa: E402

try:  # PyTorch is the optional `bench` extra
    import torch

    torch.set_num_threads(THREADS)
except ImportError:  # pragma: no cover
    torch = None

CASES = [(1, 8, 8), (16, 8, 8), (1024, 8, 8), (64, 256, 1)]  # (B, s, d) of issue 2, acceptance 9
if accelerator() is not None:  # sizes that fill a device: the CPU cases plus large batches
    CASES += [(16_384, 8, 8), (65_536, 8, 8)]
SCALING_B = [1, 4, 16, 64, 256, 1024]  # batch sizes of the scaling plot (s = d = 8)
MIN_TIME, MAX_CALLS = 1.0, 2000  # every side is called for about 1 s (at most 2000 calls): medians over hundreds


def numpy_loop(Am, H, T):
    """NumPy baseline: per tick new = H_flat @ Am (Am of shape (s*d, d)), shift the window, append."""
    B, s, d = H.shape
    H = H.copy()
    out = np.empty((B, T, d), H.dtype)
    for t in range(T):
        new = H.reshape(B, s * d) @ Am
        H[:, :-1] = H[:, 1:]
        H[:, -1] = new
        out[:, t] = new
    return out


def torch_loop(Am, H, T):
    """PyTorch baseline: the same loop with torch tensors (no autograd), on H's device (CUDA when present)."""
    B, s, d = H.shape
    out = torch.empty((B, T, d), dtype=H.dtype, device=H.device)
    with torch.no_grad():
        for t in range(T):
            new = H.reshape(B, s * d) @ Am
            H = torch.cat([H[:, 1:], new[:, None]], dim=1)
            out[:, t] = new
    torch_sync(torch)
    return out


def _problem(B, s, d):
    rng = np.random.default_rng(0)
    if d == 8:
        phi = binary_vb_task("repeat_copy", s=s, d=d).astype(np.float32)
    elif d == 1:
        phi = rng.dirichlet(np.ones(s)).reshape(s, 1, 1).astype(np.float32)
    else:
        raise ValueError(f"bench cases use d = 8 (repeat copy) or d = 1 (AR); got d={d}")
    H0 = rng.standard_normal((B, s, d)).astype(np.float32)
    A = phi[::-1]
    Am = np.ascontiguousarray(np.concatenate([A[i].T for i in range(s)], axis=0))  # (s*d, d)
    return phi, H0, Am


def _wavejax_fn(phi, T, impl):
    f = linear_boundary(phi)
    mask = jnp.zeros((T,), bool)
    return jax.jit(jax.vmap(lambda H, x: rollout(f, H, x, mask=mask, impl=impl, save="newest")))


def time_case(B, s, d, T, repeat, impls=("chunked", "shift")):
    """Times (dicts of time_fn) of numpy, torch and each wavejax impl on one shape; checks every output."""
    phi, H0, Am = _problem(B, s, d)
    ref = numpy_loop(Am, H0, T)
    times = {"numpy": time_fn(lambda: numpy_loop(Am, H0, T), repeat=repeat, min_time=MIN_TIME, max_calls=MAX_CALLS)}
    exact = {}
    if torch is not None:
        dev = torch_device(torch)
        Ht, Amt = torch.from_numpy(H0).to(dev), torch.from_numpy(Am).to(dev)
        out_t = torch_loop(Amt, Ht, T).cpu().numpy()
        np.testing.assert_allclose(out_t, ref, rtol=1e-4, atol=1e-4)
        times["torch"] = time_fn(lambda: torch_loop(Amt, Ht, T), repeat=repeat, min_time=MIN_TIME, max_calls=MAX_CALLS)
    H0j, xs = jnp.asarray(H0), jnp.zeros((B, T, d), jnp.float32)
    compile_s = {}
    for impl in impls:
        fn = _wavejax_fn(phi, T, impl)
        compile_s[impl] = compile_time(lambda fn=fn: fn(H0j, xs))
        out = np.asarray(fn(H0j, xs))
        err = float(np.abs(out - ref).max())
        if d == 8:  # repeat copy: a signed permutation, every implementation is exact
            assert err == 0.0, (impl, err)
        else:  # float32 sums in another order; the convex AR does not amplify rounding
            np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
        exact[impl] = err
        times[impl] = time_fn(lambda fn=fn: fn(H0j, xs), repeat=repeat, min_time=MIN_TIME, max_calls=MAX_CALLS)
    return times, compile_s, exact


def scaling_sweep(T):
    """Time vs batch B at s = d = 8 (SCALING_B), best of 5 per side; writes the PNG, returns the scaling record."""
    print("bench_wave: scaling in B (s = d = 8) ...", flush=True)
    series = {"wavejax chunked": [], "numpy loop": [], "torch loop": []}
    for B in SCALING_B:
        times, _, _ = time_case(B, 8, 8, T, 5, impls=("chunked",))
        # best of 5: the least disturbed run on a shared machine
        series["wavejax chunked"].append(times["chunked"]["min"])
        series["numpy loop"].append(times["numpy"]["min"])
        series["torch loop"].append(times["torch"]["min"] if "torch" in times else float("nan"))
    return scaling_plot("bench_wave", SCALING_B, series, xlabel="batch B", ylabel="time (s, best of 5)",
                        title=f"Lattice rollout, s = d = 8, T = {T}, {THREADS} thread(s): time vs batch")


def main(argv=None):
    a = _parser().parse_args(argv)
    if a.scaling_only:
        update_scaling("bench_wave", {**scaling_sweep(1000), "threads": THREADS, "T": 1000}, threads=THREADS, T=1000,
                       dtype="float32")
        return 0
    T = 200 if a.quick else 1000
    repeat = 3 if a.quick else 7
    rows = []
    tdev = torch_device_label(torch) if torch is not None else None
    for B, s, d in CASES:
        label = f"B={B} s={s} d={d} T={T}"
        print(f"bench_wave: {label} ...", flush=True)
        times, comp, exact = time_case(B, s, d, T, repeat)
        work = B * T
        common = dict(work=work, work_unit="lattice_updates", B=B, s=s, d=d, T=T)
        tgt_np = 15.0 if B <= 16 else 10.0  # issue 2: >= 15x at B <= 16, >= 10x at B = 1024 (used for B > 16)
        rows.append(ratio_row(f"{label} chunked vs numpy", times["chunked"], "numpy loop", times["numpy"],
                              target=tgt_np, compile_s=comp["chunked"], impl="chunked",
                              max_abs_diff=exact["chunked"], baseline_device="cpu", **common))
        if "torch" in times:
            rows.append(ratio_row(f"{label} chunked vs torch", times["chunked"], "torch loop", times["torch"],
                                  target=5.0, compile_s=comp["chunked"], impl="chunked",
                                  max_abs_diff=exact["chunked"], baseline_device=tdev, **common))
        rows.append(ratio_row(f"{label} shift (reference scan) vs numpy", times["shift"], "numpy loop",
                              times["numpy"], compile_s=comp["shift"], impl="shift", max_abs_diff=exact["shift"],
                              table=False, baseline_device="cpu", **common))
        r = rows[-3] if "torch" in times else rows[-2]
        print(f"  chunked {times['chunked']['median'] * 1e3:.3f} ms, numpy {times['numpy']['median'] * 1e3:.3f} ms "
              f"({r['ratio']:.1f}x, best-of {r['ratio_best']:.1f}x; minor page faults per call "
              f"{times['chunked']['minor_faults']:.0f} / {times['numpy']['minor_faults']:.0f}, "
              f"load {os.getloadavg()[0]:.1f})", flush=True)
    scaling = None if a.quick else scaling_sweep(T)
    write_result("bench_wave", rows, threads=THREADS, T=T, dtype="float32", scaling=scaling,
                 steady_malloc=STEADY_MALLOC, load_average=list(os.getloadavg()),
                 note="shared 2-core machine: timings are noisy; ratio = median/median, ratio_best = min/min; "
                      "steady_malloc: one glibc arena, 1 GiB mmap/trim thresholds (outputs reused, no page faults)")


if __name__ == "__main__":
    sys.exit(main())
