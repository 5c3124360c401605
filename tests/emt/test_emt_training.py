"""EMT training on the shared engine, the Table-1 machinery and the CLI (emt.md §4, §6; issue 3 items 2-3).

Fast tests use small widths and few steps and check the plumbing (padding equivalence, determinism, the swept task
axis, table format). The paper-scale checks (acceptance 2-4) are the slow tests at the end (20k steps each).
"""

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import (
    CURRICULUM,
    PAPER_TABLE,
    EMTConfig,
    EMTRun,
    TableConfig,
    analyze_rnn,
    circuit_matrix,
    circuit_rnn,
    curriculum_batch_fn,
    table_cells,
    train_sweep,
    train_task,
)
from wavejax.emt._experiments import CircuitConfig, run_circuit, trained_rows
from wavejax.emt._figures import analysis_figures
from wavejax.emt._table import format_cell, format_table
from wavejax.emt._training import load_run, save_run
from wavejax.report._results import validate_results
from wavejax.rnn import Elman, TrainConfig, masked_mse
from wavejax.tasks import NAMED_TASKS, binary_vb_task, decode_task, task_batch
from wavejax.wave import random_basis


def test_emt_padded_curriculum_equals_short_sequences(key):
    # causality: the padded, masked level-0 batch gives the loss and gradient of the horizon-10 batch
    phi = binary_vb_task("compose_copy")
    xp, yp, mp = curriculum_batch_fn(phi, batch=8)(key, 0)
    xs, ys, ms = task_batch(key, phi, horizon=10, batch=8)
    assert np.array_equal(np.asarray(xp[:, :18]), np.asarray(xs)) and np.array_equal(np.asarray(yp[:, :18]), ys)
    model = Elman(hidden=16, d_out=8)
    params = model.init(jax.random.key(1), xs)["params"]

    def loss(p, x, y, m):
        return masked_mse(model.apply({"params": p}, x), y, m)

    lp, gp = jax.value_and_grad(loss)(params, xp, yp, mp)
    ls, gs = jax.value_and_grad(loss)(params, xs, ys, ms)
    assert abs(float(lp) - float(ls)) < 1e-6
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(jax.tree.leaves(gp), jax.tree.leaves(gs), strict=True))


# Reference values (fixed seeds 0, 1; H = 32, batch 32, 200 steps at curriculum level 0 (horizon 10); CPU, 64-bit
# mode as in the suite): mean training sign accuracy of the last 20 steps and test sign accuracy at horizon 200.
# Chance is 0.5; the first 20 steps score 0.52 / 0.50.
_LEARN_CFG = EMTConfig(hidden=32, batch=32, n_seeds=2, test_batches=2,
                       train=TrainConfig(steps=200, chunk=100, log_every=100, ckpt_every=0))
_REF_TRAIN_ACC = np.array([0.6474, 0.6352])
_REF_TEST_ACC = np.array([0.5650, 0.5679])


def test_emt_train_task_deterministic_and_learns(tmp_path):
    a = train_task(_LEARN_CFG, tmp_path / "a")
    b = train_task(_LEARN_CFG)
    assert a.params["W_hh"].shape == (2, 32, 32) and a.history["loss"].shape == (2, 200)
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])  # same seeds, same result
    assert not np.array_equal(a.params["W_hh"][0], a.params["W_hh"][1])  # members differ
    # learning: the fixed-seed reference accuracies are reached (a broken optimizer / loss / curriculum stays at 0.5)
    train_acc = np.nanmean(a.history["accuracy"][:, -20:], axis=1)
    np.testing.assert_allclose(train_acc, _REF_TRAIN_ACC, atol=0.01)
    np.testing.assert_allclose(a.test_accuracy, _REF_TEST_ACC, atol=0.01)
    assert (train_acc > 0.6).all() and (np.nanmean(a.history["loss"][:, -20:], 1) < 0.92).all()
    r = load_run(tmp_path / "a")
    assert r.members == a.members and np.array_equal(r.params["W_hh"], a.params["W_hh"])
    assert np.array_equal(r.test_accuracy, a.test_accuracy)


