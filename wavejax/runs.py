"""Run folders that cannot silently mix: every run folder records the config it was made with.

:func:`claim` is called before any work with an output folder. The first call writes ``<out>/<record>`` (default
``config.json``) as ``{"config": ..., "hash": ...}``; a later call with the same config finds the same record and
the run resumes (checkpoints, finished points, cached results). A different config raises
:class:`ConfigMismatch` (a ``ValueError``) that lists every differing field by its dotted name, ``old -> new``,
unless ``overwrite=True`` (the CLI's ``--overwrite``), which first deletes the old run's state (checkpoints,
metrics, results: the names in ``clear``). **No field may differ on resume**: not even a step count or a
checkpoint period, since they change what the folder's files claim (extend a run in a fresh folder instead).
A folder that holds run state but no record (an older wavejax, or files of another tool) is refused too; a
record alone (a run that failed before writing anything) is replaced, since there is nothing to mix.

Records in use: ``config.json`` (``{"command", "config"}`` of a CLI command, :func:`wavejax._cli.run_command`),
``report_config.json`` (``{"command", "scale", "only"}`` of :func:`wavejax.report.reproduce`),
``ckpt_config.json`` (what the checkpoints of :func:`wavejax.loop.run_chunks` were trained with),
``sweep_config.json`` (:func:`wavejax.tradeoff.run_sweep`).

:func:`describe` turns models, functions and arrays into such a record (functions by ``module.qualname``, large
arrays by a digest of their bytes), and :func:`code_version` is the package version plus a hash of the wavejax
sources (used by the ``wavejax reproduce`` cache, so an edit invalidates stale results).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wavejax import io

__all__ = ["ConfigMismatch", "claim", "config_diff", "describe", "code_version", "CLI_STATE"]

# what a CLI run may leave in its folder (deleted by --overwrite): checkpoints and their history, metrics, points,
# results, samples, the engine's and the sweep's records
CLI_STATE = ("ckpt", "ckpt_config.json", "history", "metrics.jsonl", "points.jsonl", "curves.jsonl", "groups",
             "sweep_config.json", "task.json", "run.npz", "members.json", "samples", "results.json",
             "report_config.json", "report.md", "report.html")


class ConfigMismatch(ValueError):
    """A run folder holds a run made with another config (the message lists the differing fields)."""


def _flat(x: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(x, dict) and x:
        out: dict[str, Any] = {}
        for k, v in x.items():
            out |= _flat(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return {prefix or "<config>": x}


def _short(v: Any) -> str:
    s = "(absent)" if v is _ABSENT else json.dumps(v)
    if len(s) <= 80:
        return s
    return '"...' + s[-76:] if isinstance(v, str) else s[:76] + "..."  # a path differs in its tail


_ABSENT = object()


def config_diff(old: Any, new: Any) -> list[str]:
    """``["train.lr: 0.001 -> 0.005", ...]``: the differing fields of two JSON configs, by dotted name."""
    a, b = _flat(old), _flat(new)
    keys = list(a) + [k for k in b if k not in a]
    return [f"{k}: {_short(a.get(k, _ABSENT))} -> {_short(b.get(k, _ABSENT))}" for k in keys
            if a.get(k, _ABSENT) != b.get(k, _ABSENT)]


def claim(out: str | Path, config: Any, *, record: str = "config.json", overwrite: bool = False,
          clear: Sequence[str] = CLI_STATE, markers: Sequence[str] | None = None) -> dict[str, Any]:
    """Record ``config`` in ``out/record`` or check it against the record there (see the module docstring).

    Args:
      out: the run folder (created if missing).
      config: anything :func:`wavejax.io.to_jsonable` converts (a frozen dataclass config, a dict).
      record: the record's file name inside ``out``.
      overwrite: delete ``clear`` (names inside ``out``) and the old record, then record ``config``.
      clear: the run state of this kind of folder.
      markers: the names whose presence without a record means "a run of unknown config" (default ``clear``).

    Returns:
      The record ``{"config": ..., "hash": ...}``.

    Raises:
      ConfigMismatch: ``out`` holds a run made with another config, or run state without a record.
    """
    out = Path(out)
    rec = {"config": io.to_jsonable(config), "hash": io.config_hash(config)}
    path = out / record
    if overwrite and io._writer():  # several processes: process 0 deletes (the others see its folder or none)
        for name in [*clear, record]:
            p = out / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
    elif overwrite:
        pass
    elif path.exists():
        old = io.read_json(path)
        same = isinstance(old, dict) and old.get("config") == rec["config"]
        if same:
            return old
        if _state(out, clear, markers):  # only a record and no run state (it failed first): nothing to mix
            diffs = config_diff(old.get("config") if isinstance(old, dict) else old, rec["config"])
            raise ConfigMismatch(f"{out} holds a run made with another config ({'; '.join(diffs) or 'unreadable'}"
                                 f"; recorded in {path}): use another output folder, or start afresh with "
                                 "--overwrite (overwrite=True), which deletes the old run's checkpoints and results")
    else:
        found = _state(out, clear, markers)
        if found:
            raise ConfigMismatch(f"{out} holds run files ({', '.join(found)}) but no {record} record of their "
                                 "config (an older wavejax?): use another output folder, or start afresh with "
                                 "--overwrite (overwrite=True)")
    io.atomic_write_json(path, rec)
    return rec


def _state(out: Path, clear: Sequence[str], markers: Sequence[str] | None) -> list[str]:
    return [n for n in (clear if markers is None else markers) if (out / n).exists()]


def describe(x: Any, *, max_list: int = 64) -> Any:
    """A JSON description of ``x`` for a run record: lenient where :func:`wavejax.io.to_jsonable` is strict.

    Dataclasses (Flax modules included, without ``parent``/``name``) by their fields, functions by
    ``module.qualname``, arrays with more than ``max_list`` elements (and pytrees of arrays) by shape, dtype and
    a SHA-256 of their bytes, anything else unknown by its type name.
    """
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"type": type(x).__qualname__, **{f.name: describe(getattr(x, f.name), max_list=max_list)
                                                 for f in dataclasses.fields(x) if f.name not in ("parent", "name")}}
    if isinstance(x, dict):
        return {str(k): describe(v, max_list=max_list) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [describe(v, max_list=max_list) for v in x]
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type):
        a = _host(x)
        if a.size <= max_list and a.dtype != object:
            return io.to_jsonable(a)
        return {"shape": list(a.shape), "dtype": str(a.dtype), "sha256": hashlib.sha256(a.tobytes()).hexdigest()[:16]}
    try:
        return io.to_jsonable(x)
    except TypeError:
        return f"<{type(x).__module__}.{type(x).__qualname__}>"


def _host(x: Any) -> np.ndarray:
    import jax

    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.asarray(x)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """``"<version>+<12 hex digits>"``: the package version and a SHA-256 of every ``wavejax/**/*.py`` file."""
    from wavejax import __version__

    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return f"{__version__}+{h.hexdigest()[:12]}"
