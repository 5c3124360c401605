"""Pass counts of the capacity criterion at N = 16 for every K = 2..20 (the same trials ``capacity_search`` runs:
key(0) folded with N = 16, then with K; 4 pattern sets). Shows that pass/fail is not monotone in K, so the search
returns a bisection boundary. Writes ``monotone_n16.json``.

Run: ``PYTHONPATH=. nice -n 10 .venv/bin/python docs/results/gsemm_capacity/monotone.py docs/results/gsemm_capacity``
"""

import json
import os
import sys
import time

import jax

from wavejax.gsemm._capacity import cycle_pass, cycle_trial
from wavejax.precision import enable_x64


def main(out):
    enable_x64()
    key, t0, passes = jax.random.fold_in(jax.random.key(0), 16), time.time(), {}
    for k in range(2, 21):
        ts, m, _ = cycle_trial("dsem", jax.random.fold_in(key, k), 16, k, n_sets=4)
        passes[k] = int(sum(cycle_pass(ts, mk) for mk in m))
        print(k, passes[k], flush=True)
    rec = {"N": 16, "passes_of_4": passes, "passing_K (>= 3 of 4)": [k for k, p in passes.items() if p >= 3],
           "seconds": time.time() - t0, "load_end": os.getloadavg()}
    with open(os.path.join(out, "monotone_n16.json"), "w") as f:
        json.dump(rec, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
