"""Training curves of a sweep (``<sweep>/curves.jsonl``, one record per trained group): are the models trained to
their floor? Each record holds, per seed, the mean training loss of every engine chunk and the total ``steps``
(records without ``steps``, written by the first version of the sweep, hold one loss per step).

The plateau test of a group: with its seed-mean curve c_1..c_n and w = max(1, ⌊n/5⌋),

    drop = (mean(c_{n−2w+1..n−w}) − mean(c_{n−w+1..n})) / mean(c_{n−w+1..n}),

the relative improvement of the last fifth of training over the fifth before it; a model still learning has
drop > 0, one at its floor has |drop| within the minibatch noise (≲ 1 %).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wavejax import io
from wavejax.report import line_plot, row

__all__ = ["load_curves", "plateau_summary", "curves_figure", "training_rows"]

PLATEAU_TOL = 0.01  # relative drop over the last fifth of training that counts as "flat"


def load_curves(folder: str | Path) -> list[dict[str, Any]]:
    """The training-curve records of a sweep folder (first record per group wins), sorted by family and width."""
    seen, out = set(), []
    for r in io.read_jsonl(Path(folder) / "curves.jsonl"):
        if r.get("group") not in seen:
            seen.add(r.get("group"))
            out.append(r)
    return sorted(out, key=lambda r: (r["family"], r["width"]))


def _mean_curve(rec: dict[str, Any]) -> np.ndarray:
    a = np.array([[np.nan if x is None else x for x in seed] for seed in rec["loss"]], np.float64)
    with np.errstate(all="ignore"):
        return np.nanmean(a, axis=0) if a.size else np.zeros(0)


def _every(rec: dict[str, Any]) -> int:
    """Training steps per curve entry."""
    n = max(1, len(rec["loss"][0]) if rec["loss"] else 1)
    return max(1, int(rec.get("steps", n)) // n)


def _drop(c: np.ndarray) -> float:
    w = max(1, c.size // 5)
    if c.size < 2 * w:
        return float("nan")
    last, prev = np.nanmean(c[-w:]), np.nanmean(c[-2 * w:-w])
    return float((prev - last) / last)


def plateau_summary(curves: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group the final seed-mean training loss and its drop over the last fifth of training (module
    docstring); per family the largest width's; ``all_flat``: every family's largest width has drop <
    :data:`PLATEAU_TOL`."""
    groups = [{"family": r["family"], "width": r["width"], "final": float(_mean_curve(r)[-1]),
               "drop": _drop(_mean_curve(r)), "steps": _every(r) * len(r["loss"][0])} for r in curves]
    largest = {}
    for g in groups:
        if g["width"] >= largest.get(g["family"], {"width": -1})["width"]:
            largest[g["family"]] = g
    return {"groups": groups, "largest": largest, "tol": PLATEAU_TOL,
            "all_flat": bool(largest) and all(g["drop"] < PLATEAU_TOL for g in largest.values())}


def curves_figure(curves: list[dict[str, Any]], out: str | Path, *, title: str = "") -> str:
    """Write ``training_curves.png`` (seed-mean training loss vs step of every group, averaged over at most 50
    bins per curve so that the curves stay readable); returns its file name."""
    lines = {}
    for r in curves:
        c = _mean_curve(r)
        b = max(1, c.size // 50)
        c = c[: c.size // b * b].reshape(-1, b).mean(1)
        lines[f"{r['family']} w={r['width']}"] = (_every(r) * b * np.arange(1, c.size + 1), c)
    return line_plot(Path(out) / "training_curves.png", lines, logy=True, markers=False, xlabel="step",
                     ylabel="training loss (seed mean per chunk)", title=f"{title}: training curves").name


def training_rows(task: str, tr: dict[str, Any] | None) -> list:
    """Report row: do the largest models reach their floor (flat training curves)?"""
    if not tr:
        return []
    txt = ", ".join(f"{f} w={g['width']}: {100 * g['drop']:+.2f} % (final {g['final']:.4g})"
                    for f, g in tr["largest"].items())
    return [row(f"{task}: largest models' training-loss drop over the last fifth of training", f"< {100 * tr['tol']:g} "
                "% (trained to their floor)", txt, tr["all_flat"], note="figure training_curves.png")]
