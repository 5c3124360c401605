"""The variable-binding circuit Phi and the linear circuit RNN (emt.md §2.3-2.4, §7.3-7.4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import (
    TASKS,
    circuit_error,
    circuit_rnn,
    circuit_rollout,
    decode_task,
    make_batch,
    phi_from_operator,
    recurrent_positions,
    unit_count,
)
from wavejax.rnn import LinearRNN
from wavejax.wave import random_basis


@pytest.mark.parametrize("name", list(TASKS))
def test_emt_phi_structure_and_spectrum(name):
    F = decode_task(TASKS[name])
    Phi = phi_from_operator(F, 8)
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
    counts = {name: unit_count(phi_from_operator(decode_task(tid), 8)) for name, tid in TASKS.items()}
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
    # the engine's LinearRNN with the same parameter names / orientation computes the same outputs
    ref = LinearRNN(hidden=128, d_out=8).apply({"params": {k: jnp.asarray(v) for k, v in p.items()}}, x)
    assert float(jnp.abs(ref - pred).max()) < 1e-9


def test_emt_circuit_validation(key):
    F = decode_task(TASKS["repeat_copy"])
    with pytest.raises(ValueError, match="rank"):
        circuit_rnn(F, 8, np.ones((128, 64)))
    with pytest.raises(ValueError, match="F"):
        phi_from_operator(F[:-8], 8)
    with pytest.raises(ValueError, match="d="):
        phi_from_operator(F, 8, 4)
    with pytest.raises(ValueError, match="W_hy"):
        circuit_rollout({"W_uh": np.zeros((4, 2)), "W_hh": np.zeros((4, 4))}, np.zeros((1, 3, 2)))
    with pytest.raises(ValueError, match="x"):
        circuit_rollout(circuit_rnn(F, 8), np.zeros((3, 8)))
    with pytest.raises(ValueError, match="nonlinearity"):
        circuit_rollout(circuit_rnn(F, 8), np.zeros((1, 3, 8)), nonlinearity="relu")
