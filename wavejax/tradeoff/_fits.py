"""Fits of the frontier's shape and their bootstrap CIs (docs/tradeoff.md §2.5).

Three-phase model in u = log₁₀ C, v = log₁₀ ℓ: a continuous piecewise-linear function with k ∈ {0, 1, 2}
breakpoints, written with hinge functions

    v(u) = a + m₁ u + Σ_{j=1..k} (m_{j+1} − m_j) (u − τ_j)₊ ,

fitted by least squares: an exhaustive grid over (τ₁ < τ₂) with the linear coefficients in closed form, then a
Nelder–Mead polish of the breakpoints on the profiled residual. Models are compared by
BIC = n ln(RSS/n) + (2 + 2k) ln n (parameters: a, k+1 slopes, k breakpoints).

Saturating power law ℓ(C) = ℓ_∞ + A·C^{−α} (Kaplan et al. 2020) fitted as Hoffmann et al. 2022 "Approach 3":
Huber loss (δ = 1e−3) on r = ln ℓ − LSE(ln A − α ln C, ln ℓ_∞), L-BFGS-B from a grid of starts, keep the best.

All fits run in float64 NumPy/SciPy on the host.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import optimize

from wavejax import _validate

__all__ = ["PhaseFit", "fit_phases", "piecewise_predict", "PowerLawFit", "fit_power_law", "bootstrap_ci"]


@dataclasses.dataclass(frozen=True)
class PhaseFit:
    """Result of :func:`fit_phases`.

    Attributes:
      n_breakpoints: the BIC choice k.
      breakpoints: τ_1..τ_k of the chosen model (log₁₀ cost).
      slopes: m_1..m_{k+1} of the chosen model.
      intercept: a of the chosen model.
      bic: ``{k: BIC}`` for every fitted k.
      models: ``{k: {"breakpoints", "slopes", "intercept", "rss", "bic"}}`` for every fitted k.
    """

    n_breakpoints: int
    breakpoints: tuple[float, ...]
    slopes: tuple[float, ...]
    intercept: float
    bic: dict[int, float]
    models: dict[int, dict[str, Any]]


def _design(u: np.ndarray, taus: tuple[float, ...]) -> np.ndarray:
    return np.stack([np.ones_like(u), u] + [np.maximum(u - t, 0.0) for t in taus], axis=1)


def _lstsq(u, v, taus):
    X = _design(u, taus)
    coef, *_ = np.linalg.lstsq(X, v, rcond=None)
    r = v - X @ coef
    return float(r @ r), coef


def piecewise_predict(u: Any, intercept: float, slopes: tuple[float, ...], breakpoints: tuple[float, ...]
                      ) -> np.ndarray:
    """Evaluate the continuous piecewise-linear model at u (any shape)."""
    u = np.asarray(u, np.float64)
    v = intercept + slopes[0] * u
    for j, t in enumerate(breakpoints):
        v = v + (slopes[j + 1] - slopes[j]) * np.maximum(u - t, 0.0)
    return v


def _fit_k(u: np.ndarray, v: np.ndarray, k: int, min_pts: int, grid: int) -> dict[str, Any] | None:
    n = u.size
    us = np.sort(u)
    if n < (k + 1) * min_pts:
        return None
    lo, hi = us[min_pts - 1], us[n - min_pts]
    if k == 0:
        cands = [()]
    else:
        g = np.linspace(lo, hi, grid)
        if n <= 30:  # short fronts: also every midpoint between neighbouring points (a linspace grid can miss
            mids = (us[1:] + us[:-1]) / 2  # the only gaps that leave min_pts points on each segment)
            g = np.unique(np.concatenate([g, mids[(mids >= lo) & (mids <= hi)]]))
        cands = [c for c in itertools.combinations(g, k)]

    def seg_counts(T):  # (n_cand, k) sorted breakpoints -> (n_cand, k+1) points per segment (t_j, t_{j+1}]
        le = np.searchsorted(us, T, side="right")
        edges = np.concatenate([np.zeros((T.shape[0], 1), int), le, np.full((T.shape[0], 1), n)], axis=1)
        return np.diff(edges, axis=1)

    def ok(taus):  # every segment keeps >= min_pts points
        return bool(np.all(seg_counts(np.asarray(taus, np.float64).reshape(1, k)) >= min_pts))

    T = np.asarray(cands, np.float64).reshape(len(cands), k)  # (n_cand, k): every grid point at once
    keep = np.all(seg_counts(T) >= min_pts, axis=1)
    cands, T = [c for c, m in zip(cands, keep, strict=True) if m], T[keep]
    if not cands:
        return None
    X = np.concatenate([np.broadcast_to(np.stack([np.ones_like(u), u], 1), (len(cands), n, 2)),
                        np.maximum(u[None, :, None] - T[:, None, :], 0.0)], axis=2)  # (n_cand, n, 2+k)
    XtX = np.einsum("cnp,cnq->cpq", X, X) + 1e-12 * np.eye(2 + k)
    coef = np.linalg.solve(XtX, np.einsum("cnp,n->cp", X, v)[..., None])[..., 0]
    r = v[None, :] - np.einsum("cnp,cp->cn", X, coef)
    rss_all = np.einsum("cn,cn->c", r, r)
    i_best = int(np.argmin(rss_all))
    best = (float(rss_all[i_best]), tuple(cands[i_best]))
    taus = best[1]
    if k > 0:  # polish the breakpoints on the profiled RSS
        f = lambda t: _lstsq(u, v, tuple(np.sort(t)))[0] if ok(tuple(np.sort(t))) else np.inf
        res = optimize.minimize(f, np.asarray(taus), method="Nelder-Mead",
                                options={"xatol": 1e-3, "fatol": 1e-10, "maxiter": 200})
        if res.fun <= best[0]:
            taus = tuple(np.sort(res.x))
    rss, coef = _lstsq(u, v, taus)
    slopes = tuple(float(s) for s in np.cumsum(coef[1:]))
    bic = n * np.log(max(rss, 1e-300) / n) + (2 + 2 * k) * np.log(n)
    return {"breakpoints": tuple(float(t) for t in taus), "slopes": slopes, "intercept": float(coef[0]),
            "rss": rss, "bic": float(bic)}


def fit_phases(log_cost: Any, log_loss: Any, max_breakpoints: int = 2, *, min_points: int = 3,
               grid: int = 40) -> PhaseFit:
    """Fit continuous piecewise-linear models with 0..``max_breakpoints`` breakpoints; choose k by BIC.

    Args:
      log_cost: u = log₁₀ C, shape (n,).
      log_loss: v = log₁₀ ℓ (or log₁₀ of the excess loss), shape (n,).
      max_breakpoints: largest k tried (0, 1 or 2).
      min_points: fewest points allowed on each segment (keeps slopes identifiable).
      grid: grid points per breakpoint in the exhaustive search (before polishing).

    Returns:
      :class:`PhaseFit` with the BIC-chosen model and every fitted model's parameters and BIC.

    Examples:
      >>> u = np.linspace(0, 3, 30); v = np.where(u < 1.5, -0.2 * u, -0.3 - 1.0 * (u - 1.5))
      >>> fit = fit_phases(u, v, max_breakpoints=1)
      >>> fit.n_breakpoints, round(fit.breakpoints[0], 2)
      (1, 1.5)
    """
    u = np.asarray(log_cost, np.float64)
    v = np.asarray(log_loss, np.float64)
    _validate.ndim("log_cost", u, 1)
    _validate.shape("log_loss", v, (u.size,))
    _validate.finite("log_cost", u)
    _validate.finite("log_loss", v)
    _validate.one_of("max_breakpoints", max_breakpoints, (0, 1, 2))
    _validate.positive_int("min_points", min_points)
    _validate.positive_int("grid", grid)
    if u.size < 2 + min_points:
        raise ValueError(f"log_cost must hold at least {2 + min_points} points; got {u.size}")
    models = {}
    for k in range(max_breakpoints + 1):
        m = _fit_k(u, v, k, min_points, grid)
        if m is not None:
            models[k] = m
    bic = {k: m["bic"] for k, m in models.items()}
    kbest = min(bic, key=bic.get)
    m = models[kbest]
    return PhaseFit(n_breakpoints=kbest, breakpoints=m["breakpoints"], slopes=m["slopes"],
                    intercept=m["intercept"], bic=bic, models=models)


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
    """ℓ(C) = ℓ_∞ + A·C^{−α}: ``A``, ``alpha``, ``loss_inf`` and the final Huber objective ``objective``."""

    A: float
    alpha: float
    loss_inf: float
    objective: float

    def predict(self, C: Any) -> np.ndarray:
        """ℓ̂ at costs C."""
        return self.loss_inf + self.A * np.asarray(C, np.float64) ** (-self.alpha)


def _one_blas_thread():
    """Context: BLAS/OpenMP pools limited to one thread (threadpoolctl, a scikit-learn dependency). The fits are
    tiny float64 problems; on a busy 2-core machine threaded BLAS made L-BFGS-B ~5x slower."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _huber(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)), np.clip(r, -delta, delta)


