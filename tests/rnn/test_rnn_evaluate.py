"""rnn.evaluate: against an independent NumPy computation, stacked vs unstacked, per-member data, blocks on
several devices; sign_accuracy's NaN rule (issue 11 item 9)."""

from pathlib import Path

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import F32_RTOL, run_multidevice

from wavejax.rnn import Elman, evaluate, sign_accuracy

HERE = Path(__file__).resolve().parent
H, D, T, B = 5, 2, 6, 4
MODEL = Elman(hidden=H, d_out=D)


def batch_fn(key):
    x = jax.random.normal(key, (B, T, D), jnp.float32)
    return x, jnp.sign(jnp.cumsum(x, axis=1)), jnp.arange(T) >= 2


def scaled_batch_fn(key, scale):  # per-member data: a scalar input gain
    x, y, mask = batch_fn(key)
    return x * scale, y, mask


def stacked_params(m, seed=0):
    keys = jax.random.split(jax.random.key(seed), m)
    return jax.vmap(lambda k: MODEL.init(k, jnp.zeros((1, T, D)))["params"])(keys)


def numpy_elman(p, x):
    """Independent forward pass h(t) = tanh(W_hh h(t-1) + W_uh x(t)), y(t) = W_hy h(t), h(-1) = 0."""
    p = {k: np.asarray(v, np.float64) for k, v in p.items()}
    h = np.zeros((x.shape[0], H))
    outs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ p["W_uh"].T + h @ p["W_hh"].T)
        outs.append(h @ p["W_hy"].T)
    return np.stack(outs, axis=1)


def numpy_eval(p, key, n_batches, scale=1.0):
    losses, accs = [], []
    for k in jax.random.split(key, n_batches):
        x, y, mask = (np.asarray(a) for a in batch_fn(k))
        pred = numpy_elman(p, x.astype(np.float64) * scale)
        m = np.broadcast_to(mask[None, :, None], y.shape)
        losses.append(((pred - y) ** 2)[m].mean())
        accs.append((np.where(pred >= 0, 1.0, -1.0) == y)[m].mean())
    return np.mean(losses), np.mean(accs)


def test_rnn_evaluate_matches_numpy_stacked_and_single():
    params, key = stacked_params(3), jax.random.key(4)
    assert sorted(params) == ["W_hh", "W_hy", "W_uh"]
    ev = evaluate(MODEL, params, batch_fn, key=key, n_batches=3)
    assert ev["loss"].shape == ev["accuracy"].shape == (3,)
    for m in range(3):
        p_m = jax.tree.map(lambda a, m=m: a[m], params)
        loss, acc = numpy_eval(p_m, key, 3)
        np.testing.assert_allclose(ev["loss"][m], loss, rtol=F32_RTOL * 10)
        np.testing.assert_allclose(ev["accuracy"][m], acc, atol=1e-6)
        one = evaluate(MODEL, p_m, batch_fn, key=key, n_batches=3)
        assert one["loss"].shape == ()
        np.testing.assert_allclose(one["loss"], ev["loss"][m], rtol=1e-6)
        assert one["accuracy"] == ev["accuracy"][m]
    assert np.ptp(ev["loss"]) > 0  # the members differ: each was evaluated with its own params


def test_rnn_evaluate_with_per_member_data_and_explicit_stacked():
    params, key = stacked_params(2, seed=1), jax.random.key(2)
    scale = jnp.array([0.5, 3.0], jnp.float32)
    ev = evaluate(MODEL, params, scaled_batch_fn, key=key, data=scale, n_batches=2, metric_fn=None)
    assert set(ev) == {"loss"}
    for m in range(2):
        loss, _ = numpy_eval(jax.tree.map(lambda a, m=m: a[m], params), key, 2, scale=float(scale[m]))
        np.testing.assert_allclose(ev["loss"][m], loss, rtol=F32_RTOL * 10)
    p0 = jax.tree.map(lambda a: a[0], params)
    one = evaluate(MODEL, p0, scaled_batch_fn, key=key, data=scale[0], n_batches=2, stacked=False)
    np.testing.assert_allclose(one["loss"], ev["loss"][0], rtol=1e-6)


def test_rnn_evaluate_block_on_one_device_equals_no_block():
    params, key = stacked_params(5), jax.random.key(3)
    a = evaluate(MODEL, params, batch_fn, key=key, n_batches=2)
    b = evaluate(MODEL, params, batch_fn, key=key, n_batches=2, block=2)  # 5 members padded to 6
    assert b["loss"].shape == (5,)
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-6)
    np.testing.assert_array_equal(b["accuracy"], a["accuracy"])


