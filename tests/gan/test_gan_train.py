"""Clipping, the D -> G copy, frozen shared leaves, one jitted outer step, seeds and resume (gan.md §2.5, §4,
§7.4-5; issue 6 acceptance 3)."""

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gan_tiny import TINY

from wavejax import io
from wavejax.gan import (
    GANConfig,
    clip_params,
    copy_shared,
    create_states,
    critic_phase,
    generator_step,
    outer_step,
    train,
)
from wavejax.gan._run import _vstep, seed_slice
from wavejax.gan._train import generator_labels


def _data():
    return jax.random.uniform(jax.random.key(3), (32, 8, 8, 1), jnp.float32)


def _leaves_equal(a, b):
    return all(bool(jnp.array_equal(x, y)) for x, y in zip(jax.tree_util.tree_leaves(a),
                                                             jax.tree_util.tree_leaves(b), strict=True))


def test_clipping_bounds_every_leaf(key):
    _, sd = create_states(key, TINY)
    big = jax.tree_util.tree_map(lambda p: p + 0.5, sd.params)  # BN scale is 1.5 and offsets 0.5 before clipping
    c = clip_params(big, 0.01)
    for leaf in jax.tree_util.tree_leaves(c):
        assert float(jnp.max(jnp.abs(leaf))) <= 0.01
    assert "scale" in c["d0_bn"] and float(c["d0_bn"]["scale"].min()) == pytest.approx(0.01)


def test_critic_phase_clips_before_each_update(key):
    # D is clipped before each update, so after the phase it lies within one RMSProp step of [-c, c] and some leaf
    # has left the range (expected, §7.4). One TF1 step is lr |g| / sqrt(0.9^k ms_0 + ... + 0.1 g^2) <= lr / sqrt(0.1)
    sg, sd = create_states(key, TINY)
    sd2, loss = jax.jit(critic_phase, static_argnames="cfg")(sg, sd, jax.random.key(1), _data(), cfg=TINY)
    mx = max(float(jnp.max(jnp.abs(x))) for x in jax.tree_util.tree_leaves(sd2.params))
    assert 0.01 < mx <= 0.01 + TINY.lr / np.sqrt(0.1) + 1e-7
    assert np.isfinite(float(loss))
    assert int(sd2.step) == TINY.n_critic


@pytest.mark.parametrize("sharing", ["conv2", "conv1"])
def test_copy_then_generator_update_keeps_shared_leaves(key, sharing):
    cfg = dataclasses.replace(TINY, sharing=sharing)
    sg, sd = create_states(key, cfg)
    sd = sd.replace(params=jax.tree_util.tree_map(lambda p: p + 0.003, sd.params))  # make D differ from G
    g_layer, d_layer, leaves = {"conv2": ("gshared", "dshared", ("kernel",)),
                                "conv1": ("g0", "d0", ("kernel", "bias"))}[sharing]
    sg = sg.replace(params=copy_shared(sg.params, sd.params, sharing))
    for leaf in leaves:  # (i) bit for bit after the copy
        assert jnp.array_equal(sg.params[g_layer][leaf], sd.params[d_layer][leaf])
    sg2, m = generator_step(sg, sd, jax.random.key(2), cfg=cfg)
    for leaf in leaves:  # (ii) a G update leaves the copy unchanged
        assert jnp.array_equal(sg2.params[g_layer][leaf], sd.params[d_layer][leaf])
    assert not jnp.array_equal(sg2.params["g2"]["kernel"], sg.params["g2"]["kernel"])  # the rest does train
    if sharing == "conv2":  # f6393ad: the shared layer's bias stays G-trained
        assert generator_labels(sg.params, sharing)["gshared"] == {"kernel": "frozen", "bias": "train"}
    assert np.isfinite(float(m["g_loss"]))


def test_generator_update_leaves_critic_unchanged_and_baseline_kernel_moves(key):
    sg, sd = create_states(key, TINY)  # sharing = "none"
    sd_before = jax.tree_util.tree_map(jnp.copy, (sd.params, sd.batch_stats, sd.opt_state))
    sg2, _ = generator_step(sg, sd, jax.random.key(2), cfg=TINY)
    assert _leaves_equal((sd.params, sd.batch_stats, sd.opt_state), sd_before)  # (iii)
    assert not jnp.array_equal(sg2.params["gshared"]["kernel"], sg.params["gshared"]["kernel"])  # (iv)


def test_outer_step_jitted_shared_invariant(key):
    cfg = dataclasses.replace(TINY, sharing="conv2")
    sg, sd = create_states(key, cfg)
    step = jax.jit(outer_step, static_argnames="cfg")
    sg, sd, m = step(sg, sd, jax.random.key(1), _data(), cfg=cfg)
    sg, sd, m = step(sg, sd, jax.random.key(2), _data(), cfg=cfg)
    # after a whole outer step G holds exactly D's kernel (copied after the critic phase, frozen in the G step)
    assert jnp.array_equal(sg.params["gshared"]["kernel"], sd.params["dshared"]["kernel"])
    assert int(sg.step) == 2 and int(sd.step) == 2 * cfg.n_critic
    assert set(m) == {"d_loss", "g_loss", "d_fake"}
    assert all(np.isfinite(float(v)) for v in m.values())