def fit_power_law(costs: Any, losses: Any, *, delta: float = 1e-3, grid: dict[str, Any] | None = None,
                  init: PowerLawFit | None = None) -> PowerLawFit:
    """Hoffmann et al. Approach 3 fit of ℓ = ℓ_∞ + A·C^{−α} (Huber on log residuals, L-BFGS from a grid).

    Args:
      costs: C > 0, shape (n,).
      losses: ℓ > 0, shape (n,).
      delta: Huber δ.
      grid: optional starting values ``{"alpha": [...], "e": [...]}`` (e = ln ℓ_∞; ln A is set per start so the
        curve passes through the data).
      init: a previous fit to start from instead of the grid (one L-BFGS run; e.g. bootstrap resamples).

    Returns:
      :class:`PowerLawFit` of the best start.
    """
    C = np.asarray(costs, np.float64)
    L = np.asarray(losses, np.float64)
    _validate.ndim("costs", C, 1)
    _validate.shape("losses", L, (C.size,))
    if C.size < 3 or not (np.all(C > 0) and np.all(L > 0) and np.all(np.isfinite(C)) and np.all(np.isfinite(L))):
        raise ValueError("costs and losses must hold >= 3 finite positive values")
    _validate.positive("delta", delta)
    x, y = np.log(C), np.log(L)

    def obj(p):
        a, al, e = p
        s1, s2 = a - al * x, np.full_like(x, e)
        m = np.maximum(s1, s2)
        w1, w2 = np.exp(s1 - m), np.exp(s2 - m)
        lse = m + np.log(w1 + w2)
        w1, w2 = w1 / (w1 + w2), w2 / (w1 + w2)
        h, psi = _huber(y - lse, delta)
        return h.sum(), -np.array([np.sum(psi * w1), np.sum(-psi * w1 * x), np.sum(psi * w2)])

    g = grid or {}
    alphas = g.get("alpha", [0.1, 0.3, 0.6, 1.0, 1.5, 2.0])
    es = g.get("e", list(np.log(L.min()) + np.array([-3.0, -1.0, -0.3, -0.05])))
    starts = []
    for al, e in itertools.product(alphas, es):
        a0 = float(np.median(np.log(np.maximum(L - np.exp(e), 1e-12)) + al * x))  # through the data
        starts.append(np.array([a0, al, e]))
    if init is not None:
        starts = [np.array([np.log(max(init.A, 1e-300)), init.alpha, np.log(max(init.loss_inf, 1e-300))])]
    best = None
    with _one_blas_thread():
        for p0 in starts:
            res = optimize.minimize(obj, p0, jac=True, method="L-BFGS-B",
                                    options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-10})
            if best is None or res.fun < best.fun:
                best = res
    a, al, e = best.x
    return PowerLawFit(A=float(np.exp(a)), alpha=float(al), loss_inf=float(np.exp(e)), objective=float(best.fun))