def test_emt_train_task_float32_smoke():
    # 64-bit mode off (as in `wavejax reproduce` and `wavejax emt train`): the same recipe trains in float32
    with jax.enable_x64(False):
        run = train_task(dataclasses.replace(_LEARN_CFG, n_seeds=1))
    assert np.isfinite(run.history["loss"]).all() and np.isfinite(run.test_loss).all()
    # float32-mode reference (seed 0): last-20 training accuracy 0.626
    assert abs(float(np.nanmean(run.history["accuracy"][0, -20:])) - 0.626) < 0.01


def test_emt_config_contains_train_config():
    cfg = EMTConfig(task="compose_copy", hidden=16,
                    train=TrainConfig(steps=60, chunk=60, log_every=60, ckpt_every=960, l2=0.1))
    assert cfg.train == TrainConfig(steps=60, chunk=60, log_every=60, ckpt_every=960, l2=0.1)  # old engine() rule
    eng = cfg.engine()
    assert (eng.n_levels, eng.curriculum, eng.chunk, eng.l2) == (len(CURRICULUM), "pad", 60, 0.1)
    # a chunk longer than the run is shortened; checkpoints follow the chunk grid
    eng = EMTConfig(train=TrainConfig(steps=250, chunk=100, log_every=100, ckpt_every=1000)).engine()
    assert (eng.chunk, eng.log_every, eng.ckpt_every) == (100, 100, 1000)
    eng = EMTConfig(train=TrainConfig(steps=50, chunk=100, log_every=100, ckpt_every=300)).engine()
    assert (eng.chunk, eng.log_every, eng.ckpt_every) == (50, 50, 300)
    assert EMTConfig.quick().train.steps == 1000 and EMTConfig.full() == EMTConfig()


def test_emt_sweep_task_axis_and_table(tmp_path):
    cfg = EMTConfig(hidden=16, batch=8, test_batches=1,
                    train=TrainConfig(steps=60, chunk=30, log_every=30, ckpt_every=0))
    tasks = ["repeat_copy", "mix_262676_189"]
    run = train_sweep(cfg, tasks, [0.0, 0.1], [0.96], [3])
    assert [m["task"] for m in run.members] == [NAMED_TASKS[t] for t in tasks for _ in range(2)]
    assert [m["l2"] for m in run.members] == [0.0, 0.1, 0.0, 0.1]
    # a member of the sweep equals the single-task run with the same seed / L2 (tasks enter as per-member data)
    solo = train_task(dataclasses.replace(cfg, task="mix_262676_189", seed=3,
                                          train=dataclasses.replace(cfg.train, l2=0.1)))
    assert np.allclose(run.params["W_hh"][3], solo.params["W_hh"][0], atol=1e-5)
    # L2 = 0.1 shrinks the recurrent weights
    assert np.linalg.norm(run.params["W_hh"][1]) < np.linalg.norm(run.params["W_hh"][0])
    cells, recs = table_cells(run, 16)
    assert len(recs) == 4 and set(cells) == {(NAMED_TASKS[t], 16, lam) for t in tasks for lam in (0.0, 0.1)}
    # a cell's accuracy is the mean over seeds of the member accuracy (one seed, one threshold here)
    assert cells[(NAMED_TASKS["repeat_copy"], 16, 0.1)][1] == pytest.approx(float(run.test_accuracy[1]))
    text = format_table({(k[0], 64, k[2]): v for k, v in cells.items()}, hiddens=(64,), l2s=(0.0, 0.1))
    assert text.count("\n") == 4 and "[paper: --- (0.97)]" in text and "[paper: 0.0026 (1.00)]" in text


