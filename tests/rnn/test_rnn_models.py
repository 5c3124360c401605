"""Models of the training engine against independent NumPy loops (emt.md §2.2, §4; wave.md §4)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import F32_RTOL

from wavejax.rnn import LSTM, Elman, LinearRNN, WaveRNN


def _init(model, key, shape=(3, 7, 4)):
    x = jax.random.normal(key, shape, jnp.float32)
    return model.init(jax.random.key(1), x)["params"], x


def _np_rnn(p, x, act):
    W_uh, W_hh, W_hy = (np.asarray(p[k], np.float64) for k in ("W_uh", "W_hh", "W_hy"))
    h = np.zeros((x.shape[0], W_hh.shape[0]))
    ys = []
    for t in range(x.shape[1]):
        h = act(h @ W_hh.T + np.asarray(x[:, t], np.float64) @ W_uh.T)
        ys.append(h @ W_hy.T)
    return np.stack(ys, 1)


def test_rnn_elman_param_count_and_symmetric_init(key):
    p, _ = _init(Elman(hidden=128, d_out=8), key, (2, 3, 8))
    assert sum(v.size for v in jax.tree.leaves(p)) == 18_432  # emt.md §4
    for k in ("W_uh", "W_hh", "W_hy"):
        w = np.asarray(p[k])
        assert w.dtype == np.float32
        assert np.abs(w).max() <= 1 / np.sqrt(128)
        assert w.min() < -0.8 / np.sqrt(128) and w.max() > 0.8 / np.sqrt(128)  # both signs: symmetric U(+-a)
    assert abs(float(np.asarray(p["W_hh"]).mean())) < 0.005  # 16k draws of U(+-0.088): sd of mean 4e-4


@pytest.mark.parametrize("model,act", [(Elman(hidden=6, d_out=2), np.tanh),
                                       (LinearRNN(hidden=6, d_out=2), None)])
def test_rnn_elman_matches_numpy_loop(key, model, act):
    p, x = _init(model, key)
    y, hs = model.apply({"params": p}, x, return_hidden=True)
    ref = _np_rnn(p, x, act or (lambda z: z))
    chex.assert_shape(hs, (3, 7, 6))
    np.testing.assert_allclose(np.asarray(y), ref, rtol=F32_RTOL, atol=1e-6)  # float32 vs float64, 7 steps


def test_rnn_lstm_matches_numpy_loop(key):
    m = LSTM(hidden=5, d_out=2)
    p, x = _init(m, key)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    W_ih, W_hh, W_hy = (np.asarray(p[k], np.float64) for k in ("W_ih", "W_hh", "W_hy"))
    h = c = np.zeros((3, 5))
    ys = []
    for t in range(7):
        g = np.asarray(x[:, t], np.float64) @ W_ih.T + h @ W_hh.T
        i, f, gg, o = np.split(g, 4, axis=1)
        c = sig(f) * c + sig(i) * np.tanh(gg)
        h = sig(o) * np.tanh(c)
        ys.append(h @ W_hy.T)
    np.testing.assert_allclose(np.asarray(m.apply({"params": p}, x)), np.stack(ys, 1), rtol=F32_RTOL,
    atol=1e-6)


def test_rnn_wave_cell_shift_init_is_exact_circular_shift():
    # fwd/solo init: an input written into the last unit travels one unit per step toward unit 0 and wraps
    c, n, d = 2, 5, 2
    m = WaveRNN(channels=c, units=n, d_out=1)
    x = jnp.zeros((1, 7, d), jnp.float32).at[0, 0].set(jnp.array([1.0, 2.0], jnp.float32))
    p = m.init(jax.random.key(0), x)["params"]
    _, hs = m.apply({"params": p}, x, return_hidden=True)
    hs = np.asarray(hs[0]).reshape(7, c, n)
    for t in range(7):
        expect = np.zeros((c, n))
        expect[:, (n - 1 - t) % n] = [1.0, 2.0]
        np.testing.assert_array_equal(hs[t], expect)  # data movement only: exact


def test_rnn_models_jit_equals_nojit(key):
    m = Elman(hidden=6, d_out=2)
    p, x = _init(m, key)
    chex.assert_trees_all_close(jax.jit(m.apply)({"params": p}, x), m.apply({"params": p}, x), rtol=F32_RTOL)


@pytest.mark.parametrize("linear", [False, True])
def test_rnn_fused_reverse_pass_equals_autodiff(key, linear):
    # elman_recurrence's custom VJP (dW_hh as one product after the loop) vs autodiff of the plain scan
    x = jax.random.normal(key, (5, 9, 3), jnp.float32)
    y = jax.random.normal(jax.random.fold_in(key, 1), (5, 9, 2), jnp.float32)
    fused, plain = Elman(hidden=7, d_out=2, linear=linear), Elman(hidden=7, d_out=2, linear=linear, fused_grad=False)
    p = fused.init(jax.random.key(2), x)["params"]
    p = jax.tree.map(lambda a: 3 * a, p)  # larger weights: tanh saturates partly, act' matters

    def loss(m):
        return lambda q, x: jnp.sum(jnp.sin(m.apply({"params": q}, x)) * y)

    gf = jax.grad(loss(fused), argnums=(0, 1))(p, x)
    gp = jax.grad(loss(plain), argnums=(0, 1))(p, x)
    chex.assert_trees_all_close(gf, gp, rtol=F32_RTOL, atol=1e-6)  # same maths, float32 order of sums differs
    chex.assert_trees_all_equal(fused.apply({"params": p}, x), plain.apply({"params": p}, x))  # same forward
    # forward mode needs the plain scan; the fused one refuses it rather than returning something wrong
    jax.jacfwd(lambda x: plain.apply({"params": p}, x))(x[:1, :3])
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jacfwd(lambda x: fused.apply({"params": p}, x))(x[:1, :3])
