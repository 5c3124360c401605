"""``wavejax bench``: run every ``benchmarks/bench_*.py``, merge the results, write the README table.

Each benchmark is a script with ``main()`` that times wavejax against its same-process baseline(s), prints the ratio
and writes ``<out>/<bench>.json`` (``benchmarks/_common.py: write_result``; ``--out``). This runner executes them
one by one (a crash of one is recorded, the rest run) with ``--out`` = its output folder (default
``runs/bench-<timestamp>`` in the working directory), merges the files into ``<out>/<machine>.json`` (together with
the jax/jaxlib versions, device kind and core count) and writes the table to ``<out>/table.md``.

Only ``wavejax bench --update-readme`` (full scale, from the repository root; ``make bench``) writes the committed
``benchmarks/results/`` and rewrites the table between the markers ``<!-- bench:start -->`` and
``<!-- bench:end -->`` of README.md (printing it when there is no README or no markers).

Regenerate the table from stored results without running anything::

    python -m wavejax._bench [--root .] [--machine NAME]      # or: from wavejax._bench import regenerate_table
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from wavejax.io import atomic_write_json, atomic_write_text

__all__ = ["run_benchmarks", "default_out", "bench_table", "merge_results", "update_readme_table", "regenerate_table",
           "machine_info", "machine_id", "START", "END"]

START = "<!-- bench:start -->"  #: README marker before the benchmark table
END = "<!-- bench:end -->"  #: README marker after the benchmark table


def _find_root(root: Path) -> Path:
    for cand in (root, Path.cwd(), Path(__file__).resolve().parents[1]):
        if (cand / "benchmarks").is_dir():
            return cand
    raise FileNotFoundError("no benchmarks/ folder found; run `wavejax bench` from the repository root "
                            "or pass --root")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on: jax/jaxlib (and torch) versions, device kind, platform, cores, CPU."""
    import jax

    dev = jax.devices()[0]
    return {
        "machine": machine_id(),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": _version("jaxlib"),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "platform": dev.platform,
        "device": str(dev.device_kind),
        "n_devices": jax.device_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def machine_id() -> str:
    """File-name-safe machine name: ``$WAVEJAX_MACHINE`` or ``<cpu model>-<cores>c[-<accelerator>]``."""
    name = os.environ.get("WAVEJAX_MACHINE")
    if not name:
        name = f"{_cpu_model()}-{os.cpu_count()}c"
        try:
            import jax

            dev = jax.devices()[0]
            if dev.platform != "cpu":
                name += f"-{dev.device_kind}"
        except Exception:  # pragma: no cover - no backend
            pass
    return re.sub(r"[^a-z0-9_.]+", "-", name.lower()).strip("-") or "machine"


def merge_results(previous: dict[str, Any] | None, new: dict[str, dict[str, Any]], failures: dict[str, str],
                  machine: dict[str, Any]) -> dict[str, Any]:
    """Merge freshly written benchmark results into the machine's previous record (pure).

    Benchmarks not rerun keep their previous entry; a rerun one replaces it and clears its old failure; a failure
    is recorded under ``failures`` (its previous numbers, if any, are kept and marked stale by the failure).
    """
    merged = {"machine": dict(machine), "benchmarks": {}, "failures": {}}
    if previous:
        merged["benchmarks"].update(previous.get("benchmarks", {}))
        merged["failures"].update(previous.get("failures", {}))
    for name, data in new.items():
        merged["benchmarks"][name] = data
        merged["failures"].pop(name, None)
    merged["failures"].update(failures)
    merged["benchmarks"] = dict(sorted(merged["benchmarks"].items()))
    return merged


def _fmt_time(s: float) -> str:
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def _peak_note(short: str, r: dict[str, Any]) -> str:
    """``- gan 28x28 ...: 20.8 GFLOP; wavejax 70 GFLOP/s = 34 % of 210 GFLOP/s; baseline 49 %`` for a row with a FLOP
    count (``gflop``) and the measured peak (``peak_gflop_per_s``): the baseline's fraction is the same FLOPs over its
    own median time."""
    peak, gflop = r["peak_gflop_per_s"], r["gflop"]
    target = r.get("peak_target")
    tgt = "" if target is None else f" (target >= {target:.0%}" + (" ✓)" if r["fraction_of_peak"] >= target else " ✗)")
    return (f"- {short} {r['case']}: {gflop:.1f} GFLOP per call; wavejax {gflop / r['wavejax_s']:.0f} GFLOP/s = "
            f"**{r['fraction_of_peak']:.0%}** of {peak:.0f} GFLOP/s{tgt}; {r['baseline']} "
            f"{gflop / r['baseline_s'] / peak:.0%}")


def bench_table(merged: dict[str, Any], *, figures: str = "benchmarks/results/") -> str:
    """Markdown summary: one line per benchmark row (times, ratio median/median and best-of, target, verdict).

    Rows with ``"table": False`` (details such as a reference implementation) stay in the JSON only.
    Below the table: the machine, each benchmark's scaling exponents and plot (linked as ``figures + name``), and
    failed benchmarks.
    """
    lines = ["| benchmark | case | wavejax | baseline | baseline time | ratio (median) | ratio (best-of) | target |",
             "|---|---|---|---|---|---|---|---|"]
    notes, peaks = [], []
    for name, b in merged.get("benchmarks", {}).items():
        short = name.removeprefix("bench_")
        for r in b.get("rows", []):
            if r.get("table") is False:  # detail rows stay in the JSON only
                continue
            tgt = r.get("target")
            best = r.get("ratio_best")
            verdict = "—" if tgt is None else f">= {tgt:g}x " + ("✓" if r["ratio"] >= tgt else "✗")
            lines.append(f"| {short} | {r['case']} | {_fmt_time(r['wavejax_s'])} | {r['baseline']} | "
                         f"{_fmt_time(r['baseline_s'])} | {r['ratio']:.1f}x | "
                         f"{'—' if best is None else f'{best:.1f}x'} | {verdict} |")
            if r.get("fraction_of_peak") is not None:
                peaks.append(_peak_note(short, r))
        sc = b.get("scaling")
        if sc:
            exps = ", ".join(f"{k} {v:.2f}" for k, v in sc.get("exponents", {}).items())
            fig = f" ([plot]({figures}{sc['figure']}))" if sc.get("figure") else ""
            notes.append(f"- {short}: time ~ ({sc.get('x')})^exponent: {exps}{fig}")
    m = merged.get("machine") or next(iter(merged.get("benchmarks", {}).values()), {}).get("machine", {})
    out = "\n".join(lines)
    if m:
        out += (f"\n\nMeasured on {m.get('cpu') or m.get('processor')} ({m.get('cpu_count')} cores, "
                f"{m.get('platform')}: {m.get('device')}), jax {m.get('jax')} / jaxlib {m.get('jaxlib')}"
                f"{', torch ' + str(m['torch']) if m.get('torch') else ''}, {m.get('date')}. Ratio = baseline "
                "time / wavejax time on the same shapes in the same process.")
    if peaks:
        out += ("\n\nFraction of the machine's peak (XLA's FLOP count of the wavejax program, done by both sides, "
                "over a 2048² float32 matmul's rate measured in the same process):\n" + "\n".join(peaks))
    if notes:
        out += "\n\nScaling (log-log fit):\n" + "\n".join(notes)
    if merged.get("failures"):
        out += "\n\nFailed: " + ", ".join(f"{k} ({v})" for k, v in merged["failures"].items())
    return out


def update_readme_table(readme: Path, table: str) -> bool:
    """Replace the text between the bench markers of ``readme`` by ``table``.

    Returns True when the file was rewritten; with no README or no markers it prints the table and returns False.
    """
    readme = Path(readme)
    text = readme.read_text() if readme.exists() else None
    if text is None or START not in text or END not in text or text.index(START) > text.index(END):
        why = "does not exist" if text is None else f"has no {START} ... {END} markers"
        print(f"{readme} {why}; benchmark table:\n\n{START}\n{table}\n{END}\n")
        return False
    i, j = text.index(START) + len(START), text.index(END)
    new = text[:i] + "\n" + table + "\n" + text[j:]
    if new != text:
        atomic_write_text(readme, new)
    return True


def _same_machine(result: dict[str, Any], info: dict[str, Any]) -> bool:
    """Whether a benchmark's recorded machine (``_common.machine_info``) is this one: cores, platform, device."""
    m = result.get("machine") or {}
    return all(m.get(k) == info.get(k) for k in ("cpu_count", "platform", "device"))


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def default_out() -> Path:
    """``runs/bench-<timestamp>`` in the working directory: where ``wavejax bench`` writes by default."""
    return Path("runs") / time.strftime("bench-%Y%m%d-%H%M%S")


def _is_within(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def _output_dir(root: Path, out: Path | None, *, quick: bool, update_readme: bool) -> Path:
    """The folder the benchmarks write to; ``ValueError`` for a run that must not touch the committed results.

    Only ``update_readme`` at full scale, run from the repository root, writes ``benchmarks/results/`` (and then
    README.md); every other run writes ``out`` (default :func:`default_out`), which must lie outside it.
    """
    committed = root / "benchmarks" / "results"
    if not update_readme:
        out = default_out() if out is None else Path(out)
        if _is_within(out, committed):
            raise ValueError(f"out={str(out)!r} lies in the committed {committed}; only `wavejax bench "
                             "--update-readme` (full scale, from the repository root) writes there")
        return out
    if quick:
        raise ValueError("update_readme (--update-readme) records the committed full-scale numbers in README.md and "
                         "benchmarks/results/; it cannot be combined with quick (--quick)")
    if Path.cwd().resolve() != root.resolve() or not (root / "README.md").is_file():
        raise ValueError(f"update_readme (--update-readme) must run from the repository root (the folder holding "
                         f"README.md and benchmarks/; {root.resolve()} here), not from {Path.cwd().resolve()}")
    if out is not None and Path(out).resolve() != committed.resolve():
        raise ValueError(f"update_readme (--update-readme) writes {committed}; it cannot be combined with "
                         f"out={str(out)!r}")
    return committed


def _run_scripts(root: Path, scripts: list[Path], out: Path, quick: bool) -> tuple[dict, dict]:
    """Run each script with ``--out out`` (and ``--quick``); returns ``(results by name, failures by name)``."""
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))
    new, failures = {}, {}
    for s in scripts:
        print(f"=== {s.name}", flush=True)
        res = out / f"{s.stem}.json"
        before = res.stat().st_mtime_ns if res.exists() else None
        cmd = [sys.executable, str(s), "--out", str(out.resolve())] + (["--quick"] if quick else [])
        rc = subprocess.call(cmd, cwd=root, env=env)
        data = _load(res) if res.exists() and res.stat().st_mtime_ns != before else None
        if rc != 0:
            failures[s.stem] = f"exit code {rc}"
        elif data is None:
            failures[s.stem] = f"wrote no {res.name}"
        else:
            data.setdefault("quick", quick)
            new[s.stem] = data
    return new, failures


