"""Vector fields, Lagrangians and energies of GSEMM (gsemm.md §2.2-2.6): exact identities in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import MODELS, SolverConfig, cycle_memories, energy, make_params, simulate
from wavejax.gsemm._models import Lagrangian, energy_params, hidden_input, vector_field, vector_field_h
from wavejax.gsemm._solve import RK4

LAGRANGIANS = [Lagrangian(kind="identity"), Lagrangian(kind="tanh"), Lagrangian(kind="softmax"),
               Lagrangian(kind="power", degree=3), Lagrangian(kind="power", degree=4)]


@pytest.mark.parametrize("lag", LAGRANGIANS, ids=lambda lag: f"{lag.kind}{lag.degree}")
def test_activation_is_gradient_of_lagrangian(lag, getkey):
    x = jax.random.normal(getkey(), (7,))
    g = jnp.asarray(1.7)
    np.testing.assert_allclose(jax.grad(lag.L)(x, g), lag.sigma(x, g), rtol=1e-12, atol=1e-12)


def test_cycle_memories_graphs(key):
    xi, phi = cycle_memories(key, 12, 4)
    assert xi.shape == (12, 4) and set(np.unique(xi)) <= {-1.0, 1.0}
    np.testing.assert_array_equal(phi, np.roll(np.eye(4), 1, axis=1))  # phi[mu, mu+1] = 1 and phi[3, 0] = 1
    _, chain = cycle_memories(key, 12, 4, "chain")
    assert chain[3].sum() == 0 and chain[:3].sum() == 3
    _, two = cycle_memories(key, 12, 7, [[0, 1, 2], [3, 4, 5, 6]])
    edges = {(int(a), int(b)) for a, b in zip(*np.nonzero(np.asarray(two)), strict=True)}
    assert edges == {(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 6), (6, 3)}
    with pytest.raises(ValueError, match="disjoint"):
        cycle_memories(key, 12, 4, [[0, 1], [1, 2]])


@pytest.mark.parametrize("model", list(MODELS))
def test_frozen_delay_energy_gradient_is_the_flow(model, getkey):
    """dE/dv (v_d frozen) = -T_f sigma_f'(v) * dv/dt, with h at its algebraic value (§2.3)."""
    N, K = 40, 5
    xi, phi = cycle_memories(getkey(), N, K)
    a_s = 0.045 if model == "lisem" else 1.3
    p = make_params(xi, phi, alpha_s=a_s, alpha_c=0.7 if model != "lisem" else 0.004, beta_d=2.0, t_f=0.6,
                    t_d=20.0, gamma=1.3)
    m = MODELS[model]
    v = jax.random.normal(getkey(), (N,))
    vd = 0.5 * jax.random.normal(getkey(), (N,))
    dE = jax.grad(energy_params, argnums=2)(m, p, v, vd)
    dv, dvd = vector_field(m, p, v, vd)
    sig_prime = jax.vmap(jax.grad(lambda x: m.feature.sigma(x[None], p.gamma)[0]))(v)
    np.testing.assert_allclose(dE, -p.t_f * sig_prime * dv, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dvd, (p.beta_d * m.feature.sigma(v, p.gamma) - vd) / p.t_d, rtol=1e-14)


def test_dsem_energy_closed_form(getkey):
    """DSEM: E = |v|^2/2 - (1/gamma) logsumexp(gamma h) (§2.5); public energy() agrees, also batched over T."""
    xi, phi = cycle_memories(getkey(), 30, 6)
    v = jax.random.normal(getkey(), (3, 30))
    vd = jax.random.normal(getkey(), (3, 30))
    e = energy("dsem", xi, phi, v, vd, alpha_s=1.2, alpha_c=2.0, gamma=0.7)
    h = np.sqrt(1.2) * v @ xi + 2.0 * (vd @ xi) @ phi  # row form of sqrt(a_s) Xi^T v + a_c Phi^T Xi^T v_d
    ref = 0.5 * (v**2).sum(1) - jax.nn.logsumexp(0.7 * h, axis=1) / 0.7
    np.testing.assert_allclose(e, ref, rtol=1e-12)
    assert energy("dsem", xi, phi, v[0], vd[0], alpha_s=1.2, alpha_c=2.0, gamma=0.7).shape == ()


