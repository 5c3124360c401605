"""Smoke tests of the CLI, the model family and the cheap experiments (STYLE 14): files written, rows hold."""

import json

import jax
import jax.numpy as jnp
import pytest

from wavejax.cli import main
from wavejax.tradeoff import FAMILIES, experiments, macs_per_step, make_model, state_bits


def _cli_sweep(tmp_path, families):
    out = tmp_path / "sw"
    main(["tradeoff", "sweep", "--task", "hmm", "--scale", "custom", "--families", *families, "--widths", "2",
          "--seeds", "2", "--bits", "4", "32", "--sparsities", "0.0", "--steps", "100", "--length", "300",
          "--out", str(out)])
    pts = [json.loads(line) for line in (out / "points.jsonl").read_text().splitlines()]
    return out, pts


def _check_points(pts, families):
    """Every family trained 2 seeds x 2 bit widths, and every trained loss is finite and below 3x chance."""
    assert set(families) <= {p["family"] for p in pts}
    trained = [p for p in pts if p["group"] != "trivial"]
    assert {p["family"] for p in trained} == set(families)
    assert len(trained) == len(families) * 2 * 2
    assert all(p["loss"] is not None and 0 < p["loss"] < 3 for p in trained)


def test_cli_sweep_then_frontier(tmp_path):
    """The sweep trains, quantises and evaluates; the frontier command writes its analysis and figures."""
    out, pts = _cli_sweep(tmp_path, ("elman",))
    _check_points(pts, ("elman",))
    main(["tradeoff", "frontier", "--sweep", str(out), "--n-boot", "10"])
    res = json.loads((out / "analysis.json").read_text())
    assert res["front"] and res["mdl"]["cost_bits"] >= 0
    for fig in ("frontier.png", "raw_vs_compressed.png", "family_fronts.png", "mdl.png"):
        assert (out / fig).stat().st_size > 1000


def test_cli_sweep_all_families(tmp_path):
    """Every family trains and stays finite over whole test programs (the attention lattice diverged before its
    boundary was squashed); about 20 s, so it runs in the default suite."""
    _, pts = _cli_sweep(tmp_path, FAMILIES)
    _check_points(pts, FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_model_family_shapes_and_costs(family):
    m = make_model(family, 4, 3)
    x = jnp.zeros((2, 7, 3), jnp.float32)
    p = m.init(jax.random.key(0), x)["params"]
    assert m.apply({"params": p}, x).shape == (2, 7, 3)
    assert macs_per_step(family, 4, 3, 3) > 0 and state_bits(family, 4) >= 32 * 4
    if family == "lstm":  # tradeoff.md §2.2: 4h(h + d) + h·d_out
        assert macs_per_step("lstm", 4, 3, 3) == 4 * 4 * (4 + 3) + 4 * 3
    with pytest.raises(ValueError, match="family"):
        make_model("gru", 4, 3)


def test_costs_experiment_holds(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "tradeoff.costs")
    res = exp.run("quick", tmp_path)
    assert len(res.rows) == 5 and all(r.holds for r in res.rows), [(r.quantity, r.measured) for r in res.rows]
    assert 1.0 <= min(res.metrics["entropy_ratios"]) <= max(res.metrics["entropy_ratios"]) <= 1.15
