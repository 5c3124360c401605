"""The capacity points of the slow test ``tests/gsemm/test_gsemm_capacity.py::test_capacity_scaling_acceptance``,
committed: DSEM K*(16), K*(32) and LISEM K*(200) with ``capacity_curve`` exactly as the test and ``run_capacity``
call it (key ``jax.random.key(0)`` folded with N; >= 3 of 4 pattern sets, Euler dt 0.05; gsemm.md §5).

Every trial (N, K, passes of 4, seconds) is appended to ``trials.jsonl`` as it finishes (a wrapper around
``capacity.cycle_trial`` that only times and logs it); ``results.json`` is written at the end.

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python docs/results/gsemm_capacity/run.py docs/results/gsemm_capacity``
"""

import json
import os
import sys
import time

import jax

import wavejax.gsemm._capacity as cap
from wavejax.precision import enable_x64


def main(out):
    enable_x64()
    log = os.path.join(out, "trials.jsonl")
    open(log, "w").close()
    inner = cap.cycle_trial

    def timed(model, key, n, k, **kw):
        t = time.time()
        trial = inner(model, key, n, k, **kw)
        ts, m = trial.ts, trial.m
        passes = sum(cap.cycle_pass(ts, mk) for mk in m)
        with open(log, "a") as f:
            f.write(json.dumps({"model": model, "N": n, "K": k, "passes": int(passes), "seconds": time.time() - t,
                                "load": os.getloadavg()[0]}) + "\n")
        return trial

    cap.cycle_trial = timed
    t0, key = time.time(), jax.random.key(0)
    d = cap.capacity_curve("dsem", key, [16, 32])
    lis = cap.capacity_curve("lisem", key, [200])
    rec = {"command": "PYTHONPATH=. nice -n 10 .venv/bin/python docs/results/gsemm_capacity/run.py "
                      "docs/results/gsemm_capacity",
           "dsem": d, "lisem": lis, "K*": {"dsem_16": d["K"][0], "dsem_32": d["K"][1], "lisem_200": lis["K"][0]},
           "holds": {"K*(32) >= 4 K*(16)": d["K"][1] >= 4 * d["K"][0],
                     "K*(32) > LISEM K*(200)": d["K"][1] > lis["K"][0]},
           "seconds": time.time() - t0, "load_end": os.getloadavg(), "jax": jax.__version__}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rec, f, indent=1)
    print(json.dumps(rec["K*"]), rec["holds"], rec["seconds"])


if __name__ == "__main__":
    main(sys.argv[1])