def test_train_vmapped_seeds_resume_and_outputs(tmp_path):
    data = _data()
    ref = train(TINY, data=data)  # 4 steps, no output
    assert ref.history["d_loss"].shape == (TINY.seeds, 4)  # (members, steps), as the engine
    assert np.isfinite(ref.history["g_loss"]).all()
    # seeds are independent runs
    assert not jnp.array_equal(ref.state_g.params["g0"]["kernel"][0], ref.state_g.params["g0"]["kernel"][1])
    out = tmp_path / "run"
    compiled = _vstep._cache_size()
    train(TINY, data=data, out=out, steps=2)  # "interrupted" after 2 steps
    res = train(TINY, data=data, out=out)  # resumes from the step-2 checkpoint
    assert _vstep._cache_size() == compiled  # the restored states have the fresh ones' types: no second compile
    for k in ref.history:  # resumed: the history before step 2 is restored from out/history, not NaN
        np.testing.assert_array_equal(res.history[k], ref.history[k])
    assert _leaves_equal(res.state_g.params, ref.state_g.params)
    assert _leaves_equal(res.state_d.params, ref.state_d.params)
    assert (out / "metrics.jsonl").exists() and (out / "samples" / "step_0000004.png").exists()
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
    one = seed_slice(res.state_g.params, 1)
    assert one["g0"]["kernel"].shape == (5, 5, 1, 4)


def test_config_validation():
    with pytest.raises(ValueError, match="sharing"):
        GANConfig(sharing="conv3")
    with pytest.raises(ValueError, match="hidden"):
        GANConfig(hidden=10)
    with pytest.raises(ValueError, match="clip"):
        GANConfig(clip=-1.0)
    with pytest.raises(ValueError, match="data"):
        train(TINY, data=np.zeros((4, 7, 7, 1), np.float32))


HERE = Path(__file__).resolve().parent
KILL_CFG = dataclasses.replace(TINY, steps=8, log_every=2, ckpt_every=4, sample_every=4)


