"""A 16-point tradeoff sweep (Elman, 8 widths x 2 seeds): vmapped seed groups vs sequential training (same process).

Workload (issue 5, acceptance 9): the HMM task of the sweep (``make_task("hmm")``), Elman widths
1, 2, 3, 4, 6, 8, 12, 16, two seeds each, ``steps`` Adam steps of batch 32 x window 32, float32, the shared engine
:func:`wavejax.rnn.train`. wavejax ("vmapped groups") trains each width once with its two seeds as the vmapped
member axis (8 compiled programs, 8 calls); the baseline ("sequential") trains the 16 models one at a time with the
same engine (``n_members=1``, the member keys passed explicitly so that both train identical models). Compile time is
measured separately (first pass); the timed passes are warm. Final parameters are checked to agree.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import pin_threads, ratio_row, time_fn, write_result

THREADS = pin_threads(2)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from wavejax.rnn import TrainConfig, train  # noqa: E402
from wavejax.tradeoff.data import make_task  # noqa: E402
from wavejax.tradeoff.models import make_model  # noqa: E402
from wavejax.tradeoff.sweep import make_batch_fn, make_loss_fn  # noqa: E402

WIDTHS = (1, 2, 3, 4, 6, 8, 12, 16)
SEEDS = 2


def setup(steps):
    task = make_task("hmm", key=jax.random.key(0), length=1024, n_programs=8)
    batch_fn = make_batch_fn(task, batch=32, window=32, burn=4)
    cfg = TrainConfig(steps=steps, lr=1e-2, n_levels=1, chunk=steps, log_every=steps, ckpt_every=0)
    models = {w: make_model("elman", w, task.d_in) for w in WIDTHS}
    keys = {w: jax.random.split(jax.random.fold_in(jax.random.key(1), w), SEEDS) for w in WIDTHS}
    return task, batch_fn, cfg, models, keys


def grouped(task, batch_fn, cfg, models, keys):
    return {w: train(models[w], batch_fn, cfg, key=keys[w], n_members=SEEDS, loss_fn=make_loss_fn(task),
                     desc=f"w={w}").state.params for w in WIDTHS}


def sequential(task, batch_fn, cfg, models, keys):
    out = {}
    for w in WIDTHS:
        ps = [train(models[w], batch_fn, cfg, key=keys[w][m:m + 1], n_members=1, loss_fn=make_loss_fn(task),
                    desc=f"w={w} seed {m}").state.params for m in range(SEEDS)]
        out[w] = jax.tree_util.tree_map(lambda *a: np.concatenate([np.asarray(x) for x in a]), *ps)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="100 steps, 2 repetitions")
    a = p.parse_args(argv)
    steps = 100 if a.quick else 200
    repeat = 2 if a.quick else 3
    args = setup(steps)
    t0 = time.perf_counter()
    pg = grouped(*args)
    c_group = time.perf_counter() - t0
    t0 = time.perf_counter()
    ps = sequential(*args)
    c_seq = time.perf_counter() - t0
    for w in WIDTHS:  # same models: vmapped vs unvmapped float32 arithmetic may differ in the last bits
        for x, y in zip(jax.tree_util.tree_leaves(pg[w]), jax.tree_util.tree_leaves(ps[w]), strict=True):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-3, atol=1e-4)
    t_g = time_fn(lambda: grouped(*args), repeat=repeat, warmup=0)
    t_s = time_fn(lambda: sequential(*args), repeat=repeat, warmup=0)
    work = len(WIDTHS) * SEEDS * steps
    rows = [ratio_row(f"16-point sweep (8 widths x 2 seeds, {steps} steps) warm", t_g, "sequential engine", t_s,
                      target=4.0, work=work, work_unit="model_steps", compile_s=c_group,
                      first_pass_s={"grouped": c_group, "sequential": c_seq})]
    first = {"median": c_group, "iqr": 0.0}
    rows.append(ratio_row("same, first pass (compile included)", first, "sequential engine",
                          {"median": c_seq, "iqr": 0.0}, target=4.0, work=work, work_unit="model_steps"))
    write_result("bench_tradeoff", rows, threads=THREADS, steps=steps, widths=WIDTHS, seeds=SEEDS, dtype="float32")


if __name__ == "__main__":
    sys.exit(main())