def test_rnn_evaluate_block_is_device_count_independent():
    code = f"""
        import sys
        sys.path[:0] = ["{HERE.parent}", "{HERE}"]
        import jax, numpy as np
        from test_rnn_evaluate import MODEL, batch_fn, stacked_params
        from wavejax.rnn import evaluate
        ev = evaluate(MODEL, stacked_params(5), batch_fn, key=jax.random.key(3), n_batches=1, block=2)
        print(len(jax.devices()), ev["loss"].tobytes().hex())
    """
    four, one = run_multidevice(code, 4).split(), run_multidevice(code, 1).split()
    assert (four[0], one[0]) == ("4", "1")
    assert four[1] == one[1]  # bit-identical losses on 4 devices and on 1


def test_rnn_sign_accuracy_counts_nan_as_wrong():
    y = -jnp.ones((2, 3, 1), jnp.float32)
    mask = jnp.ones((3,), bool)
    assert float(sign_accuracy(jnp.full_like(y, jnp.nan), y, mask)) == 0.0  # NaN compared as -1 used to score 1
    pred = jnp.array([[[-1.0], [jnp.nan], [0.0]], [[-2.0], [-0.5], [jnp.nan]]], jnp.float32)
    assert float(sign_accuracy(pred, y, mask)) == pytest.approx(3 / 6)


def test_rnn_evaluate_argument_errors():
    params = stacked_params(2)
    with pytest.raises(ValueError, match="n_batches"):
        evaluate(MODEL, params, batch_fn, key=jax.random.key(0), n_batches=0)
    with pytest.raises(ValueError, match="block"):
        evaluate(MODEL, jax.tree.map(lambda a: a[0], params), batch_fn, key=jax.random.key(0), block=2)
    with pytest.raises(ValueError, match="data"):
        evaluate(MODEL, params, scaled_batch_fn, key=jax.random.key(0), data=jnp.ones(3), stacked=True)
    with pytest.raises(ValueError, match="stacked"):
        evaluate(MODEL, jax.tree.map(lambda a: a[:, :1], params), batch_fn, key=jax.random.key(0))
    with pytest.raises(TypeError, match="stacked"):
        evaluate(MODEL, params, batch_fn, key=jax.random.key(0), stacked="yes")
    with pytest.raises(TypeError, match="batch_fn"):
        evaluate(MODEL, params, None, key=jax.random.key(0))


def test_rnn_evaluate_compiles_once_per_batch_fn():
    # chex.assert_max_traces: three evaluations with new params of the same shapes reuse one compiled function
    traced = chex.assert_max_traces(batch_fn, n=1)
    for seed in range(3):
        ev = evaluate(MODEL, stacked_params(2, seed=seed), traced, key=jax.random.key(seed), n_batches=2,
                      stacked=True)
        assert np.isfinite(ev["loss"]).all()


class TrainStepVariants(chex.TestCase):
    """train_step, jitted and eager: the first Adam step moves every parameter with a gradient by lr."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_rnn_first_train_step_moves_each_weight_by_lr(self):
        import functools

        from wavejax.rnn import TrainConfig, init_state, masked_mse, train_step

        cfg = TrainConfig(steps=10, chunk=10, log_every=10, ckpt_every=0, n_levels=1, lr=1e-3)
        x0 = batch_fn(jax.random.key(0))[0]
        st = init_state(MODEL, jax.random.key(1), x0, cfg=cfg)
        hp = {"lr": jnp.float32(1e-3), "l2": jnp.float32(0.0), "threshold": jnp.float32(0.96)}
        step = self.variant(functools.partial(train_step, model=MODEL, batch_fn=lambda k, lvl: batch_fn(k),
                                              loss_fn=masked_mse, cfg=cfg))
        new, m = step(st, hp)
        assert int(new.step) == 1 and bool(m["valid"])
        key = jax.random.fold_in(jax.random.wrap_key_data(st.key), 0)
        x, y, mask = batch_fn(key)
        want = numpy_elman(st.params, np.asarray(x, np.float64))
        mm = np.broadcast_to(np.asarray(mask)[None, :, None], want.shape)
        np.testing.assert_allclose(float(m["loss"]), ((want - np.asarray(y)) ** 2)[mm].mean(), rtol=1e-4)
        for k in st.params:  # Adam's first update is -lr g / (|g| + eps): |delta| = lr where the gradient is large
            delta = np.abs(np.asarray(new.params[k]) - np.asarray(st.params[k]))
            assert delta.max() == pytest.approx(1e-3, rel=1e-3)
            assert (delta <= 1e-3 * (1 + 1e-3)).all()


def test_rnn_train_float32_with_x64_off():
    from wavejax.rnn import TrainConfig, train

    with jax.enable_x64(False):
        cfg = TrainConfig(steps=20, chunk=10, log_every=10, ckpt_every=0, n_levels=1, lr=1e-2)
        res = train(MODEL, lambda k, lvl: batch_fn(k), cfg, key=jax.random.key(0), n_members=2)
        assert res.state.params["W_hh"].dtype == jnp.float32
        assert np.isfinite(res.history["loss"]).all()
        ev = evaluate(MODEL, res.state.params, batch_fn, key=jax.random.key(1), n_batches=2)
        assert ev["loss"].dtype == np.float32 and ev["loss"].shape == (2,)