def run_benchmarks(root: Path = Path("."), *, only: tuple[str, ...] = (), quick: bool = False,
                   out: Path | None = None, update_readme: bool = False) -> dict[str, Any]:
    """Run the benchmark scripts (all, or ``only`` these names) and merge their results; returns the merged dict.

    Every script writes ``<out>/<bench>.json`` (and its scaling PNG); the merged ``<out>/<machine>.json`` and the
    table ``<out>/table.md`` follow. ``out`` defaults to ``runs/bench-<timestamp>`` in the working directory.
    Only ``update_readme=True`` -- full scale (not ``quick``), run from the repository root -- writes the committed
    ``benchmarks/results/`` and the README table; any other combination that would touch them raises ValueError.
    """
    root = _find_root(Path(root))
    scripts = sorted((root / "benchmarks").glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in only or s.stem in only]
        if not scripts:
            raise ValueError(f"only={only} matches no benchmarks/bench_*.py")
    results_dir = _output_dir(root, out, quick=quick, update_readme=update_readme)
    results_dir.mkdir(parents=True, exist_ok=True)
    new, failures = _run_scripts(root, scripts, results_dir, quick)
    info = machine_info()
    # results of benchmarks run directly (python benchmarks/bench_x.py --out <same>) on this machine are merged too
    for p in sorted(results_dir.glob("bench_*.json")):
        if p.stem not in new and p.stem not in failures and (d := _load(p)) is not None and _same_machine(d, info):
            new[p.stem] = d
    path = results_dir / f"{machine_id()}.json"
    merged = merge_results(_load(path), new, failures, info)
    atomic_write_json(path, merged)
    print(f"merged results written to {path}")
    if update_readme:
        update_readme_table(root / "README.md", bench_table(merged))
    else:
        table = bench_table(merged, figures="")
        atomic_write_text(results_dir / "table.md", table + "\n")
        print(f"{table}\n\ntable written to {results_dir / 'table.md'} (README.md and benchmarks/results/ untouched:"
              " `wavejax bench --update-readme` from the repository root records a full run there)")
    if failures:
        print(f"benchmarks that failed: {failures}")
    return merged


