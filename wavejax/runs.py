"""Run folders that cannot silently mix, and that own only what they wrote.

A run folder holds one record, ``wavejax-run.json`` (:mod:`wavejax._runfolder`): the config of each owner of the
folder (a CLI command ``"cli"``, the training engine ``"engine"``, a sweep ``"sweep"``, a report ``"report"``)
with its hash, and the list of files and folders that wavejax created there (every write through
:mod:`wavejax.io` into an open run folder is recorded before it happens).

:func:`run_folder` opens a folder for one owner before any work: it takes the folder's lock (one writer per
folder: a second command on the same folder is refused with :class:`FolderInUse` naming the holder; the kernel
frees the lock of a killed process), then :func:`claim` checks the record. A rerun with the same config resumes
(checkpoints, finished points, cached results). Another config raises :class:`ConfigMismatch` (a ``ValueError``)
listing every differing field by its dotted name, ``old -> new``, unless ``overwrite=True`` (the CLI's
``--overwrite``), which first removes the entries the record lists -- and only those: a file wavejax did not
write stays, even inside a folder wavejax created. **No field may differ on resume**: not even a step count or a
checkpoint period, since they change what the folder's files claim (extend a run in a fresh folder instead).
Each owner declares its state (the names it writes, e.g. the engine's ``ckpt``, ``history``, ``metrics.jsonl``):
such a name present but not recorded (an older wavejax, or another tool) is refused, and writing over any file
wavejax did not write raises ``FileExistsError``. An empty ``out`` is a ``ValueError``.

:func:`describe` turns models, functions and arrays into such a record (functions by ``module.qualname``, large
arrays by a digest of their bytes), and :func:`code_version` is the package version plus a hash of the wavejax
sources (used by the ``wavejax reproduce`` cache, so an edit invalidates stale results).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wavejax import _runfolder, io
from wavejax._runfolder import RECORD, FolderInUse

__all__ = ["ConfigMismatch", "FolderInUse", "RECORD", "claim", "run_folder", "config_diff", "describe",
           "code_version", "folder"]


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


def folder(out: str | os.PathLike | None, name: str = "out") -> Path:
    """``Path(out)``, refusing ``None`` and the empty string (which would silently mean the working directory)."""
    if out is None or (isinstance(out, str) and not out.strip()):
        raise ValueError(f"{name} must name an output folder; got {name}={out!r}")
    return Path(out)


def claim(out: str | Path, config: Any, *, owner: str = "cli", state: Sequence[str] = (), overwrite: bool = False,
          keep: Sequence[str] = ()) -> dict[str, Any]:
    """Record ``config`` as ``owner``'s in ``out``'s record, or check it against the record there.

    Args:
      out: the run folder (created if missing).
      config: anything :func:`wavejax.io.to_jsonable` converts (a frozen dataclass config, a dict); ``None``:
        no check and nothing recorded for ``owner`` (the caller vouches for the folder).
      owner: who writes with this config (``"cli"``, ``"engine"``, ``"sweep"``, ``"report"``).
      state: the names this owner writes in ``out``; one present but not in the record is refused.
      overwrite: remove every entry the record lists (but those under ``keep``) and forget the other owners.
      keep: names whose recorded entries ``overwrite`` keeps (a cache).

    Returns:
      The owner's record ``{"config": ..., "hash": ...}``.

    Raises:
      ConfigMismatch: ``out`` holds a run made with another config, or ``state`` that wavejax did not write.
      ValueError: ``out`` is empty.
    """
    out = folder(out)
    entry = {"config": io.to_jsonable(config), "hash": io.config_hash(config)}
    if not io._writer():  # several processes: process 0 records (the others see its folder)
        return entry
    out.mkdir(parents=True, exist_ok=True)
    opened = _runfolder.is_open(out)
    rec = opened.rec if opened is not None else _runfolder.load(out)
    _check(out, rec, entry if config is not None else None, owner, state,
           overwrite and not (opened is not None and opened.fresh), tuple(keep))
    return rec["owners"].get(owner, entry)


def _check(out: Path, rec: dict[str, Any], entry: dict[str, Any] | None, owner: str, state: Sequence[str],
           overwrite: bool, keep: tuple[str, ...]) -> None:
    foreign = [n for n in state if (out / n).exists() and not _runfolder.recorded(rec, n)]
    if foreign:
        raise ConfigMismatch(f"{out} holds {', '.join(foreign)}, which wavejax did not write (not in its record "
                             f"{out / RECORD}: an older wavejax or another tool?): use another output folder, or "
                             "move them away")
    if overwrite:
        _runfolder.clean(out, rec, keep)
        c = rec["created"]
        for k in c:
            c[k] = [r for r in c[k] if any(r == p or r.startswith(p + "/") for p in keep)]
        rec["owners"] = {}
    old = rec["owners"].get(owner)
    if entry is not None and old is not None and old.get("config") != entry["config"] and _written(out, rec):
        diffs = config_diff(old.get("config"), entry["config"])
        users = _runfolder.unrecorded(out, rec)
        advice = ("use another output folder (it also holds files wavejax did not write: "
                  f"{', '.join(users[:5])}{', ...' if len(users) > 5 else ''})" if users else
                  "use another output folder, or start afresh with --overwrite (overwrite=True), which removes "
                  "the files that run wrote")
        raise ConfigMismatch(f"{out} holds a run made with another config ({'; '.join(diffs) or 'unreadable'}; "
                             f"recorded in {out / RECORD}): {advice}")
    if entry is not None:
        rec["owners"][owner] = entry
    _runfolder.save(out, rec)


def _written(out: Path, rec: dict[str, Any]) -> bool:
    """Whether any recorded entry is on disk (a record alone, of a run that failed first, has nothing to mix)."""
    c = rec["created"]
    return any((out / r).exists() for r in (*c["files"], *c["trees"])) or any(
        (out / r).is_dir() and any((out / r).iterdir()) for r in c["folders"])


@contextlib.contextmanager
def run_folder(out: str | Path, config: Any, *, owner: str, state: Sequence[str] = (), overwrite: bool = False,
               keep: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Lock ``out``, :func:`claim` it for ``owner`` and record every write into it while the block runs.

    Nested opens of one folder in one process (the engine inside a CLI command) share the lock and the record;
    an ``overwrite`` inside an outer one that already started afresh removes nothing more. With several
    processes only process 0 (the writer) locks and records.

    Raises:
      FolderInUse: another process holds the folder (the message names its pid, host and command).
      ConfigMismatch, ValueError: see :func:`claim`.
    """
    out = folder(out)
    if not io._writer():
        yield claim(out, config, owner=owner)
        return
    opened = _runfolder.is_open(out)
    fd = None
    if opened is None:
        if not (out / RECORD).exists():
            _runfolder.note(out / RECORD)  # an enclosing run folder records this one (a sweep's group)
        out.mkdir(parents=True, exist_ok=True)
        fd = _runfolder.lock(out)
    try:
        entry = claim(out, config, owner=owner, state=state, overwrite=overwrite, keep=keep)
        rec = _runfolder.load(out) if opened is None else opened.rec
    except BaseException:
        if fd is not None:
            _runfolder._unlock(fd)
        raise
    with _runfolder.opened(out, rec, fresh=overwrite, fd=fd):
        yield entry


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
