"""LISEM at the authors' code defaults on the six wavejax test pattern sets (gsemm-check.md §2), committed run.

N=100, K=5 cycle, a_s=0.045, a_c=0.004, b_d=7, T_d=100, T_f=1, gamma=1, cue xi^0, v_d(0)=0, t in [0, 2000],
pattern sets cycle_memories(key(s), 100, 5), s = 0..5. Four integrators: the authors' RK4 operator split
(rk4_split_scan, dt 0.01), Euler (euler_scan, dt 0.01), joint RK4 (rk4_scan, dt 0.01) and Tsit5 (rtol 1e-6).
Decoding: wavejax ``decode`` (min_run 10) and the raw argmax changes on the 0.5 grid (as the check did), compared
with the sequences the independent check got from the authors' class ``AdiabaticEpisodicTanh``.

Run: ``PYTHONPATH=. .venv/bin/python docs/results/gsemm_lisem/run.py docs/results/gsemm_lisem``
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.gsemm import SolverConfig, cycle_memories, decode, simulate
from wavejax.gsemm._metrics import cycle_successors, follows_graph, model_overlaps
from wavejax.precision import enable_x64

# The authors' class on the same sets (gsemm-check.md §2 table; identical for their Euler and split RK4).
AUTHORS = {0: [0, 1, 2], 1: [0, 1, 2, 3, 4, 0, 1, 2, 3, 4], 2: [0, 1, 2], 3: [0, 1, 2, 3, 4],
           4: [0, 1, 2, 3, 0, 4, 0, 3], 5: [0, 1]}


def raw_sequence(m):
    a = np.argmax(m, axis=1)
    return [int(a[0])] + [int(x) for x, y in zip(a[1:], a[:-1], strict=True) if x != y]


def main(out):
    enable_x64()
    nets = [cycle_memories(jax.random.key(s), 100, 5) for s in range(6)]
    xis, phi = jnp.stack([n[0] for n in nets]), nets[0][1]
    kw = dict(t1=2000.0, save_every=0.5, alpha_s=0.045, alpha_c=0.004, beta_d=7.0, t_d=100.0)
    res, t0 = {}, time.time()
    for solver in ("rk4_split_scan", "euler_scan", "rk4_scan", "tsit5"):
        cfg = SolverConfig(solver=solver, dt=0.01)
        vs = jax.vmap(lambda x: simulate("lisem", x, phi, x[:, 0], solver_config=cfg, **kw).v)(xis)
        rows = []
        for s in range(6):
            m = np.asarray(model_overlaps("lisem", xis[s], vs[s]))
            d = decode(np.arange(len(m)) * 0.5, m)
            seq = d.sequence.tolist()
            raw = raw_sequence(m)
            rows.append({"set": s, "sequence": seq, "raw_sequence": raw, "authors_sequence": AUTHORS[s],
                         "decoded_equals_authors": seq == AUTHORS[s], "raw_equals_authors": raw == AUTHORS[s],
                         "ordered": bool(seq[0] == 0 and follows_graph(d.sequence, cycle_successors(5))),
                         "transition_times": d.times[1:].tolist(), "final_max_overlap": float(m[-1].max())})
        res[solver] = rows
        print(solver, [(r["sequence"], r["decoded_equals_authors"], r["ordered"]) for r in rows], flush=True)
    summary = {s: {"ordered_sets": sum(r["ordered"] for r in rows),
                   "decoded_equals_authors": sum(r["decoded_equals_authors"] for r in rows),
                   "raw_equals_authors": sum(r["raw_equals_authors"] for r in rows)} for s, rows in res.items()}
    rec = {"command": "PYTHONPATH=. .venv/bin/python docs/results/gsemm_lisem/run.py docs/results/gsemm_lisem",
           "summary": summary, "runs": res, "seconds": time.time() - t0, "load_end": os.getloadavg(),
           "jax": jax.__version__}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rec, f, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1])
