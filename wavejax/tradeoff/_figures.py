"""Figures of a frontier analysis (docs/tradeoff.md §5): the front with fitted phases and CIs, raw vs compressed fronts,
per-family fronts and the two-part MDL curve. Each function writes one PNG and returns its file name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wavejax.report import line_plot
from wavejax.report._plots import scatter_plot
from wavejax.tradeoff._analysis import usable_points
from wavejax.tradeoff._fits import piecewise_predict
from wavejax.tradeoff._frontier import gaussian_nats, mdl_lengths, pareto_front

__all__ = ["frontier_figures", "excess_figure", "sweep_figure"]


def _xy(pts, cost="cost_bits"):
    return (np.array([max(p[cost], 1.0) for p in pts], float), np.array([p["loss"] for p in pts], float))


def _fit_lines(ph: dict[str, Any], Cf: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The fitted 0/1/2-breakpoint curves of one phase fit over the cost range of the front points ``Cf``."""
    lines = {}
    if "slopes" in ph and Cf.size:
        u = np.linspace(np.log10(Cf.min()), np.log10(Cf.max()), 200)
        for k, m in ph["models"].items():
            v = piecewise_predict(u, m["intercept"], tuple(m["slopes"]), tuple(m["breakpoints"]))
            tag = " (BIC choice)" if int(k) == ph["k"] else ""
            lines[f"{k} breakpoint fit{tag}"] = (10**u, 10**v)
    return lines


def excess_figure(points: Sequence[dict[str, Any]], analysis: dict[str, Any], out: str | Path, *,
                  title: str = "") -> str | None:
    """Write ``excess.png``: the front's excess loss ℓ − ℓ_floor over the known floor (or ℓ − ℓ̂_∞ over the fitted
    asymptote when the task has no floor) against C, log-log, with its 0/1/2-breakpoint fits; None if neither
    excess fit exists."""
    ph = analysis.get("phases", {})
    target = "excess_floor" if "slopes" in ph.get("excess_floor", {}) else "excess"
    if "slopes" not in ph.get(target, {}):
        return None
    ref = analysis["best"]["floor"] if target == "excess_floor" else analysis["power_law"]["loss_inf"]
    pts = usable_points(points)
    C, L = _xy(pts)
    front = pareto_front(C, L) & (C > 1) & (L > ref)
    label = "ℓ − ℓ_floor (known floor)" if target == "excess_floor" else "ℓ − ℓ̂_∞ (fitted asymptote)"
    return scatter_plot(Path(out) / "excess.png", {"front": (C[front], L[front] - ref)}, logx=True, logy=True,
                        lines=_fit_lines(ph[target], C[front]), xlabel="cost C (compressed bits)",
                        ylabel=f"excess loss {label}", title=f"{title}: excess loss on the front").name


def frontier_figures(points: Sequence[dict[str, Any]], analysis: dict[str, Any], out: str | Path, *,
                     title: str = "") -> list[str]:
    """Write ``frontier.png``, ``raw_vs_compressed.png``, ``family_fronts.png``, ``mdl.png`` (and ``excess.png``,
    :func:`excess_figure`) into ``out``.

    Costs of 0 bits (the last-value predictor) are drawn at 1 bit so that they show on log axes.
    """
    out = Path(out)
    pts = usable_points(points)
    C, L = _xy(pts)
    front = pareto_front(C, L)
    bands = {}
    lines = _fit_lines(analysis.get("phases", {}).get("loss", {}), C[front & (C > 1)])
    bs = analysis.get("bootstrap", {})
    if bs.get("lo") and np.isfinite(bs["lo"].get("tau1", np.nan)):
        for j in (1, 2):
            lo, hi = bs["lo"][f"tau{j}"], bs["hi"][f"tau{j}"]
            bands[f"95% CI of τ{j} (2-breakpoint bootstrap)"] = (np.array([10**lo, 10**hi]), np.full(2, L.min()),
                                                                  np.full(2, L.max()))
    groups = {"all points": (C, L), "front": (C[front], L[front])}
    figs = [scatter_plot(out / "frontier.png", groups, logx=True, logy=True, lines=lines, bands=bands,
                         xlabel="cost C (compressed bits)", ylabel="test loss ℓ",
                         title=f"{title}: empirical compression boundary").name]
    raw = [p for p in pts if p.get("bits") == 32 and float(p.get("sparsity", 0.0)) == 0.0]
    Cr, Lr = _xy(raw, "raw_bits")
    fr = pareto_front(Cr, Lr)
    o, orr = np.argsort(C[front]), np.argsort(Cr[fr])
    figs.append(line_plot(out / "raw_vs_compressed.png",
                          {"compressed front (best of b, s)": (C[front][o], L[front][o]),
                           "raw N·32-bit front": (Cr[fr][orr], Lr[fr][orr])},
                          logx=True, logy=True, xlabel="cost (bits)", ylabel="test loss ℓ",
                          title=f"{title}: compression moves the front left").name)
    curves = {}
    for fam, d in analysis.get("family_fronts", {}).items():
        c, l_ = np.maximum(np.array(d["cost_bits"], float), 1.0), np.array(d["loss"], float)
        o = np.argsort(c)
        curves[fam] = (c[o], l_[o])
    floor = analysis.get("best", {}).get("floor")
    figs.append(line_plot(out / "family_fronts.png", curves, logx=True, logy=True, xlabel="cost C (bits)",
                          ylabel="test loss ℓ", title=f"{title}: per-family fronts",
                          hlines={"loss floor": floor} if floor else None).name)
    n = int(analysis["mdl"]["n_symbols"])
    nats = L if analysis.get("discrete", True) else gaussian_nats(L)
    L2 = mdl_lengths(C, nats, n)
    o = np.argsort(C[front])
    figs.append(line_plot(out / "mdl.png", {"front points": (C[front][o], L2[front][o])}, logx=True,
                          xlabel="cost C (bits)", ylabel="two-part code length L₂ (bits)",
                          title=f"{title}: MDL optimum at C = {analysis['mdl']['cost_bits']:.0f} bits").name)
    ex = excess_figure(points, analysis, out, title=title)
    return figs + ([ex] if ex else [])


def sweep_figure(points: Sequence[dict[str, Any]], out: str | Path, *, title: str = "") -> str | None:
    """Write ``points.png``: test loss vs compressed cost of every recorded point, one colour per family (log-log;
    0-bit costs drawn at 1 bit). Returns the file name, or None when no point has a finite loss."""
    pts = usable_points(points)
    if not pts:
        return None
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for fam in sorted({str(p.get("family", "?")) for p in pts}):
        groups[fam] = _xy([p for p in pts if str(p.get("family", "?")) == fam])
    return scatter_plot(Path(out) / "points.png", groups, logx=True, logy=True, xlabel="cost C (compressed bits)",
                        ylabel="test loss ℓ", title=f"{title}: every recorded point").name
