"""Online learning of memories Xi and transitions Phi (docs/gsemm.md §4.2–4.3; equations PROPOSED / UNCONFIRMED).

Three rules, each a module-level pure function with its equation in its docstring, as an Optax-like
``init``/``update`` pair (:class:`LearningRule`) on one state (:class:`LearnState`); the one entry point
:func:`~wavejax.gsemm.learn` (module :mod:`wavejax.gsemm._learn`) presents patterns to any of them:

* :func:`energy_rule` — gradient descent on the energy of §2.3 with the states fixed (Hebbian / STDP-like);
  v is clamped to each presented pattern; Diffrax integrates (v_d, Xi, Phi).
* :func:`~wavejax.gsemm._online.contrastive_step` — the authors' contrastive clamped-minus-free rule, a faithful
  port of EDEN_cpp ``ExpSM::update`` + ``ExpSM::learn`` (module :mod:`wavejax.gsemm._online`).
* :func:`competitive_rule` — wavejax's working variant: Hebbian learning of Xi and Phi with a competitive,
  homeostatic hidden layer (PROPOSED).

Recall goes through the one simulation core (:func:`~wavejax.gsemm.simulate` /
:func:`~wavejax.gsemm.solve`). Argument and return order is ``(xi, phi)`` everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.gsemm._models import DSEM, Params, hidden_input, make_params
from wavejax.gsemm._solve import MAX_STEPS, NONFINITE, SOLVER_FAILED, SUCCESS

__all__ = ["LearnState", "LearningRule", "EnergyRuleConfig", "CompetitiveConfig", "energy_rule",
           "competitive_rule", "competitive_readout", "ENERGY", "COMPETITIVE", "recall_learned"]


class LearnState(NamedTuple):
    """State of an online rule: Xi (N, N_h), Phi (N_h, N_h), feature v (N,), delay v_d (N,), hidden usage u
    (N_h,) (competitive rule; zeros otherwise), the number of patterns presented so far and ``result``: the
    solver result code of the first failed presentation (0 = every presentation succeeded;
    :data:`wavejax.gsemm.RESULT_CODES`: 1 max_steps_reached, 2 nonfinite, 3 solver_failed)."""

    xi: jax.Array
    phi: jax.Array
    v: jax.Array
    v_d: jax.Array
    u: jax.Array
    count: jax.Array
    result: jax.Array | int = 0


class LearningRule(NamedTuple):
    """An online rule as a pair of pure functions (Optax ``GradientTransformation`` style).

    ``init(key, patterns, cfg) -> LearnState``; ``update(state, pattern, cfg) -> LearnState`` presents ONE pattern
    (N,). :func:`learn` scans ``update`` over the patterns in order.
    """

    name: str
    init: Callable[[jax.Array, jax.Array, Any], LearnState]
    update: Callable[[LearnState, jax.Array, Any], LearnState]


def _state(xi, phi, n: int, u=None) -> LearnState:
    z = jnp.zeros(n, xi.dtype)
    return LearnState(xi, phi, z, z, jnp.zeros(phi.shape[0], xi.dtype) if u is None else u, jnp.zeros((), jnp.int32),
                      jnp.zeros((), jnp.int32))


def _present(field, y0, args, cfg):
    """Integrate one presentation of length ``cfg.clamp_time`` with Tsit5 + PID (throw=False); returns the end
    state and the presentation's result code."""
    sol = diffrax.diffeqsolve(diffrax.ODETerm(field), diffrax.Tsit5(), 0.0, cfg.clamp_time, None, y0, args,
                              stepsize_controller=diffrax.PIDController(rtol=cfg.rtol, atol=cfg.atol),
                              max_steps=cfg.max_steps, throw=False)
    end = jax.tree.map(lambda a: a[-1], sol.ys)
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(a)) for a in jax.tree.leaves(end)]))
    R = diffrax.RESULTS
    code = jnp.where(sol.result == R.successful, jnp.where(finite, SUCCESS, NONFINITE),
                     jnp.where(sol.result == R.max_steps_reached, MAX_STEPS, SOLVER_FAILED))
    return end, code.astype(jnp.int32)


def _first_failure(old, code):
    """The result code to keep: the first failure of a run (a later one is its consequence)."""
    return jnp.where(jnp.asarray(old) == SUCCESS, code, old).astype(jnp.int32)


