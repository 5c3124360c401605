"""Smoke tests of the wave experiments and CLI (STYLE 14): metric keys, finiteness, files written."""

import json

import numpy as np

from wavejax.cli import main
from wavejax.wave import experiments


def test_spectra_and_travel_experiments(tmp_path):
    for name in ("wave.spectra", "wave.travel"):
        exp = next(e for e in experiments.EXPERIMENTS if e.name == name)
        res = exp.run("quick", tmp_path)
        assert res.rows and all(r.holds for r in res.rows)
        for fig in res.figures:
            assert (tmp_path / fig).stat().st_size > 1000


def test_cli_rollout_writes_results(tmp_path):
    main(["wave", "rollout", "--task", "compose_copy", "--horizon", "12", "--batch", "4", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["max_error"] == 0.0 and res["sign_accuracy"] == 1.0
    assert (tmp_path / "error_vs_time.png").exists()
    assert np.isfinite(res["sign_accuracy"])