def bootstrap_ci(stat: Callable[[np.ndarray], Any], n: int, *, key: Any, n_boot: int = 1000,
                 level: float = 0.95, groups: Any = None) -> dict[str, Any]:
    """Percentile bootstrap CIs of a vector statistic over resampled point indices.

    Args:
      stat: maps an index array (resampled with replacement from 0..n−1) to a float vector (or dict of floats);
        an entry may be NaN for a degenerate resample: each entry's CI uses its finite resamples only.
      n: number of points.
      key: ``jax.random`` key (the whole bootstrap is deterministic given it).
      n_boot: resamples.
      level: confidence level.
      groups: optional group id per point (e.g. seed): whole groups are resampled together.

    Returns:
      ``{"lo", "hi", "median", "mean", "n_valid"}``, each with the structure of ``stat``'s output (``n_valid``
      counts the finite resamples of each entry; ``mean`` is over them, e.g. a share for a 0/1 entry).

    Examples:
      >>> import jax
      >>> x = np.arange(100.0)
      >>> ci = bootstrap_ci(lambda i: [x[i].mean()], 100, key=jax.random.key(0), n_boot=200)
      >>> bool(ci["lo"][0] < 49.5 < ci["hi"][0])
      True
    """
    import jax

    _validate.positive_int("n", n)
    _validate.positive_int("n_boot", n_boot)
    _validate.probability("level", level)
    _validate.callable_("stat", stat)
    seed = int(np.asarray(jax.random.randint(key, (), 0, 2**31 - 1)))
    rng = np.random.default_rng(seed)
    if groups is None:
        draws = [rng.integers(0, n, n) for _ in range(n_boot)]
    else:
        gid = np.asarray(groups)
        _validate.shape("groups", gid, (n,))
        uniq = np.unique(gid)
        members = [np.flatnonzero(gid == g_) for g_ in uniq]
        draws = [np.concatenate([members[i] for i in rng.integers(0, uniq.size, uniq.size)])
                 for _ in range(n_boot)]
    outs = []
    keys = None
    for idx in draws:
        s = stat(idx)
        if isinstance(s, dict):
            keys = list(s)
            s = [s[k] for k in keys]
        outs.append(np.asarray(s, np.float64).reshape(-1))
    arr = np.stack(outs)
    ok = np.isfinite(arr)
    q = [(1 - level) / 2 * 100, 50, (1 + level) / 2 * 100]
    lo, med, hi = (np.array([np.percentile(arr[ok[:, j], j], qq) if ok[:, j].any() else np.nan
                             for j in range(arr.shape[1])]) for qq in q)
    mean = np.array([arr[ok[:, j], j].mean() if ok[:, j].any() else np.nan for j in range(arr.shape[1])])
    n_valid = ok.sum(0)
    if keys is not None:
        lo, med, hi, mean = ({k: float(v) for k, v in zip(keys, a, strict=True)} for a in (lo, med, hi, mean))
        n_valid = {k: int(v) for k, v in zip(keys, n_valid, strict=True)}
    else:
        lo, med, hi, mean, n_valid = lo.tolist(), med.tolist(), hi.tolist(), mean.tolist(), n_valid.tolist()
    return {"lo": lo, "hi": hi, "median": med, "mean": mean, "n_valid": n_valid}
