"""The reproduce machinery: caching by config hash, failures reported without aborting, HTML inline figures."""

import importlib
import json

import numpy as np
from helpers import ScaleOnly

from wavejax.report import Experiment, Result, line_plot, reproduce, row
from wavejax.report._results import validate_results

rep_mod = importlib.import_module("wavejax.report._reproduce")


def _exps(calls):
    def ok(scale, out):
        calls.append("ok")
        line_plot(out / "f.png", {"y": ([0, 1], [1, 2])})
        return Result(rows=[row("q", "1", 1.0, True)], figures=["f.png"])

    def bad(scale, out):
        calls.append("bad")
        raise RuntimeError("boom")

    return [Experiment(name="t.ok", section="S", title="ok", run=ok, config=ScaleOnly),
            Experiment(name="t.bad", section="S", title="bad", run=bad, config=ScaleOnly)]


def test_reproduce_caches_and_reports_failures(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(rep_mod, "discover", lambda: (_exps(calls), {}))
    md = reproduce(tmp_path / "r1", cache=tmp_path / "cache")
    text = md.read_text()
    assert "FAILED" in text and "boom" in text and "| q | 1 | 1 | ✅ yes |" in text
    assert "data:image/png;base64" in (tmp_path / "r1" / "report.html").read_text()
    assert (tmp_path / "r1" / "t.ok" / "f.png").exists()
    assert calls == ["ok", "bad"]
    reproduce(tmp_path / "r2", cache=tmp_path / "cache")
    assert calls == ["ok", "bad", "bad"]  # the finished experiment is reused, the failed one retried
    summary = json.loads((tmp_path / "r2" / "results.json").read_text())
    validate_results(summary)
    assert summary["metrics"]["experiments"]["t.ok"]["cached"] is True
    assert np.isclose(summary["metrics"]["experiments"]["t.ok"]["rows"][0]["measured"], 1.0)
    assert [c["quantity"] for c in summary["claims"]] == ["t.ok: q"]
    assert summary["figures"] == ["t.ok/f.png"]
    cached = json.loads(next((tmp_path / "cache").glob("t.ok-*/results.json")).read_text())
    validate_results(cached)
    assert cached["command"] == "t.ok" and cached["config"] == {"value": "quick"}  # ScaleOnly.quick() is "quick"


def test_killed_reproduce_resumes_without_recomputing(tmp_path, monkeypatch):
    """A run killed midway (KeyboardInterrupt in the second experiment) keeps the first one's result."""
    calls = []
    state = {"kill": True}

    def first(scale, out):
        calls.append("first")
        return Result(rows=[row("a", "1", 1.0, True)])

    def second(scale, out):
        calls.append("second")
        if state["kill"]:
            raise KeyboardInterrupt  # what Ctrl-C / SIGINT raises mid-experiment
        return Result(rows=[row("b", "2", 2.0, True)])

    exps = [Experiment(name="k.first", section="S", title="first", run=first, config=ScaleOnly),
            Experiment(name="k.second", section="S", title="second", run=second, config=ScaleOnly)]
    monkeypatch.setattr(rep_mod, "discover", lambda: (exps, {}))
    try:
        reproduce(tmp_path / "r", cache=tmp_path / "cache")
    except KeyboardInterrupt:
        pass
    else:  # pragma: no cover
        raise AssertionError("the interrupt must propagate (the run is killed)")
    assert calls == ["first", "second"]
    state["kill"] = False
    md = reproduce(tmp_path / "r", cache=tmp_path / "cache")
    assert calls == ["first", "second", "second"]  # the finished experiment is not recomputed
    assert "2 of 2 checked rows hold" in md.read_text()