def test_gan_killed_run_resumes_bitwise(tmp_path):
    # a real SIGKILL at step 6: after the step-4 checkpoint and the step-6 log line, before any step-8 checkpoint
    ref = train(KILL_CFG, data=_data(), out=tmp_path / "ref")
    run = tmp_path / "run"
    code = f"""
        import dataclasses, os, signal, sys
        sys.path[:0] = ["{HERE.parent}", "{HERE}"]
        import jax
        jax.config.update("jax_enable_x64", True)  # as tests/conftest.py: jax.random's bits depend on x64
        from test_gan_train import KILL_CFG, _data
        from wavejax.gan import train
        def kill(step, _):
            if step == 6:
                os.kill(os.getpid(), signal.SIGKILL)
        train(KILL_CFG, data=_data(), out="{run}", callback=kill)
    """
    env = {**os.environ, "WAVEJAX_PROGRESS": "0"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert io.latest_step(run / "ckpt") == 4
    assert [r["step"] for r in io.read_jsonl(run / "metrics.jsonl")] == [2, 4, 6]
    res = train(KILL_CFG, data=_data(), out=run)  # the same command again: resumes at 4, drops the step-6 line
    chex.assert_trees_all_equal((res.state_g.params, res.state_d.params, res.state_g.opt_state,
                                 res.state_d.opt_state, res.state_d.batch_stats),
                                (ref.state_g.params, ref.state_d.params, ref.state_g.opt_state,
                                 ref.state_d.opt_state, ref.state_d.batch_stats))
    for k in ref.history:  # the whole per-step history, restored up to the checkpoint (issue 14 §4)
        np.testing.assert_array_equal(res.history[k], ref.history[k])
    logs = io.read_jsonl(run / "metrics.jsonl")
    assert [r["step"] for r in logs] == [2, 4, 6, 8]  # no duplicate line
    assert logs == io.read_jsonl(ref.out / "metrics.jsonl")
    assert sorted(p.name for p in (run / "history").iterdir()) == ["step_000000004.npz", "step_000000008.npz"]
    # issue 14 §10: interrupted before its first checkpoint, the rerun starts afresh without duplicating lines
    def stop(step, _):
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(KILL_CFG, data=_data(), out=tmp_path / "early", callback=stop)
    assert [r["step"] for r in io.read_jsonl(tmp_path / "early" / "metrics.jsonl")] == [2]
    train(KILL_CFG, data=_data(), out=tmp_path / "early")
    assert io.read_jsonl(tmp_path / "early" / "metrics.jsonl") == io.read_jsonl(ref.out / "metrics.jsonl")


def test_gan_train_float32_with_x64_off_traces_the_step_once(monkeypatch):
    # the Python loop dispatches ONE jitted seed-vmapped step: 4 steps in 2 chunks, then 3 more steps of another
    # run, trace outer_step once (x64 off is a fresh trace context, and lr 2e-3 a config no other test compiled)
    import wavejax.gan._run as run

    cfg = dataclasses.replace(TINY, lr=2e-3)
    monkeypatch.setattr(run, "outer_step", chex.assert_max_traces(outer_step, n=1))
    with jax.enable_x64(False):
        res = train(cfg, data=_data())
        assert res.state_g.params["g0"]["kernel"].dtype == jnp.float32
        # a run that differs only in run-only fields (steps, seed, logging) reuses the compiled step: no new trace
        other = train(dataclasses.replace(cfg, steps=3, seed=7, log_every=1, sample_every=1, ckpt_every=1),
                      data=_data())
    assert other.history["g_loss"].shape == (cfg.seeds, 3)
    assert res.history["g_loss"].shape == (cfg.seeds, cfg.steps) and np.isfinite(res.history["g_loss"]).all()
    assert np.isfinite(res.history["d_loss"]).all()


def test_unrolled_critic_phase_equals_the_loop_form(key):
    """``outer_step`` unrolls its critic updates in Python; the ``lax.fori_loop`` form it replaced is the reference.

    Bit for bit (measured: 0 ulp here, TINY; up to 11 ulp at 28x28, h = 8, B = 32 after 3 steps, where XLA orders some
    batch reductions differently), except the critic's conv biases, which precede a BatchNorm: the loss does not
    depend on them, their gradient is rounding noise of either sign, and TF1 RMSProp turns noise into steps of size
    ~lr. For those the bound is the update size: n_critic * 3 steps * lr / sqrt(0.1).
    """
    train_mod = sys.modules[outer_step.__module__]  # the private loop form lives next to outer_step
    cfg = dataclasses.replace(TINY, sharing="conv2")  # as test_outer_step_jitted_shared_invariant: one compile
    sg, sd = create_states(key, cfg)
    fast = jax.jit(outer_step, static_argnames="cfg")
    loop = jax.jit(partial(train_mod._outer_step, unroll=False), static_argnames="cfg")
    a = b = (sg, sd)
    for t in range(3):
        a = fast(a[0], a[1], jax.random.key(t), _data(), cfg=cfg)
        b = loop(b[0], b[1], jax.random.key(t), _data(), cfg=cfg)
    _assert_same_training(a, b, cfg, steps=3)
    assert jnp.array_equal(a[0].params["gshared"]["kernel"], a[1].params["dshared"]["kernel"])


def _assert_same_training(a, b, cfg, *, steps):
    """(state_g, state_d, ...) trees ``a`` and ``b`` agree to rtol 2e-6 (~16 float32 ulp) on every float leaf (atol
    1e-6 x steps x lr for entries that stayed at rounding-noise size, e.g. BN offsets near 0) and exactly on
    integer leaves, except the pre-BatchNorm biases of either player (the loss does not depend on them: their
    gradients are rounding noise), bounded by the update size
    n_critic * steps * lr / sqrt(0.1) (see test_unrolled_critic_phase_equals_the_loop_form)."""
    pre_bn = {"[1].params": ("d0", "dshared", "d2", "d3"),
              "[0].params": ("g_lin", "g0", "gshared", "g2", "gt3", "gt1")}
    for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(a), jax.tree_util.tree_leaves(b), strict=True):
        name = jax.tree_util.keystr(path)
        if any(name.startswith(pl) and name.endswith(f"['{n}']['bias']") for pl, ns in pre_bn.items() for n in ns):
            assert float(jnp.max(jnp.abs(x - y))) <= steps * cfg.n_critic * cfg.lr / np.sqrt(0.1), name
        elif jnp.issubdtype(x.dtype, jnp.floating):  # ~16 ulp, or 1e-6 of the steps' total lr for ~0 leaves
            np.testing.assert_allclose(x, y, rtol=2e-6, atol=1e-6 * steps * cfg.lr, err_msg=name)
        else:
            assert jnp.array_equal(x, y), name


def test_seeds_in_turn_equal_the_vmapped_seeds():
    """On one CPU device the driver runs the seeds in turn through the program compiled for one seed (XLA:CPU ran
    the seed-vmapped step slower); it must compute what the vmapped step computes, to float32 rounding, and a seed's
    result must not depend on the other seeds."""
    import wavejax.gan._run as run
    from wavejax.gan._train import _step_cfg

    assert run._loops_over_seeds(None) == (jax.default_backend() == "cpu")
    cfg = _step_cfg(TINY)
    sg, sd = run.init_states(TINY)
    keys = jax.random.split(jax.random.key(0), TINY.seeds)
    data = jnp.asarray(_data())
    turn = run._chunk(sg, sd, keys, data, cfg=cfg, n=2, seed_loop=True)
    vmapped = run._chunk(sg, sd, keys, data, cfg=cfg, n=2, seed_loop=False)
    assert turn[2]["g_loss"].shape == (TINY.seeds, 2)
    _assert_same_training(turn, vmapped, cfg, steps=2)
    # seed 1 alone (a size-1 seed axis) gives the same bits as seed 1 of the run in turn
    alone = run._chunk(*jax.tree.map(lambda a: a[1:], (sg, sd, keys)), data, cfg=cfg, n=2, seed_loop=False)
    assert _leaves_equal(jax.tree.map(lambda a: a[1:], turn), alone)
