"""The run record and the writer's lock of a run folder (behind :func:`wavejax.runs.claim` / ``run_folder``).

A run folder holds one record, ``wavejax-run.json``::

    {"owners": {"cli": {"config": ..., "hash": ...}, "engine": {...}},
     "created": {"files": [...], "folders": [...], "trees": [...]}}

``owners`` maps each writer of the folder (a CLI command, the training engine, a sweep, a report) to the config
it ran with; ``created`` lists, relative to the folder, every file and folder that wavejax created there. While a
folder is open (:func:`opened`), every write through :mod:`wavejax.io` calls :func:`note` first, which records the
new path (and any folder it creates) before a byte is written; an existing file that is not in the record is a
file wavejax did not write, and writing over it is refused. :func:`clean` (``overwrite``) removes only recorded
entries: recorded files, recorded checkpoint steps (``trees``, orbax step folders) and recorded folders that are
then empty; files a user put in the folder, even inside a recorded folder, stay.

One writer per folder: :func:`lock` takes an exclusive ``fcntl.flock`` on ``.wavejax-lock`` in the folder and
writes the holder's pid, host and command into it. The kernel drops the lock when its holder dies, so a killed
run's lock is free at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wavejax import _atomic

__all__ = ["RECORD", "LOCK", "FolderInUse", "empty", "load", "save", "note", "clean", "unrecorded", "opened",
           "recorded"]

RECORD = "wavejax-run.json"
LOCK = ".wavejax-lock"
_OWN = (RECORD, LOCK)


class FolderInUse(RuntimeError):
    """Another process holds the run folder's lock (the message names it)."""


def empty() -> dict[str, Any]:
    return {"owners": {}, "created": {"files": [], "folders": [], "trees": []}}


def load(out: Path) -> dict[str, Any]:
    """The record of ``out`` (an empty one when there is none); ``ValueError`` naming the file when corrupt."""
    path = out / RECORD
    if not path.exists():
        return empty()
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON (corrupt or truncated?): {e}") from None
    created = rec.get("created") if isinstance(rec, dict) else None
    if not (isinstance(rec.get("owners"), dict) and isinstance(created, dict)
            and all(isinstance(created.get(k), list) for k in ("files", "folders", "trees"))):
        raise ValueError(f"{path} is not a wavejax run record (expected keys owners, created)")
    return rec


def save(out: Path, rec: dict[str, Any]) -> None:
    # the record holds JSON values only (runs.claim converts the configs); strict JSON, like io.atomic_write_json
    _atomic.replace_bytes(out / RECORD, (json.dumps(rec, indent=2, allow_nan=False) + "\n").encode("utf-8"))


# ------------------------------------------------------------------------------------------ open folders
class _Open:
    def __init__(self, rec: dict[str, Any], fresh: bool, fd: int | None) -> None:
        self.rec, self.fresh, self.fd, self.depth = rec, fresh, fd, 1


_OPEN: dict[Path, _Open] = {}


def _key(out: Path) -> Path:
    return Path(os.path.abspath(out))


def is_open(out: Path) -> _Open | None:
    return _OPEN.get(_key(out))


@contextlib.contextmanager
def opened(out: Path, rec: dict[str, Any], *, fresh: bool, fd: int | None) -> Iterator[None]:
    """Record every write into ``out`` in ``rec`` while the block runs (nested opens share one entry)."""
    k = _key(out)
    entry = _OPEN.get(k)
    if entry is None:
        _OPEN[k] = _Open(rec, fresh, fd)
    else:
        entry.depth += 1
    try:
        yield
    finally:
        e = _OPEN[k]
        e.depth -= 1
        if e.depth == 0:
            del _OPEN[k]
            if e.fd is not None:
                _unlock(e.fd)


def _root_of(path: Path) -> tuple[Path, _Open] | None:
    best = None
    for root, entry in _OPEN.items():
        if path != root and path.is_relative_to(root) and (best is None or root.is_relative_to(best[0])):
            best = (root, entry)
    return best


def recorded(rec: dict[str, Any], rel: str) -> bool:
    c = rec["created"]
    return rel in c["files"] or rel in c["folders"] or rel in c["trees"]