# --- energy-gradient rule -----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, kw_only=True)
class EnergyRuleConfig:
    """The energy-gradient rule with v clamped to each pattern for ``clamp_time`` (DSEM, docs/gsemm.md §4.2, A10)."""

    clamp_time: float = 20.0  # presentation time per pattern
    alpha_s: float = 1.0  # symmetric strength
    alpha_c: float = 1.0  # cross strength
    beta_d: float = 1.0  # delay gain
    gamma: float = 1.0  # softmax gain
    t_d: float = 20.0  # delay time constant
    tau_phi: float | None = None  # learning time constant of Phi (None: N)
    tau_xi: float | None = None  # learning time constant of Xi (None: N)
    learn_xi: bool = False  # also integrate Xi (default: Xi fixed, only Phi learns)
    feedback: bool = False  # f = sigma_h(full h incl. a_c Phi^T Xi^T v_d); default f = sigma_h(sqrt(a_s) Xi^T v)
    rtol: float = 1e-6  # Tsit5 tolerances
    atol: float = 1e-8
    max_steps: int = 100_000  # Tsit5 step budget per presentation (exceeded: LearnState.result = 1)

    def __post_init__(self):
        for name in ("clamp_time", "t_d", "gamma", "rtol", "atol"):
            V.positive(name, getattr(self, name))
        V.positive_int("max_steps", self.max_steps)


def energy_rule(t, y, args):
    """Energy-gradient (Hebbian / STDP-like) rule, gradient descent on E of §2.3 with the states fixed.

        f = sigma_h(h),   T_d dv_d/dt = b_d v - v_d          (v clamped to the presented pattern)
        tau_Xi  dXi/dt  = sqrt(a_s) sigma_f(v) f^T + a_c v_d (Phi f)^T
        tau_Phi dPhi/dt = a_c (Xi^T v_d) f^T                (delayed memory mu x current memory nu: mu -> nu)

    Diffrax form: ``y = (v_d, Xi, Phi)``, ``args = (Params, v, cfg)`` with cfg an :class:`EnergyRuleConfig`
    (tau_* None means N). DSEM (sigma_f = identity). Returns dy.
    """
    vd, Xi, Phi = y
    p, v, cfg = args
    n = v.shape[0]
    q = p._replace(xi=Xi, phi=Phi if cfg.feedback else jnp.zeros_like(Phi))
    f = DSEM.hidden.sigma(hidden_input(DSEM, q, v, vd), q.gamma)
    d_phi = q.alpha_c * jnp.outer(Xi.T @ vd, f) / (cfg.tau_phi or n)
    d_xi = (jnp.sqrt(q.alpha_s) * jnp.outer(v, f) + q.alpha_c * jnp.outer(vd, Phi @ f)) / (cfg.tau_xi or n)
    return (q.beta_d * v - vd) / q.t_d, d_xi if cfg.learn_xi else jnp.zeros_like(Xi), d_phi


def _params(cfg: EnergyRuleConfig, xi, phi) -> Params:
    return make_params(xi, phi, alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta_d=cfg.beta_d, t_d=cfg.t_d,
                       gamma=cfg.gamma, dtype=xi.dtype)


def _energy_init(key, patterns, cfg: EnergyRuleConfig) -> LearnState:
    xi = patterns.T / jnp.sqrt(jnp.asarray(cfg.alpha_s, patterns.dtype))  # the presented patterns are the memories
    return _state(xi, jnp.zeros((xi.shape[1],) * 2, xi.dtype), xi.shape[0])


def _energy_update(st: LearnState, pattern, cfg: EnergyRuleConfig) -> LearnState:
    p = _params(cfg, st.xi, st.phi)
    (vd, xi, phi), code = _present(energy_rule, (st.v_d, st.xi, st.phi), (p, pattern, cfg), cfg)
    return st._replace(xi=xi, phi=phi, v=pattern, v_d=vd, count=st.count + 1, result=_first_failure(st.result, code))


ENERGY = LearningRule("energy", _energy_init, _energy_update)


# --- competitive Hebbian variant (wavejax, PROPOSED) ------------------------------------------------------------

