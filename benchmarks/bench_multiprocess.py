"""8 EMT seeds: 2 processes x 1 device (``wavejax launch``) and 1 process x 2 devices vs 8 sequential runs.

INFORMATIONAL (issue 12): the point of multi-process sweeps is correctness on clusters, not speed on one machine.
Every side trains the same 8 seeds (``wavejax.emt.train_task``, ``member_block=1``: each device runs its seeds one at
a time), first once to compile, then ``--repeat`` timed runs; the sequential baseline trains the 8 seeds one after
another (``n_seeds=1``, one device). All sides run in fresh subprocesses with the same 2 cores; the uptime load
average is recorded with the rows (the development machine is shared, so the load is high).

    python benchmarks/bench_multiprocess.py [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _cfg(quick: bool, n_seeds: int, seed: int = 0):
    from wavejax.emt import EMTConfig
    from wavejax.rnn import TrainConfig

    steps = 100 if quick else 400
    return EMTConfig(task="repeat_copy", hidden=32, batch=32, curriculum=(10, 20), n_seeds=n_seeds, seed=seed,
                     test_horizon=20, test_batches=1,
                     train=TrainConfig(steps=steps, chunk=100, log_every=100, ckpt_every=0, member_block=1))


def worker(mode: str, quick: bool, repeat: int) -> None:
    """Inside one side's process(es): compile once, then time ``repeat`` runs; process 0 prints the times."""
    from wavejax import distributed

    distributed.initialize_from_env()
    import time

    import numpy as np

    from wavejax.emt import train_task

    def run():
        if mode == "sequential":
            return [train_task(_cfg(quick, 1, seed=s)).test_loss for s in range(8)]
        return train_task(_cfg(quick, 8)).test_loss

    run()  # compile
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        np.asarray(run())
        times.append(time.perf_counter() - t0)
    if distributed.is_main_process():
        print("TIMES " + json.dumps(times), flush=True)


def _side(mode: str, quick: bool, repeat: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), WAVEJAX_PROGRESS="0", JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    args = [str(Path(__file__).resolve()), "--worker", mode, "--repeat", str(repeat)] + (["--quick"] if quick else [])
    if mode == "2 processes x 1 device":
        cmd = [sys.executable, "-c", "from wavejax.cli import main; main()", "launch", "--processes", "2",
               "--devices-per-process", "1", "--", sys.executable] + args
    else:
        if mode == "1 process x 2 devices":
            env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
        cmd = [sys.executable] + args
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    lines = [ln.split("] ", 1)[-1] for ln in out.stdout.splitlines() if "TIMES " in ln]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{mode} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return json.loads(lines[0].split("TIMES ", 1)[1])


def main() -> None:
    sys.path.insert(0, str(HERE))
    from _common import bench_parser, write_result

    p = bench_parser("bench_multiprocess", __doc__, "100 steps instead of 400")
    p.add_argument("--worker", default=None)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    if a.worker:
        return worker(a.worker, a.quick, a.repeat)
    import statistics

    def stats(ts):
        q = statistics.quantiles(ts, n=4) if len(ts) >= 2 else [ts[0]] * 3
        return {"median": statistics.median(ts), "min": min(ts), "iqr": q[2] - q[0]}

    load0 = os.getloadavg()
    seq = stats(_side("sequential", a.quick, a.repeat))
    rows = []
    for mode in ("2 processes x 1 device", "1 process x 2 devices"):
        t = stats(_side(mode, a.quick, a.repeat))
        rows.append({"case": f"8 EMT seeds H=32 {100 if a.quick else 400} steps, {mode} (informational)",
                     "wavejax_s": t["median"], "wavejax_iqr_s": t["iqr"], "wavejax_min_s": t["min"],
                     "baseline": "8 sequential runs, 1 device", "baseline_s": seq["median"],
                     "baseline_iqr_s": seq["iqr"], "baseline_min_s": seq["min"], "ratio": seq["median"] / t["median"],
                     "ratio_best": seq["min"] / t["min"], "target": None, "baseline_device": "cpu"})
    write_result("bench_multiprocess", rows, load_average_before=load0, load_average_after=os.getloadavg(),
                 note="informational: the 2-core machine was shared with other jobs (load averages recorded)")


if __name__ == "__main__":
    main()
