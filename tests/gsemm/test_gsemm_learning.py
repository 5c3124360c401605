"""Learning rules (issue 4 item 8, issue 11 item 6, issue 13 §3; gsemm.md §4.2, §7 A10-A11)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import (
    CompetitiveConfig,
    EnergyRuleConfig,
    LearnState,
    OnlineConfig,
    competitive_readout,
    contrastive_recall,
    cycle_memories,
    learn,
    recall_score,
)
from wavejax.gsemm._learning import recall_learned
from wavejax.gsemm._metrics import successors_from_phi
from wavejax.gsemm._online import contrastive_step, count_links, cpp_decode


def test_stdp_sanity_learns_successors():
    """Item 8 / A10: true Xi (N=100, K=8), each pattern clamped for 20 time units, T_d = 20, one pass of the
    energy-gradient rule tau_Phi dPhi/dt = a_c (Xi^T v_d) f^T: the off-diagonal row argmax of Phi is the
    successor for every row but the last (the closing edge 7 -> 0 is never experienced). Measured row 2:
    Phi_22 = 6.54, Phi_23 = 6.96, Phi_24 = 2.03 (re-sim 8.47, 9.14, 4.18 with another tau scaling)."""
    xi, _ = cycle_memories(jax.random.key(0), 100, 8)
    st = learn("energy", jax.random.key(0), xi.T, cfg=EnergyRuleConfig())
    np.testing.assert_array_equal(st.xi, xi)  # Xi is not learned by default
    succ = successors_from_phi(st.phi)
    assert all(succ[mu] == mu + 1 for mu in range(7)), succ
    phi = np.asarray(st.phi)
    np.testing.assert_allclose(phi[2, 2:5], [6.54, 6.96, 2.03], atol=0.01)


def _expsm_step_numpy(xi, phi, v, vd, t, *, a_c, t_f, t_d, tl_xi, tl_phi, dt):
    """Independent NumPy transcription of EDEN_cpp ExpSM::update then ExpSM::learn (a_s = 1), column vectors."""
    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    vh = xi.T @ v + a_c * phi.T @ (xi.T @ np.tanh(vd))  # f_Vf sets X.V_h (stale h for learn)
    v = v + dt * ((xi @ softmax(vh) - v) / t_f + t)
    vd = vd + dt * (v - vd) / t_d  # f_Vd reads the updated X.V_f
    tvh = softmax(xi.T @ t)
    x = t @ tvh.T - v @ softmax(vh).T
    x = x + x  # x += sqrt(alpha_s) * x
    x = x + a_c * vd @ tvh.T @ phi.T - a_c * vd @ softmax(vh).T @ phi.T
    xi = xi + dt * x / tl_xi
    dphi = a_c * xi.T @ vd @ tvh.T - a_c * xi.T @ vd @ softmax(vh).T
    return xi, phi + dt * dphi / tl_phi, v, vd


def test_contrastive_step_is_the_cpp_update_and_learn():
    """Issue 13 §3 (b): one step of contrastive_step equals an independent NumPy transcription of ExpSM::update +
    ExpSM::learn (input current NOT divided by T_f, tanh(v_d) in h, f from the stale h, Phi with the new Xi)."""
    k = jax.random.split(jax.random.key(7), 5)
    N, H = 12, 6
    xi, phi = np.asarray(jax.random.normal(k[0], (N, H))), np.asarray(jax.random.normal(k[1], (H, H)))
    v, vd = np.asarray(jax.random.normal(k[2], (N,))), np.asarray(jax.random.normal(k[3], (N,)))
    t = np.asarray(jax.random.rademacher(k[4], (N,), dtype=jnp.float64))
    cfg = OnlineConfig(n_features=N, n_patterns=H, n_hidden=H, alpha_c=2.5, t_f=0.05, t_d=20.0, tl_xi=0.3, tl_phi=0.7,
                       dt=0.01)
    st = LearnState(jnp.asarray(xi), jnp.asarray(phi), jnp.asarray(v), jnp.asarray(vd), jnp.zeros(H),
                    jnp.zeros((), jnp.int32))
    for _ in range(3):
        st = contrastive_step(st, jnp.asarray(t), cfg)
        xi, phi, v, vd = (a[..., 0] if a.ndim == 2 and a.shape[1] == 1 else a for a in _expsm_step_numpy(
            xi, phi, v[:, None], vd[:, None], t[:, None], a_c=2.5, t_f=0.05, t_d=20.0, tl_xi=0.3, tl_phi=0.7,
            dt=0.01))
    for got, want in zip((st.xi, st.phi, st.v, st.v_d), (xi, phi, v, vd), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_contrastive_rule_learns_memories_but_recalls_few_links():
    """Issue 13 §3 (b), replacing the weak `0 <= links <= 3`: the faithful port, at the C++ program defaults with
    N=50, P=10, N_h=20, learns memories (||Xi||_F grows from 1 to ~9; the 1/T_f-scaled port stayed at ~1.9) and
    its free recall from a random state decodes with the C++ decoder to the last list items only: measured
    outputs [9, 8], 0 of 9 links (the independent check: links 1, 0, 0, 0 over 4 seeds, outputs such as 9, 8)."""
    pats = jax.random.rademacher(jax.random.key(1), (10, 50), dtype=jnp.float64)
    cfg = OnlineConfig()
    st = learn("contrastive", jax.random.key(3), pats, cfg=cfg)
    assert 8.0 < float(jnp.linalg.norm(st.xi)) < 10.0 and int(st.count) == 10
    tr = contrastive_recall(st, jax.random.normal(jax.random.key(100), (50,)), cfg=cfg, n_steps=24_000)
    assert int(tr.result) == 0 and tr.v.shape == (481, 50)
    seq = cpp_decode(pats, tr.v, cfg.n_hidden)
    assert seq == [9, 8], seq  # recency: only the last two list items are recalled
    assert count_links(seq, 10) == 0


def test_recall_scoring():
    """recall_score / cpp_decode / count_links on constructed recalls with known answers."""
    pats = np.asarray(jax.random.rademacher(jax.random.key(1), (4, 20), dtype=jnp.float64))
    perfect = np.repeat(pats, 12, axis=0)
    sc = recall_score(pats, perfect, 1.0)
    assert sc["sequence"] == [0, 1, 2, 3] and sc["link_fraction"] == 1.0 and sc["min_peak"] == 1.0
    assert cpp_decode(pats, perfect, 8, swindow=5) == [0, 1, 2, 3]
    shuffled = np.repeat(pats[[0, 2, 1, 3]], 12, axis=0)
    assert recall_score(pats, shuffled, 1.0)["links_learned"] == 0
    assert count_links(cpp_decode(pats, shuffled, 8, swindow=5), 4) == 0
    weak = 0.2 * perfect  # overlaps 0.2 * N / N_h = 0.5 <= 0.6: the C++ decoder sees nothing
    assert cpp_decode(pats, weak, 8) == []
    # a never-presented distractor d (pattern 2 with 4 bits flipped) between 0 and 1: the C++ scores it and drops its
    # outputs, so 0 -> 1 is a link; scored on the presented patterns only, d reads as 2 and the link is lost
    d = pats[2:3].copy()
    d[0, :4] *= -1
    vs = np.repeat(np.concatenate([pats[:1], d, pats[1:2]]), 12, axis=0)
    assert cpp_decode(pats, vs, 8, swindow=5, distractors=d) == [0, 1]
    assert cpp_decode(pats, vs, 8, swindow=5) == [0, 2, 1]


def test_one_pass_sequence_learning_recalls_in_order():
    """A11 with wavejax's competitive Hebbian/STDP variant: N=50, P=10, N_h=20, each pattern shown once; free
    recall from pattern 0 reproduces >= 80% of the successor links with peak overlap >= 0.9 (measured: 9/9 links,
    peaks >= 0.999)."""
    pats = jax.random.rademacher(jax.random.key(1), (10, 50), dtype=jnp.float64)
    st = learn("competitive", jax.random.key(2), pats, cfg=CompetitiveConfig())
    units = np.argmax(np.asarray(st.xi).T @ np.asarray(pats).T, axis=0)
    assert len(set(units.tolist())) == 10  # one hidden unit per memory
    xi, phi = competitive_readout(st)
    sc = recall_score(pats, recall_learned(xi, phi, pats[0], t1=300.0), 0.5, min_overlap=0.5)
    assert sc["link_fraction"] >= 0.8 and sc["min_peak"] >= 0.9, sc


def test_learn_rejects_bad_input():
    pats = jax.random.rademacher(jax.random.key(1), (4, 20), dtype=jnp.float64)
    with pytest.raises(ValueError, match="rule"):
        learn("hebb", jax.random.key(0), pats, cfg=OnlineConfig())
    with pytest.raises(ValueError, match="patterns"):
        learn("contrastive", jax.random.key(0), 0.5 * pats, cfg=OnlineConfig())
    with pytest.raises(ValueError, match="n_hidden"):
        learn("competitive", jax.random.key(0), pats, cfg=CompetitiveConfig(n_hidden=2))


def _expsm_recall_numpy(xi, phi, v, *, a_c, t_f, t_d, dt, n_steps, every):
    """NumPy Euler recall of ExpSM (a_s = 1, no input, v_d(0) = 0), the solver's step (v_d with the old v)."""
    vd, out = np.zeros_like(v), [v]
    for i in range(1, n_steps + 1):
        h = xi.T @ v + a_c * phi.T @ (xi.T @ np.tanh(vd))
        e = np.exp(h - h.max())
        v, vd = v + dt * (xi @ (e / e.sum()) - v) / t_f, vd + dt * (v - vd) / t_d
        if i % every == 0:
            out.append(v)
    return np.stack(out)


