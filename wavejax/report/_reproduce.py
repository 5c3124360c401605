"""``wavejax reproduce``: run every model's headline experiments and write one report.

Experiments are discovered from ``wavejax.<model>._experiments.EXPERIMENTS``. Each finished experiment is cached
under ``<cache>/<name>-<scale>-<hash>/results.json`` (default cache ``<out>/cache``; the hash covers name,
scale, the experiment's version and :func:`wavejax.runs.code_version`, i.e. the wavejax version and a hash of
its source files, so an edit invalidates stale entries), so a killed run, rerun, recomputes only what is
missing. The report folder records ``{"command", "scale", "only"}`` as the ``"report"`` owner of
``<out>/wavejax-run.json`` (:func:`wavejax.runs.run_folder`): a rerun with another scale or ``only`` into the same
folder is refused unless ``overwrite=True``. A failing experiment is recorded in the report and never
stops the others. The report is ``<out>/report.md`` plus ``<out>/report.html`` with figures inline.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import importlib
import math
import platform
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from wavejax import __version__, _validate
from wavejax.io import atomic_write_bytes, atomic_write_text, config_hash, read_json
from wavejax.precision import x64_scope
from wavejax.report._experiment import Experiment, Result, Scale
from wavejax.report._results import SCHEMA, result_from_record, write_results
from wavejax.runs import code_version, run_folder

__all__ = ["EXPERIMENT_MODULES", "discover", "reproduce"]

EXPERIMENT_MODULES = (
    "wavejax.wave._experiments",
    "wavejax.emt._experiments",
    "wavejax.gsemm._experiments",
    "wavejax.tradeoff._experiments",
    "wavejax.gan._experiments",
)


def discover(modules: tuple[str, ...] = EXPERIMENT_MODULES) -> tuple[list[Experiment], dict[str, str]]:
    """Import each experiments module; return the experiments and ``{module: error}`` for broken ones.

    A module that does not exist yet (model not implemented) is skipped silently.
    """
    exps: list[Experiment] = []
    errors: dict[str, str] = {}
    for mod in modules:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name and mod.startswith(e.name):
                continue
            errors[mod] = traceback.format_exc()
            continue
        except Exception:
            errors[mod] = traceback.format_exc()
            continue
        exps.extend(getattr(m, "EXPERIMENTS", []))
    return exps, errors


def _key(exp: Experiment, scale: Scale) -> str:
    return f"{exp.name}-{scale}-{config_hash((exp.name, scale, exp.version, code_version()))}"




def run_experiment(exp: Experiment, scale: Scale, cache: Path) -> tuple[Result | None, Path, float, str, bool]:
    """Run (or load from cache) one experiment. Returns (result, folder, seconds, error text, cached?)."""
    folder = cache / _key(exp, scale)
    done = folder / "results.json"
    try:
        d = read_json(done) if done.exists() else {}
    except ValueError as e:  # a corrupt cache entry is recomputed
        warnings.warn(f"{e}; recomputing {exp.name}", RuntimeWarning, stacklevel=2)
        d = {}
    if d.get("schema") == SCHEMA:
        return result_from_record(d), folder, d["timings"]["seconds"], "", True
    folder.mkdir(parents=True, exist_ok=True)
    started, t0 = time.time(), time.perf_counter()
    try:
        cfg = exp.make_config(scale)
        with x64_scope(exp.x64):
            res = exp.run(cfg, folder)
    except Exception:
        return None, folder, time.perf_counter() - t0, traceback.format_exc(), False
    secs = time.perf_counter() - t0
    write_results(folder, res, command=exp.name, config=cfg,
                  started=started, seconds=secs)
    return res, folder, secs, "", False


def _fmt(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
            return f"{x:.3g}"
        return f"{x:.4g}"
    if x is None:
        return "—"
    return str(x)


def _holds(h: bool | None) -> str:
    return {True: "✅ yes", False: "❌ no", None: "—"}[h]


def reproduce(out: str | Path, *, scale: Scale = "quick", cache: str | Path | None = None,
              only: tuple[str, ...] = (), overwrite: bool = False) -> Path:
    """Run every discovered experiment at ``scale`` and write ``out/report.md`` and ``out/report.html``.

    Args:
      out: output folder of this report.
      scale: ``"quick"`` (CPU minutes) or ``"full"`` (paper scale, GPU/TPU).
      cache: folder of cached experiment results (default: ``<out>/cache``).
      only: run only experiments whose name starts with one of these prefixes.
      overwrite: start a fresh report in ``out`` (removes the files the old report wrote, keeps the cache).

    Raises:
      wavejax.runs.ConfigMismatch: ``out`` holds a report of another scale or ``only`` (and not ``overwrite``).

    Returns:
      The path of ``report.md``.
    """
    from wavejax.runs import folder

    _validate.one_of("scale", scale, ("quick", "full"))
    started = time.time()
    out = folder(out)
    cache = Path(cache) if cache is not None else out / "cache"
    exps, import_errors = discover()
    if only:
        exps = [e for e in exps if any(e.name.startswith(p) for p in only)]
        if not exps:
            raise ValueError(f"only={only} matches no experiment")
    keep = (cache.relative_to(out).as_posix(),) if cache.is_relative_to(out) else ()
    with run_folder(out, {"command": "wavejax reproduce", "scale": scale, "only": list(only)}, owner="report",
                    state=REPORT_STATE, overwrite=overwrite, keep=keep):
        return _report(out, exps, import_errors, scale, cache, only, started)


REPORT_STATE = ("report.md", "report.html", "results.json")  # the report's own names in its folder


def _report(out: Path, exps: list, import_errors: dict[str, str], scale: Scale, cache: Path,
            only: tuple[str, ...], started: float) -> Path:
    from wavejax.progress import progress

    sections: dict[str, list[dict[str, Any]]] = {}
    bar = progress(exps, desc="reproduce", total=len(exps))
    for exp in bar:
        bar.set_postfix_str(exp.name)
        print(f"[reproduce] {exp.name}: {exp.title}", flush=True)
        res, folder, secs, err, cached = run_experiment(exp, scale, cache)
        dest = out / exp.name
        if res is not None:
            _copy(folder, dest)
        status = "cached" if cached else ("failed" if err else "ran")
        print(f"[reproduce] {exp.name}: {status} in {secs:.1f} s", flush=True)
        sections.setdefault(exp.section, []).append(
            {"exp": exp, "res": res, "secs": secs, "err": err, "cached": cached, "dir": dest})
    md, htm = _render(sections, import_errors, scale)
    atomic_write_text(out / "report.md", md)
    atomic_write_text(out / "report.html", htm)
    _write_summary(out, sections, import_errors, scale=scale, only=only, started=started)
    return out / "report.md"


def _copy(src: Path, dest: Path) -> None:
    """Copy an experiment's folder into the report, file by file (each recorded in the report's run record;
    the experiment folder's own record and lock stay behind)."""
    from wavejax._runfolder import LOCK, RECORD

    for p in sorted(src.rglob("*")):
        if p.is_file() and p.name not in (RECORD, LOCK) and not p.name.startswith("."):
            atomic_write_bytes(dest / p.relative_to(src), p.read_bytes())


