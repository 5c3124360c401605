"""The one ``results.json`` schema written by every CLI command and every ``wavejax reproduce`` experiment.

    {
      "schema": "wavejax.results/1",
      "command": "wavejax emt train" | "emt.repeat_copy" | ...,   # what produced it
      "config": {...},            # the frozen config, JSON-able (nested configs as objects)
      "metrics": {...},           # free-form numbers/strings/lists (JSON-able)
      "claims": [{"quantity": str, "reference": str, "measured": any, "holds": true|false|null, "note": str}],
      "figures": ["name.png", ...],   # relative to the results folder
      "notes": str,
      "versions": {"wavejax": ..., "jax": ..., "jaxlib": ..., "numpy": ..., "python": ...},
      "environment": {"wavejax_commit", "jax", "jaxlib", "cpu_model", "cpu_flags", "cpu_count", "device",
                      "platform"},   # wavejax.report._environment; "unknown" where not readable
      "timings": {"started": ISO-8601 UTC, "seconds": float}
    }

:func:`results_record` builds it from a :class:`~wavejax.report.Result`, :func:`write_results` writes it
atomically, :func:`validate_results` checks a loaded file (it raises ``ValueError`` naming the bad key) and
:func:`result_from_record` reads it back.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Any

from wavejax.report._experiment import Result, Row

__all__ = ["SCHEMA", "results_record", "write_results", "validate_results", "result_from_record", "versions"]

SCHEMA = "wavejax.results/1"
_KEYS = {"schema": str, "command": str, "config": dict, "metrics": dict, "claims": list, "figures": list,
         "notes": str, "versions": dict, "timings": dict}
_CLAIM_KEYS = {"quantity": str, "reference": str, "note": str}


def versions() -> dict[str, str]:
    """Versions of wavejax, Python and the numerical stack (for reproducibility records)."""
    import importlib.metadata as md

    from wavejax import __version__

    out = {"wavejax": __version__, "python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "numpy", "flax", "optax", "diffrax"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover - optional in odd installs
            out[pkg] = "missing"
    return out


def _config_dict(config: Any) -> dict:
    from wavejax.io import to_jsonable

    if config is None:
        return {}
    d = to_jsonable(config)
    return d if isinstance(d, dict) else {"value": d}


def results_record(res: Result, *, command: str, config: Any = None, started: float | None = None,
                   seconds: float | None = None) -> dict[str, Any]:
    """The schema dict for ``res`` (see the module docstring); ``started`` is a ``time.time()`` stamp."""
    from wavejax.io import to_jsonable
    from wavejax.report._environment import environment

    started = time.time() if started is None else started
    claims = [{"quantity": r.quantity, "reference": r.paper, "measured": to_jsonable(r.measured),
               "holds": r.holds, "note": r.note} for r in res.rows]
    return {"schema": SCHEMA, "command": command, "config": _config_dict(config),
            "metrics": to_jsonable(res.metrics), "claims": claims, "figures": list(res.figures),
            "notes": res.notes, "versions": versions(), "environment": environment(),
            "timings": {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                        "seconds": float(time.time() - started if seconds is None else seconds)}}


def write_results(out: str | Path, res: Result, *, command: str, config: Any = None,
                  started: float | None = None, seconds: float | None = None) -> dict[str, Any]:
    """Write ``out/results.json`` (atomically) in the one schema; return the record written."""
    from wavejax.io import atomic_write_json

    rec = results_record(res, command=command, config=config, started=started, seconds=seconds)
    validate_results(rec)
    atomic_write_json(Path(out) / "results.json", rec)
    return rec


def validate_results(d: Any, *, where: str = "results.json") -> None:
    """Raise ``ValueError`` (naming ``where`` and the key) unless ``d`` follows the schema."""
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected a JSON object; got {type(d).__name__}")
    for k, typ in _KEYS.items():
        if k not in d:
            raise ValueError(f"{where}: missing key {k!r}")
        if not isinstance(d[k], typ):
            raise ValueError(f"{where}: {k!r} must be {typ.__name__}; got {type(d[k]).__name__}")
    if d["schema"] != SCHEMA:
        raise ValueError(f"{where}: schema must be {SCHEMA!r}; got {d['schema']!r}")
    for i, c in enumerate(d["claims"]):
        if not isinstance(c, dict) or "measured" not in c or "holds" not in c:
            raise ValueError(f"{where}: claims[{i}] needs quantity/reference/measured/holds/note")
        for k, typ in _CLAIM_KEYS.items():
            if not isinstance(c.get(k), typ):
                raise ValueError(f"{where}: claims[{i}].{k} must be {typ.__name__}")
        if c["holds"] not in (True, False, None):
            raise ValueError(f"{where}: claims[{i}].holds must be true, false or null; got {c['holds']!r}")
    if not all(isinstance(f, str) for f in d["figures"]):
        raise ValueError(f"{where}: figures must be file names (strings)")
    if not isinstance(d["timings"].get("seconds"), int | float):
        raise ValueError(f"{where}: timings.seconds must be a number")


def result_from_record(d: dict[str, Any]) -> Result:
    """The :class:`Result` stored in a schema dict (the inverse of :func:`results_record` up to JSON types)."""
    validate_results(d)
    rows = [Row(quantity=c["quantity"], paper=c["reference"], measured=c["measured"], holds=c["holds"],
                note=c["note"]) for c in d["claims"]]
    return Result(rows=rows, figures=list(d["figures"]), metrics=dict(d["metrics"]), notes=d["notes"])
