"""Sequence retrieval: the acceptance checks of issue 4 (items 1-6; gsemm.md §7 A1-A8).

Reference values quoted in comments come from the spec's independent re-simulation or from runs of this code
(seeds fixed). Decoding: argmax overlap, runs shorter than ``min_run`` samples dropped, equal runs collapsed.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import (
    MODELS,
    SolverConfig,
    cycle_memories,
    decode,
    dwell_prediction,
    dwell_stats,
    energy,
    make_params,
    overlaps,
    simulate,
    simulate_batch,
)
from wavejax.gsemm._metrics import cycle_successors, follows_graph, model_overlaps
from wavejax.gsemm._models import energy_params, vector_field

A3 = dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, t_f=1.0, t_d=20.0, gamma=1.0)  # the acceptance-2 network, r = 0.5


@pytest.fixture(scope="module")
def net10():
    return cycle_memories(jax.random.key(0), 100, 10)


def _flip(key, x, frac):
    return jnp.where(jax.random.bernoulli(key, frac, x.shape), -x, x)


@pytest.mark.parametrize("model,a_s", [("dsem", 1.0), ("lisem", 0.045)])
def test_gamm_limit_is_lyapunov_and_completes_the_cue(model, a_s):
    """Item 1 / A1: a_c = 0, cue xi^3 with 30% of bits flipped, RK4 dt 0.01 over 30 time units: E never increases
    (re-sim: 4e-14 DSEM, 3e-13 LISEM; issue bound 1e-7), the cue is completed, no transitions."""
    xi, phi = cycle_memories(jax.random.key(1), 100, 10)
    v0 = _flip(jax.random.key(2), xi[:, 3], 0.3) * (np.sqrt(a_s) if model == "dsem" else 1.0)
    tr = simulate(model, xi, phi, v0, t1=30.0, save_every=0.01, alpha_s=a_s, alpha_c=0.0,
                  solver_config=SolverConfig(solver="rk4"))
    e = np.asarray(energy(model, xi, phi, tr.v, tr.v_d, alpha_s=a_s, alpha_c=0.0))
    assert np.diff(e).max() <= 1e-9
    m = model_overlaps(model, xi, tr.v)
    assert m[-1, 3] >= 0.99  # re-sim: DSEM 1.000, LISEM 0.994 (this code: 0.997)
    assert decode(tr.ts, m).sequence.tolist() == [3]


@functools.partial(jax.jit, static_argnames=("model", "n"))
def _descent_stats(model, p, v0, *, n, dt=0.01):
    """Euler steps; per step the frozen-delay change E(v'; v_d) - E(v; v_d) and the full change E(v', v_d') - E."""
    m = MODELS[model]

    def step(c, _):
        v, vd = c
        dv, dvd = vector_field(m, p, v, vd)
        v2, vd2 = v + dt * dv, vd + dt * dvd
        e0 = energy_params(m, p, v, vd)
        return (v2, vd2), (energy_params(m, p, v2, vd) - e0, energy_params(m, p, v2, vd2) - e0)

    _, (frozen, full) = jax.lax.scan(step, (v0, jnp.zeros_like(v0)), None, length=n)
    return frozen.max(), (full > 0).mean()


@pytest.mark.parametrize("model,kw,min_rise", [("dsem", A3, 0.5), ("lisem", dict(alpha_s=0.045, alpha_c=0.006,
                                                                                   beta_d=7.0, t_d=100.0), 0.1)])
def test_frozen_delay_descent_and_full_energy_rises(model, kw, min_rise, net10):
    """Item 1 / A2: with a_c > 0 every Euler step (dt 0.01, 600 time units) descends the frozen surface
    E(.; v_d) (re-sim <= 3e-13), while the full energy rises on a sizeable fraction of steps (re-sim: 92% DSEM,
    33% LISEM)."""
    xi, phi = net10 if model == "dsem" else cycle_memories(jax.random.key(1), 100, 5)
    p = make_params(xi, phi, **kw)
    v0 = (np.sqrt(kw["alpha_s"]) if model == "dsem" else 1.0) * xi[:, 0]
    frozen_max, rise = _descent_stats(model, p, v0, n=60_000)
    assert float(frozen_max) <= 1e-9
    assert float(rise) >= min_rise


def test_dsem_cycle(net10):
    """Item 2 / A3: DSEM N=100, K=10, r = 0.5, cue xi^0, t in [0, 1000] (Tsit5 + PID): the decoded sequence
    follows the cycle with no error, >= 3 traversals, peak overlap >= 0.99 in every dwell; mean dwell within 10%
    of the dwell law D = -T_d ln(1 - sqrt r) = 24.56 (measured 25.3)."""
    xi, phi = net10
    tr = simulate("dsem", xi, phi, xi[:, 0], t1=1000.0, save_every=0.5, **A3)
    dec = decode(tr.ts, overlaps(xi, tr.v))
    seq = dec.sequence
    assert seq.tolist() == [i % 10 for i in range(len(seq))] and len(seq) >= 31
    assert dec.peaks.min() >= 0.99
    pred = dwell_prediction(1.0, 2.0, 1.0, 20.0)
    assert abs(dwell_stats(dec)["mean"] / pred["D"] - 1) < 0.10


@pytest.mark.parametrize("patterns", ["jax", "authors"])
def test_author_notebook_two_cycles(patterns):
    """Item 3 / A5: the authors' DSEM notebook (N=100, K=7, cycles {0,1,2} and {3,4,5,6}, a_c=4.9, b_d=7,
    T_d=20, RK4 dt 0.01 with their operator split, 58,333 steps; cue xi^4 with its last 25 entries zeroed) visits
    only the cued cycle, in order; min peak overlap >= 0.85 (re-sim 0.87; this code 0.866 on JAX-random Xi).
    gsemm-check "Other notes": also on the authors' own Xi (``initialize(seed=0)``: np.random.seed(0),
    np.random.choice([-1, 1], (100, 7))), where the check ran the authors' class: 133 states, min peak 0.8741; this
    code: 133 states, min peak 0.87408."""
    xi, phi = cycle_memories(jax.random.key(0), 100, 7, [[0, 1, 2], [3, 4, 5, 6]])
    if patterns == "authors":
        xi = jnp.asarray(np.random.RandomState(0).choice([-1, 1], (100, 7)), jnp.float64)
    v0 = xi[:, 4].at[75:].set(0.0)
    tr = simulate("dsem", xi, phi, v0, t1=583.33, save_every=0.03, alpha_s=1.0, alpha_c=4.9, beta_d=7.0,
                  t_d=20.0, solver_config=SolverConfig(solver="rk4_split_scan", dt=0.01))
    dec = decode(tr.ts, overlaps(xi, tr.v))
    seq = dec.sequence
    assert seq[:5].tolist() == [4, 5, 6, 3, 4] and len(seq) > 50  # fast regime: dwells ~4-6 time units
    assert set(seq.tolist()) <= {3, 4, 5, 6}
    assert follows_graph(seq, {3: 4, 4: 5, 5: 6, 6: 3})
    assert dec.peaks.min() >= 0.85
    if patterns == "authors":
        assert len(seq) == 133 and abs(dec.peaks.min() - 0.8741) < 5e-4


def test_lisem_cycle_code_defaults():
    """Item 4 / A7: LISEM, N=100, K=5 cycle, code defaults (a_s=0.045, a_c=0.004, b_d=7, T_d=100, T_f=1), Euler
    dt 0.01, 2000 time units, six pattern seeds in one vmapped solve. At the defaults transitions are
    crosstalk-driven (spec §2.8), so the count depends on the patterns (measured 1-9); the order is respected for
    >= 5 of 6 seeds (seed 4 drifts into a mixture state, peak 0.48). a_c = 0.006 gives more transitions (seed 1:
    17, more regular dwells) but 2 of 6 seeds then leave the order through mixture states.
    a_c = 0: no transition for any seed."""
    nets = [cycle_memories(jax.random.key(s), 100, 5) for s in range(6)]
    xis, phi = jnp.stack([n[0] for n in nets]), nets[0][1]
    kw = dict(t1=2000.0, save_every=0.5, alpha_s=0.045, beta_d=7.0, t_d=100.0,
              solver_config=SolverConfig(solver="euler_scan", dt=0.01))
    run = jax.vmap(lambda x, a_c: simulate("lisem", x, phi, x[:, 0], alpha_c=a_c, **kw).v, in_axes=(0, None))
    counts = {}
    for a_c in (0.004, 0.006, 0.0):
        vs = run(xis, a_c)
        decs = [decode(np.arange(vs.shape[1]) * 0.5, model_overlaps("lisem", x, v)) for x, v in zip(xis, vs,
                                                                                                     strict=True)]
        ordered = [follows_graph(d.sequence, cycle_successors(5)) and d.sequence[0] == 0 for d in decs]
        counts[a_c] = [len(d.sequence) - 1 for d in decs]
        if a_c == 0.0:
            assert counts[a_c] == [0] * 6
        else:
            need = 5 if a_c == 0.004 else 4  # measured: 5/6 at the defaults, 4/6 at a_c = 0.006 (seeds 4, 5 drift)
            n_ok = sum(o and c >= 1 for o, c in zip(ordered, counts[a_c], strict=True))
            assert n_ok >= need, (counts, [d.sequence.tolist() for d in decs])
    assert counts[0.004][1] >= 5 and counts[0.006][1] >= 12  # seed 1: 9 and 17 transitions
    assert sum(counts[0.006]) > sum(counts[0.004])


def test_solver_agreement(net10):
    """Item 5 / A6: Tsit5 + PID (rtol 1e-6, atol 1e-8) and fixed-step Diffrax Euler dt 0.01 decode
    the same first 14 states; mean dwells within 1% (measured 0.05%). (The lax.scan integrators are checked against
    Diffrax in test_gsemm_models::test_rk4_solvers_agree.)"""
    xi, phi = net10
    decs = []
    for solver in ("tsit5", "euler"):
        tr = simulate("dsem", xi, phi, xi[:, 0], t1=1000.0, save_every=0.1,
                      solver_config=SolverConfig(solver=solver, dt=0.01), **A3)
        decs.append(decode(tr.ts, overlaps(xi, tr.v), min_run=50))
    ref = decs[0]
    assert len(ref.sequence) >= 14
    for d in decs[1:]:
        assert d.sequence[:14].tolist() == ref.sequence[:14].tolist()
        assert abs(dwell_stats(d)["mean"] / dwell_stats(ref)["mean"] - 1) < 0.01


def test_vmap_over_noisy_cues(net10):
    """Item 6 / A8: jax.vmap of simulate over 64 cues with 20% of bits flipped (Tsit5): >= 95% decode
    0, 1, ..., 9, 0, 1 in order (re-sim 100%). The fixed-step batched strategies decode the same."""
    xi, phi = net10
    cues = jax.vmap(lambda k: _flip(k, xi[:, 0], 0.2))(jax.random.split(jax.random.key(3), 64))
    target = [i % 10 for i in range(12)]
    tr = jax.vmap(lambda c: simulate("dsem", xi, phi, c, t1=320.0, save_every=0.5, **A3))(cues)
    assert tr.v.shape == (64, 641, 100)
    ok = [decode(tr.ts[0], overlaps(xi, v)).sequence[:12].tolist() == target for v in tr.v]
    assert np.mean(ok) >= 0.95
    ms = {}
    for strategy in ("scan", "projected"):
        tb = simulate_batch("dsem", xi, phi, cues[:8], t1=320.0, save_every=0.5, strategy=strategy,
                            method="rk4", solver_config=SolverConfig(dt=0.1), **A3)
        ts, ms[strategy] = tb.ts, tb.m
        assert tb.result.tolist() == [0] * 8
        assert ms[strategy].shape == (8, 641, 10)
        seqs = [decode(ts, mb).sequence[:12].tolist() for mb in ms[strategy]]
        assert seqs == [target] * 8
    # the K-dimensional reduction a = Xi^T v, b = Xi^T v_d is exact: same RK4 trajectory up to round-off
    np.testing.assert_allclose(ms["projected"], ms["scan"], atol=1e-10)


@pytest.mark.slow
def test_adaptive_batch_strategies_agree(net10):
    """simulate_batch's adaptive strategies (stacked, vmap, loop) decode the same sequences as single solves."""
    xi, phi = net10
    cues = jax.vmap(lambda k: _flip(k, xi[:, 0], 0.2))(jax.random.split(jax.random.key(4), 4))
    seqs = {}
    for strategy in ("stacked", "vmap", "loop"):
        tb = simulate_batch("dsem", xi, phi, cues, t1=320.0, save_every=0.5, strategy=strategy, **A3)
        ts, m = tb.ts, tb.m
        seqs[strategy] = [decode(ts, mb).sequence.tolist() for mb in m]
    assert seqs["stacked"] == seqs["vmap"] == seqs["loop"]
    assert all(s[:12] == [i % 10 for i in range(12)] for s in seqs["loop"])
