"""The benchmark runner's merge, table and README logic, and the scaling fit (issue 7; nothing is timed here)."""

import json
import math
import sys
import textwrap
from pathlib import Path

import pytest

from wavejax import _bench

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _row(case, t_jax, t_base, target=None):
    return {"case": case, "wavejax_s": t_jax, "baseline": "numpy loop", "baseline_s": t_base,
            "ratio": t_base / t_jax, "ratio_best": 1.1 * t_base / t_jax, "target": target}


def _bench_result(*rows, scaling=None):
    return {"benchmark": "x", "machine": {"jax": "0.0"}, "rows": list(rows), "scaling": scaling}


MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "platform": "cpu", "device": "cpu", "jax": "9.9", "jaxlib": "9.9",
           "date": "2026-01-01 00:00:00"}


def test_merge_keeps_old_replaces_rerun_and_tracks_failures():
    prev = {"benchmarks": {"bench_a": {"v": 1}, "bench_b": {"v": 1}}, "failures": {"bench_b": "exit code 1",
                                                                               "bench_c": "exit code 2"}}
    merged = _bench.merge_results(prev, {"bench_b": {"v": 2}}, {"bench_a": "exit code 3"}, MACHINE)
    assert merged["benchmarks"] == {"bench_a": {"v": 1}, "bench_b": {"v": 2}}  # a kept (stale), b replaced
    assert merged["failures"] == {"bench_a": "exit code 3", "bench_c": "exit code 2"}  # b's old failure cleared
    assert merged["machine"] == MACHINE
    assert _bench.merge_results(None, {}, {}, MACHINE) == {"machine": MACHINE, "benchmarks": {}, "failures": {}}


def test_table_lists_rows_targets_scaling_and_failures():
    merged = _bench.merge_results(None, {
        "bench_wave": _bench_result(_row("B=1", 0.001, 0.02, target=15.0), _row("B=16", 0.001, 0.005, target=15.0),
                                    _row("ref", 0.002, 0.004), {**_row("detail", 1.0, 1.0), "table": False},
                                    scaling={"x": "batch B", "exponents": {"wavejax": 0.52}, "figure": "w.png"}),
    }, {"bench_gsemm": "exit code 1"}, MACHINE)
    table = _bench.bench_table(merged)
    lines = table.splitlines()
    assert lines[0].startswith("| benchmark | case |") and len(lines[0].split("|")) == len(lines[1].split("|"))
    body = [ln for ln in lines if ln.startswith("| wave |")]
    assert len(body) == 3
    assert "20.0x" in body[0] and ">= 15x ✓" in body[0]
    assert "5.0x" in body[1] and ">= 15x ✗" in body[1]
    assert body[2].rstrip().endswith("| — |")
    assert "detail" not in table  # rows marked "table": False stay in the JSON
    assert "wavejax 0.52" in table and "benchmarks/results/w.png" in table
    assert "Test CPU (2 cores" in table and "jax 9.9" in table
    assert "bench_gsemm (exit code 1)" in table


def test_update_readme_between_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    assert not _bench.update_readme_table(readme, "TABLE")  # no README: printed, nothing written
    assert "TABLE" in capsys.readouterr().out and not readme.exists()
    readme.write_text("intro\n")
    assert not _bench.update_readme_table(readme, "TABLE")  # no markers: printed, file untouched
    assert readme.read_text() == "intro\n"
    readme.write_text(f"intro\n{_bench.START}\nold table\n{_bench.END}\noutro\n")
    assert _bench.update_readme_table(readme, "| new |")
    assert readme.read_text() == f"intro\n{_bench.START}\n| new |\n{_bench.END}\noutro\n"
    assert _bench.update_readme_table(readme, "| new |")  # idempotent
    assert readme.read_text() == f"intro\n{_bench.START}\n| new |\n{_bench.END}\noutro\n"


def test_run_benchmarks_end_to_end_with_fake_scripts(tmp_path, monkeypatch):
    """Runs fake bench scripts (no timing): merged JSON per machine, failures recorded, README rewritten."""
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    row = _row("B=1", 0.001, 0.03, target=15.0)
    (tmp_path / "benchmarks" / "bench_fake.py").write_text(textwrap.dedent(f"""
        import json, pathlib, sys
        quick = "--quick" in sys.argv
        row = {row!r}
        row["quick"] = quick
        p = pathlib.Path("benchmarks/results/bench_fake.json")
        p.write_text(json.dumps({{"benchmark": "bench_fake", "rows": [row]}}))
        print("fake: 30.0x")
    """))
    (tmp_path / "benchmarks" / "bench_broken.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "benchmarks" / "bench_silent.py").write_text("print('no json')\n")
    (tmp_path / "README.md").write_text(f"# x\n{_bench.START}\n{_bench.END}\n")
    # results written earlier by running a script directly: merged when measured on this machine
    here = _bench.machine_info()
    same = {k: here[k] for k in ("cpu_count", "platform", "device")}
    res = tmp_path / "benchmarks" / "results"
    (res / "bench_direct.json").write_text(json.dumps({"machine": same, "rows": [_row("d", 1.0, 2.0)]}))
    (res / "bench_elsewhere.json").write_text(json.dumps({"machine": {**same, "cpu_count": 999}, "rows": []}))
    monkeypatch.setenv("WAVEJAX_MACHINE", "Test Box")
    merged = _bench.run_benchmarks(tmp_path, quick=True)
    assert set(merged["benchmarks"]) == {"bench_fake", "bench_direct"}
    assert merged["benchmarks"]["bench_fake"]["rows"][0]["quick"] is True
    assert merged["failures"] == {"bench_broken": "exit code 3",
                                  "bench_silent": "wrote no benchmarks/results/bench_silent.json"}
    stored = json.loads((tmp_path / "benchmarks" / "results" / "test-box.json").read_text())
    assert stored["machine"]["cpu_count"] >= 1 and stored["machine"]["jax"] and stored["machine"]["device"]
    readme = (tmp_path / "README.md").read_text()
    assert "| fake | B=1 |" in readme and "30.0x" in readme and ">= 15x ✓" in readme
    # --only reruns one benchmark and keeps the other results; the table can be regenerated without running
    (tmp_path / "README.md").write_text(f"{_bench.START}\n{_bench.END}\n")
    table = _bench.regenerate_table(tmp_path)
    assert "| fake | B=1 |" in table and "| fake | B=1 |" in (tmp_path / "README.md").read_text()
    with pytest.raises(ValueError, match="only"):
        _bench.run_benchmarks(tmp_path, only=("nothing",))


def test_fit_exponent_and_scaling_plot(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH_DIR))
    sizes = [1, 4, 16, 64, 256]
    assert _common.fit_exponent(sizes, [3e-3 * x**0.5 for x in sizes]) == pytest.approx(0.5, abs=1e-12)
    assert _common.fit_exponent(sizes, [2.0 * x for x in sizes]) == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(_common.fit_exponent([8], [1.0]))
    monkeypatch.setattr(_common, "RESULTS", tmp_path)
    rec = _common.scaling_plot("bench_t", sizes, {"a": [1e-3 * x for x in sizes], "b": [1e-3] * 4 + [float("nan")]},
                               xlabel="batch B")
    assert rec["exponents"]["a"] == pytest.approx(1.0) and rec["exponents"]["b"] == pytest.approx(0.0, abs=1e-12)
    assert rec["figure"] == "bench_t_scaling.png" and (tmp_path / "bench_t_scaling.png").stat().st_size > 1000
    json.dumps(rec)  # storable in the benchmark's JSON
