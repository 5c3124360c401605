"""From sweep points to the frontier report: fronts, compression shift, phase fits, MDL optimum, bootstrap CIs.

Input: the point records of :func:`wavejax.tradeoff.run_sweep` (``cost_bits`` C, ``loss`` ℓ, ``raw_bits``
N·32, ``family``, ``seed``, ``bits``, ``sparsity``) and the task summary (``floor``, ``discrete``,
``n_test_symbols``). :func:`analyze` returns one JSON-able dict:

* ``front``: the global non-dominated set of (C, ℓ) (docs/tradeoff.md §2.3) and per-family fronts;
* ``raw_front`` and ``compression_shift``: the front of the unquantised models at raw cost N·32 bits and, at every
  loss level ε both fronts reach, B̂_raw(ε) / B̂_compressed(ε) (>= 1 means compression moved the front left);
* ``phases``: :func:`~wavejax.tradeoff.fit_phases` on the front in u = log₁₀ C, v = log₁₀ ℓ and on the
  excess loss v = log₁₀(ℓ − ℓ̂_∞) (§2.5), with the BIC of 0/1/2 breakpoints;
* ``power_law``: ℓ = ℓ_∞ + A·C^{−α} on the front;
* ``mdl``: the two-part code length L₂ = C + n·ℓ_nats/ln 2 minimiser (§2.4; MSE tasks use the Gaussian log-loss
  ½ ln(2πe·MSE));
* ``bootstrap``: percentile CIs over resampled trained points (the trivial anchors kept) of the two-breakpoint
  parameters τ₁, τ₂, m₁..m₃, the BIC choice k (and the share of resamples picking k = 2), ℓ̂_∞, α and the
  L₂-optimal C;
* ``span``: decades of compression cost spanned by all points and by the front;
* ``verdict``: per phase-fit target, :func:`phase_verdict` (three phases supported / not supported, with the
  BIC values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np

from wavejax import _validate
from wavejax.tradeoff._fits import _one_blas_thread, bootstrap_ci, fit_phases, fit_power_law
from wavejax.tradeoff._frontier import family_fronts, front_curve, gaussian_nats, minimal_sufficient, pareto_front

__all__ = ["usable_points", "compression_shift", "phase_summary", "phase_verdict", "cost_span", "analyze"]


def usable_points(points: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points with a finite loss and a cost (diverged models carry ``"diverged": True``, ``loss: None`` and
    ``cost_bits: None``; diverged dequantised models ``loss: None``; all are left out)."""
    return [p for p in points if not p.get("diverged") and p.get("loss") is not None and math.isfinite(p["loss"])
            and p.get("cost_bits") is not None]