def test_emt_table_cells_protocol():
    # two seeds x two thresholds: per seed the min error / max accuracy over thresholds, then the mean over seeds;
    # NaN errors are skipped (pandas), a cell with no finite error is "---"
    tid = NAMED_TASKS["compose_copy"]
    members = [{"task": tid, "l2": 0.0, "threshold": th, "seed": sd} for th in (0.9, 0.98) for sd in (0, 1)]
    Phi = circuit_matrix(decode_task(tid), 8)
    good = Phi  # the circuit itself: spectral error 0
    bad = np.zeros_like(Phi)  # no eigenvalue above 0.9: count mismatch, NaN error
    W = np.stack([good, bad, bad, bad])
    run = EMTRun(params={"W_hh": W, "W_uh": np.zeros((4, 64, 8)), "W_hy": np.zeros((4, 8, 64))},
                 history={}, test_accuracy=np.array([0.9, 0.6, 0.7, 0.8]), test_loss=np.zeros(4), members=members,
                 hidden=64)
    cells, _ = table_cells(run, 64)
    err, acc = cells[(tid, 64, 0.0)]
    assert acc == pytest.approx((0.9 + 0.8) / 2)  # seed 0: max(0.9, 0.7); seed 1: max(0.6, 0.8)
    assert err is not None and 0 <= err < 1e-6  # seed 0's finite error only (seed 1 has none)
    run.params["W_hh"] = np.stack([bad] * 4)
    assert table_cells(run, 64)[0][(tid, 64, 0.0)][0] is None


def test_emt_paper_table_rendering():
    # the repeat-copy row of Table 1 as printed in emt.md §6 (H64 L2=0 / 1e-3 / 0.1, H128 L2=0 / 1e-3 / 0.1)
    spec_row = "--- (0.97) | --- (0.88) | --- (0.50) | 0.0005 (1.00) | --- (0.93) | --- (0.50)"
    text = format_table({(NAMED_TASKS["repeat_copy"], H, lam): PAPER_TABLE[(NAMED_TASKS["repeat_copy"], H, lam)]
                         for H in (64, 128) for lam in (0.0, 1e-3, 0.1)}, with_paper=False)
    assert text.splitlines()[2].endswith(spec_row + " |")
    assert format_cell(math.nan, 0.931) == "--- (0.93)" and format_cell(None, 0.5) == "--- (0.50)"
    assert "n/a" in format_table({(NAMED_TASKS["repeat_copy"], 128, 0.0): (0.1, 0.5)}, with_paper=False)


def test_emt_circuit_experiment(tmp_path):
    res = run_circuit(CircuitConfig(), tmp_path)
    m = res.metrics["circuit"]
    assert {k: v["count"] for k, v in m.items()} == {"repeat_copy": 64, "compose_copy": 36, "mix_262676_189": 36,
                                                    "mix_38637_145": 36}
    assert all(v["kept"] == v["count"] for v in m.values())
    assert m["repeat_copy"]["circuit_err"] == 0.0 and m["repeat_copy"]["circuit_acc"] == 1.0
    assert all(m[k]["circuit_err"] >= 1.0 for k in ("compose_copy", "mix_262676_189", "mix_38637_145"))
    assert res.metrics["analytic_dual_error"] < 1e-4 and res.metrics["analytic_off_on"] < 0.05
    assert all((tmp_path / f).exists() for f in res.figures)


