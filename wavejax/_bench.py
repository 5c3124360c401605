"""``wavejax bench``: run every ``benchmarks/bench_*.py`` and collect the results.

Each benchmark is a script with ``main()`` that times wavejax against its same-process baseline and writes
``benchmarks/results/<bench>.json``. This runner executes them one by one (a crash of one is recorded, the rest
run), merges the files into ``benchmarks/results/<machine>.json`` and rewrites the table between the markers
``<!-- bench:start -->`` and ``<!-- bench:end -->`` of README.md.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from wavejax.io import atomic_write_json, atomic_write_text

__all__ = ["run_benchmarks", "bench_table"]


def _find_root(root: Path) -> Path:
    for cand in (root, Path.cwd(), Path(__file__).resolve().parents[1]):
        if (cand / "benchmarks").is_dir():
            return cand
    raise FileNotFoundError("no benchmarks/ folder found; run `wavejax bench` from the repository root "
                            "or pass --root")


def run_benchmarks(root: Path = Path("."), *, only: tuple[str, ...] = (), quick: bool = False,
                   update_readme: bool = True) -> dict[str, Any]:
    """Run the benchmark scripts and merge their results; returns the merged dict."""
    root = _find_root(Path(root))
    scripts = sorted((root / "benchmarks").glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only or s.stem in only]
        if not scripts:
            raise ValueError(f"only={only} matches no benchmarks/bench_*.py")
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))
    failures = {}
    for s in scripts:
        print(f"=== {s.name}", flush=True)
        cmd = [sys.executable, str(s)] + (["--quick"] if quick else [])
        rc = subprocess.call(cmd, cwd=root, env=env)
        if rc != 0:
            failures[s.stem] = f"exit code {rc}"
    merged: dict[str, Any] = {"machine": platform.node(), "benchmarks": {}, "failures": failures}
    for f in sorted((root / "benchmarks" / "results").glob("bench_*.json")):
        merged["benchmarks"][f.stem] = json.loads(f.read_text())
    machine = re.sub(r"[^A-Za-z0-9_.-]", "_", platform.node() or "machine")
    atomic_write_json(root / "benchmarks" / "results" / f"{machine}.json", merged)
    if update_readme and (root / "README.md").exists():
        readme = (root / "README.md").read_text()
        table = bench_table(merged)
        new = re.sub(r"<!-- bench:start -->.*<!-- bench:end -->",
                     lambda _: f"<!-- bench:start -->\n{table}\n<!-- bench:end -->", readme, flags=re.S)
        if new != readme:
            atomic_write_text(root / "README.md", new)
    if failures:
        print(f"benchmarks that failed: {failures}")
    return merged


def bench_table(merged: dict[str, Any]) -> str:
    """Markdown table of every benchmark row: case, wavejax time, baseline, ratio, target."""
    lines = ["| benchmark | case | wavejax (median) | baseline | baseline (median) | ratio | target |",
             "|---|---|---|---|---|---|---|"]
    for name, b in merged["benchmarks"].items():
        for r in b.get("rows", []):
            tgt = r.get("target")
            lines.append(f"| {name.removeprefix('bench_')} | {r['case']} | {r['wavejax_s'] * 1e3:.3g} ms | "
                         f"{r['baseline']} | {r['baseline_s'] * 1e3:.3g} ms | {r['ratio']:.2f}x | "
                         f"{'—' if tgt is None else f'>= {tgt}x'} |")
    m = next(iter(merged["benchmarks"].values()), {}).get("machine", {})
    if m:
        lines.append("")
        lines.append(f"Measured on {m.get('processor')} ({m.get('cpu_count')} cores, {m.get('platform')}), "
                     f"jax {m.get('jax')}, {m.get('date')}.")
    return "\n".join(lines)