def regenerate_table(root: Path = Path("."), *, machine: str | None = None, readme: Path | None = None) -> str:
    """Rebuild the README table from stored results (no benchmark is run); returns the table.

    Reads ``benchmarks/results/<machine>.json`` (default: this machine's; if absent, the newest merged file, else
    the per-benchmark ``bench_*.json`` files) and rewrites the README section (``readme`` default ROOT/README.md).
    """
    root = _find_root(Path(root))
    res = root / "benchmarks" / "results"
    merged = _load(res / f"{machine or machine_id()}.json")
    if merged is None:
        if machine:
            raise FileNotFoundError(f"no results for machine {machine!r} in {res}")
        merged_files = sorted((p for p in res.glob("*.json") if not p.stem.startswith("bench_")),
                              key=lambda p: p.stat().st_mtime)
        merged = _load(merged_files[-1]) if merged_files else None
    if merged is None:
        per = {p.stem: d for p in sorted(res.glob("bench_*.json")) if (d := _load(p)) is not None}
        merged = merge_results(None, per, {}, next(iter(per.values()), {}).get("machine", {}))
    table = bench_table(merged)
    update_readme_table(readme or root / "README.md", table)
    return table


def _main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m wavejax._bench", description=regenerate_table.__doc__)
    p.add_argument("--root", type=Path, default=Path("."))
    p.add_argument("--machine", default=None, help="results/<machine>.json to use (default: this machine)")
    a = p.parse_args(argv)
    regenerate_table(a.root, machine=a.machine)


if __name__ == "__main__":  # pragma: no cover
    _main()
