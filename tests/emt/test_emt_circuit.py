"""The variable-binding circuit Phi and the linear circuit RNN (emt.md §2.3-2.4, §7.3-7.4)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import _circuit as circuit_mod
from wavejax.emt import circuit_error, circuit_matrix, circuit_rnn, circuit_rollout, recurrent_positions, unit_count
from wavejax.tasks import NAMED_TASKS, decode_task, lag_matrices, task_batch
from wavejax.wave import random_basis

TASKS = NAMED_TASKS


def make_batch(key, F, s, horizon, batch, *, dtype=jnp.float32):
    return task_batch(key, lag_matrices(F), horizon=horizon, batch=batch, dtype=dtype)


def _numpy_rnn(p, x, tanh):
    """Independent reference: the bias-free RNN as an explicit NumPy loop over time."""
    act = np.tanh if tanh else (lambda z: z)
    h = np.zeros((x.shape[0], p["W_hh"].shape[0]))
    hs = []
    for t in range(x.shape[1]):
        h = act(h @ np.asarray(p["W_hh"]).T + np.asarray(x[:, t]) @ np.asarray(p["W_uh"]).T)
        hs.append(h)
    hs = np.stack(hs, axis=1)
    return hs @ np.asarray(p["W_hy"]).T, hs


@pytest.mark.parametrize("name", list(TASKS))
def test_emt_phi_structure_and_spectrum(name):
    F = decode_task(TASKS[name])
    Phi = circuit_matrix(F, 8)
    n = 64
    # block companion matrix: shift block k+1 -> block k, last d rows = F^T, nothing else
    expect = np.zeros((n, n))
    expect[np.arange(n - 8), np.arange(8, n)] = 1.0
    expect[n - 8:] = F.T
    assert np.array_equal(Phi, expect)
    ev = np.linalg.eigvals(Phi)
    big = ev[np.abs(ev) > 0.8]
    assert np.abs(np.abs(big) - 1).max() < 1e-6
    count = unit_count(Phi)
    assert len(big) == count  # the count from Phi agrees with the eigenvalue threshold
    keep = recurrent_positions(Phi)
    assert keep.sum() == count
    # the kept block is a signed permutation (all eigenvalues on the unit circle), the rest is nilpotent
    sub = Phi[np.ix_(keep, keep)]
    assert np.allclose(np.abs(np.linalg.eigvals(sub)), 1.0)
    assert np.allclose(np.linalg.matrix_power(Phi, n)[:, ~keep], 0)


def test_emt_counts_copy_vs_composition():
    counts = {name: unit_count(circuit_matrix(decode_task(tid), 8)) for name, tid in TASKS.items()}
    assert counts["repeat_copy"] == 64
    assert all(counts[k] < counts["repeat_copy"] for k in counts if k != "repeat_copy")
    assert {counts[k] for k in counts if k != "repeat_copy"} == {36}  # issue 3, acceptance 3


def test_emt_unit_count_small_cases():
    assert unit_count(np.roll(np.eye(3), 1, axis=0)) == 3  # 3-cycle
    assert unit_count(np.eye(4, k=1)) == 0  # nilpotent shift
    assert unit_count(np.diag([1.0, -1.0, 0.0])) == 2


def test_emt_circuit_exact_for_repeat_copy(key):
    F = decode_task(TASKS["repeat_copy"])
    x, y, m = make_batch(key, F, 8, 200, 16, dtype=jnp.float64)
    err, acc = circuit_error(F, 8, x, y, m)
    assert err == 0.0 and acc == 1.0


@pytest.mark.parametrize("name", ["compose_copy", "mix_262676_189", "mix_38637_145"])
def test_emt_circuit_negative_result_for_lags_below_s(name, key):
    # documented negative result (emt.md §2.4): during the input phase the composition row reads partly filled
    # blocks, so a linear circuit with additive input cannot realize an output with lag < s
    F = decode_task(TASKS[name])
    x, y, m = make_batch(key, F, 8, 200, 16, dtype=jnp.float64)
    err, acc = circuit_error(F, 8, x, y, m)
    assert err >= 1.0 and acc < 0.95


def test_emt_circuit_in_random_basis_matches_engine_linear_rnn(key):
    F = decode_task(TASKS["repeat_copy"])
    Psi = random_basis(jax.random.key(5), 128, 64, orthonormal=False)  # general full-rank basis
    p = circuit_rnn(F, 8, Psi)
    assert p["W_hh"].shape == (128, 128) and p["W_uh"].shape == (128, 8) and p["W_hy"].shape == (8, 128)
    x, y, m = make_batch(key, F, 8, 200, 8, dtype=jnp.float64)
    pred, hs = circuit_rollout(p, x)
    assert hs.shape == (8, 208, 128)
    assert float(jnp.abs(pred[:, 8:] - y[:, 8:]).max()) < 1e-9
    # independent NumPy loop (the rollout itself is the engine's Elman with linear=True)
    ref_y, ref_h = _numpy_rnn(p, np.asarray(x), tanh=False)
    np.testing.assert_allclose(np.asarray(pred), ref_y, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.asarray(hs), ref_h, rtol=0, atol=1e-9)


def test_emt_circuit_rollout_tanh_matches_numpy_loop(key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    p = {"W_uh": jax.random.normal(k1, (16, 3)) / 2, "W_hh": jax.random.normal(k2, (16, 16)) / 4,
         "W_hy": jax.random.normal(k3, (2, 16))}
    x = jax.random.normal(k4, (3, 11, 3))
    y, hs = circuit_rollout(p, x, nonlinearity="tanh")
    ref_y, ref_h = _numpy_rnn(p, np.asarray(x), tanh=True)
    np.testing.assert_allclose(np.asarray(y), ref_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(hs), ref_h, rtol=1e-12, atol=1e-12)


def test_emt_circuit_matrix_is_the_lag_matrix_companion():
    F = decode_task(TASKS["mix_262676_189"])
    Phi = circuit_matrix(F)
    assert Phi.shape == (64, 64) and Phi.dtype == np.float64
    np.testing.assert_array_equal(Phi[56:], F.T)  # composition row
    np.testing.assert_array_equal(circuit_matrix(F, 8), Phi)  # s given: checked against F's shape


def test_emt_circuit_error_counts_nan_as_wrong(monkeypatch, key):
    """Issue item 9: a NaN output is wrong even where the target is -1 (NaN >= 0 is False, i.e. 'sign -1')."""
    F = decode_task(TASKS["repeat_copy"])
    x, y, m = make_batch(key, F, 8, 40, 4, dtype=jnp.float64)

    def nan_rollout(params, xx, *, nonlinearity="linear"):
        return jnp.full(xx.shape[:2] + (8,), jnp.nan, xx.dtype), None

    monkeypatch.setattr(circuit_mod, "circuit_rollout", nan_rollout)
    err, acc = circuit_error(F, 8, x, y, m)
    assert acc == 0.0 and np.isnan(err)
    half = jnp.where(jnp.arange(48)[None, :, None] % 2 == 0, jnp.nan, 1.0)  # NaN on even steps, +1 on odd ones

    monkeypatch.setattr(circuit_mod, "circuit_rollout", lambda params, xx, **kw: (jnp.broadcast_to(half, y.shape), 0))
    _, acc = circuit_error(F, 8, x, y, m)
    ym = np.asarray(y)[:, 8:]
    odd = (np.arange(8, 48) % 2 == 1)[None, :, None]
    assert acc == pytest.approx(float(((ym == 1.0) & odd).mean()))


def test_emt_circuit_float32_smoke(key):
    """The circuit in float32 with 64-bit mode off: repeat copy stays exact (a signed permutation)."""
    with jax.enable_x64(False):
        F = decode_task(TASKS["repeat_copy"])
        x, y, m = make_batch(key, F, 8, 40, 4)
        assert x.dtype == jnp.float32
        err, acc = circuit_error(F, 8, x, y, m, dtype=jnp.float32)
        assert err == 0.0 and acc == 1.0
        y32, hs = circuit_rollout(circuit_rnn(F, 8), x)
        assert y32.dtype == hs.dtype == jnp.float32
        with pytest.raises(ValueError, match="dtype=float64"):
            circuit_error(F, 8, x, y, m)  # the float64 default asks for 64-bit mode explicitly


class CircuitRolloutVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_repeat_copy_exact_with_and_without_jit(self):
        F = decode_task(TASKS["repeat_copy"])
        x, y, _ = make_batch(jax.random.key(3), F, 8, 24, 3, dtype=jnp.float64)
        p = circuit_rnn(F, 8)
        run = self.variant(lambda xx: circuit_rollout(p, xx))
        pred, hs = run(x)
        np.testing.assert_array_equal(np.asarray(pred)[:, 8:], np.asarray(y)[:, 8:])
        assert hs.shape == (3, 32, 64)


def test_emt_circuit_rollout_compiles_once_per_shape(key):
    F = decode_task(TASKS["repeat_copy"])
    p = circuit_rnn(F, 8)
    traced = chex.assert_max_traces(circuit_mod._rollout.__wrapped__, n=1)
    jitted = jax.jit(traced, static_argnums=2)
    for i in range(3):
        x, _, _ = make_batch(jax.random.fold_in(key, i), F, 8, 16, 2, dtype=jnp.float64)
        jitted({k: jnp.asarray(v) for k, v in p.items()}, x, False)
    # the module's own jitted core: new data of the same shapes reuses the one compiled program
    circuit_rollout(p, x)
    before = circuit_mod._rollout._cache_size()
    for i in range(3):
        circuit_rollout(p, make_batch(jax.random.fold_in(key, 10 + i), F, 8, 16, 2, dtype=jnp.float64)[0])
    assert circuit_mod._rollout._cache_size() == before


def test_emt_circuit_validation(key):
    F = decode_task(TASKS["repeat_copy"])
    with pytest.raises(ValueError, match="rank"):
        circuit_rnn(F, 8, np.ones((128, 64)))
    with pytest.raises(ValueError, match="F"):
        circuit_matrix(F[:-8], 8)
    with pytest.raises(ValueError, match="W_hy"):
        circuit_rollout({"W_uh": np.zeros((4, 2)), "W_hh": np.zeros((4, 4))}, np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="x"):
        circuit_rollout(circuit_rnn(F, 8), np.zeros((3, 8)))
    with pytest.raises(ValueError, match="nonlinearity"):
        circuit_rollout(circuit_rnn(F, 8), np.zeros((1, 3, 8)), nonlinearity="relu")
