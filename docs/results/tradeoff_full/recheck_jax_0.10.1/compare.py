"""Compare the committed full tradeoff run (jax 0.10.2) with its rerun under jax 0.10.1 (see README.md here).

    cd docs/results/tradeoff_full/recheck_jax_0.10.1 && python compare.py RERUN_DIR > compare.md
"""

import gzip
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
TASKS = [("hmm", "hmm_16x6"), ("ar", "ar"), ("cache", "cache")]


def points(path: Path) -> dict:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return {r["key"]: r for r in map(json.loads, f) if r.get("key")}


def main(rerun: Path) -> None:
    print("| task | front span (decades) | BIC on log ℓ, k = 0 / 1 / 2 | k | verdict (ℓ front) | best test loss | "
          "point losses: median / 90 % / max relative difference | models whose train_loss_end differs > 1 % |")
    print("|---|---|---|---|---|---|---|---|")
    for t, f in TASKS:
        runs = [json.loads((d / f"tradeoff.{t}" / f"analysis_{f}.json").read_text())["analysis"] for d in (HERE, rerun)]
        pts = [points(HERE / f"tradeoff.{t}" / f"sweep_{f}" / "points.jsonl.gz"),
               points(rerun / f"tradeoff.{t}" / f"sweep_{f}" / "points.jsonl")]
        assert set(pts[0]) == set(pts[1]), "different point sets"
        both = [k for k in pts[0] if pts[0][k].get("loss") is not None and pts[1][k].get("loss") is not None]
        rel = np.array([abs(pts[0][k]["loss"] - pts[1][k]["loss"]) / abs(pts[0][k]["loss"]) for k in both])
        groups = {}
        for k in both:
            a, b = pts[0][k].get("train_loss_end"), pts[1][k].get("train_loss_end")
            if a and b and abs(a - b) / abs(a) > 0.01:
                groups[f"{pts[0][k]['family']} w={pts[0][k]['width']} s{pts[0][k]['seed']}"] = (a, b)
        print(f"| {t} | {_both(runs, _span)} | {_both(runs, _bic)} | {_both(runs, _k)} | {_both(runs, _verdict)} | "
              f"{_both(runs, _best)} | {np.median(rel):.1e} / {np.quantile(rel, 0.9):.1e} / {rel.max():.2f} | "
              f"{_groups(groups)} |")


def _both(runs: list, fn) -> str:
    return " → ".join(fn(r) for r in runs)


def _span(r: dict) -> str:
    return f"{r['span']['front_decades']:.2f}"


def _bic(r: dict) -> str:
    bic = r["phases"]["loss"]["bic"]
    return " / ".join(f"{bic[k]:.1f}" for k in sorted(bic))


def _k(r: dict) -> str:
    return str(r["phases"]["loss"]["k"])


def _verdict(r: dict) -> str:
    return "supported" if r["verdict"]["loss"]["supported"] else "not supported"


def _best(r: dict) -> str:
    return f"{r['best']['loss']:.5f}"


def _groups(groups: dict) -> str:
    return ", ".join(f"{g} ({a:.3f} → {b:.3f})" for g, (a, b) in sorted(groups.items())) or "none"

if __name__ == "__main__":
    main(Path(sys.argv[1]))
