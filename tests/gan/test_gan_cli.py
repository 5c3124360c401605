"""GAN experiments, study and CLI: fixed reference values and cross-checks between independent parts."""

import dataclasses
import json
import math
from types import SimpleNamespace

import jax
import numpy as np
import pytest
from gan_tiny import TINY

from wavejax._cli import parse_command
from wavejax.cli import main
from wavejax.gan import NULLS, ClassifierConfig, run_study
from wavejax.gan import _experiments as experiments
from wavejax.gan._cli import commands
from wavejax.report._results import validate_results


def test_checks_experiment_fixed_values(tmp_path):
    exp = next(e for e in experiments.EXPERIMENTS if e.name == "gan.checks")
    assert exp.x64  # the RMSProp parity is a float64 comparison
    res = exp.run(exp.config.quick(), tmp_path)
    assert (res.metrics["params_g"], res.metrics["params_d"]) == (494_513, 168_593)  # gan.md §7.2
    assert res.rows[1].measured == f"{2 * math.log(2):.6f} / {math.log(2):.6f}"  # L at D = 0: 2 ln 2, ln 2
    assert res.metrics["rmsprop_rel_err"] < 1e-12  # float64 recurrence: rounding only
    mean = float(res.rows[3].measured.split(" ± ")[0])
    assert mean == pytest.approx(2.1149, abs=0.005)  # spec §6, 20k draws


def test_study_smoke_is_consistent(tmp_path):
    # tiny everything: the numbers are meaningless; the parts must agree with each other
    res = run_study(TINY, ClassifierConfig.quick(steps=3, fc=8, conv=(2, 2)), out=tmp_path, n_eval=16)
    ent = res["entropy"]
    assert set(ent) >= {"real", "untrained", "none", "conv2", "random_probability_vectors"}
    for name in ("real", "untrained", "none", "conv2"):
        assert 0.0 <= ent[name]["mean"] <= math.log(10) + 1e-6
    assert ent["none"]["n"] == TINY.seeds * 16
    # the CI of the difference is built from the same per-sample entropies as the means
    d = res["baseline_minus_shared"]
    assert d["diff"] == pytest.approx(ent["none"]["mean"] - ent["conv2"]["mean"], abs=1e-6)
    assert np.mean(res["entropy_per_seed"]["none"]) == pytest.approx(ent["none"]["mean"], abs=1e-6)
    for dv in res["diversity"].values():
        assert 0.0 <= dv["marginal_entropy"] <= np.log(10) + 1e-9 and 1 <= dv["n_classes"] <= 10
    assert set(res["similarity"]["ks"]) == set(NULLS)
    assert all(0.0 <= k["pvalue"] <= 1.0 for k in res["similarity"]["ks"].values())
    # the study's weight numbers are those of the checkpointed baseline run's seed-0 kernels
    w = res["weights"]
    assert w["clip"] == 0.01 and 0.0 <= w["shared_clip_fraction"] <= 1.0
    for fig in res["figures"]:
        assert (tmp_path / fig).stat().st_size > 1000
    assert "losses.png" in res["figures"]
    assert all(len(res["training"][arm][m]) == TINY.seeds for arm in ("none", "conv2") for m in ("d_loss", "g_loss"))
    assert (tmp_path / "conv2" / "ckpt").exists()


def test_training_tail_is_the_mean_of_the_last_tenth():
    """Per arm and seed: the mean of the last ``round(frac * steps)`` logged losses (at least one step)."""
    from wavejax.gan._study import _training_tail

    d = np.arange(40.0).reshape(2, 20)  # (seeds, steps)
    run = SimpleNamespace(history={"d_loss": d, "g_loss": -d})
    tail = _training_tail({"none": run, "conv2": run}, "conv2")
    assert tail["none"]["d_loss"] == [18.5, 38.5] and tail["conv2"]["g_loss"] == [-18.5, -38.5]  # steps 18, 19
    assert _training_tail({"none": run, "conv1": run}, "conv1", frac=0.01)["conv1"]["d_loss"] == [19.0, 39.0]


def test_cli_similarity_schema_and_verdicts(tmp_path):
    k = jax.random.split(jax.random.key(0), 3)
    for name, kk in zip(("g", "d", "i"), k, strict=True):
        np.save(tmp_path / f"{name}.npy", np.asarray(0.02 * jax.random.normal(kk, (5, 5, 4, 4))))
    main(["gan", "similarity", "--g-kernel", str(tmp_path / "g.npy"), "--d-kernel", str(tmp_path / "d.npy"),
          "--d-independent", str(tmp_path / "i.npy"), "--out", str(tmp_path / "sim")])
    res = json.loads((tmp_path / "sim" / "results.json").read_text())
    validate_results(res)
    assert res["metrics"]["report"]["verdict"] == "not above chance"  # independent Gaussian kernels
    assert "independent_critic" in (tmp_path / "sim" / "similarity.md").read_text()
    # a kernel against itself: every best-match cosine is exactly 1, far above every null
    main(["gan", "similarity", "--g-kernel", str(tmp_path / "g.npy"), "--d-kernel", str(tmp_path / "g.npy"),
          "--out", str(tmp_path / "same")])
    same = json.loads((tmp_path / "same" / "results.json").read_text())["metrics"]["report"]
    assert same["summary"]["observed"]["mean"] == pytest.approx(1.0, abs=1e-6)
    assert same["verdict"] == "above chance"


