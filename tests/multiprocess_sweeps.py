"""The sweeps of tests/test_multiprocess.py, run as a script in every process (not a test module).

    python multiprocess_sweeps.py OUT PARTS [KILL_AT]

``PARTS``: comma-separated subset of ``emt,tradeoff,gsemm``. Joins the multi-process run when the launcher's
variables are set (:func:`wavejax.distributed.initialize_from_env`), runs the parts with tiny configs writing into
``OUT/<part>`` (``OUT`` may contain ``{pid}``: a folder per process), and prints one line
``RESULT <json>`` with everything the test compares (SHA-256 of arrays' bytes: equal digests = equal bits).
With ``{pid}`` in ``OUT`` the EMT run writes no checkpoints (they need one folder shared by all processes).
``KILL_AT``: process 1 SIGKILLs itself after the EMT run reached that step (after its checkpoint there).
"""

import hashlib
import json
import os
import signal
import sys

import wavejax.distributed as dist

dist.initialize_from_env()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def digest(tree) -> str:
    h = hashlib.sha256()
    for leaf in jax.tree_util.tree_leaves(tree):
        a = np.ascontiguousarray(leaf)
        h.update(str((a.dtype, a.shape)).encode() + a.tobytes())
    return h.hexdigest()[:20]


def emt(out: str, kill_at: int, ckpt_every: int) -> dict:
    import importlib

    from wavejax.emt import EMTConfig, train_task
    from wavejax.rnn import TrainConfig

    if kill_at and dist.process_index() == 1:  # the fault: die right after the checkpoint at step kill_at
        rtrain = importlib.import_module("wavejax.rnn._train")  # the module (``wavejax.rnn.train`` is the function)
        real = rtrain.run_chunks

        def run_chunks(chunk, state, schedule, **kw):
            import dataclasses

            def die(step, m):
                if step >= kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

            return real(chunk, state, dataclasses.replace(schedule, callback=die), **kw)

        rtrain.run_chunks = run_chunks
    # member_block=1: every device runs its members one at a time, so 1 device and 4 devices compile the same
    # per-member program (a vmap over 4 members vs 1 rounds the loss differently in the last bit)
    cfg = EMTConfig(task="repeat_copy", hidden=8, batch=4, curriculum=(3, 5), n_seeds=4, test_horizon=8,
                    test_batches=2,
                    train=TrainConfig(steps=20, chunk=5, log_every=5, ckpt_every=ckpt_every, member_block=1))
    run = train_task(cfg, out)
    jsonl = [{k: r[k] for k in ("step", "loss", "accuracy", "level")}
             for r in map(json.loads, open(os.path.join(out, "metrics.jsonl")))] if dist.is_main_process() else None
    return {"params": digest(run.params), "history": digest(run.history), "test_loss": run.test_loss.tolist(),
            "test_accuracy": run.test_accuracy.tolist(), "jsonl": jsonl,
            "history_tail": digest({k: v[:, 10:] for k, v in run.history.items()})}


def tradeoff(out: str) -> dict:
    from wavejax.tradeoff import SweepConfig, load_points, run_sweep

    cfg = SweepConfig(task="hmm", length=256, n_programs=8, families=("elman",), widths=(2,), seeds=2,
                      bits=(32, 4), sparsities=(0.0,), steps=20, chunk=10, batch=4, window=16, burn=2)
    res = run_sweep(cfg, out)
    pts = [p for p in load_points(out) if p["group"] != "trivial"] if dist.is_main_process() else None
    return {"n_points": res["n_points"], "points": pts}


def gsemm() -> dict:
    from wavejax.gsemm._capacity import cycle_pass, cycle_trial

    ts, m, _ = cycle_trial("dsem", jax.random.key(3), 12, 5, n_sets=5, dtype=jnp.float32, dwell=15.0)
    return {"passes": [cycle_pass(ts, mk) for mk in m], "overlaps": digest(m)}


def main() -> None:
    # a folder per process ("{pid}") cannot hold one checkpoint: checkpoints need the folder shared by all
    ckpt_every = 0 if "{pid}" in sys.argv[1] else 10
    out, parts = sys.argv[1].replace("{pid}", str(dist.process_index())), sys.argv[2].split(",")
    kill_at = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    res = {"process": dist.process_index(), "processes": dist.process_count(), "devices": jax.device_count()}
    if "emt" in parts:
        res["emt"] = emt(os.path.join(out, "emt"), kill_at, ckpt_every)
    if "tradeoff" in parts:
        res["tradeoff"] = tradeoff(os.path.join(out, "tradeoff"))
    if "gsemm" in parts:
        res["gsemm"] = gsemm()
    print("RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
