"""Online learning of memories Xi and transitions Phi (docs/gsemm.md §4.2–4.3; equations PROPOSED / UNCONFIRMED).

Three rules, each a module-level pure function with its equation in its docstring, and one entry point
:func:`learn` with an Optax-like ``init``/``update`` pair (:class:`LearningRule`) and one state
(:class:`LearnState`):

* :func:`energy_rule` — gradient descent on the energy of §2.3 with the states fixed (Hebbian / STDP-like);
  v is clamped to each presented pattern; Diffrax integrates (v_d, Xi, Phi).
* :func:`~wavejax.gsemm.online.contrastive_step` — the authors' contrastive clamped-minus-free rule, a faithful
  port of EDEN_cpp ``ExpSM::update`` + ``ExpSM::learn`` (module :mod:`wavejax.gsemm.online`).
* :func:`competitive_rule` — wavejax's working variant: Hebbian learning of Xi and Phi with a competitive,
  homeostatic hidden layer (PROPOSED).

Recall goes through the one simulation core (:func:`~wavejax.gsemm.simulate.simulate` /
:func:`~wavejax.gsemm.solve.solve`). Argument and return order is ``(xi, phi)`` everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.gsemm.models import DSEM, Params, hidden_input, make_params
from wavejax.precision import require_dtype

__all__ = ["LearnState", "LearningRule", "EnergyRuleConfig", "CompetitiveConfig", "energy_rule",
           "competitive_rule", "competitive_readout", "learn", "ENERGY", "COMPETITIVE", "RULES",
           "recall_learned"]


class LearnState(NamedTuple):
    """State of an online rule: Xi (N, N_h), Phi (N_h, N_h), feature v (N,), delay v_d (N,), hidden usage u
    (N_h,) (competitive rule; zeros otherwise) and the number of patterns presented so far."""

    xi: jax.Array
    phi: jax.Array
    v: jax.Array
    v_d: jax.Array
    u: jax.Array
    count: jax.Array


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
    return LearnState(xi, phi, z, z, jnp.zeros(phi.shape[0], xi.dtype) if u is None else u, jnp.zeros((), jnp.int32))


def _present(field, y0, args, clamp_time, rtol, atol):
    """Integrate one presentation of length ``clamp_time`` with Tsit5 + PID (throw=False)."""
    sol = diffrax.diffeqsolve(diffrax.ODETerm(field), diffrax.Tsit5(), 0.0, clamp_time, None, y0, args,
                              stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol), max_steps=100_000,
                              throw=False)
    return jax.tree.map(lambda a: a[-1], sol.ys)


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

    def __post_init__(self):
        for name in ("clamp_time", "t_d", "gamma", "rtol", "atol"):
            V.positive(name, getattr(self, name))


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
    vd, xi, phi = _present(energy_rule, (st.v_d, st.xi, st.phi), (p, pattern, cfg), cfg.clamp_time, cfg.rtol,
                           cfg.atol)
    return st._replace(xi=xi, phi=phi, v=pattern, v_d=vd, count=st.count + 1)


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

    def __post_init__(self):
        V.positive_int("n_hidden", self.n_hidden)
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
    vd, xi, phi, u = _present(competitive_rule, (st.v_d, st.xi, st.phi, st.u), (pattern, cfg), cfg.clamp_time,
                              cfg.rtol, cfg.atol)
    return LearnState(xi, phi, pattern, vd, u, st.count + 1)


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


# --- the one entry point -------------------------------------------------------------------------------------

def _rules() -> dict[str, LearningRule]:
    from wavejax.gsemm.online import CONTRASTIVE

    return {"energy": ENERGY, "contrastive": CONTRASTIVE, "competitive": COMPETITIVE}


RULES = ("energy", "contrastive", "competitive")


@functools.partial(jax.jit, static_argnames=("rule", "cfg"))
def _learn(rule: LearningRule, key, patterns, cfg, init: LearnState | None):
    st = rule.init(key, patterns, cfg) if init is None else init
    st, _ = jax.lax.scan(lambda s, x: (rule.update(s, x, cfg), None), st, patterns)
    return st


def learn(rule: str | LearningRule, key: jax.Array, patterns, *, cfg, init: LearnState | None = None,
          dtype=jnp.float64) -> LearnState:
    """Present ``patterns`` (P, N) once, in order, to an online rule; return the final :class:`LearnState`.

    Args:
      rule: "energy", "contrastive", "competitive" (``RULES``) or a :class:`LearningRule`.
      key: PRNG key of the weight initialisation. patterns: (P, N), entries +-1 (the energy rule accepts any
        finite patterns, e.g. sqrt(a_s) xi).
      cfg: the rule's config (:class:`EnergyRuleConfig`, :class:`~wavejax.gsemm.online.OnlineConfig`,
        :class:`CompetitiveConfig`).
      init: start from this state instead of ``rule.init``. Default inits: energy: Xi = patterns^T / sqrt(a_s)
        (the presented patterns are the memories), Phi = 0; contrastive: Xi, Phi ~ N(0, 1) of Frobenius norm 1;
        competitive: Xi ~ 0.1 N(0, 1), Phi = 0.
      dtype: computation dtype (float64 needs 64-bit mode).

    Examples:
      >>> import numpy as np
      >>> from wavejax.gsemm import EnergyRuleConfig
      >>> pats = jnp.asarray(np.eye(3)[:, :2].T * 2 - 1, jnp.float32)  # 2 patterns of N = 3
      >>> st = learn("energy", jax.random.key(0), pats, cfg=EnergyRuleConfig(clamp_time=5.0), dtype=jnp.float32)
      >>> st.phi.shape, int(st.count), bool(st.phi[0, 1] > st.phi[1, 0])  # 0 -> 1 potentiated, not 1 -> 0
      ((2, 2), 2, True)
    """
    rules = _rules()
    if isinstance(rule, str):
        V.one_of("rule", rule, RULES)
        rule = rules[rule]
    pats = jnp.asarray(patterns, require_dtype(dtype))
    P, _ = V.ndim("patterns", pats, (2,))
    V.finite("patterns", pats)
    if rule.name in ("contrastive", "competitive"):
        V.pm_one("patterns", pats)
    if rule.name == "competitive" and cfg.n_hidden < P:
        raise ValueError(f"n_hidden must be >= the number of patterns {P}; got n_hidden={cfg.n_hidden}")
    return _learn(rule, key, pats, cfg, init)


def recall_learned(xi, phi, cue, *, t1: float = 1000.0, save_every: float = 0.5, alpha_s: float = 1.0,
                   alpha_c: float = 2.0, beta_d: float = 1.0, t_d: float = 20.0):
    """Free recall of a learned +-1 DSEM (Tsit5) from ``cue`` (N,), v_d(0) = 0; returns v every ``save_every``."""
    from wavejax.gsemm.simulate import simulate

    return simulate("dsem", xi, phi, cue, t1=t1, save_every=save_every, alpha_s=alpha_s, alpha_c=alpha_c,
                    beta_d=beta_d, t_d=t_d).v


# --- deprecated entry points (one release; out of the package __all__) ---------------------------------------

def learn_phi_clamped(xi, order, *, clamp_time: float = 20.0, alpha_s: float = 1.0, alpha_c: float = 1.0,
                      beta_d: float = 1.0, gamma: float = 1.0, t_d: float = 20.0, tau_phi: float | None = None,
                      tau_xi: float | None = None, learn_xi: bool = False, feedback: bool = False,
                      rtol: float = 1e-6, atol: float = 1e-8, dtype=jnp.float64):
    """One pass of :func:`energy_rule` over ``order`` with v clamped to sqrt(a_s) xi^{order[i]}.

    Returns ``(Phi (K, K), Xi (N, K))`` at the end of the pass: the pre-#11 order, kept for this deprecated alias
    only. Use ``learn("energy", key, patterns, cfg=EnergyRuleConfig(...), init=...)``, whose state is (xi, phi).
    """
    warnings.warn("learn_phi_clamped is deprecated: use learn('energy', ...)", DeprecationWarning, stacklevel=2)
    N, K = V.ndim("xi", xi, (2,))
    V.pm_one("xi", xi)
    order = np.asarray(order, int)
    if order.ndim != 1 or order.size == 0 or order.min() < 0 or order.max() >= K:
        raise ValueError(f"order must be a non-empty list of indices in [0, {K}); got {order.tolist()}")
    cfg = EnergyRuleConfig(clamp_time=clamp_time, alpha_s=alpha_s, alpha_c=alpha_c, beta_d=beta_d, gamma=gamma,
                           t_d=t_d, tau_phi=tau_phi, tau_xi=tau_xi, learn_xi=learn_xi, feedback=feedback, rtol=rtol,
                           atol=atol)
    x = jnp.asarray(xi, require_dtype(dtype))
    st = learn(ENERGY, jax.random.key(0), jnp.sqrt(jnp.asarray(alpha_s, x.dtype)) * x.T[order], cfg=cfg,
               init=_state(x, jnp.zeros((K, K), x.dtype), N), dtype=dtype)
    return st.phi, st.xi


def learn_sequence(key: jax.Array, patterns, *, n_hidden: int = 20, clamp_time: float = 20.0, t_d: float = 20.0,
                   tau_xi: float = 2.0, tau_phi: float = 20.0, beta: float = 30.0, rtol: float = 1e-6,
                   atol: float = 1e-8):
    """Deprecated: ``learn("competitive", ...)`` then :func:`competitive_readout`.

    Returns ``(xi, phi, raw_xi, raw_phi)`` as before.
    """
    cfg = CompetitiveConfig(n_hidden=n_hidden, clamp_time=clamp_time, t_d=t_d, tau_xi=tau_xi, tau_phi=tau_phi,
                            beta=beta, rtol=rtol, atol=atol)
    pats = jnp.asarray(patterns)
    st = learn(COMPETITIVE, key, pats, cfg=cfg, dtype=pats.dtype)
    xi, phi = competitive_readout(st)
    return xi, phi, st.xi, st.phi


_MOVED = ("OnlineConfig", "online_learn", "free_recall", "recall_score")  # pre-#11 location (one release)


def __getattr__(name: str):
    if name in _MOVED:
        from wavejax.gsemm import online

        return getattr(online, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
