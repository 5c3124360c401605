"""Smoke tests of the CLI, the model family and the cheap experiments (STYLE 14): files written, schema valid,
costs equal to the spec's formulas, and the costs experiment's measurements against fixed reference values."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import pytest

from wavejax.cli import main
from wavejax.report._results import validate_results
from wavejax.tradeoff import FAMILIES, SweepConfig, macs_per_step, make_model, param_count, state_bits
from wavejax.tradeoff import _experiments as experiments


@pytest.fixture(scope="module")
def all_families_sweep(tmp_path_factory):
    """One CLI sweep of every family (2 seeds x 2 bit widths at width 2), shared by the two CLI tests below (one
    sweep instead of two: the run is compile-bound, ~20 s)."""
    out = tmp_path_factory.mktemp("cli") / "sw"
    main(["tradeoff", "sweep", "--task", "hmm", "--families", *FAMILIES, "--widths", "2",
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


def test_cli_sweep_then_frontier(all_families_sweep, tmp_path):
    """The sweep trains, quantises and evaluates; the frontier command writes its analysis and figures; both write
    the one results.json schema."""
    out, pts = all_families_sweep
    rec = json.loads((out / "results.json").read_text())
    validate_results(rec)
    assert rec["metrics"]["n_points"] == len(pts) and rec["config"]["widths"] == [2]
    assert (out / "curves.jsonl").exists()
    assert rec["figures"] == ["points.png"] and (out / "points.png").stat().st_size > 1000  # issue 14 item 10
    fr = tmp_path / "fr"
    main(["tradeoff", "frontier", "--sweep", str(out), "--n-boot", "10", "--out", str(fr)])
    res = json.loads((fr / "analysis.json").read_text())
    assert res["front"] and res["mdl"]["cost_bits"] >= 0 and set(res["verdict"]) >= {"loss", "excess_floor"}
    for fig in ("frontier.png", "raw_vs_compressed.png", "family_fronts.png", "mdl.png"):
        assert (fr / fig).stat().st_size > 1000
    rec = json.loads((fr / "results.json").read_text())
    validate_results(rec)
    assert any("two-part MDL optimum" in c["quantity"] for c in rec["claims"])


def test_cli_sweep_all_families(all_families_sweep):
    """Every family trains and stays finite over whole test programs (the attention lattice diverged before its
    boundary was squashed)."""
    _check_points(all_families_sweep[1], FAMILIES)


@pytest.mark.parametrize("cmd", ["sweep", "frontier", "report", "costs", "fits", "hmm", "ar", "cache"])
def test_cli_help_lists_fields_and_full_preset_parses(cmd, capsys):
    """--help lists every field of the command's config (nested sweeps as --sweep.<field>); --preset full parses."""
    from wavejax._cli import parse_command
    from wavejax.tradeoff._cli import FrontierConfig, ReportConfig

    cls = {"sweep": SweepConfig, "frontier": FrontierConfig, "report": ReportConfig}.get(cmd)
    if cls is None:
        cls = next(e.config for e in experiments.EXPERIMENTS if e.name == f"tradeoff.{cmd}")
    with pytest.raises(SystemExit):
        main(["tradeoff", cmd, "--help"])
    text = capsys.readouterr().out
    if issubclass(cls, experiments.TaskRunConfig):
        flags = ["--n-boot"] + [f"--sweep.{f.name.replace('_', '-')}" for f in dataclasses.fields(SweepConfig)]
    else:
        flags = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(cls)]
    for flag in flags:
        assert flag in text, (cmd, flag)
    cfg, _ = parse_command(cls, ["--preset", "full"], prog=f"wavejax tradeoff {cmd}")
    assert cfg == cls.full()


def test_sweep_presets_are_the_reports():
    """SweepConfig.quick(task) / .full(task) are the report's quick / full sweeps (the rows of `wavejax reproduce`
    come from them)."""
    q = {t: SweepConfig.quick(t) for t in ("hmm", "ar", "cache")}
    assert {t: (c.length, c.n_programs, c.widths, c.steps) for t, c in q.items()} == {
        "hmm": (2048, 8, (1, 2, 4, 8, 16), 600), "ar": (1024, 8, (1, 2, 4, 8), 400),
        "cache": (2048, 10, (1, 2, 4, 8, 16), 400)}
    assert all(c.families == ("elman",) and c.seeds == 2 and c.sparsities == (0.0, 0.5) for c in q.values())
    hmm = next(e for e in experiments.EXPERIMENTS if e.name == "tradeoff.hmm")
    assert hmm.make_config("quick").sweep == q["hmm"] and hmm.make_config("full").n_boot == 1000
    # the full sweep behind docs/results/tradeoff_full, run by `wavejax reproduce --full --only tradeoff`
    for t in ("hmm", "ar", "cache"):
        f = SweepConfig.full(t)
        assert (f.families, f.widths, f.seeds, f.bits, f.sparsities, f.scale_bits, f.steps, f.length,
                f.n_programs) == (("elman", "lstm"), (1, 2, 4, 8, 16, 32, 64, 128), 3,
                                  (1, 2, 3, 4, 5, 6, 8, 12, 16, 32), (0.0, 0.5, 0.9), 8, 1500, 4096, 20)
        assert f.task == ("hmm:16x6" if t == "hmm" else t)
        exp = next(e for e in experiments.EXPERIMENTS if e.name == f"tradeoff.{t}")
        assert exp.make_config("full").sweep == f
    assert SweepConfig(steps=50).engine_chunk == 50 and SweepConfig(chunk=50, steps=100).train_config().chunk == 50


