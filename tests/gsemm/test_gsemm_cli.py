"""CLI, experiments and the moving energy minimum (smoke + properties)."""

import json

import jax
import numpy as np
import pytest

from wavejax.cli import main
from wavejax.gsemm import _experiments as experiments
from wavejax.gsemm import cycle_memories, moving_minimum, simulate
from wavejax.gsemm._experiments import DwellConfig
from wavejax.report._results import validate_results

COMMANDS = ["retrieve", "retrieval", "dwell", "landscape", "capacity", "learning"]


def test_cli_retrieve_writes_results(tmp_path):
    main(["gsemm", "retrieve", "--n-features", "40", "--n-memories", "4", "--t1", "150", "--solver.solver",
          "euler_scan", "--flip", "0.1", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    validate_results(res)
    met = res["metrics"]
    assert met["sequence"][:5] == [0, 1, 2, 3, 0] and met["ordered"] and met["result"] == "successful"
    assert met["min_peak_overlap"] > 0.99
    assert res["config"]["solver"]["solver"] == "euler_scan"
    for f in ("overlaps.png", "energy.png"):
        assert (tmp_path / f).stat().st_size > 1000


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_help_lists_every_field(command, capsys):
    with pytest.raises(SystemExit) as e:
        main(["gsemm", command, "--preset", "full", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "--preset" in text and "--out" in text and "--seed" in text


def test_dwell_experiment_rows_hold(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "gsemm.dwell")
    assert exp.config is DwellConfig and exp.x64
    res = exp.run(DwellConfig.quick(), tmp_path)
    sweep = {x["r"]: x for x in res.metrics["sweep"]}
    # fixed reference values (Euler dt 0.01, N=100, K=10, seed 0): the law D = -20 ln(1 - sqrt r) and the run
    assert abs(sweep[0.5]["D"] - 24.559) < 1e-3
    assert abs(sweep[0.5]["measured_mean"] / sweep[0.5]["D"] - 1) < 0.1 and sweep[0.5]["ordered"]
    assert abs(sweep[0.7]["measured_mean"] / sweep[0.7]["D"] - 1) < 0.1
    assert sweep[1.05]["n_transitions"] <= 1
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
