"""Online learning of memories Xi and transitions Phi (gsemm.md §4.2–4.3; equations PROPOSED / UNCONFIRMED).

Two rules, both local in time:

* Energy-gradient (Hebbian / STDP-like) rule, gradient descent on E of §2.3 with the states fixed, f = sigma_h(h):

      tau_Xi  dXi/dt  = sqrt(a_s) sigma_f(v) f^T + a_c v_d (Phi f)^T
      tau_Phi dPhi/dt = a_c (Xi^T v_d) f^T            (delayed memory mu x current memory nu: mu -> nu)

  :func:`learn_phi_clamped` integrates it with Diffrax, Xi and Phi (and v_d) as ODE states, while v is clamped to
  the presented patterns (piecewise constant; pattern switches are ``jump_ts``).
* The authors' contrastive clamped-minus-free rule (EDEN_cpp ``ExpSM::learn``), target t = presented pattern,
  f* = softmax(sqrt(a_s) Xi^T t), f = softmax(gamma h):

      dXi  ∝ (1 + sqrt(a_s)) (t f*^T - v f^T) + a_c v_d (f* - f)^T Phi^T,    dPhi ∝ a_c (Xi^T v_d)(f* - f)^T

  :func:`online_learn` runs it by interleaved Euler as the C++ does (update v, v_d, then the weights every step),
  the pattern entering as an input current I = pattern; :func:`free_recall` then runs without input.
  MEASURED (N=50, P=10, N_h=20, C++ defaults, 1200 steps per memory): the free recall stays on the first
  memory, 0 of 9 links learned; the rule did not give ordered recall here (as the spec's numpy port found).
* :func:`learn_sequence` (wavejax's working variant, PROPOSED): Hebbian learning of both Xi and Phi in one
  presentation with a competitive, homeostatic hidden layer. With c_j = cos(xi_j, v) and the usage u_j:

      f = softmax(beta c - beta u),   tau_Xi dXi/dt = v f^T - Xi diag(f),   dv_d/dt = (v - v_d) / T_d,
      tau_Phi dPhi/dt = cos(Xi, v_d) f^T,   du/dt = f / T_clamp

  (Oja-like winner-take-all columns; the usage penalty stops a unit that already holds a memory from capturing
  the next pattern; Phi potentiates delayed-memory mu x current memory nu, the STDP term of the energy rule).
  Then Phi's diagonal is zeroed and each row scaled to max 1, Xi is binarised (sign). MEASURED (N=50, P=10,
  N_h=20, clamp 20, T_d=20): one unit per pattern (column overlap 1.00), 9 of 9 successor links learned, recall
  peak overlaps >= 0.999 (DSEM recall, a_c=2): the A11 target (>= 80% links, overlap >= 0.9) is met by this
  variant, not by the contrastive rule.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.gsemm.metrics import decode
from wavejax.gsemm.models import DSEM, Params, hidden_input, make_params, vector_field
from wavejax.gsemm.simulate import check_x64

__all__ = ["learn_phi_clamped", "OnlineConfig", "LearnState", "online_learn", "free_recall", "recall_score",
           "learn_sequence", "recall_learned"]


def learn_phi_clamped(xi, order, *, clamp_time: float = 20.0, alpha_s: float = 1.0, alpha_c: float = 1.0,
                      beta_d: float = 1.0, gamma: float = 1.0, t_d: float = 20.0, tau_phi: float | None = None,
                      tau_xi: float | None = None, learn_xi: bool = False, feedback: bool = False,
                      rtol: float = 1e-6, atol: float = 1e-8, dtype=jnp.float64):
    """One pass of the energy-gradient rule over ``order`` with v clamped to sqrt(a_s) xi^{order[i]} (DSEM).

    Args:
      xi: memories (N, K) (the true patterns for the STDP sanity check). order: sequence of memory indices (P,).
      clamp_time: presentation time per pattern. tau_phi, tau_xi: learning time constants (default N).
      learn_xi: also integrate Xi (default: Xi fixed, only Phi learns).
      feedback: compute f = sigma_h(h) with the full hidden input h = sqrt(a_s) Xi^T v + a_c Phi^T Xi^T v_d.
        Default False: f = sigma_h(sqrt(a_s) Xi^T v), the hidden layer driven by the clamped features only.
        With feedback the growing Phi feeds back into h and captures f on one memory.

    Returns:
      (Phi (K, K), Xi (N, K)) at the end of the pass; Phi starts at 0.
    """
    N, K = V.ndim("xi", xi, (2,))
    V.pm_one("xi", xi)
    order = np.asarray(order, int)
    if order.ndim != 1 or order.size == 0 or order.min() < 0 or order.max() >= K:
        raise ValueError(f"order must be a non-empty list of indices in [0, {K}); got {order.tolist()}")
    for name, val in (("clamp_time", clamp_time), ("t_d", t_d), ("gamma", gamma)):
        V.positive(name, val)
    check_x64(dtype)
    tau_phi = float(tau_phi or N)
    tau_xi = float(tau_xi or N)
    p = make_params(xi, jnp.zeros((K, K)), alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, t_d=t_d, gamma=gamma,
                    dtype=dtype)
    pats = jnp.sqrt(p.alpha_s) * p.xi.T[order]  # (P, N)
    edges = clamp_time * jnp.arange(order.size + 1, dtype=dtype)
    return _learn_clamped(p, pats, edges, tau_phi, tau_xi, learn_xi, feedback, rtol, atol)


@functools.partial(jax.jit, static_argnames=("learn_xi", "feedback", "rtol", "atol"))
def _learn_clamped(p: Params, pats, edges, tau_phi, tau_xi, learn_xi, feedback, rtol, atol):
    def vf(t, y, args):
        vd, Xi, Phi = y
        idx = jnp.clip(jnp.searchsorted(edges, t, side="right") - 1, 0, pats.shape[0] - 1)
        v = pats[idx]
        q = args._replace(xi=Xi, phi=Phi if feedback else jnp.zeros_like(Phi))
        f = DSEM.hidden.sigma(hidden_input(DSEM, q, v, vd), q.gamma)
        dPhi = q.alpha_c * jnp.outer(Xi.T @ vd, f) / tau_phi
        dXi = (jnp.sqrt(q.alpha_s) * jnp.outer(v, f) + q.alpha_c * jnp.outer(vd, Phi @ f)) / tau_xi
        return (q.beta_d * v - vd) / q.t_d, dXi if learn_xi else jnp.zeros_like(Xi), dPhi

    y0 = (jnp.zeros_like(pats[0]), p.xi, p.phi)
    ctrl = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=rtol, atol=atol), jump_ts=edges)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vf), diffrax.Tsit5(), edges[0], edges[-1], None, y0, p,
                              stepsize_controller=ctrl, max_steps=100_000)
    return sol.ys[2][-1], sol.ys[1][-1]


@dataclasses.dataclass(frozen=True, kw_only=True)
class OnlineConfig:
    """Online contrastive learning protocol (gsemm.md §4.3; C++ defaults unless noted).

    MEASURED with these defaults (N=50, P=10, N_h=20, one presentation): the free recall stays on the first memory,
    0 of 9 successor links; the paper's learning claim does not reproduce with this rule (see the module doc).
    """

    n_features: int = 50  # N
    n_patterns: int = 10  # P, presented once in order 0..P-1
    n_hidden: int = 20  # N_h = 2P
    alpha_s: float = 1.0  # symmetric strength
    alpha_c: float = 3.0  # cross strength
    beta_d: float = 1.0  # delay gain
    gamma: float = 1.0  # softmax gain
    t_f: float = 0.1  # feature time constant
    t_d: float = 5.0  # delay time constant (cluster scripts: 50 T_f)
    tl_xi: float = 0.1  # learning time constant of Xi
    tl_phi: float = 0.1  # learning time constant of Phi
    dt: float = 0.001  # Euler step
    steps_per_memory: int = 1200  # presentation length per pattern, in steps

    def __post_init__(self):
        for f in ("n_features", "n_patterns", "n_hidden", "steps_per_memory"):
            V.positive_int(f, getattr(self, f))
        for f in ("alpha_s", "gamma", "t_f", "t_d", "tl_xi", "tl_phi", "dt"):
            V.positive(f, getattr(self, f))
        V.nonneg("alpha_c", self.alpha_c)

    @classmethod
    def quick(cls) -> OnlineConfig:  # seconds on CPU
        return cls(steps_per_memory=600)


class LearnState(NamedTuple):
    """State of the online rule: feature v (N,), delay v_d (N,), Xi (N, N_h), Phi (N_h, N_h)."""

    v: jax.Array
    v_d: jax.Array
    xi: jax.Array
    phi: jax.Array


def _params(cfg: OnlineConfig, xi, phi) -> Params:
    return make_params(xi, phi, alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta_d=cfg.beta_d, t_f=cfg.t_f,
                       t_d=cfg.t_d, gamma=cfg.gamma, dtype=xi.dtype)


@functools.partial(jax.jit, static_argnames="cfg")
def online_learn(key: jax.Array, patterns, *, cfg: OnlineConfig) -> LearnState:
    """Present ``patterns`` (P, N) once, in order, as input current; update v, v_d, then Xi, Phi every step.

    Init (C++): Xi, Phi ~ N(0, 1) scaled to Frobenius norm 1; v = v_d = 0. Returns the final :class:`LearnState`.
    """
    N, H = patterns.shape[1], cfg.n_hidden
    k1, k2 = jax.random.split(key)
    xi = jax.random.normal(k1, (N, H), patterns.dtype)
    phi = jax.random.normal(k2, (H, H), patterns.dtype)
    st = LearnState(jnp.zeros(N, patterns.dtype), jnp.zeros(N, patterns.dtype), xi / jnp.linalg.norm(xi),
                    phi / jnp.linalg.norm(phi))
    sa = jnp.sqrt(cfg.alpha_s)

    def step(st: LearnState, target):
        p = _params(cfg, st.xi, st.phi)
        dv, dvd = vector_field(DSEM, p, st.v, st.v_d, target)
        v, vd = st.v + cfg.dt * dv, st.v_d + cfg.dt * dvd
        f = jax.nn.softmax(cfg.gamma * hidden_input(DSEM, p, v, vd))
        f_star = jax.nn.softmax(cfg.gamma * sa * (st.xi.T @ target))
        d_xi = (1 + sa) * (jnp.outer(target, f_star) - jnp.outer(v, f)) + cfg.alpha_c * jnp.outer(vd, st.phi @ (
            f_star - f))
        d_phi = cfg.alpha_c * jnp.outer(st.xi.T @ vd, f_star - f)
        return LearnState(v, vd, st.xi + cfg.dt / cfg.tl_xi * d_xi, st.phi + cfg.dt / cfg.tl_phi * d_phi), None

    targets = jnp.repeat(patterns, cfg.steps_per_memory, axis=0)
    st, _ = jax.lax.scan(step, st, targets)
    return st


@functools.partial(jax.jit, static_argnames=("cfg", "n_steps", "stride"))
def free_recall(st: LearnState, v0, *, cfg: OnlineConfig, n_steps: int, stride: int = 10):
    """Run the learned network from ``v0`` without input (Euler, cfg.dt); return v every ``stride`` steps."""
    p = _params(cfg, st.xi, st.phi)

    def inner(c, _):
        v, vd = c
        dv, dvd = vector_field(DSEM, p, v, vd)
        return (v + cfg.dt * dv, vd + cfg.dt * dvd), None

    def outer(c, _):
        c, _ = jax.lax.scan(inner, c, None, length=stride)
        return c, c[0]

    _, vs = jax.lax.scan(outer, (v0, jnp.zeros_like(v0)), None, length=n_steps // stride)
    return vs


def recall_score(patterns, vs, dt_save: float, *, min_overlap: float = 0.5) -> dict:
    """Score a free recall against the presented order 0..P-1 (gsemm.md §7 A11).

    Overlaps of v with the normalised patterns; returns the decoded sequence, the fraction of successor links
    i -> i+1 (i < P-1) that appear as decoded changes, and the peak overlap of each visited memory.
    """
    pats = np.asarray(patterns)
    P, N = pats.shape
    m = np.asarray(vs) @ pats.T / N
    dec = decode(np.arange(len(m)) * dt_save, m, min_run=3, min_overlap=min_overlap)
    seq = dec.sequence
    links = {(int(a), int(b)) for a, b in zip(seq[:-1], seq[1:], strict=False)}
    learned = sum((i, i + 1) in links for i in range(P - 1))
    return {"sequence": seq.tolist(), "links_learned": learned, "link_fraction": learned / (P - 1),
            "peak_overlaps": dec.peaks.tolist(),
            "min_peak": float(dec.peaks.min()) if dec.peaks.size else float("nan")}


@functools.partial(jax.jit, static_argnames=("n_hidden", "rtol", "atol"))
def _learn_sequence(key, pats, *, n_hidden, clamp_time, t_d, tau_xi, tau_phi, beta, rtol, atol):
    P, N = pats.shape
    edges = clamp_time * jnp.arange(P + 1, dtype=pats.dtype)
    xi0 = 0.1 * jax.random.normal(key, (N, n_hidden), pats.dtype)

    def cos(Xi, x):
        return (Xi.T @ x) / (jnp.linalg.norm(Xi, axis=0) * jnp.sqrt(jnp.asarray(N, x.dtype)) + 1e-30)

    def vf(t, y, args):
        vd, Xi, Phi, u = y
        v = pats[jnp.clip(jnp.searchsorted(edges, t, side="right") - 1, 0, P - 1)]
        f = jax.nn.softmax(beta * cos(Xi, v) - beta * u)
        d_xi = (jnp.outer(v, f) - Xi * f[None, :]) / tau_xi
        d_phi = jnp.outer(cos(Xi, vd), f) / tau_phi
        return (v - vd) / t_d, d_xi, d_phi, f / clamp_time

    y0 = (jnp.zeros(N, pats.dtype), xi0, jnp.zeros((n_hidden, n_hidden), pats.dtype), jnp.zeros(n_hidden, pats.dtype))
    ctrl = diffrax.ClipStepSizeController(diffrax.PIDController(rtol=rtol, atol=atol), jump_ts=edges)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(vf), diffrax.Tsit5(), edges[0], edges[-1], None, y0, None,
                              stepsize_controller=ctrl, max_steps=200_000)
    return sol.ys[1][-1], sol.ys[2][-1]


def learn_sequence(key: jax.Array, patterns, *, n_hidden: int = 20, clamp_time: float = 20.0, t_d: float = 20.0,
                   tau_xi: float = 2.0, tau_phi: float = 20.0, beta: float = 30.0, rtol: float = 1e-6,
                   atol: float = 1e-8):
    """Learn memories and transitions from ONE presentation of ``patterns`` (P, N) in order (module doc, PROPOSED).

    Each pattern is clamped on v for ``clamp_time``; Xi (N, n_hidden) starts at 0.1 N(0, 1), Phi at 0.

    Returns:
      ``(xi, phi, raw_xi, raw_phi)``: ``xi`` = sign(raw Xi) (+-1, for :func:`recall_learned`), ``phi`` = raw Phi with
      zero diagonal and rows scaled to a maximum of 1; ``raw_*`` are the ODE end states.
    """
    pats = jnp.asarray(patterns)
    P, N = V.ndim("patterns", pats, (2,))
    V.pm_one("patterns", pats)
    V.positive_int("n_hidden", n_hidden)
    if n_hidden < P:
        raise ValueError(f"n_hidden must be >= the number of patterns {P}; got n_hidden={n_hidden}")
    for name, val in (("clamp_time", clamp_time), ("t_d", t_d), ("tau_xi", tau_xi), ("tau_phi", tau_phi),
                      ("beta", beta)):
        V.positive(name, val)
    check_x64(pats.dtype)
    raw_xi, raw_phi = _learn_sequence(key, pats, n_hidden=n_hidden, clamp_time=clamp_time, t_d=t_d, tau_xi=tau_xi,
                                      tau_phi=tau_phi, beta=beta, rtol=rtol, atol=atol)
    phi = np.array(raw_phi)
    np.fill_diagonal(phi, 0.0)
    top = phi.max(axis=1, keepdims=True)
    phi = np.where(top > 0, phi / np.where(top > 0, top, 1.0), 0.0)
    xi = np.where(np.asarray(raw_xi) >= 0, 1.0, -1.0)
    return jnp.asarray(xi, pats.dtype), jnp.asarray(phi, pats.dtype), raw_xi, raw_phi


def recall_learned(xi, phi, cue, *, t1: float = 1000.0, save_every: float = 0.5, alpha_s: float = 1.0,
                   alpha_c: float = 2.0, beta_d: float = 1.0, t_d: float = 20.0):
    """Free recall of a learned DSEM (Tsit5) from ``cue`` (N,), v_d(0) = 0; returns v every ``save_every``, (T, N)."""
    from wavejax.gsemm.simulate import simulate

    return simulate("dsem", xi, phi, cue, t1=t1, save_every=save_every, alpha_s=alpha_s, alpha_c=alpha_c,
                    beta_d=beta_d, t_d=t_d).v
