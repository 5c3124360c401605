"""EMT training on the shared engine, the Table-1 machinery and the CLI (emt.md §4, §6; issue 3 items 2-3).

Fast tests use small widths and few steps and check the plumbing (padding equivalence, determinism, the swept task
axis, table format). The paper-scale checks (acceptance 2-4) are the slow tests at the end (20k steps each).
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import (
    PAPER_TABLE,
    TASKS,
    EMTConfig,
    curriculum_batch_fn,
    format_table,
    load_run,
    train_sweep,
    train_task,
)
from wavejax.emt.experiments import run_circuit, table_cells, trained_rows
from wavejax.rnn import Elman, masked_mse
from wavejax.wave import binary_task_batch, binary_vb_task


def test_emt_padded_curriculum_equals_short_sequences(key):
    # causality: the padded, masked level-0 batch gives the loss and gradient of the horizon-10 batch
    phi = binary_vb_task("compose_copy")
    xp, yp, mp = curriculum_batch_fn(phi, batch=8)(key, 0)
    xs, ys, ms = binary_task_batch(key, phi, horizon=10, batch=8)
    assert np.array_equal(np.asarray(xp[:, :18]), np.asarray(xs)) and np.array_equal(np.asarray(yp[:, :18]), ys)
    model = Elman(hidden=16, d_out=8)
    params = model.init(jax.random.key(1), xs)["params"]

    def loss(p, x, y, m):
        return masked_mse(model.apply({"params": p}, x), y, m)

    lp, gp = jax.value_and_grad(loss)(params, xp, yp, mp)
    ls, gs = jax.value_and_grad(loss)(params, xs, ys, ms)
    assert abs(float(lp) - float(ls)) < 1e-6
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(jax.tree.leaves(gp), jax.tree.leaves(gs), strict=True))


def test_emt_train_task_deterministic_and_learns(tmp_path):
    cfg = EMTConfig(hidden=32, steps=120, chunk=60, ckpt_every=0, batch=32, n_seeds=2, test_batches=2)
    a = train_task(cfg, tmp_path / "a")
    b = train_task(cfg)
    assert a.params["W_hh"].shape == (2, 32, 32) and a.history["loss"].shape == (2, 120)
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])  # same seeds, same result
    assert not np.array_equal(a.params["W_hh"][0], a.params["W_hh"][1])  # members differ
    loss = a.history["loss"]
    assert (np.nanmean(loss[:, -20:], 1) < 0.98 * np.nanmean(loss[:, :20], 1)).all()  # loss goes down
    assert ((0.4 < a.test_accuracy) & (a.test_accuracy <= 1.0)).all()
    r = load_run(tmp_path / "a")
    assert r.members == a.members and np.array_equal(r.params["W_hh"], a.params["W_hh"])
    assert np.array_equal(r.test_accuracy, a.test_accuracy)


def test_emt_sweep_task_axis_and_table(tmp_path):
    cfg = EMTConfig(hidden=16, steps=60, chunk=30, ckpt_every=0, batch=8, test_batches=1)
    tasks = ["repeat_copy", "mix_262676_189"]
    run = train_sweep(cfg, tasks, [0.0, 0.1], [0.96], [3])
    assert [m["task"] for m in run.members] == [TASKS[t] for t in tasks for _ in range(2)]
    assert [m["l2"] for m in run.members] == [0.0, 0.1, 0.0, 0.1]
    # a member of the sweep equals the single-task run with the same seed / L2 (tasks enter as per-member data)
    solo = train_task(dataclasses.replace(cfg, task="mix_262676_189", l2=0.1, seed=3))
    assert np.allclose(run.params["W_hh"][3], solo.params["W_hh"][0], atol=1e-5)
    # L2 = 0.1 shrinks the recurrent weights
    assert np.linalg.norm(run.params["W_hh"][1]) < np.linalg.norm(run.params["W_hh"][0])
    cells, recs = table_cells(run, 16)
    assert len(recs) == 4 and set(cells) == {(TASKS[t], 16, lam) for t in tasks for lam in (0.0, 0.1)}
    text = format_table({(k[0], 64, k[2]): v for k, v in cells.items()}, hiddens=(64,), l2s=(0.0, 0.1))
    assert text.count("\n") == 4 and "[paper: --- (0.97)]" in text and "[paper: 0.0026 (1.00)]" in text


def test_emt_format_and_paper_table():
    assert len(PAPER_TABLE) == 24
    assert PAPER_TABLE[(TASKS["repeat_copy"], 128, 0.0)] == (0.0005, 1.00)
    text = format_table({(TASKS["repeat_copy"], 128, 0.0): (math.nan, 0.931)}, with_paper=False)
    assert "| --- (0.93) |" in text and "n/a" in text


def test_emt_circuit_experiment(tmp_path):
    res = run_circuit("quick", tmp_path)
    assert all(r.holds for r in res.rows), [r for r in res.rows if not r.holds]
    assert all((tmp_path / f).exists() for f in res.figures)


def test_emt_config_validation():
    with pytest.raises(ValueError):
        EMTConfig(task="255,0")
    with pytest.raises(ValueError, match="hidden"):
        EMTConfig(hidden=0)
    with pytest.raises(ValueError, match="threshold"):
        EMTConfig(threshold=1.5)
    with pytest.raises(ValueError, match="non-empty"):
        train_sweep(EMTConfig(), [], [0.0], [0.9], [0])


def test_emt_cli_train_resume_analyse(tmp_path, capsys):
    from wavejax.emt.cli import main

    out = tmp_path / "rc"
    args = ["train", "--hidden", "64", "--steps", "100", "--batch", "8", "--ckpt-every", "100", "--test-batches", "1",
            "--out", str(out)]
    main(args)
    first = load_run(out)
    main(args)  # rerunning resumes from the final checkpoint: nothing retrained, same result and history
    again = load_run(out)
    assert np.array_equal(first.params["W_hh"], again.params["W_hh"])
    assert np.isfinite(again.history["loss"]).all() and np.array_equal(first.history["loss"], again.history["loss"])
    main(["analyse", "--run", str(out)])
    txt = capsys.readouterr().out
    assert "spectral error" in txt and (out / "analysis.json").exists() and (out / "phi_emp_0.png").exists()
    with pytest.raises(SystemExit):
        main(["analyse", "--run", str(out), "--member", "3"])


# ---- paper scale (acceptance 2-4 of issue 3): minutes on CPU -------------------------------------------------------

@pytest.mark.slow
def test_emt_repeat_copy_paper_scale(tmp_path):
    run = train_task(EMTConfig(task="repeat_copy", hidden=128, steps=20_000, seed=0))
    rows, _, m = trained_rows(run, 0, tmp_path, full=True, figures=False)
    assert m["test_accuracy"] >= 0.99
    assert m["count"] == m["count_theory"] == 64 and 0.99 <= m["mod_min"] and m["mod_max"] <= 1.02
    assert m["spectral_error"] <= 2e-3
    assert m["dual_error"] < 1e-4 and m["off_on"] < 0.05 and m["sign_agreement"] == 1.0
    assert m["tracking"] == 1.0 and m["readout_fraction"] > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("name", ["compose_copy", "mix_262676_189", "mix_38637_145"])
def test_emt_composition_paper_scale(name, tmp_path):
    run = train_task(EMTConfig(task=name, hidden=128, steps=20_000, n_seeds=2))
    ok = []
    for mbr in range(2):
        _, _, m = trained_rows(run, mbr, tmp_path, full=True, figures=False)
        ok.append(m["test_accuracy"] >= 0.97 and m["count"] == 36 and m["spectral_error"] <= 1e-2)
    assert any(ok)


@pytest.mark.slow
def test_emt_l2_01_gives_chance():
    run = train_sweep(EMTConfig(hidden=128, steps=20_000), list(TASKS), [0.1], [0.96], [0])
    assert np.all(np.abs(run.test_accuracy - 0.5) < 0.05)
    assert jnp.all(jnp.isfinite(jnp.asarray(run.test_loss)))
