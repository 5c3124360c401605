"""The bad-input battery, issue 22 item 4: ranges and relations. Each case asserts the exception type and that the
message names the argument (or the flag). Classes: searches whose bounds contradict each other, probability tables
that are not distributions, index tables out of range, NaN / inf / complex data, images outside their documented
range, contradictory flags, configs whose fields contradict each other, and legacy ``jax.random.PRNGKey`` arrays
(accepted everywhere, converted to typed keys, one TypeError for anything else). Every case fails before anything
is compiled; all of them were silent (or failed later, deep, naming something else) before."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import _validate, emt, gan, gsemm, tasks, tradeoff
from wavejax.gan._evaluate import classifier_entropy_from_probs

K = jax.random.key(0)
HMM_OK = dict(E=jnp.array([[0.5, 0.5], [0.9, 0.1]]), nxt=jnp.array([[0, 1], [1, 0]], jnp.int32))


def _cli(argv):
    from wavejax.cli import main

    return main(argv)


def _gan_train(data):
    cfg = gan.GANConfig.quick(steps=1)
    return gan.train(cfg, data=data)


CASES = [
    # searches whose bounds contradict each other (returned K* = 0 without a trial)
    ("gsemm-capacity-k_start-above-k_max", lambda: gsemm.capacity_search("dsem", K, 8, k_start=8, k_max=4),
     ValueError, r"k_start must be <= k_max"),
    ("gsemm-capacity-need-above-n_sets", lambda: gsemm.capacity_search("dsem", K, 8, n_sets=2, need=3),
     ValueError, r"need must be <= n_sets"),
    # probability tables that are not distributions (got an entropy)
    ("tradeoff-hmm-rows-not-summing-to-1",
     lambda: tradeoff.hmm_entropy_rate(tradeoff.HMM(E=jnp.full((2, 2), 0.3), nxt=HMM_OK["nxt"])), ValueError,
     r"hmm\.E must be a probability distribution"),
    ("tradeoff-hmm-negative-probability",
     lambda: tradeoff.hmm_entropy_rate(tradeoff.HMM(E=jnp.array([[1.5, -0.5], [0.5, 0.5]]), nxt=HMM_OK["nxt"])),
     ValueError, r"hmm\.E .*negative"),
    ("gan-probs-not-distribution", lambda: classifier_entropy_from_probs(jnp.array([[0.5, 0.6]])), ValueError,
     r"^p must be a probability distribution"),
    ("gan-probs-nan", lambda: classifier_entropy_from_probs(jnp.array([[np.nan, 1.0]])), ValueError,
     r"^p must be finite"),
    # index tables out of range (were used: one_hot of an out-of-range state is all zeros)
    ("tradeoff-hmm-next-state-out-of-range",
     lambda: tradeoff.hmm_sample(K, tradeoff.HMM(E=HMM_OK["E"], nxt=jnp.array([[0, 2], [1, 0]], jnp.int32)), 5),
     ValueError, r"hmm\.nxt must hold indices in \[0, 2\)"),
    ("tradeoff-hmm-symbols-out-of-range", lambda: tradeoff.hmm_forward_nll(tradeoff.HMM(**HMM_OK), [0, 1, 5]),
     ValueError, r"^xs must hold indices in \[0, 2\)"),
    # NaN / inf / complex data (were decoded or generated from)
    ("gsemm-decode-nan", lambda: gsemm.decode(np.arange(4.0), np.full((4, 3), np.nan)), ValueError,
     r"^m must be finite"),
    ("gsemm-decode-inf", lambda: gsemm.decode(np.arange(4.0), np.full((4, 3), np.inf)), ValueError,
     r"^m must be finite"),
    ("gsemm-decode-complex", lambda: gsemm.decode(np.arange(4.0), np.ones((4, 3)) * 1j), TypeError,
     r"^m must be real"),
    ("tasks-task_batch-nan-operator", lambda: tasks.task_batch(K, jnp.full((2, 2, 2), jnp.nan), horizon=2, batch=2),
     ValueError, r"^phi must be finite"),
    ("gsemm-simulate-complex-cue",
     lambda: gsemm.simulate("dsem", np.ones((4, 2)), np.eye(2), np.ones(4) * (1 + 1j), t1=1.0, save_every=0.5,
                            alpha_s=1.0, alpha_c=2.0, dtype=jnp.float32), TypeError, r"v0 must be real"),
    # images outside the documented range [0, 1] (were trained on)
    ("gan-train-images-above-1", lambda: _gan_train(np.full((4, 8, 8, 1), 2.0, np.float32)), ValueError,
     r"^data must lie in \[0, 1\]"),
    ("gan-train-images-nan", lambda: _gan_train(np.full((4, 8, 8, 1), np.nan, np.float32)), ValueError,
     r"^data must be finite"),
    ("gan-train-images-complex", lambda: _gan_train(np.full((4, 8, 8, 1), 0.5 + 0.1j)), TypeError,
     r"^data must be real"),
    # configs whose fields contradict each other (failed later, naming something else, or never)
    ("gan-config-mnist-not-28", lambda: gan.GANConfig(data="mnist5k", image_size=8), ValueError,
     r"image_size must be 28 with data='mnist5k'"),
    ("gsemm-online-n_hidden-below-n_patterns", lambda: gsemm.OnlineConfig(n_patterns=10, n_hidden=5), ValueError,
     r"n_hidden must be >= n_patterns"),
    ("emt-curriculum-not-increasing", lambda: emt.EMTConfig(curriculum=(100, 20)), ValueError,
     r"curriculum must hold strictly increasing horizons"),
    ("emt-curriculum-zero", lambda: emt.EMTConfig(curriculum=(0, 20)), ValueError, r"curriculum must be"),
    ("tradeoff-sweep-repeated-width", lambda: tradeoff.SweepConfig(widths=(4, 4)), ValueError,
     r"widths must not repeat"),
    ("tradeoff-sweep-too-few-programs", lambda: tradeoff.SweepConfig(n_programs=2), ValueError,
     r"n_programs must be >= 3"),
    # contradictory flags (the last one won)
    ("cli-repeated-preset", lambda: _cli(["gsemm", "retrieve", "--preset", "quick", "--preset", "full"]), SystemExit,
     r"--preset given twice"),
    ("cli-repeated-value-flag", lambda: _cli(["emt", "train", "--hidden", "8", "--hidden=16"]), SystemExit,
     r"--hidden given twice \(--hidden and --hidden=16\)"),
    ("cli-flag-and-its-negation", lambda: _cli(["wave", "rollout", "--overwrite", "--no-overwrite"]), SystemExit,
     r"--overwrite given twice"),
    ("cli-reproduce-quick-and-full", lambda: _cli(["reproduce", "--quick", "--full"]), SystemExit,
     r"--quick and --full given together"),
    # PRNG keys: one policy (typed keys and legacy PRNGKey arrays accepted; anything else one TypeError)
    ("keys-int-seed-instead-of-key", lambda: tasks.task_batch(0, tasks.binary_vb_task("repeat_copy"), horizon=2,
                                                             batch=2), TypeError, r"^key must be a PRNG key"),
    ("keys-float-array", lambda: gsemm.cycle_memories(np.zeros(2), 4, 2, dtype=jnp.float32), TypeError,
     r"^key must be a PRNG key .* got ndarray of dtype float64 and shape \(2,\)"),
]


@pytest.mark.parametrize("call,exc,pattern", [pytest.param(c, e, p, id=i) for i, c, e, p in CASES])
def test_bad_relation(call, exc, pattern, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc) as info:
        call()
    text = str(info.value.code if exc is SystemExit else info.value)
    assert re.search(pattern, text), text
    if exc is SystemExit:
        assert info.value.code not in (0, None)


def test_battery_covers_the_issue_classes():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    for word in ("capacity", "probs", "out-of-range", "nan", "inf", "complex", "images", "config", "cli", "keys"):
        assert any(word in i for i in ids), word


def test_legacy_prng_keys_are_accepted_everywhere_with_the_same_numbers():
    """A legacy ``jax.random.PRNGKey(s)`` gives the same numbers as ``jax.random.key(s)`` (it is converted by
    ``wrap_key_data``); a stack of them is a stack of typed keys. ``rnn.train`` with a legacy key and n_members=2
    used to fail deep in JAX ("invalid PRNG key data"); here it reaches the memory check of its batch (a
    ValueError naming the batch, so nothing compiles)."""
    legacy, typed = jax.random.PRNGKey(3), jax.random.key(3)
    assert jax.random.key_data(_validate.prng_key("key", legacy)).tolist() == jax.random.key_data(typed).tolist()
    assert _validate.prng_key("key", jnp.stack([legacy, legacy])).shape == (2,)
    phi = tasks.binary_vb_task("repeat_copy")
    a = tasks.task_batch(legacy, phi, horizon=2, batch=2)[0]
    b = tasks.task_batch(typed, phi, horizon=2, batch=2)[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(gsemm.cycle_memories(legacy, 6, 3, dtype=jnp.float32)[0],
                                  gsemm.cycle_memories(typed, 6, 3, dtype=jnp.float32)[0])
    assert (tradeoff.unifilar_hmm(legacy).E == tradeoff.unifilar_hmm(typed).E).all()
    from wavejax.rnn import Elman, TrainConfig, train

    def huge(key, level):
        x = jnp.zeros((10**7, 1000, 2))
        return x, x, jnp.ones((1000,), bool)

    with pytest.raises(ValueError, match="batch B=10000000"):
        train(Elman(hidden=8, d_out=2), huge, TrainConfig(steps=2, chunk=2, log_every=2, ckpt_every=0, n_levels=1),
              key=legacy, n_members=2)