def _write_summary(out: Path, sections: dict[str, list[dict[str, Any]]], import_errors: dict[str, str], *,
                   scale: Scale, only: tuple[str, ...], started: float) -> None:
    """``out/results.json`` of the whole report, in the one schema: every experiment's claims, prefixed."""
    summary, rows = {}, []
    for sec, es in sections.items():
        for e in es:
            name, res = e["exp"].name, e["res"]
            summary[name] = {"section": sec, "ok": res is not None, "seconds": e["secs"], "cached": e["cached"],
                             "rows": [dataclasses.asdict(r) for r in (res.rows if res else [])]}
            rows += [dataclasses.replace(r, quantity=f"{name}: {r.quantity}") for r in (res.rows if res else [])]
    res = Result(rows=rows, figures=[f"{e['exp'].name}/{f}" for es in sections.values() for e in es
                                     if e["res"] for f in e["res"].figures],
                 metrics={"experiments": summary, "import_errors": import_errors})
    write_results(out, res, command="wavejax reproduce", config={"scale": scale, "only": list(only)},
                  started=started)


def _render(sections: dict[str, list[dict[str, Any]]], import_errors: dict[str, str], scale: str) -> tuple[str, str]:
    import jax

    head = (f"wavejax {__version__}, scale **{scale}**, jax {jax.__version__} on "
            f"{jax.devices()[0].platform} ({platform.machine()}), {time.strftime('%Y-%m-%d %H:%M:%S')}")
    md = ["# wavejax reproduction report", "", head, ""]
    hb = ["<!doctype html><html><head><meta charset='utf-8'><title>wavejax report</title><style>",
          "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:3px 8px}img{max-width:520px;margin:4px}pre{background:#f6f6f6}",
          "</style></head><body>", "<h1>wavejax reproduction report</h1>", f"<p>{html.escape(head)}</p>"]
    n_rows = n_hold = n_fail = 0
    for sec, entries in sections.items():
        md += [f"## {sec}", ""]
        hb.append(f"<h2>{html.escape(sec)}</h2>")
        for e in entries:
            exp, res = e["exp"], e["res"]
            tag = " (cached)" if e["cached"] else ""
            md += [f"### {exp.title}", "", f"`{exp.name}` — {e['secs']:.1f} s{tag}", ""]
            hb.append(f"<h3>{html.escape(exp.title)}</h3><p><code>{exp.name}</code> — {e['secs']:.1f} s{tag}</p>")
            if res is None:
                n_fail += 1
                md += ["**FAILED** (the other experiments ran on):", "", "```", e["err"].strip()[-3000:], "```", ""]
                hb.append(f"<p><b>FAILED</b></p><pre>{html.escape(e['err'].strip()[-3000:])}</pre>")
                continue
            md += ["| quantity | paper / reference value | measured | holds? | note |", "|---|---|---|---|---|"]
            hb.append("<table><tr><th>quantity</th><th>paper / reference value</th><th>measured</th>"
                      "<th>holds?</th><th>note</th></tr>")
            for r in res.rows:
                n_rows += r.holds is not None  # rows without a claim are reported, not checked
                n_hold += r.holds is True
                cells = [r.quantity, r.paper, _fmt(r.measured), _holds(r.holds), r.note]
                md.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
                hb.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            md.append("")
            hb.append("</table>")
            if res.notes:
                md += [res.notes, ""]
                hb.append(f"<p>{html.escape(res.notes)}</p>")
            for fig in res.figures:
                rel = f"{exp.name}/{fig}"
                md += [f"![{fig}]({rel})", ""]
                p = e["dir"] / fig
                if p.exists():
                    b64 = base64.b64encode(p.read_bytes()).decode()
                    hb.append(f"<img alt='{html.escape(fig)}' src='data:image/png;base64,{b64}'>")
    for mod, err in import_errors.items():
        n_fail += 1
        md += [f"## Import error in `{mod}`", "", "```", err.strip()[-3000:], "```", ""]
        hb.append(f"<h2>Import error in {html.escape(mod)}</h2><pre>{html.escape(err.strip()[-3000:])}</pre>")
    summ = f"**Summary:** {n_hold} of {n_rows} checked rows hold; {n_fail} experiment(s) failed."
    md.insert(3, summ + "\n")
    hb.insert(6, f"<p>{html.escape(summ.replace('**', ''))}</p>")
    hb.append("</body></html>")
    return "\n".join(md) + "\n", "\n".join(hb) + "\n"