def compression_shift(points: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Compare the compressed-cost front with the raw N·32-bit front of the unquantised (b = 32, s = 0) models.

    At every loss level ε reached by both (the losses of the raw front's points), B̂_c(ε) = min{C_i : ℓ_i <= ε}
    over all points and B̂_raw(ε) = min{32 N_i : ℓ_i <= ε, b_i = 32, s_i = 0}.

    Returns:
      ``{"eps", "compressed", "raw", "ratio" (raw / compressed, inf where the compressed cost is 0),
      "left_everywhere" (B̂_c <= B̂_raw at every ε), "min_ratio"}``.
    """
    pts = usable_points(points)
    C = np.array([p["cost_bits"] for p in pts], np.float64)
    L = np.array([p["loss"] for p in pts], np.float64)
    raw_sel = np.array([p.get("bits") == 32 and float(p.get("sparsity", 0.0)) == 0.0 for p in pts])
    Cr, Lr = np.array([p["raw_bits"] for p in pts], np.float64)[raw_sel], L[raw_sel]
    eps = np.unique(Lr[pareto_front(Cr, Lr)])
    bc, br = front_curve(C, L, eps), front_curve(Cr, Lr, eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bc > 0, br / bc, np.where(br > 0, np.inf, 1.0))
    return {"eps": eps.tolist(), "compressed": bc.tolist(), "raw": br.tolist(), "ratio": ratio.tolist(),
            "left_everywhere": bool(np.all(bc <= br)), "min_ratio": float(ratio.min()) if ratio.size else math.nan}


def _front_arrays(pts: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    C = np.array([p["cost_bits"] for p in pts], np.float64)
    L = np.array([p["loss"] for p in pts], np.float64)
    m = pareto_front(C, L) & (C > 0) & (L > 0)
    order = np.argsort(C[m])
    return C[m][order], L[m][order]


def phase_summary(C: np.ndarray, L: np.ndarray, *, loss_inf: float | None = None, floor: float | None = None,
                  grid: int = 30) -> dict[str, Any]:
    """Three-phase fits of one front (C, ℓ sorted by C): on v = log₁₀ ℓ (``"loss"``), on the excess over the
    fitted asymptote log₁₀(ℓ − loss_inf) when ``loss_inf`` < min ℓ (``"excess"``), and on the excess over the
    known floor log₁₀(ℓ − floor) (``"excess_floor"``; front points at or below the floor, i.e. within the test
    set's sampling noise of it, are left out and counted in ``n_dropped``).

    Returns ``{target: {...}}``, each with the BIC choice ``k``, its ``breakpoints`` and ``slopes``, ``bic`` /
    ``models`` for every k and ``n_points``; a fit that cannot run (too few front points) is
    ``{"error": message}``.
    """
    out: dict[str, Any] = {}
    targets = {"loss": (C, L)}
    if loss_inf is not None and np.isfinite(loss_inf) and loss_inf < L.min():
        targets["excess"] = (C, L - loss_inf)
    if floor is not None and np.isfinite(floor):
        above = L > floor
        targets["excess_floor"] = (C[above], L[above] - floor)
    for name, (c, y) in targets.items():
        extra = {"n_points": int(c.size), "n_dropped": int(C.size - c.size)}
        try:
            f = fit_phases(np.log10(c), np.log10(y), max_breakpoints=2, grid=grid)
            out[name] = {"k": f.n_breakpoints, "breakpoints": list(f.breakpoints), "slopes": list(f.slopes),
                         "intercept": f.intercept, "bic": {str(k): v for k, v in f.bic.items()},
                         "models": {str(k): m for k, m in f.models.items()}, **extra}
        except ValueError as e:
            out[name] = {"error": str(e), **extra}
    return out


MIN_MIDDLE_DECADES = 0.5  # narrowest middle phase (τ₂ − τ₁, decades of cost) that counts as a phase, not a step
MIN_DBIC = 2.0  # a BIC choice that decides the verdict must win by at least this much ("positive" evidence)


def phase_verdict(ph: dict[str, Any], k2_fraction: float | None = None) -> dict[str, Any]:
    """The plain verdict of the three-phase test on one fit of :func:`phase_summary`.

    "Three phases supported" iff (i) the BIC picks k = 2 breakpoints, (ii) the fitted 2-breakpoint shape is the
    claimed one: the middle segment is the steepest, |m₂| > max(|m₁|, |m₃|) (flat–steep–flat on ℓ-vs-C axes),
    and (iii) the middle phase spans τ₂ − τ₁ >= :data:`MIN_MIDDLE_DECADES` of cost. With (i) and (ii) but not
    (iii) the front is a *step* (a jump between two flat stretches), reported as "not supported (a step)".
    ``k2_fraction``: share of bootstrap resamples whose BIC picks k = 2 (reported, not part of the rule).
    A verdict needs a decisive BIC: when k = 2 and the best other k differ by less than :data:`MIN_DBIC` and that
    choice flips the verdict (the k = 2 model has the claimed shape), the verdict is "undecided (ΔBIC = x < 2)".

    Returns ``{"supported": bool, "k": int | None, "dbic_2_vs_1", "dbic_2_vs_0" (BIC(2) − BIC(k'); < 0 favours
    2), "shape_ok": bool | None, "middle_decades": τ₂ − τ₁ | None, "dbic_margin": |BIC(2) − min BIC(k ≠ 2)| |
    None, "decided": bool, "k2_fraction", "text"}``.
    """
    out = {"supported": False, "k": None, "dbic_2_vs_1": None, "dbic_2_vs_0": None, "shape_ok": None,
           "middle_decades": None, "dbic_margin": None, "decided": True, "k2_fraction": k2_fraction}
    if not ph or "error" in ph:
        why = ph.get("error", "no fit") if ph else "no fit"
        return {**out, "text": f"three phases not supported: no phase fit ({why})"}
    bic = {int(k): v for k, v in ph["bic"].items()}
    out.update(k=ph["k"], dbic_2_vs_1=bic[2] - bic[1] if 2 in bic and 1 in bic else None,
               dbic_2_vs_0=bic[2] - bic[0] if 2 in bic and 0 in bic else None)
    if "2" in ph["models"]:
        m1, m2, m3 = ph["models"]["2"]["slopes"]
        t1, t2 = ph["models"]["2"]["breakpoints"]
        out.update(shape_ok=bool(abs(m2) > max(abs(m1), abs(m3))), middle_decades=float(t2 - t1))
    step = ph["k"] == 2 and out["shape_ok"] and out["middle_decades"] < MIN_MIDDLE_DECADES
    out["supported"] = bool(ph["k"] == 2 and out["shape_ok"] and not step)
    if 2 in bic and len(bic) > 1:
        out["dbic_margin"] = float(abs(bic[2] - min(v for k, v in bic.items() if k != 2)))
        k2_would_support = bool(out["shape_ok"] and out["middle_decades"] >= MIN_MIDDLE_DECADES)
        out["decided"] = bool(out["dbic_margin"] >= MIN_DBIC or not k2_would_support)
    bics = ", ".join(f"BIC(k={k}) = {v:.1f}" for k, v in sorted(bic.items()))
    if out["supported"] or step:
        why = (f"BIC picks k = 2, the middle segment is the steepest and spans {out['middle_decades']:.2f} decades"
               + (f" (< {MIN_MIDDLE_DECADES}: a step, not a phase)" if step else ""))
    elif ph["k"] == 2:
        why = "BIC picks k = 2 but the middle segment is not the steepest (not flat–steep–flat)"
    else:
        why = f"BIC picks k = {ph['k']}" + ("" if 2 in bic else " (k = 2 not fittable: too few front points)")
    frac = "" if k2_fraction is None else f"; k = 2 in {100 * k2_fraction:.0f} % of bootstrap resamples"
    verdict = "supported" if out["supported"] else ("not supported (a step)" if step else "not supported")
    if not out["decided"]:
        verdict = f"undecided (ΔBIC = {out['dbic_margin']:.3f} < {MIN_DBIC:g})"
        out["supported"] = False
    return {**out, "text": f"three phases {verdict}: {why} ({bics}){frac}"}


def cost_span(C: np.ndarray, front: np.ndarray) -> dict[str, float]:
    """Decades of compression cost spanned by all points with C > 0 and by the front's points with C > 0."""
    def dec(c):
        c = c[c > 0]
        return float(np.log10(c.max() / c.min())) if c.size else 0.0

    return {"points_decades": dec(C), "front_decades": dec(C[front]),
            "points_range": [float(C[C > 0].min()), float(C.max())] if np.any(C > 0) else [],
            "front_range": [float(C[front & (C > 0)].min()), float(C[front].max())] if np.any(front & (C > 0))
            else []}


def _nats(L: np.ndarray, discrete: bool) -> np.ndarray:
    return L if discrete else gaussian_nats(L)


def analyze(points: Sequence[dict[str, Any]], task: dict[str, Any], *, key: jax.Array, n_boot: int = 200,
            grid: int = 30) -> dict[str, Any]:
    """The whole frontier analysis of one sweep (see the module docstring); deterministic given ``key``.

    Args:
      points: sweep point records (:func:`wavejax.tradeoff.load_points`).
      task: task summary (:func:`wavejax.tradeoff.task_summary`): ``discrete``, ``floor``,
        ``n_test_symbols``.
      key: PRNG key of the bootstrap.
      n_boot: bootstrap resamples (the spec asks >= 1000 at full scale).
      grid: breakpoint grid of the phase fits.

    Returns:
      A JSON-able dict with keys ``n_points``, ``n_diverged``, ``front``, ``family_fronts``, ``best``,
      ``compression_shift``, ``phases``, ``span``, ``power_law``, ``mdl``, ``bootstrap``, ``verdict``.
    """
    key = _validate.prng_key("key", key)
    _validate.positive_int("n_boot", n_boot)
    with _one_blas_thread():  # thousands of tiny float64 fits: BLAS threads only add contention
        return _analyze(points, task, key=key, n_boot=n_boot, grid=grid)


def _analyze(points, task, *, key, n_boot, grid) -> dict[str, Any]:
    pts = usable_points(points)
    if len(pts) < 3:
        raise ValueError(f"points must hold at least 3 points with a finite loss; got {len(pts)}")
    C = np.array([p["cost_bits"] for p in pts], np.float64)
    L = np.array([p["loss"] for p in pts], np.float64)
    fam = [p["family"] for p in pts]
    front = pareto_front(C, L)
    fronts = family_fronts(C, L, fam)
    best = int(np.argmin(L))
    floor = task.get("floor")
    res: dict[str, Any] = {
        "n_points": len(points), "n_diverged": len(points) - len(pts), "discrete": bool(task["discrete"]),
        "front": [{k: pts[i].get(k) for k in ("family", "width", "seed", "bits", "sparsity", "cost_bits", "loss",
                                                "raw_bits", "n_params")} for i in np.flatnonzero(front)],
        "family_fronts": {f: {"cost_bits": C[m].tolist(), "loss": L[m].tolist()} for f, m in fronts.items()},
        "best": {"family": fam[best], "loss": float(L[best]), "cost_bits": float(C[best]), "floor": floor,
                 "rel_gap": (float(L[best] / floor - 1) if floor else None)},
        "compression_shift": compression_shift(pts),
    }
    Cf, Lf = _front_arrays(pts)
    try:
        pl = fit_power_law(Cf, Lf)
        res["power_law"] = {"A": pl.A, "alpha": pl.alpha, "loss_inf": pl.loss_inf}
        loss_inf = pl.loss_inf
    except ValueError as e:
        res["power_law"], loss_inf = {"error": str(e)}, None
    res["phases"] = phase_summary(Cf, Lf, loss_inf=loss_inf, floor=floor, grid=grid)
    res["span"] = cost_span(C, front)
    if any(p.get("scale_bits", 32) != 32 for p in pts):  # the same models with float32 scales, for comparison
        C32 = np.array([p.get("cost_bits_scale32", p["cost_bits"]) for p in pts], np.float64)
        res["span_scale32"] = cost_span(C32, pareto_front(C32, L))
    n = int(task["n_test_symbols"])
    ms = minimal_sufficient(C, _nats(L, task["discrete"]), n)
    res["mdl"] = {**ms, "family": fam[ms["index"]], "width": pts[ms["index"]].get("width"),
                  "bits": pts[ms["index"]].get("bits"), "n_symbols": n}
    res["bootstrap"] = _bootstrap(pts, C, L, task, key=key, n_boot=n_boot, grid=grid,
                                  init=pl if "error" not in res["power_law"] else None)
    k2 = res["bootstrap"].get("mean", {}).get("k2")
    res["verdict"] = {t: phase_verdict(ph, k2 if t == "loss" else None) for t, ph in res["phases"].items()}
    return res


def _bootstrap(pts, C, L, task, *, key, n_boot, grid, init) -> dict[str, Any]:
    """Resample the trained points with replacement (the trivial anchors stay in every resample)."""
    seeds = np.array([p.get("seed", 0) if p.get("group") != "trivial" else -1 for p in pts])
    trivial = np.flatnonzero(seeds < 0)
    nats = _nats(L, task["discrete"])
    n = int(task["n_test_symbols"])
    names = ["tau1", "tau2", "m1", "m2", "m3", "k", "k2", "loss_inf", "alpha", "mdl_cost_bits"]

    def stat(idx):
        idx = np.concatenate([trivial, idx[seeds[idx] >= 0]])
        c, l_ = C[idx], L[idx]
        m = pareto_front(c, l_) & (c > 0) & (l_ > 0)
        # distinct front points only: a point drawn twice must not count as two points of the fit
        cf, lf = np.unique(np.stack([c[m], l_[m]], 1), axis=0).T
        vals = dict.fromkeys(names, math.nan)
        try:
            f = fit_phases(np.log10(cf), np.log10(lf), max_breakpoints=2, grid=grid)
            if 2 in f.models:
                t1, t2 = f.models[2]["breakpoints"]
                m1, m2, m3 = f.models[2]["slopes"]
                vals.update(tau1=t1, tau2=t2, m1=m1, m2=m2, m3=m3)
            vals.update(k=f.n_breakpoints, k2=float(f.n_breakpoints == 2))
            pl = fit_power_law(cf, lf, init=init)
            vals.update(loss_inf=pl.loss_inf, alpha=pl.alpha)
        except ValueError:
            pass
        vals["mdl_cost_bits"] = minimal_sufficient(c, nats[idx], n)["cost_bits"]
        return vals

    nontriv = np.flatnonzero(seeds >= 0)
    if nontriv.size == 0:
        return {"error": "no trained points"}
    out = bootstrap_ci(lambda i: stat(nontriv[i]), nontriv.size, key=key, n_boot=n_boot)
    return {**out, "n_boot": n_boot, "resampled": "trained points (trivial anchors kept)"}