@dataclasses.dataclass(frozen=True, kw_only=True)
class CompetitiveConfig:
    """wavejax's one-pass variant (:func:`competitive_rule`); each pattern clamped for ``clamp_time``.

    MEASURED (N=50, P=10, N_h=20, clamp 20, T_d=20): one unit per pattern (column overlap 1.00), 9 of 9 successor
    links, recall peaks >= 0.999 (DSEM recall, a_c=2).
    """

    n_hidden: int = 20  # N_h (>= the number of patterns)
    clamp_time: float = 20.0  # presentation time per pattern (also the usage time scale T_clamp)
    t_d: float = 20.0  # delay time constant
    tau_xi: float = 2.0  # learning time constant of Xi
    tau_phi: float = 20.0  # learning time constant of Phi
    beta: float = 30.0  # competition gain of the hidden softmax
    rtol: float = 1e-6  # Tsit5 tolerances
    atol: float = 1e-8
    max_steps: int = 100_000  # Tsit5 step budget per presentation (exceeded: LearnState.result = 1)

    def __post_init__(self):
        V.positive_int("n_hidden", self.n_hidden)
        V.positive_int("max_steps", self.max_steps)
        for name in ("clamp_time", "t_d", "tau_xi", "tau_phi", "beta", "rtol", "atol"):
            V.positive(name, getattr(self, name))


def _cos(Xi, x):
    n = jnp.asarray(x.shape[0], x.dtype)
    return (Xi.T @ x) / (jnp.linalg.norm(Xi, axis=0) * jnp.sqrt(n) + 1e-30)


def competitive_rule(t, y, args):
    """Competitive Hebbian/STDP rule (wavejax variant, PROPOSED), with c_j = cos(xi_j, v) and the usage u_j:

        f = softmax(beta c - beta u),   tau_Xi dXi/dt = v f^T - Xi diag(f),   T_d dv_d/dt = v - v_d,
        tau_Phi dPhi/dt = cos(Xi, v_d) f^T,   du/dt = f / T_clamp

    (Oja-like winner-take-all columns; the usage penalty stops a unit that already holds a memory from capturing
    the next pattern; Phi potentiates delayed memory mu x current memory nu, the STDP term of :func:`energy_rule`).
    Diffrax form: ``y = (v_d, Xi, Phi, u)``, ``args = (v, cfg)`` with cfg a :class:`CompetitiveConfig`.
    """
    vd, Xi, Phi, u = y
    v, cfg = args
    f = jax.nn.softmax(cfg.beta * _cos(Xi, v) - cfg.beta * u)
    d_xi = (jnp.outer(v, f) - Xi * f[None, :]) / cfg.tau_xi
    d_phi = jnp.outer(_cos(Xi, vd), f) / cfg.tau_phi
    return (v - vd) / cfg.t_d, d_xi, d_phi, f / cfg.clamp_time


def _competitive_init(key, patterns, cfg: CompetitiveConfig) -> LearnState:
    n = patterns.shape[1]
    xi = 0.1 * jax.random.normal(key, (n, cfg.n_hidden), patterns.dtype)
    return _state(xi, jnp.zeros((cfg.n_hidden, cfg.n_hidden), patterns.dtype), n)


def _competitive_update(st: LearnState, pattern, cfg: CompetitiveConfig) -> LearnState:
    (vd, xi, phi, u), code = _present(competitive_rule, (st.v_d, st.xi, st.phi, st.u), (pattern, cfg), cfg)
    return LearnState(xi, phi, pattern, vd, u, st.count + 1, _first_failure(st.result, code))


COMPETITIVE = LearningRule("competitive", _competitive_init, _competitive_update)


def competitive_readout(st: LearnState):
    """The recall network of the competitive rule: ``(xi, phi)`` with xi = sign(Xi) (+-1) and phi = Phi with zero
    diagonal and each row scaled to a maximum of 1 (rows without a positive entry are 0)."""
    phi = np.array(st.phi)
    np.fill_diagonal(phi, 0.0)
    top = phi.max(axis=1, keepdims=True)
    phi = np.where(top > 0, phi / np.where(top > 0, top, 1.0), 0.0)
    xi = np.where(np.asarray(st.xi) >= 0, 1.0, -1.0)
    return jnp.asarray(xi, st.xi.dtype), jnp.asarray(phi, st.xi.dtype)


def recall_learned(xi, phi, cue, *, t1: float = 1000.0, save_every: float = 0.5, alpha_s: float = 1.0,
                   alpha_c: float = 2.0, beta_d: float = 1.0, t_d: float = 20.0):
    """Free recall of a learned +-1 DSEM (Tsit5) from ``cue`` (N,), v_d(0) = 0; returns v every ``save_every``."""
    from wavejax.gsemm._simulate import simulate

    return simulate("dsem", xi, phi, cue, t1=t1, save_every=save_every, alpha_s=alpha_s, alpha_c=alpha_c,
                    beta_d=beta_d, t_d=t_d).v
