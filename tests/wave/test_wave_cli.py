"""The wave experiments and CLI: claims against fixed reference values, the results.json schema, every flag."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from wavejax._cli import parse_command
from wavejax.cli import main
from wavejax.report._results import validate_results
from wavejax.wave import _experiments as experiments
from wavejax.wave._cli import RolloutConfig
from wavejax.wave._experiments import WaveConfig

COMMANDS = {"rollout": RolloutConfig, "theory": WaveConfig, "spectra": WaveConfig, "gradients": WaveConfig,
            "travel": WaveConfig}


def _exp(name):
    return next(e for e in experiments.EXPERIMENTS if e.name == name)


def test_experiments_have_one_config_class_and_run_in_float64():
    for e in experiments.EXPERIMENTS:
        assert e.config is WaveConfig and e.x64
    assert WaveConfig.quick() == WaveConfig(steps=300, N=128, max_lag=40)
    assert WaveConfig.full() == WaveConfig(steps=1000, N=256, max_lag=80)


def test_spectra_counts_and_periods_match_reference(tmp_path):
    """Nonzero-eigenvalue counts and autonomous periods of M (wave.md §7.3), fixed values: repeat copy is a cyclic
    block shift of period s = 8 on all 64 slots; compose copy has one cycle of length 8 - j per dim j (36 slots,
    period lcm(1..8) = 840); the two signed mixes have 36 slots on cycles with periods 48 and 70."""
    res = _exp("wave.spectra").run(WaveConfig.quick(), tmp_path)
    expected = {"repeat_copy": (8, 64, 8), "compose_copy": (8, 36, 840), "mix_262676_189": (8, 36, 48),
                "mix_38637_145": (8, 36, 70)}
    assert len(res.rows) == 4
    for r, (name, (rank, count, period)) in zip(res.rows, expected.items(), strict=True):
        assert r.quantity.startswith(name)
        got = [s.strip() for s in r.measured.split("/")]
        assert (int(got[0]), int(got[1]), int(got[2])) == (rank, count, period)
        assert float(got[3]) <= 1e-9  # |lambda| = 1 for every nonzero eigenvalue
    for fig in res.figures:
        assert (tmp_path / fig).stat().st_size > 1000


def test_travel_probe_shifts_one_row_per_tick(tmp_path):
    res = _exp("wave.travel").run(WaveConfig.quick(), tmp_path)
    (r,) = res.rows
    assert r.measured > 0.999  # exact shift: corr(H_i(t), H_{i+1}(t-1)) = 1 up to rounding


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_lists_every_field(name, capsys):
    with pytest.raises(SystemExit) as e:
        main(["wave", name, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    for f in dataclasses.fields(COMMANDS[name]):
        assert f"--{f.name.replace('_', '-')}" in text
    assert "--out" in text and "--preset" in text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_preset_full_parses(name):
    cls = COMMANDS[name]
    cfg, out = parse_command(cls, ["--preset", "full", "--seed", "3"], prog=f"wavejax wave {name}")
    assert cfg == dataclasses.replace(cls.full(), seed=3) and out is None


def test_cli_rollout_overwrite_exact_and_add_mode_fails(tmp_path):
    main(["wave", "rollout", "--task", "compose_copy", "--horizon", "12", "--batch", "4", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    validate_results(res)
    assert res["metrics"]["max_error"] == 0.0 and res["metrics"]["sign_accuracy"] == 1.0
    assert res["config"]["task"] == "compose_copy" and res["config"]["horizon"] == 12
    assert (tmp_path / "error_vs_time.png").exists()
    add = tmp_path / "add"
    main(["wave", "rollout", "--preset", "quick", "--task", "compose_copy", "--input-mode", "add", "--out", str(add)])
    res = json.loads((add / "results.json").read_text())
    validate_results(res)
    # the documented add-mode failure (wave.md §2.4): the lag-1 dim is corrupted during the input phase
    assert res["metrics"]["max_error"] >= 1.0 and res["metrics"]["sign_accuracy"] < 0.95
    assert len(res["metrics"]["error_vs_time"]) == 40


def test_cli_gradients_small_config(tmp_path):
    main(["wave", "gradients", "--preset", "quick", "--N", "64", "--max-lag", "12", "--out", str(tmp_path)])
    res = json.loads((tmp_path / "results.json").read_text())
    validate_results(res)
    g_wave, g_rand = np.asarray(res["metrics"]["g_wave"]), np.asarray(res["metrics"]["g_random"])
    assert g_wave.shape == g_rand.shape == (13,)
    np.testing.assert_allclose(g_wave, 1.0, atol=1e-9)  # orthonormal wave basis: no decay inside the window
    assert g_rand[-1] < g_rand[1]  # random tanh RNN with gain 0.9 decays


def test_wave_float32_smoke():
    """The wave cores in float32 with 64-bit mode off (explicit dtypes; no hidden float64)."""
    from wavejax import tasks, wave

    with jax.enable_x64(False):
        phi = tasks.binary_vb_task("mix_262676_189")
        x, y, m = tasks.task_batch(jax.random.key(0), phi, horizon=20, batch=3)
        f = wave.linear_boundary(phi.astype(np.float32))
        ys = jax.vmap(lambda xi: wave.rollout(f, np.zeros((8, 8), np.float32), xi, mask=~m, save="newest"))(x)
        assert ys.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(ys[:, 8:]), np.asarray(y[:, 8:]))
        Psi = wave.random_basis(jax.random.key(1), 64, 64, dtype=np.float32)
        W_uh, _ = wave.write_read(Psi, 8, 8)
        W = wave.embed(wave.lbc_matrix(tasks.binary_vb_task("repeat_copy")), Psi).astype(np.float32)
        run = wave.rnn_runner(W, W_uh.astype(np.float32))
        g = wave.gradient_vs_lag(run, np.zeros((20, 8), np.float32), max_lag=10)
        np.testing.assert_allclose(g, 1.0, atol=1e-4)
        with pytest.raises(ValueError, match="dtype=float64"):
            wave.random_basis(jax.random.key(1), 8, 8)  # the float64 default needs 64-bit mode: a clear error
