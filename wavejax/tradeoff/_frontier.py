"""The empirical compression boundary and the two-part MDL optimum (docs/tradeoff.md §2.3, §2.4).

* :func:`pareto_front` — the lower-left non-dominated set of 𝒫 = {(C_i, ℓ_i)} (minimize both):
  B̂(ε) = min{C_i : ℓ_i <= ε}.
* :func:`family_fronts` — one front per architecture family.
* :func:`front_curve` — the staircase B̂ evaluated at given loss levels (for frontier comparisons).
* :func:`mdl_lengths` / :func:`minimal_sufficient` — L₂(θ) = C(θ) + n·ℓ(θ)/ln 2 bits and the smallest-cost
  front point whose L₂ is within ``tol_bits`` of the minimum ("minimal sufficient statistic").

The fits of the frontier's shape (three phases, power law) and the bootstrap are in :mod:`wavejax.tradeoff._fits`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from wavejax import _validate

__all__ = ["pareto_front", "family_fronts", "front_curve", "mdl_lengths", "minimal_sufficient",
           "gaussian_nats"]


def _pair(costs: Any, losses: Any) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(costs, np.float64)
    l_ = np.asarray(losses, np.float64)
    _validate.ndim("costs", c, 1)
    _validate.shape("losses", l_, (c.shape[0],))
    _validate.finite("costs", c)
    _validate.finite("losses", l_)
    return c, l_


def pareto_front(costs: Any, losses: Any) -> np.ndarray:
    """Boolean mask of the non-dominated points when minimising both cost and loss.

    Point i is dominated iff some j has C_j <= C_i and ℓ_j <= ℓ_i with at least one strict inequality. Exact
    duplicates do not dominate each other, so both copies of a front point are kept.

    Args:
      costs: C_i, shape (n,), finite.
      losses: ℓ_i, shape (n,), finite.

    Returns:
      Boolean array, shape (n,); True for front points. Invariant to the order of the input.

    Examples:
      >>> pareto_front([1, 2, 3, 2], [3.0, 1.0, 0.5, 2.0]).tolist()
      [True, True, True, False]
    """
    c, l_ = _pair(costs, losses)
    n = c.size
    if n == 0:
        return np.zeros(0, bool)
    order = np.lexsort((l_, c))  # by cost, then loss
    cs, ls = c[order], l_[order]
    keep = np.zeros(n, bool)
    best_prev = math.inf  # min loss among strictly cheaper points
    i = 0
    while i < n:
        j = i
        while j < n and cs[j] == cs[i]:
            j += 1
        group_min = ls[i]  # sorted: the first of an equal-cost group has its minimal loss
        keep[i:j] = (ls[i:j] == group_min) & (group_min < best_prev)
        best_prev = min(best_prev, group_min)
        i = j
    out = np.zeros(n, bool)
    out[order] = keep
    return out


def family_fronts(costs: Any, losses: Any, families: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-family fronts: ``{family: mask over all points}`` (True on that family's own front)."""
    c, l_ = _pair(costs, losses)
    fam = np.asarray(families, dtype=object)
    if fam.shape != (c.size,):
        raise ValueError(f"families must have shape ({c.size},); got shape {fam.shape}")
    out = {}
    for f in sorted(set(fam.tolist())):
        sel = fam == f
        m = np.zeros(c.size, bool)
        m[sel] = pareto_front(c[sel], l_[sel])
        out[f] = m
    return out


def front_curve(costs: Any, losses: Any, eps: Any) -> np.ndarray:
    """B̂(ε) = min{C_i : ℓ_i <= ε} at each loss level ε (inf where no point reaches ε)."""
    c, l_ = _pair(costs, losses)
    e = np.asarray(eps, np.float64).reshape(-1)
    ok = l_[None, :] <= e[:, None]
    return np.where(ok.any(1), np.min(np.where(ok, c[None, :], np.inf), axis=1), np.inf)


def gaussian_nats(mse: Any) -> np.ndarray:
    """Differential log-loss of a Gaussian predictor with that MSE: ½ ln(2πe·MSE) nats/step."""
    return 0.5 * np.log(2 * np.pi * np.e * np.asarray(mse, np.float64))


def mdl_lengths(costs: Any, nats: Any, n: int) -> np.ndarray:
    """Two-part code length L₂ = C + n·ℓ/ln 2 bits (C in bits, ℓ in nats/symbol, n symbols) — §2.4."""
    c, l_ = _pair(costs, nats)
    _validate.positive_int("n", n)
    return c + n * l_ / math.log(2)


def minimal_sufficient(costs: Any, nats: Any, n: int, *, tol_bits: float = 0.0) -> dict[str, Any]:
    """The L₂ minimiser: the smallest-cost front point with L₂ <= min L₂ + ``tol_bits``.

    Returns ``{"index", "cost_bits", "loss", "L2_bits", "L2_min_bits"}``; ``index`` refers to the input order.
    """
    c, l_ = _pair(costs, nats)
    _validate.nonneg("tol_bits", tol_bits)
    L2 = mdl_lengths(c, l_, n)
    front = pareto_front(c, l_)
    ok = front & (L2 <= L2[front].min() + tol_bits)
    idx = int(np.flatnonzero(ok)[np.argmin(c[ok])])
    return {"index": idx, "cost_bits": float(c[idx]), "loss": float(l_[idx]), "L2_bits": float(L2[idx]),
            "L2_min_bits": float(L2[front].min())}