def test_emt_analyse_rnn_on_the_analytic_circuit(tmp_path):
    # the repeat-copy circuit embedded in N = 96 dims: W_hh's spectrum IS Phi's, so count = theory, error ~ 0
    F = decode_task(NAMED_TASKS["repeat_copy"])
    p = circuit_rnn(F, 8, random_basis(jax.random.key(3), 96, 64))
    a = analyze_rnn(p, "repeat_copy", init=p)
    json.dumps(a)  # a plain, JSON-able dict
    assert (a["s"], a["d"], a["hidden"], a["count"], a["count_theory"]) == (8, 8, 96, 64, 64)
    assert a["spectral_error"] < 1e-6 and abs(a["mod_min"] - 1) < 1e-9 and abs(a["mod_max"] - 1) < 1e-9
    for g in ("output", "input"):
        assert a[g]["dual_error"] < 1e-4 and a[g]["sign_agreement"] == 1.0 and a[g]["off_on"] < 1e-6
    assert np.asarray(a["memories"]).shape == (24, 8, 8) and a["gradients"]["init"] == a["gradients"]["trained"]
    figs = analysis_figures(a, tmp_path, "c", seed=0)
    assert figs == ["spectrum_c.png", "phi_emp_c.png", "memories_c.png", "gradients_c.png"]
    assert all((tmp_path / f).exists() for f in figs)
    # H = 32 < s*d: the circuit comparison is skipped with a note, the spectrum is still analysed (issue 14 item 8)
    small = analyze_rnn({"W_uh": p["W_uh"][:32], "W_hh": p["W_hh"][:32, :32], "W_hy": p["W_hy"][:, :32]},
                        "repeat_copy")
    assert small["circuit_skipped"] == "circuit comparison skipped: needs H >= s*d = 64, got H=32"
    assert small["hidden"] == 32 and small["count_theory"] == 64 and "output" not in small
    assert analysis_figures(small, tmp_path, "small", seed=0, memories=False) == ["spectrum_small.png"]
    with jax.enable_x64(False), pytest.raises(ValueError, match="dtype"):
        analyze_rnn(p, "repeat_copy")


def test_emt_config_validation():
    with pytest.raises(ValueError, match="task_id"):
        EMTConfig(task="255,0")
    with pytest.raises(ValueError, match="hidden"):
        EMTConfig(hidden=0)
    with pytest.raises(ValueError, match="threshold"):
        EMTConfig(train=TrainConfig(threshold=1.5))
    with pytest.raises(TypeError, match="train"):
        EMTConfig(train={"steps": 10})
    with pytest.raises(ValueError, match="non-empty"):
        train_sweep(EMTConfig(), [], [0.0], [0.9], [0])
    with pytest.raises(ValueError, match="hiddens"):
        TableConfig(hiddens=())


def test_emt_cli_train_resume_analyse(tmp_path, capsys):
    from wavejax.emt._cli import main

    out = tmp_path / "rc"
    args = ["train", "--hidden", "64", "--train.steps", "100", "--batch", "8", "--train.ckpt-every", "100",
            "--test-batches", "1", "--out", str(out)]
    main(args)
    first = load_run(out)
    rec = json.loads((out / "results.json").read_text())
    validate_results(rec)
    assert rec["config"]["train"]["steps"] == 100 and len(rec["metrics"]["test_accuracy"]) == 1
    main(args)  # rerunning resumes from the final checkpoint: nothing retrained, same result and history
    again = load_run(out)
    assert np.array_equal(first.params["W_hh"], again.params["W_hh"])
    assert np.isfinite(again.history["loss"]).all() and np.array_equal(first.history["loss"], again.history["loss"])
    main(["analyze", "--preset", "quick", "--run", str(out), "--out", str(tmp_path / "an")])
    rec = json.loads((tmp_path / "an" / "results.json").read_text())
    validate_results(rec)
    assert {"spectral_error", "count", "input_off_on"} <= set(rec["metrics"]["0"])
    assert any("spectral error" in c["quantity"] for c in rec["claims"])
    assert (tmp_path / "an" / "phi_emp_0.png").exists()
    # issue 14 item 10: train and analyse each write a readable PNG listed in results.json
    assert rec["figures"][0] == "training.png" and "phi_emp_0.png" in rec["figures"]
    assert json.loads((out / "results.json").read_text())["figures"] == ["training.png"]
    for f in (out / "training.png", tmp_path / "an" / "training.png"):
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f.stat().st_size > 5000
    with pytest.raises(SystemExit):
        main(["analyze", "--run", str(out), "--member", "3", "--out", str(tmp_path / "bad")])


