"""The one entry point of GSEMM online learning: :func:`learn` presents patterns to a rule (docs/gsemm.md §4).

The rules live where they are defined: ``energy`` and ``competitive`` in :mod:`wavejax.gsemm._learning`,
``contrastive`` in :mod:`wavejax.gsemm._online`. This module sits above both, so neither imports the other's
registry (no import cycle).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from wavejax import _validate as V
from wavejax.gsemm._learning import COMPETITIVE, ENERGY, LearningRule, LearnState
from wavejax.gsemm._online import CONTRASTIVE
from wavejax.precision import require_dtype

__all__ = ["learn", "RULES"]

_RULES = {"energy": ENERGY, "contrastive": CONTRASTIVE, "competitive": COMPETITIVE}
RULES = tuple(_RULES)


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
      cfg: the rule's config (:class:`~wavejax.gsemm.EnergyRuleConfig`, :class:`~wavejax.gsemm.OnlineConfig`,
        :class:`~wavejax.gsemm.CompetitiveConfig`).
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
    key = V.prng_key("key", key)
    if isinstance(rule, str):
        V.one_of("rule", rule, RULES)
        rule = _RULES[rule]
    pats = jnp.asarray(patterns, require_dtype(dtype))
    P, _ = V.ndim("patterns", pats, (2,))
    V.finite("patterns", pats)
    if rule.name in ("contrastive", "competitive"):
        V.pm_one("patterns", pats)
    if rule.name == "competitive" and cfg.n_hidden < P:
        raise ValueError(f"n_hidden must be >= the number of patterns {P}; got n_hidden={cfg.n_hidden}")
    return _learn(rule, key, pats, cfg, init)
