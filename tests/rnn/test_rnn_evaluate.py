"""rnn.evaluate: against an independent NumPy computation, stacked vs unstacked, per-member data, blocks on
several devices; sign_accuracy's NaN rule (issue 11 item 9)."""

from pathlib import Path

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
