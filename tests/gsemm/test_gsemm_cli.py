"""CLI, experiments and the moving energy minimum (smoke + properties)."""

import json

import jax
import numpy as np

from wavejax.cli import main
from wavejax.gsemm import cycle_memories, experiments, moving_minimum, simulate


def test_cli_retrieve_writes_results(tmp_path):
    main(["gsemm", "retrieve", "--n-features", "40", "--n-memories", "4", "--t1", "150", "--solver", "euler_scan",
          "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["sequence"][:5] == [0, 1, 2, 3, 0] and res["ordered"]
    assert res["min_peak_overlap"] > 0.99
    for f in ("overlaps.png", "energy.png"):
        assert (tmp_path / f).stat().st_size > 1000


def test_dwell_experiment_rows_hold(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "gsemm.dwell")
    res = exp.run("quick", tmp_path)
    assert all(r.holds for r in res.rows if r.holds is not None)
    assert sum(r.holds is not None for r in res.rows) == 3  # r = 0.5, 0.7 and the static r = 1.05
    assert (tmp_path / "dwell_law.png").stat().st_size > 1000


def test_moving_minimum_switches_to_successor():
    """Minimising E(.; v_d(t)) from the current state finds the occupied memory; once v_d has loaded xi^0 for
    long enough, the minimum reached from xi^0 itself is the successor xi^1 (the well has moved)."""
    xi, phi = cycle_memories(jax.random.key(0), 40, 4)
    kw = dict(alpha_s=1.0, alpha_c=2.0)
    tr = simulate("dsem", xi, phi, xi[:, 0], t1=40.0, save_every=0.5, **kw)
    mm = moving_minimum("dsem", xi, phi, tr, [1.0, 5.0, 40.0], **kw)
    assert mm.cur_state.tolist()[:2] == [0, 0]
    assert mm.mem_state[0, 0] == 0 and mm.mem_state[1, 1] == 1  # early: xi^0 and xi^1 are minima
    assert mm.mem_state[2, 0] != 0  # at t = 40 the well at xi^0 is gone
    assert np.isfinite(mm.mem_energy).all() and mm.mem_pc1.shape == (3, 4)