def test_cli_train_quick_writes_schema_and_kernels(tmp_path):
    out = tmp_path / "train"
    main(["gan", "train", "--preset", "quick", "--hidden", "4", "--batch", "8", "--n-critic", "2", "--steps", "2",
          "--log-every", "2", "--sample-every", "2", "--ckpt-every", "2", "--out", str(out)])
    res = json.loads((out / "results.json").read_text())
    validate_results(res)
    assert res["metrics"]["steps"] == 2
    assert res["figures"] == ["samples/step_0000002.png"] and (out / res["figures"][0]).stat().st_size > 1000
    assert np.load(out / "g_kernel.npy").shape[:3] == (2, 5, 5)  # (seeds, 5, 5, C_in, C_out), 2 quick seeds
    assert len(res["metrics"]["last_metrics"]["g_loss"]) == 2  # one value per seed
    # issue 14 item 7: `gan similarity` reads what `gan train` wrote (it failed on the seeds axis naming `a`)
    g, d = np.load(out / "g_kernel.npy"), np.load(out / "d_kernel.npy")
    n = g.shape[3] * g.shape[4]  # C_in * C_out slices per seed
    main(["gan", "similarity", "--run", str(out), "--out", str(tmp_path / "sim")])
    sim = json.loads((tmp_path / "sim" / "results.json").read_text())
    validate_results(sim)
    assert sim["metrics"]["seeds"] == [0, 1] and sim["metrics"]["report"]["summary"]["observed"]["n"] == 2 * n
    assert sim["figures"] == ["best_match_hist.png"]
    assert (tmp_path / "sim" / "best_match_hist.png").stat().st_size > 1000
    main(["gan", "similarity", "--g-kernel", str(out / "g_kernel.npy"), "--d-kernel", str(out / "d_kernel.npy"),
          "--member", "1", "--out", str(tmp_path / "sim1")])
    one = json.loads((tmp_path / "sim1" / "results.json").read_text())["metrics"]
    assert one["seeds"] == [1] and one["report"]["summary"]["observed"]["n"] == n
    # the pooled observed cosines are seed 0's then seed 1's (same G/D pairs, independent of the null draws)
    assert one["values"]["observed"] == sim["metrics"]["values"]["observed"][n:]
    np.save(tmp_path / "flat.npy", g[0, :, :, 0])  # 3-D: not a kernel
    np.save(tmp_path / "d0.npy", d[0])  # one seed only: the seed counts differ
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    bad = tmp_path / "flat.npy", tmp_path / "d0.npy"
    for argv, match in [(["--g-kernel", str(bad[0])], r"g_kernel=.*flat\.npy.*got shape \(5, 5, \d+\)"),
                        (["--d-kernel", str(bad[1])], r"g_kernel\.npy has shape \(2, .*d0\.npy has shape \(1,"),
                        (["--d-kernel", str(tmp_path / "junk.npy")], r"d_kernel=.*junk\.npy.*not a readable"),
                        (["--run", str(tmp_path / "nowhere")], r"run=.*nowhere.*g_kernel\.npy.*no such file"),
                        (["--member", "2"], "member=2 is out of range.*2 seed")]:
        flags = {"--g-kernel": str(out / "g_kernel.npy"), "--d-kernel": str(out / "d_kernel.npy"), argv[0]: argv[1]}
        with pytest.raises(SystemExit, match=match) as info:  # one line; each flag once
            main(["gan", "similarity", *[x for kv in flags.items() for x in kv], "--out", str(tmp_path / "bad")])
        assert "\n" not in str(info.value.code)


@pytest.mark.parametrize("name", sorted(commands()))
def test_cli_every_command_parses_full_preset_and_lists_its_fields(name, capsys):
    cls, _ = commands()[name]
    cfg, _ = parse_command(cls, ["--preset", "full"], prog=f"wavejax gan {name}")
    assert isinstance(cfg, cls)
    with pytest.raises(SystemExit):
        main(["gan", name, "--help"])
    txt = capsys.readouterr().out
    for f in dataclasses.fields(cls):
        assert f"--{f.name.replace('_', '-')}" in txt


def test_gan_presets():
    from wavejax.gan import GANConfig, StudyConfig

    assert GANConfig.PRESETS == ("quick", "cpu", "full", "paper")
    assert GANConfig.paper().seeds == 1 and GANConfig.full().seeds == 3 and GANConfig.full().data == "mnist"
    assert GANConfig.quick().data == "digits"
    cpu = GANConfig.cpu()  # real 28x28 digits, the paper's architecture at reduced width
    assert (cpu.data, cpu.image_size, cpu.hidden, cpu.seeds) == ("mnist5k", 28, 8, 2)
    # reproduce --full is the 28x28 CPU study; the paper configuration is its own preset
    assert StudyConfig.PRESETS == ("quick", "full", "paper", "study28", "study28_gp")
    assert StudyConfig.full().gan == cpu and StudyConfig.paper().gan == GANConfig.full()
    assert StudyConfig.full().classifier.shift == 2 and StudyConfig.paper().classifier.shift == 0
    # issue 20 item 3: both losses, >= 5,000 G steps, >= 3 seeds per arm, h >= 16 on the 28x28 digits
    for study, loss, clip in ((StudyConfig.study28(), "original", 0.01), (StudyConfig.study28_gp(), "wgan_gp", 0.0)):
        g = study.gan
        assert (g.loss, g.clip, g.image_size, g.data) == (loss, clip, 28, "mnist5k")
        assert g.steps >= 5000 and g.seeds >= 3 and g.hidden >= 16 and g.batch == 64 and g.n_critic == 5
        assert study.shared == "conv2" and study.classifier == StudyConfig.full().classifier