def _holder(path: str | os.PathLike) -> tuple[Path, Path, Any, str] | None:
    """``(path, root, entry, rel)`` of the open run folder holding ``path`` (``rel``: its path inside ``root``), or
    ``None`` when no open run folder holds it."""
    path = _key(Path(path))
    found = _root_of(path)
    if found is None:
        return None
    root, entry = found
    return path, root, entry, path.relative_to(root).as_posix()


def note(path: str | os.PathLike, *, tree: bool = False) -> None:
    """Record ``path`` (and the folders its write creates) in the record of the open run folder holding it.

    Raises ``FileExistsError`` naming the path when it exists but wavejax did not write it (not in the record).
    """
    found = _holder(path)
    if found is None:
        return
    path, root, entry, rel = found
    rec, c = entry.rec, entry.rec["created"]
    if rel in _OWN or recorded(rec, rel) or any(rel.startswith(t + "/") for t in c["trees"]):
        return
    if path.exists():
        raise FileExistsError(f"{path} exists but wavejax did not write it (it is not in {root / RECORD}): "
                              "refusing to overwrite it; move it away or use another output folder")
    parts = rel.split("/")
    for i in range(1, len(parts)):
        d = "/".join(parts[:i])
        if not (root / d).exists() and d not in c["folders"]:
            c["folders"].append(d)
    c["trees" if tree else "files"].append(rel)
    save(root, rec)


def remove_recorded(path: str | os.PathLike) -> bool:
    """Delete the file ``path`` only when the record of the open run folder holding it lists it (wavejax wrote it),
    and drop it from that record; returns whether it was removed. A file no open record lists stays."""
    found = _holder(path)
    if found is None:
        return False
    path, root, entry, rel = found
    files = entry.rec["created"]["files"]
    if rel not in files or not (path.is_file() or path.is_symlink()):
        return False
    path.unlink()
    files.remove(rel)
    save(root, entry.rec)
    return True


# ---------------------------------------------------------------------------------------------- cleaning
def clean(out: Path, rec: dict[str, Any], keep: tuple[str, ...] = ()) -> None:
    """Remove every entry recorded in ``rec`` (but those under a name in ``keep``); leave everything else."""
    c = rec["created"]

    def kept(rel: str) -> bool:
        return any(rel == k or rel.startswith(k + "/") for k in keep)

    for rel in c["files"]:  # nested run folders (a sweep's groups) first, each by its own record
        p = out / rel
        if p.name == RECORD and rel != RECORD and not kept(rel) and p.is_file():
            clean(p.parent, load(p.parent))
            (p.parent / LOCK).unlink(missing_ok=True)
    for rel in c["files"]:
        p = out / rel
        if not kept(rel) and (p.is_file() or p.is_symlink()):
            p.unlink()
    for rel in c["trees"]:
        p = out / rel
        if kept(rel):
            continue
        for q in [p, *p.parent.glob(f"{p.name}.orbax-checkpoint-tmp*")]:  # and a save a kill interrupted
            if q.is_dir() and not q.is_symlink():
                shutil.rmtree(q)
    for rel in sorted(c["folders"], key=lambda r: -r.count("/")):  # deepest first
        p = out / rel
        if kept(rel) or not p.is_dir() or p.is_symlink():
            continue
        with contextlib.suppress(OSError):
            p.rmdir()  # only when empty: a user's files inside stay


def unrecorded(out: Path, rec: dict[str, Any]) -> list[str]:
    """Top-level names in ``out`` that wavejax did not write (not in the record)."""
    if not out.is_dir():
        return []
    c = rec["created"]
    mine = {r.split("/", 1)[0] for r in (*c["files"], *c["folders"], *c["trees"])}
    return sorted(p.name for p in out.iterdir() if p.name not in mine and p.name not in _OWN
                  and not p.name.startswith(f".{RECORD}."))


# -------------------------------------------------------------------------------------------------- lock
def lock(out: Path) -> int:
    """Take the folder's exclusive lock (``FolderInUse`` naming the holder when another process has it)."""
    import fcntl

    path = out / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 4096, 0).decode("utf-8", "replace")
        os.close(fd)
        try:
            h = json.loads(holder)
            who = f"pid {h['pid']} on {h['host']} since {h['since']}: {h['command']}"
        except (ValueError, KeyError, TypeError):
            who = "another process"
        raise FolderInUse(f"{out} is in use by another wavejax run ({who}); wait for it to end or use another "
                          "output folder") from None
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(sys.argv)[:300]}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    return fd


def _unlock(fd: int) -> None:
    import fcntl

    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
