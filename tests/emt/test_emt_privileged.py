"""The privileged basis and the circuit-match metrics (emt.md §5.1, §5.3, §7.8-7.11; issue 3 acceptance 4).

The analytic circuit embedded by a random basis is an exact "trained model" whose basis is known: the extraction
must recover it (dual exact, Phi_emp = diagonally rescaled Phi, each variable one block further per step).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import (
    block_tracking,
    circuit_matrix,
    circuit_rnn,
    circuit_rollout,
    dual_error,
    phi_emp,
    predicted_block,
    privileged_basis,
    readout_fraction,
    structure_metrics,
    variable_memories,
)
from wavejax.tasks import NAMED_TASKS, decode_task, lag_matrices, task_batch
from wavejax.wave import random_basis


def _embedded(name, key, orthonormal=True, N=128):
    F = decode_task(NAMED_TASKS[name])
    Psi = random_basis(key, N, 64, orthonormal=orthonormal)
    return F, Psi, circuit_rnn(F, 8, Psi)


@pytest.mark.parametrize("grounding,orthonormal", [("output", True), ("input", False), ("input", True)])
def test_emt_basis_recovers_repeat_copy_circuit(grounding, orthonormal, getkey):
    F, Psi, p = _embedded("repeat_copy", getkey(), orthonormal)
    x, _, _ = task_batch(getkey(), lag_matrices(F), horizon=40, batch=64, dtype=jnp.float64)
    _, hs = circuit_rollout(p, x)
    hs = np.asarray(hs)
    b = privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], W_uh=p["W_uh"], traj=hs.reshape(-1, 128),
                         grounding=grounding)
    assert b.keep.all() and dual_error(b) < 1e-4
    # each recovered column is +-(the true column) up to scale: |cos| = 1
    cos = np.abs(np.sum(b.Psi[:, :64] * Psi, 0)) / np.linalg.norm(Psi, axis=0)
    assert np.allclose(cos, 1.0, atol=1e-8)
    E = phi_emp(p["W_hh"], b)
    off_on, agree = structure_metrics(E, circuit_matrix(F, 8), b.keep)
    assert off_on < 0.05 and agree == 1.0
    assert readout_fraction(p["W_hy"], b) > 0.95
    # each input variable's block moves by one per step (cyclically), for 41 steps
    times = np.arange(7, 48)
    got = block_tracking(variable_memories(b, hs), np.asarray(x)[:, :8], times)
    want = np.array([[predicted_block(mu, t, 8) for mu in range(8)] for t in times])
    assert np.array_equal(got, want)
    assert [predicted_block(mu, 7, 8) for mu in range(8)] == list(range(8))
    assert predicted_block(0, 8, 8) == 7  # the oldest variable wraps to the newest block when it is read


@pytest.mark.parametrize("name", ["compose_copy", "mix_262676_189", "mix_38637_145"])
def test_emt_basis_on_composition_circuits(name, getkey):
    F, _, p = _embedded(name, getkey())
    b = privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"])
    assert b.keep.sum() == 36 and dual_error(b) < 1e-8
    assert (b.Psi[:, :64][:, ~b.keep] == 0).all() and (b.Psi_star[:64][~b.keep] == 0).all()
    off_on, agree = structure_metrics(phi_emp(p["W_hh"], b), circuit_matrix(F, 8), b.keep)
    assert off_on < 1e-8 and agree == 1.0


def test_emt_pca_complement(getkey):
    F, _, p = _embedded("repeat_copy", getkey())
    x, _, _ = task_batch(getkey(), lag_matrices(F), horizon=20, batch=32, dtype=jnp.float64)
    _, hs = circuit_rollout(p, x)
    h = np.asarray(hs).reshape(-1, 128)
    # hidden states that live in range(Psi): no complement direction survives (round-off is dropped)
    assert privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], traj=h).Psi.shape == (128, 64)
    noisy = h + 0.05 * np.asarray(jax.random.normal(getkey(), h.shape))
    b = privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], traj=noisy)
    Psi, Psi_star = b.Psi, b.Psi_star
    assert Psi.shape == (128, 74) and Psi_star.shape == (74, 128)
    C = Psi[:, 64:]
    assert np.allclose(C.T @ C, np.eye(10), atol=1e-10) and np.allclose(Psi_star[64:], C.T)
    assert np.abs(Psi[:, :64].T @ C).max() < 1e-10  # complement is orthogonal to the circuit subspace
    assert np.linalg.norm(Psi_star @ Psi - np.eye(74)) < 1e-4


def test_emt_structure_metrics_by_hand():
    Phi = np.array([[0.0, 1.0], [-1.0, 0.0]])
    E = np.array([[0.1, 2.0], [1.0, 0.2]])
    ratio, agree = structure_metrics(E, Phi)
    assert ratio == pytest.approx(np.sqrt(0.05) / np.sqrt(5.0), rel=1e-12) and agree == 0.5
    # keep restricts both matrices; extra (complement) rows/cols of Phi_emp are ignored
    E3 = np.pad(E, ((0, 1), (0, 1)), constant_values=9.0)
    assert structure_metrics(E3, Phi) == (ratio, agree)


def test_emt_privileged_validation(getkey):
    F, _, p = _embedded("repeat_copy", getkey())
    with pytest.raises(ValueError, match="W_hy"):
        privileged_basis(p["W_hh"], F, 8)
    with pytest.raises(ValueError, match="W_uh"):
        privileged_basis(p["W_hh"], F, 8, grounding="input")
    with pytest.raises(ValueError, match="grounding"):
        privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], grounding="both")
    with pytest.raises(ValueError, match="W_hh"):
        privileged_basis(p["W_hh"][:, :-1], F, 8, W_hy=p["W_hy"])
    with pytest.raises(ValueError, match="s\\*d"):
        privileged_basis(np.eye(32), F, 8, W_hy=np.ones((8, 32)))
    with pytest.raises(ValueError, match="traj"):
        privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], traj=np.ones((5, 3)))
    with pytest.raises(ValueError, match="Phi_emp"):
        structure_metrics(np.eye(2), np.eye(3))
