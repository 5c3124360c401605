"""Issue 22 item 2: oversized requests are refused before anything is allocated or compiled, with a ValueError
naming the argument and the estimate (they used to end in an XLA abort, a RESOURCE_EXHAUSTED after minutes of
compiling, a NumPy MemoryError or a hang). Every case here is far beyond any machine's memory and returns in
milliseconds (nothing is compiled: the tests would take minutes or crash otherwise)."""

import dataclasses
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import _memory, gan, gsemm, tasks, tradeoff, wave
from wavejax.gan._run import init_states
from wavejax.gsemm._capacity import cycle_trial

K = jax.random.key(0)
HUGE = re.compile(r"needs ~[\d.]+ [KMGTP]iB.*, [\d.]+ [KMGTP]?i?B available")


def _refused(call, *names):
    with pytest.raises(ValueError) as e:
        call()
    msg = str(e.value)
    assert HUGE.search(msg), msg
    for name in names:
        assert name in msg, msg
    return msg


def test_format_bytes_and_the_limit_override(monkeypatch):
    assert _memory.format_bytes(512) == "512 B"
    assert _memory.format_bytes(3.7 * 2**40) == "3.7 TiB"
    assert _memory.format_bytes(19 * 2**30) == "19 GiB"
    assert _memory.nbytes((10**9, 10**3), np.float32) == 4 * 10**12  # Python ints: no overflow
    monkeypatch.setenv("WAVEJAX_MEMORY_LIMIT", "1M")
    assert _memory.available_bytes() == 2**20
    with pytest.raises(ValueError, match=r"^batch=300 needs ~1\.2 MiB \(x\), 1\.0 MiB available; reduce batch$"):
        _memory.require_fits({"batch": 300}, 300 * 4096, what="x")
    _memory.require_fits({"batch": 200}, 200 * 4096)  # fits: no error
    monkeypatch.setenv("WAVEJAX_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="WAVEJAX_MEMORY_LIMIT"):
        _memory.available_bytes()


def test_wave_task_batch_and_rollout():
    """XLA abort kind: a 10^9-sequence task batch (the `wave rollout --batch` path) and a 10^12-tick lattice."""
    phi = tasks.binary_vb_task("repeat_copy")
    _refused(lambda: tasks.task_batch(K, phi, horizon=100, batch=10**9), "batch=1000000000", "horizon=100")
    f = wave.linear_boundary(np.asarray(phi, np.float32))
    xs = jax.ShapeDtypeStruct((10**12, 8), jnp.float32)  # traced (as under the CLI's vmap): no array behind it
    _refused(lambda: jax.eval_shape(lambda x: wave.rollout(f, jnp.zeros((8, 8)), x), xs), "len(xs)=1000000000000")


def test_gsemm_simulate_batch_and_capacity():
    """RESOURCE_EXHAUSTED kind: a save grid of 10^12 points, and a capacity trial with 10^6 memories."""
    xi, phi = gsemm.cycle_memories(K, 8, 3)
    _refused(lambda: gsemm.simulate_batch("dsem", xi, phi, np.asarray(xi).T, t1=1e12, save_every=1.0, alpha_s=1.0,
                                          alpha_c=2.0), "t1=1000000000000.0", "len(v0s)=3")
    _refused(lambda: gsemm.simulate("dsem", xi, phi, xi[:, 0], t1=1e13, save_every=0.5, alpha_s=1.0, alpha_c=2.0),
             "t1=", "save_every=0.5")
    _refused(lambda: cycle_trial("dsem", K, 1000, 10**6), "n_memories=1000000")


def test_rnn_and_emt_training():
    """Abort / RESOURCE_EXHAUSTED kind: members x batch x T x H beyond memory, checked on the traced batch."""
    from wavejax.rnn import Elman, TrainConfig, train

    def batch_fn(key, level):
        x = jnp.zeros((10**6, 1000, 2), jnp.float32)  # traced by jax.eval_shape only
        return x, x, jnp.ones((1000,), bool)

    cfg = TrainConfig(steps=10, chunk=10, log_every=10, ckpt_every=0, n_levels=1)
    _refused(lambda: train(Elman(hidden=256, d_out=2), batch_fn, cfg, key=K, n_members=4), "n_members=4",
             "batch B=1000000", "hidden=256")


def test_tradeoff_sweep(tmp_path):
    """NumPy MemoryError kind: 10^12-step programs; refused before the folder is claimed."""
    cfg = dataclasses.replace(tradeoff.SweepConfig.quick("hmm"), length=10**12)
    _refused(lambda: tradeoff.run_sweep(cfg, tmp_path / "sweep"), "length=1000000000000")
    assert not (tmp_path / "sweep").exists()


def test_gan_huge_seed_count_and_samples():
    """Hang kind: a GAN with 10^9 seeds (it used to block in device_get), and 10^12 samples."""
    cfg = dataclasses.replace(gan.GANConfig.quick(), seeds=10**9)
    _refused(lambda: gan.train(cfg), "seeds=1000000000")
    small = gan.GANConfig.quick()
    g_vars, _ = jax.eval_shape(lambda k: init_states(small, k), K)
    _refused(lambda: gan.sample(g_vars, K, 10**12, hidden=small.hidden, image_size=small.image_size), "n=")