def test_contrastive_runs_traced_batch_equals_the_numpy_transcription():
    """Issue 13 §3: the sweep's scalars are traced (OnlineScalars, vmapped: one compilation for all
    configurations). Each member of a batch with different a_c, T_f, T_d, Tl and steps_per_memory equals the
    NumPy transcription of the C++ learning steps and a NumPy Euler recall to 1e-12 (measured <= 1e-14 against the
    static-config path learn + contrastive_recall); samples past the member's own recall horizon are NaN."""
    from wavejax.gsemm import _online as online

    pats = jax.random.rademacher(jax.random.key(1), (3, 12), dtype=jnp.float64)
    static = OnlineConfig(n_features=12, n_patterns=3, n_hidden=6, dt=0.01, diagnostic=5)  # as contrastive_runs
    cfgs = [dataclasses.replace(static, steps_per_memory=40),
            dataclasses.replace(static, alpha_c=1.3, t_f=0.05, t_d=2.5, tl_xi=0.7, tl_phi=2.0, steps_per_memory=25)]
    keys = jnp.stack([jax.random.key(5), jax.random.key(6)])
    st, v, n_real, finite = online._runs(keys, pats, online.OnlineScalars.stack(cfgs), cfg=static, n_save=49)
    assert n_real.tolist() == [49, 31] and finite.tolist() == [True, True]
    for c, cfg in enumerate(cfgs):
        k1, k2 = jax.random.split(keys[c])
        st0 = online._init(k1, pats, cfg)
        xi, phi, x, xd = (np.asarray(a)[:, None] if a.ndim == 1 else np.asarray(a) for a in st0[:4])
        for t in np.asarray(pats):
            for _ in range(cfg.steps_per_memory):
                xi, phi, x, xd = _expsm_step_numpy(xi, phi, x, xd, t[:, None], a_c=cfg.alpha_c, t_f=cfg.t_f,
                                                   t_d=cfg.t_d, tl_xi=cfg.tl_xi, tl_phi=cfg.tl_phi, dt=cfg.dt)
        np.testing.assert_allclose(st.xi[c], xi, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(st.phi[c], phi, rtol=1e-12, atol=1e-12)
        ref = _expsm_recall_numpy(xi, phi, np.asarray(jax.random.normal(k2, (12,), jnp.float64)), a_c=cfg.alpha_c,
                                  t_f=cfg.t_f, t_d=cfg.t_d, dt=cfg.dt, n_steps=6 * cfg.steps_per_memory, every=5)
        np.testing.assert_allclose(v[c, : int(n_real[c])], ref, rtol=1e-12, atol=1e-12)
        assert bool(jnp.isnan(v[c, int(n_real[c]):]).all())
    per_config = online._runs(keys, jnp.stack([pats, pats]), online.OnlineScalars.stack(cfgs), cfg=static, n_save=49)
    np.testing.assert_allclose(per_config[1], v, rtol=1e-12, atol=1e-12)  # (C, P, N) patterns: one set per member
    with pytest.raises(ValueError, match="n_hidden"):
        online.contrastive_runs(keys, pats, [static, dataclasses.replace(static, n_hidden=7)])