def test_lisem_vector_field_is_authors_form(getkey):
    """LISEM (§2.4): T_f dv/dt = a_s Xi Xi^T tanh(gv) + a_c Xi Phi^T Xi^T v_d - v, in the code's a_c convention."""
    xi, phi = cycle_memories(getkey(), 50, 5)
    p = make_params(xi, phi, alpha_s=0.045, alpha_c=0.004, beta_d=7.0, t_f=1.0, t_d=100.0, gamma=1.0)
    v, vd = jax.random.normal(getkey(), (50,)), jax.random.normal(getkey(), (50,))
    dv, dvd = vector_field(MODELS["lisem"], p, v, vd)
    ref = 0.045 * xi @ (xi.T @ jnp.tanh(v)) + 0.004 * xi @ (phi.T @ (xi.T @ vd)) - v
    np.testing.assert_allclose(dv, ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dvd, (7.0 * jnp.tanh(v) - vd) / 100.0, rtol=1e-14)


def test_explicit_hidden_dynamics_reduce_to_algebraic(getkey):
    """T_h > 0 with h at its algebraic value gives the same dv/dt and dh/dt = 0; a small T_h (Tsit5) tracks the
    algebraic solution."""
    xi, phi = cycle_memories(getkey(), 20, 3)
    m = MODELS["dsem"]
    p = make_params(xi, phi, alpha_s=1.0, alpha_c=2.0, t_h=0.01)
    v, vd = jax.random.normal(getkey(), (20,)), jax.random.normal(getkey(), (20,))
    dv, dh, dvd = vector_field_h(m, p, v, hidden_input(m, p, v, vd), vd)
    dv0, dvd0 = vector_field(m, p, v, vd)
    np.testing.assert_allclose(dv, dv0, rtol=1e-14)
    np.testing.assert_allclose(dh, 0.0, atol=1e-12)
    kw = dict(t1=5.0, save_every=1.0, alpha_s=1.0, alpha_c=2.0)
    a = simulate("dsem", xi, phi, xi[:, 0], **kw)
    b = simulate("dsem", xi, phi, xi[:, 0], t_h=0.01, **kw)
    assert float(jnp.abs(a.v - b.v).max()) < 0.05  # O(T_h / T_f) lag of the hidden layer


@pytest.mark.slow
def test_stiff_hidden_dynamics_implicit_solver(key):
    """T_h = 1e-3 << T_f is stiff: Kvaerno5 (implicit) tracks the algebraic-h solution."""
    xi, phi = cycle_memories(key, 20, 3)
    kw = dict(t1=5.0, save_every=1.0, alpha_s=1.0, alpha_c=2.0)
    a = simulate("dsem", xi, phi, xi[:, 0], **kw)
    b = simulate("dsem", xi, phi, xi[:, 0], t_h=1e-3, solver_config=SolverConfig(solver="kvaerno5"), **kw)
    assert float(jnp.abs(a.v - b.v).max()) < 0.02


def test_rk4_solvers_agree(key):
    """The Diffrax RK4 (custom Butcher tableau) equals the lax.scan RK4 up to round-off."""
    assert RK4().order(None) == 4
    xi, phi = cycle_memories(key, 30, 4)
    kw = dict(t1=20.0, save_every=1.0, alpha_s=1.0, alpha_c=2.0)
    a = simulate("dsem", xi, phi, xi[:, 0], solver_config=SolverConfig(solver="rk4", dt=0.01), **kw)
    b = simulate("dsem", xi, phi, xi[:, 0], solver_config=SolverConfig(solver="rk4_scan", dt=0.01), **kw)
    np.testing.assert_allclose(a.v, b.v, atol=1e-10)
    np.testing.assert_allclose(a.v_d, b.v_d, atol=1e-10)
