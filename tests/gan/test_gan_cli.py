"""Smoke tests of the GAN experiments, study and CLI (STYLE 14): keys, finiteness, files written."""

import json

import jax
import numpy as np
import pytest
from gan_tiny import TINY

from wavejax.cli import main
from wavejax.gan import NULLS, ClassifierConfig, experiments, run_study


def test_checks_experiment_holds(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "gan.checks")
    res = exp.run("quick", tmp_path)
    assert len(res.rows) == 4 and all(r.holds for r in res.rows)
    assert res.metrics["params_g"] == 494_513


def test_study_smoke(tmp_path):
    # tiny everything: the numbers are meaningless, the plumbing (keys, finiteness, figures, report) is tested
    res = run_study(TINY, ClassifierConfig.quick(steps=3, fc=8, conv=(2, 2)), out=tmp_path, n_eval=16)
    assert set(res["entropy"]) >= {"real", "untrained", "none", "conv2", "random_probability_vectors"}
    assert all(np.isfinite(e["mean"]) for e in res["entropy"].values())
    for d in res["diversity"].values():
        assert 0.0 <= d["marginal_entropy"] <= np.log(10) + 1e-9 and 1 <= d["n_classes"] <= 10
    assert set(res["similarity"]["ks"]) == set(NULLS)
    assert res["similarity"]["verdict"] in ("above chance", "not above chance", "inconclusive")
    assert res["similarity"]["conclusion"] in res["similarity_table"]
    for fig in res["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000
    assert (tmp_path / "conv2" / "ckpt").exists()


def test_cli_similarity(tmp_path):
    k = jax.random.split(jax.random.key(0), 3)
    for name, kk in zip(("g", "d", "i"), k, strict=True):
        np.save(tmp_path / f"{name}.npy", np.asarray(0.02 * jax.random.normal(kk, (5, 5, 4, 4))))
    main(["gan", "similarity", "--g-kernel", str(tmp_path / "g.npy"), "--d-kernel", str(tmp_path / "d.npy"),
          "--d-independent", str(tmp_path / "i.npy"), "--out", str(tmp_path / "sim")])
    res = json.loads((tmp_path / "sim" / "results.json").read_text())
    assert res["report"]["verdict"] == "not above chance"  # independent Gaussian kernels
    assert "independent_critic" in (tmp_path / "sim" / "similarity.md").read_text()


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["gan", "--help"])
    txt = capsys.readouterr().out
    assert "train" in txt and "evaluate" in txt and "similarity" in txt
