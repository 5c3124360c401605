"""GSEMM in float32 against float64 on the committed cases (issue 19: the float32 path a TPU needs).

1. retrieval: DSEM N=100 K=10 t1=1000, the default solver (Tsit5), README parameters: decoded sequence and
   transition times.
2. dwell law: the ``gsemm.dwell`` experiment's full sweep (8 values of r, t1=2000, Euler scan dt=0.01): decoded
   sequences, mean and first dwell.
3. capacity: the pass counts of ``monotone_n16.json`` (N=16, K=2..20, 4 pattern sets each, the same keys), float32
   against the committed float64 counts.

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python docs/results/gsemm_float32/run.py docs/results/gsemm_float32``
(writes ``results.json``).
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.gsemm import SolverConfig, cycle_memories, decode, dwell_stats, overlaps, simulate
from wavejax.gsemm._capacity import cycle_pass, cycle_trial
from wavejax.precision import enable_x64

KW = dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_f=1.0, t_d=20.0, gamma=1.0)


def retrieval():
    out = {}
    for name in ("float64", "float32"):
        xi, phi = cycle_memories(jax.random.key(1), 100, 10, dtype=name)
        tr = simulate("dsem", xi, phi, xi[:, 0], t1=1000.0, save_every=0.5, dtype=name, **KW)
        d = decode(np.asarray(tr.ts), np.asarray(overlaps(xi, tr.v)))
        out[name] = {"result": int(tr.result), "sequence": [int(s) for s in d.sequence],
                     "dwell": dwell_stats(d), "times": _times(d)}
    return out


def _times(d):
    return [float(t) for t in np.asarray(d.times)]


def dwell_law():
    from wavejax.gsemm._experiments import DwellConfig

    cfg = DwellConfig.full()
    net = cfg.network
    kw = {k: v for k, v in net.kwargs().items() if k != "alpha_c"}
    out = {}
    for name in ("float64", "float32"):
        xi, phi = cycle_memories(jax.random.key(cfg.seed), 100, 10, dtype=name)
        sc = SolverConfig(solver="euler_scan", dt=cfg.dt)
        run = jax.vmap(lambda a_c, xi=xi, phi=phi, name=name: simulate(
            "dsem", xi, phi, xi[:, 0], alpha_c=a_c, t1=cfg.t1, save_every=0.5, solver_config=sc, dtype=name,
            **kw).v)
        vs = run(jnp.asarray([net.alpha_c_for(float(r)) for r in cfg.rs], name))
        ts = np.arange(vs.shape[1]) * 0.5
        rows = []
        for r, v in zip(cfg.rs, vs, strict=True):
            d = decode(ts, np.asarray(overlaps(xi, v)))
            rows.append({"r": float(r), "sequence": [int(s) for s in d.sequence], "dwell": dwell_stats(d),
                         "times": _times(d)})
        out[name] = rows
    return out


def capacity():
    ref = json.load(open(os.path.join(os.path.dirname(__file__), "..", "gsemm_capacity", "monotone_n16.json")))
    key, passes = jax.random.fold_in(jax.random.key(0), 16), {}
    for k in range(2, 21):
        ts, m = cycle_trial("dsem", jax.random.fold_in(key, k), 16, k, n_sets=4, dtype="float32")
        passes[str(k)] = int(sum(cycle_pass(ts, mk) for mk in m))
        print("capacity K", k, passes[str(k)], "float64:", ref["passes_of_4"][str(k)], flush=True)
    return {"float32": passes, "float64 (monotone_n16.json)": ref["passes_of_4"]}


def main(out_dir):
    enable_x64()
    t0 = time.time()
    rec = {"jax": jax.__version__, "backend": jax.default_backend()}
    rec["retrieval"] = retrieval()
    print("retrieval", time.time() - t0, flush=True)
    rec["dwell_law"] = dwell_law()
    print("dwell", time.time() - t0, flush=True)
    if "--no-capacity" not in sys.argv:
        rec["capacity_n16"] = capacity()
    rec["seconds"], rec["load_end"] = time.time() - t0, os.getloadavg()
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(rec, f, indent=1, default=float)


if __name__ == "__main__":
    main(sys.argv[1])