def test_emt_cli_analyse_reports_too_narrow_runs(tmp_path):
    # issue 14 item 8: H = 32 < s*d = 64 (a legitimate small net): the circuit comparison is skipped with a note
    # in results.json and the rest (curriculum, accuracy, spectrum) is still analysed
    from wavejax.emt._cli import main

    rng = np.random.default_rng(0)
    run = EMTRun(params={"W_uh": rng.normal(size=(1, 32, 8)), "W_hh": rng.normal(size=(1, 32, 32)),
                         "W_hy": rng.normal(size=(1, 8, 32))},
                 history={"loss": np.ones((1, 5)), "accuracy": np.full((1, 5), 0.5), "level": np.zeros((1, 5))},
                 test_accuracy=np.array([0.5]), test_loss=np.array([1.0]),
                 members=[{"task": NAMED_TASKS["repeat_copy"], "l2": 0.0, "threshold": 0.96, "seed": 0}], hidden=32)
    save_run(run, tmp_path / "narrow")
    main(["analyze", "--run", str(tmp_path / "narrow"), "--out", str(tmp_path / "an")])
    rec = json.loads((tmp_path / "an" / "results.json").read_text())
    validate_results(rec)
    msg = "circuit comparison skipped: needs H >= s*d = 64, got H=32"
    mt = rec["metrics"]["0"]
    assert mt["circuit_skipped"] == msg and msg in rec["notes"] and "error" not in mt
    assert mt["count_theory"] == 64 and {"count", "spectral_error", "test_accuracy", "level100_step"} <= set(mt)
    assert not any(k.startswith("input_") for k in mt)
    assert (tmp_path / "an" / "spectrum_0.png").exists() and not (tmp_path / "an" / "phi_emp_0.png").exists()
    assert rec["figures"][0] == "training.png" and (tmp_path / "an" / "training.png").stat().st_size > 1000


@pytest.mark.parametrize("cmd", ["train", "analyze", "table"])
def test_emt_cli_help_and_presets(cmd, capsys):
    from wavejax.emt._cli import main

    for argv in ([cmd, "--help"], [cmd, "--preset", "full", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
    txt = capsys.readouterr().out
    flags = {"train": ["--hidden", "--train.steps", "--train.lr", "--test-horizon", "--curriculum"],
             "analyze": ["--run", "--member", "--claims"],
             "table": ["--seeds", "--hiddens", "--l2s", "--train.steps"]}[cmd]
    assert all(f in txt for f in flags) and "--out" in txt


# ---- paper scale (acceptance 2-4 of issue 3): minutes on CPU -------------------------------------------------------

@pytest.mark.slow
def test_emt_repeat_copy_paper_scale(tmp_path):
    run = train_task(EMTConfig(task="repeat_copy", hidden=128, seed=0))
    rows, _, m = trained_rows(run, 0, tmp_path, full=True, figures=False)
    assert m["test_accuracy"] >= 0.99
    assert m["count"] == m["count_theory"] == 64 and 0.99 <= m["mod_min"] and m["mod_max"] <= 1.02
    assert m["spectral_error"] <= 2e-3
    assert m["dual_error"] < 1e-4 and m["off_on"] < 0.05 and m["sign_agreement"] == 1.0
    assert m["tracking"] == 1.0 and m["readout_fraction"] > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("name", ["compose_copy", "mix_262676_189", "mix_38637_145"])
def test_emt_composition_paper_scale(name, tmp_path):
    run = train_task(EMTConfig(task=name, hidden=128, n_seeds=2))
    ok = []
    for mbr in range(2):
        _, _, m = trained_rows(run, mbr, tmp_path, full=True, figures=False)
        ok.append(m["test_accuracy"] >= 0.97 and m["count"] == 36 and m["spectral_error"] <= 1e-2)
    assert any(ok)


@pytest.mark.slow
def test_emt_l2_01_gives_chance():
    run = train_sweep(EMTConfig(hidden=128), list(NAMED_TASKS), [0.1], [0.96], [0])
    assert np.all(np.abs(run.test_accuracy - 0.5) < 0.05)
    assert jnp.all(jnp.isfinite(jnp.asarray(run.test_loss)))
