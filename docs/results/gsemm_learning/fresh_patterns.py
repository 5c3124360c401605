"""The sweep of ``gsemm.learning --preset full`` with a FRESH pattern set per configuration (the experiment uses
one pattern set for all runs): does the best case change? Same 8 default seeds and 80 configurations (same keys).
Writes ``fresh_patterns.json``.

Run (from the repository root):
``PYTHONPATH=. nice -n 10 .venv/bin/python docs/results/gsemm_learning/fresh_patterns.py docs/results/gsemm_learning``
"""

import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.gsemm._learning_experiment import LearningConfig, sweep_configs
from wavejax.gsemm._online import contrastive_runs
from wavejax.precision import enable_x64


def main(out):
    enable_x64()
    cfg, t0 = LearningConfig.full(), time.time()
    key = jax.random.key(cfg.seed + 3)  # as learning_experiment._sweep
    grid = sweep_configs(jax.random.fold_in(key, 1000), cfg.sweep, cfg.online)
    keys = [jax.random.fold_in(key, s) for s in range(cfg.default_seeds)]
    keys += [jax.random.fold_in(key, 2000 + i) for i in range(len(grid))]
    pats = jax.vmap(lambda k: jax.random.rademacher(jax.random.fold_in(k, 11), (10, 50), dtype=jnp.float64))(
        jnp.stack(keys))
    runs = contrastive_runs(jnp.stack(keys), pats, [cfg.online] * cfg.default_seeds + grid)
    d, s = runs[: cfg.default_seeds], runs[cfg.default_seeds:]
    summary = {name: {"defaults": [x[k] for x in d], "sweep_max": max(x[k] for x in s),
                      "sweep_median": float(np.median([x[k] for x in s])),
                      "sweep_hist": np.bincount([x[k] for x in s]).tolist()}
               for name, k in (("cpp", "links"), ("presented_only", "presented_only_links"),
                               ("wavejax", "wavejax_links"))}
    rec = {"summary": summary, "defaults": d, "sweep": s, "seconds": time.time() - t0, "load_end": os.getloadavg()}
    with open(os.path.join(out, "fresh_patterns.json"), "w") as f:
        json.dump(rec, f, indent=1)
    print(json.dumps(summary), rec["seconds"])


if __name__ == "__main__":
    main(sys.argv[1])
