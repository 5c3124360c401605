"""``bench_gan``'s rows at the paper's 28x28 shapes (issue 20): wavejax vs PyTorch eager, FLOP rate vs matmul peak.

Each measurement compiles ``outer_step`` under ``jax.jit`` for one (h, B), checks agreement with the torch modules
(same weights, same inputs), then times wavejax and torch **interleaved** (A B A B ..., ``_common.time_pair``,
0.3 s pause before every call), so a busy phase of a shared machine hits both sides. The FLOP count is XLA's cost
analysis of the compiled (loop-free) step (``conv_flops`` counts its convolutions by hand, as a check); ``peak`` is
a 2048^2 float32 matmul timed in the same process (the bench table gives both sides' fraction of it: the same work).
Images are uniform random in [0, 1] (timing does not depend on their content). The torch side runs on
``_common.torch_device`` (CUDA when PyTorch sees a GPU; each timed call waits for its queued work) and every row
records it as ``baseline_device``. When JAX's default backend is a GPU or TPU, a device-size row (h = 64, B = 512)
and larger sweep points (h = 128; B = 256, 512) are added.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from _common import (
    compile_flops,
    jax_device_label,
    on_device,
    ratio_row,
    scaling_plot,
    time_pair,
    torch_device,
    torch_device_label,
    torch_sync,
)

from wavejax.gan import Critic, GANConfig, Generator, create_states, critic_loss, outer_step

SIZE = 28
WIDTHS = (8, 16, 32, 64)  # width sweep at B = 64
BATCHES = (16, 32, 64, 128)  # batch sweep at h = 16
ROWS = ((16, 64), (64, 64))  # (h, B) of the table rows
if on_device():  # sizes that fill a GPU / TPU: the CPU sizes plus larger ones
    WIDTHS += (128,)
    BATCHES += (256, 512)
    ROWS += ((64, 512),)


def _valid_taps(n: int, stride: int, k: int = 5) -> int:
    """Kernel taps that land inside an ``n``-long input, summed over the outputs of a SAME-padded 1-D convolution
    (TF/XLA SAME: ``ceil(n / stride)`` outputs, ``max((out - 1) * stride + k - n, 0)`` padding, the smaller half
    first). Padding taps multiply zeros; XLA's cost analysis does not count them."""
    out = -(-n // stride)
    lo = max((out - 1) * stride + k - n, 0) // 2
    return sum(0 <= o * stride - lo + t < n for o in range(out) for t in range(k))


def conv_flops(hidden: int, batch: int, size: int = SIZE, *, n_critic: int = 5, shared: bool = True) -> int:
    """The convolution FLOPs of one outer step, counted by hand from the architecture (docs/gan.md §1), as an
    independent check of XLA's cost analysis (``compile_flops``) and the work both sides of a row do.

    A 5x5 convolution ``ci -> co`` costs ``2 B ci co T_h T_w`` FLOPs per pass, ``T`` the valid taps
    (``_valid_taps``); its filter and input gradients cost the same each. G's six convolutions run at ``size``
    with stride 1; D's four at stride 2 (``h, h, h/2, h/4`` channels). A critic update runs G forward (no gradient)
    and D forward and backward on a real and a fake batch, without the input gradient of ``d0``; the G update runs
    G forward and backward (no input gradient of ``g0``, no filter gradient of ``gshared`` when it is ``shared``)
    through D forward and D's input gradients. Dense layers and elementwise work are left out (under 1 % here)."""
    h = hidden
    g = [(size, 1, 1, h), *[(size, 1, h, h)] * 4, (size, 1, h, 1)]
    sizes = [size]
    for _ in range(3):
        sizes.append(-(-sizes[-1] // 2))
    d = list(zip(sizes, [2] * 4, [1, h, h, h // 2], [h, h, h // 2, h // 4], strict=True))
    cost = [[2 * batch * ci * co * _valid_taps(n, st) ** 2 for n, st, ci, co in net] for net in (g, d)]
    (fg, fd), (g0, gs, d0) = map(sum, cost), (cost[0][0], cost[0][1], cost[1][0])
    critic = fg + 2 * fd + 2 * (2 * fd - d0)  # G fwd; D fwd x2; D filter + input grads x2 (no d0 input grad)
    gen = 2 * fd + 3 * fg - g0 - (gs if shared else 0)  # G fwd, D fwd, D input grads; G filter + input grads
    return n_critic * critic + gen


def torch_side(hidden: int, size: int, batch: int, x: np.ndarray):
    """``(tg, tdata, step)``: the torch GAN and the NCHW data on ``torch_device`` and a timed outer step that waits
    for its queued CUDA work."""
    import torch
    from baselines.torch_gan import TorchSharedGAN

    dev = torch_device(torch)
    tg = TorchSharedGAN(hidden, size, batch, device=dev)
    tdata = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().to(dev)

    def step():
        out = tg.outer_step(tdata)
        torch_sync(torch)
        return out

    return tg, tdata, step


def agree(hidden, size, batch, x, sg, sd, tg):
    """With Flax weights copied into the torch modules, G(z) and the critic loss agree on the same inputs."""
    import torch
    from baselines.torch_gan import load_flax, xent_pm1

    load_flax(tg.G, tg.D, sg.params, sd.params)
    dev = tg.device
    z = np.random.default_rng(0).uniform(-1, 1, (batch, 100)).astype(np.float32)
    real = x[:batch]
    gj, _ = Generator(hidden, size).apply({"params": sg.params, "batch_stats": sg.batch_stats}, jnp.asarray(z),
                                          mutable=["batch_stats"])
    dv = {"params": sd.params, "batch_stats": sd.batch_stats}
    dr, _ = Critic(hidden).apply(dv, jnp.asarray(real), mutable=["batch_stats"])
    df, _ = Critic(hidden).apply(dv, gj, mutable=["batch_stats"])
    with torch.no_grad():
        gt = tg.G(torch.from_numpy(z).to(dev))
        lt = (xent_pm1(tg.D(torch.from_numpy(real).permute(0, 3, 1, 2).to(dev)), 1.0).mean()
              + xent_pm1(tg.D(gt), -1.0).mean())
    # float32 convolutions summed in different orders; BN divides by batch SDs: 1e-4 relative is generous
    np.testing.assert_allclose(gt.permute(0, 2, 3, 1).cpu().numpy(), np.asarray(gj), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(lt), float(critic_loss("original", dr, df)), rtol=1e-4)


def measure(hidden: int, batch: int, threads: int, repeat: int, *, loop_form: bool = False) -> dict:
    """Time one 28x28 outer step of wavejax (jit) and torch eager, interleaved; FLOPs and compile time.

    ``loop_form`` also times the critic phase as the ``lax.fori_loop`` it was before issue 20 (one more compile).
    """
    import sys

    import torch

    torch.set_num_threads(threads)
    cfg = GANConfig(hidden=hidden, image_size=SIZE, batch=batch, sharing="conv2", data="digits", steps=10)
    x = np.random.default_rng(0).uniform(0, 1, (1000, SIZE, SIZE, 1)).astype(np.float32)
    data = jnp.asarray(x)
    sg, sd = create_states(jax.random.key(0), cfg)
    tg, _, torch_step = torch_side(hidden, SIZE, batch, x)
    agree(hidden, SIZE, batch, x, sg, sd, tg)
    step, flops, c = compile_flops(jax.jit(outer_step, static_argnames="cfg"), sg, sd, jax.random.key(0), data,
                                   cfg=cfg)

    def runner(fn):
        state = {"g": sg, "d": sd, "k": 0}

        def run():
            state["k"] += 1
            state["g"], state["d"], m = fn(state["g"], state["d"], jax.random.key(state["k"]), data)
            return m
        return run

    run = runner(step)
    t_j, t_t = time_pair(run, torch_step, repeat=repeat)
    rec = {"hidden": hidden, "batch": batch, "wavejax": t_j, "torch": t_t, "flops": flops, "compile_s": c}
    if loop_form:
        train_mod = sys.modules[outer_step.__module__]
        loop, _, rec["loop_compile_s"] = compile_flops(
            jax.jit(partial(train_mod._outer_step, unroll=False), static_argnames="cfg"), sg, sd,
            jax.random.key(0), data, cfg=cfg)
        rec["loop"], rec["wavejax_paired"] = time_pair(runner(loop), run, repeat=repeat)
    print(f"  28x28 h={hidden} B={batch}: wavejax {t_j['median']:.3f} s, torch {t_t['median']:.3f} s "
          f"({flops / 1e9:.1f} GFLOP, compile {c:.0f} s, load {t_j['load']:.1f})"
          + (f"; fori-loop form {rec['loop']['median']:.3f} s" if loop_form else ""), flush=True)
    return rec


def rows_and_scaling(threads: int, peak: float, repeat: int, quick: bool) -> tuple[list[dict], dict]:
    """The 28x28 rows (h = 16 and 64 at B = 64) and, unless ``quick``, the width and batch sweeps."""
    memo: dict[tuple[int, int], dict] = {}

    def get(h, b, **kw):
        if (h, b) not in memo:
            memo[h, b] = measure(h, b, threads, repeat, **kw)
        return memo[h, b]

    import torch

    rows = []
    for h, b in ROWS:
        r = get(h, b, loop_form=(h == 16 and not quick))
        rate = r["flops"] / r["wavejax"]["median"]
        rows.append(ratio_row(f"28x28 h={h} B={b} outer step (5 critic + 1 G), jit per step", r["wavejax"],
                              "torch eager (interleaved)", r["torch"], target=1.5, work=1, work_unit="outer_steps",
                              compile_s=r["compile_s"], gflop=r["flops"] / 1e9, gflop_per_s=rate / 1e9,
                              peak_gflop_per_s=peak / 1e9, fraction_of_peak=rate / peak,
                              conv_gflop=conv_flops(h, b) / 1e9, peak_target=0.5 if h == 64 else None,
                              load=r["wavejax"]["load"], baseline_device=torch_device_label(torch)))
        if "loop" in r:  # the loop form before issue 20, paired with the unrolled step: JSON only
            rows.append({**ratio_row(f"28x28 h={h} B={b}, critic phase as lax.fori_loop (before issue 20)",
                                     r["loop"], "wavejax unrolled (interleaved)", r["wavejax_paired"],
                                     compile_s=r["loop_compile_s"], baseline_device=jax_device_label()),
                         "table": False})
    if quick:
        return rows, {}
    scaling = {}
    for name, xs, key, label in (("width", WIDTHS, lambda v: (v, 64), "width h (B = 64)"),
                                 ("batch", BATCHES, lambda v: (16, v), "batch B (h = 16)")):
        recs = [get(*key(v)) for v in xs]
        scaling[name] = {**scaling_plot(f"bench_gan28_{name}", list(xs),
                                        {"wavejax outer_step (jit)": [r["wavejax"]["median"] for r in recs],
                                         "torch eager": [r["torch"]["median"] for r in recs]},
                                        xlabel=label, ylabel="time per outer step (s, median, interleaved)",
                                        title=f"Shared GAN outer step, 28x28, {threads} threads"),
                         "gflop_per_s": [r["flops"] / r["wavejax"]["median"] / 1e9 for r in recs],
                         "load": [r["wavejax"]["load"] for r in recs]}
    return rows, scaling