# Exact MACs per step and state bits at width 4, d_in = d_out = 3, s = 8 slots (tradeoff.md §2.2 and the
# models.py docstring formulas, evaluated by hand): elman h(h+d)+h·d_out; lstm 4h(h+d)+h·d_out; wave (c=1, n=4)
# H·d + 3c²n + H·d_out; lattice h·d + s·h² + h·d_out; attention h·d + h² + 2s·h² + 2s·h + h·d_out.
MACS = {"elman": 40, "lstm": 124, "wave": 36, "lattice": 152, "attention": 360}
STATE_BITS = {"elman": 128, "lstm": 256, "wave": 128, "lattice": 1024, "attention": 1024}


@pytest.mark.parametrize("family", FAMILIES)
def test_model_family_shapes_and_costs(family):
    m = make_model(family, 4, 3)
    x = jnp.zeros((2, 7, 3), jnp.float32)
    p = m.init(jax.random.key(0), x)["params"]
    assert m.apply({"params": p}, x).shape == (2, 7, 3)
    assert macs_per_step(family, 4, 3, 3) == MACS[family]
    assert state_bits(family, 4) == STATE_BITS[family]
    if family in ("elman", "lstm"):  # bias-free dense cells: one MAC per weight per step
        assert param_count(p) == MACS[family]
    with pytest.raises(ValueError, match="family"):
        make_model("gru", 4, 3)


def test_costs_experiment_measurements(tmp_path):
    """The costs experiment's measurements against the spec's bounds (tradeoff.md §7 checks 1–2) and the values
    measured before the issue-11 redesign (fixed seeds: deterministic)."""
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "tradeoff.costs")
    m = exp.run(exp.make_config("quick"), tmp_path).metrics
    assert m["worst_excess_ulps"] <= 2.0 and m["worst_excess_ulps"] == pytest.approx(0.07, abs=0.005)
    assert m["b32_exact"] is True
    assert m["zeros_ratio"] < 0.01 and m["zeros_ratio"] * 32 * 20000 == pytest.approx(144)  # 18 bytes of LZMA
    assert m["gaussian_ratio"] >= 0.9 and 100 * m["gaussian_ratio"] == pytest.approx(92.5, abs=0.05)
    r = m["entropy_ratios"]
    assert 1.0 <= min(r) and max(r) <= 1.15
    # b = 1: the packed code (1 bit a sign code + 32) is the best, (20032 − 32) / Ĥ with Ĥ = 19999.8 bits -> 1.000;
    # b = 12: packed 32 + 12·20000 beats rANS, 240000 / 218240.9 -> 1.100 (before the packed code: 1.007, 1.108)
    assert (round(min(r), 3), round(max(r), 3)) == (1.0, 1.1)


def test_report_runs_one_experiment_end_to_end(tmp_path, capsys):
    """Issue 22 §8: ``tradeoff report`` read a key the results schema does not have (KeyError 'experiments'
    after running every experiment); the cheapest experiment, end to end (~20 s), then a cached rerun."""
    out = tmp_path / "r"
    for _ in range(2):
        main(["tradeoff", "report", "--only", "tradeoff.costs", "--out", str(out)])
        d = json.loads((out / "results.json").read_text())
        validate_results(d)
        assert d["command"] == "wavejax tradeoff report"
        assert list(d["metrics"]["experiments"]) == ["tradeoff.costs"]
        assert d["metrics"]["experiments"]["tradeoff.costs"]["ok"] is True
        claims = d["claims"]
        assert len(claims) >= 3 and all(c["holds"] is True for c in claims), claims
        assert [c["quantity"] for c in claims] == [r["quantity"] for r in
                                                   d["metrics"]["experiments"]["tradeoff.costs"]["rows"]]
        assert (out / "report.md").read_text().startswith("# wavejax reproduction report")
    assert "results and figures in" in capsys.readouterr().out
