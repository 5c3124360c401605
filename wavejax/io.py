"""Results, metrics and checkpoints that survive interruption.

* ``atomic_write_json`` / ``atomic_write_text``: write to a temporary file in the same folder, fsync, rename.
  A reader never sees a half-written file and a killed run never corrupts an old one.
* ``append_jsonl`` / ``read_jsonl``: append-only metric and sweep-point logs (one JSON object per line); a
  truncated last line left by a kill is ignored on read.
* ``config_hash``: a stable short hash of a (frozen dataclass) config, used to cache finished experiments.
* ``save_checkpoint`` / ``restore_checkpoint`` / ``latest_step``: orbax checkpoints of any pytree.

One writer: with several processes (:mod:`wavejax.distributed`) only process 0 writes files; on the others the
write functions return without touching the disk. Checkpoints are collective: every process calls
``save_checkpoint`` / ``restore_checkpoint`` and orbax writes each process's shards of global arrays (the primary
process writes the metadata and commits).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from wavejax import _atomic, _runfolder

__all__ = [
    "to_jsonable",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_write_bytes",
    "read_json",
    "load_npz",
    "append_jsonl",
    "jsonl_line",
    "read_jsonl",
    "config_hash",
    "save_checkpoint",
    "restore_checkpoint",
    "latest_step",
    "checkpoint_steps",
]


def to_jsonable(x: Any, _path: str = "") -> Any:
    """Convert arrays, NumPy scalars, dataclasses, tuples and paths into plain JSON values.

    NaN and infinities become ``None`` so that the file is strict JSON. Functions and classes become their
    ``"module.qualname"`` (stable across processes), dtypes their name, enums their value, sets sorted lists.
    Anything else raises ``TypeError`` naming its key path (e.g. ``config.train.fn``) instead of writing a
    ``repr`` that could not be read back (and may hold a memory address).
    """
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: to_jsonable(getattr(x, f.name), _join(_path, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, Mapping):
        return {str(k): to_jsonable(v, _join(_path, str(k))) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_jsonable(v, f"{_path}[{i}]") for i, v in enumerate(x)]
    if isinstance(x, set | frozenset):
        return sorted((to_jsonable(v, f"{_path}[]") for v in x), key=repr)
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, bool | str) or x is None:
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, complex):
        return {"real": to_jsonable(x.real), "imag": to_jsonable(x.imag)}
    if isinstance(x, enum.Enum):
        return to_jsonable(x.value, _path)
    if isinstance(x, np.dtype):
        return str(x)
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type):
        a = np.asarray(x)
        if np.iscomplexobj(a):
            return to_jsonable({"real": a.real.tolist(), "imag": a.imag.tolist()}, _path)
        if a.dtype == object:
            raise TypeError(f"{_path or 'value'}: an object array is not JSON-serialisable")
        return to_jsonable(a.item() if a.ndim == 0 else a.tolist(), _path)
    if isinstance(x, np.generic):
        return to_jsonable(x.item(), _path)
    if isinstance(x, functools.partial):
        return {"partial": to_jsonable(x.func, _join(_path, "func")), "args": to_jsonable(x.args, _join(_path, "args")),
                "keywords": to_jsonable(x.keywords, _join(_path, "keywords"))}
    if callable(x) and hasattr(x, "__qualname__"):
        return f"{getattr(x, '__module__', None) or '?'}.{x.__qualname__}"
    raise TypeError(f"{_path or 'value'}: {type(x).__module__}.{type(x).__qualname__} is not JSON-serialisable "
                    f"(got {str(x)[:80]!r}); convert it to a number, string, list, dict, array or dataclass")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _writer() -> bool:
    """Whether this process writes files (process 0 of a multi-process run, or the only process)."""
    from wavejax.distributed import is_main_process

    return is_main_process()



def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    The file gets the permissions of a plain ``open(path, "w")`` (0666 minus the umask), not the 0600 of the
    temporary file. Only process 0 of a multi-process run writes.
    """
    path = Path(path)
    if not _writer():
        return path
    _runfolder.note(path)  # an open run folder records what it writes, before writing it
    return _atomic.replace_bytes(path, data)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as strict JSON to ``path`` atomically (arrays and NaN are converted)."""
    return atomic_write_text(path, json.dumps(to_jsonable(obj), indent=indent, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file; ``FileNotFoundError`` when missing, ``ValueError`` when corrupt (both name the path)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such results file: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON (corrupt or truncated?): {e}") from None


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, read eagerly; ``FileNotFoundError`` / ``ValueError`` name it."""
    import zipfile

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise ValueError(f"{path} is not a readable .npz file (corrupt or truncated?): {e}") from None


def jsonl_line(record: Mapping[str, Any]) -> str:
    """One JSONL line (strict JSON: NaN and infinities raise) of ``record``, newline included."""
    return json.dumps(to_jsonable(record), allow_nan=False) + "\n"


def append_jsonl(path: str | os.PathLike, record: Mapping[str, Any]) -> None:
    """Append one JSON object as a line, flushed and fsynced (safe to kill at any moment).

    If a kill left the file ending in a torn line (no final newline, not a whole record), that line is cut off
    first, so a torn line is only ever the last one. Only process 0 of a multi-process run writes.
    """
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping (one JSON object per line); got {type(record).__name__}")
    path = Path(path)
    if not _writer():
        return
    line = jsonl_line(record)
    _runfolder.note(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        line = _mend_tail(path) + line
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def _mend_tail(path: Path) -> str:
    """Before an append: cut a torn last line (a kill mid-write) off ``path``; ``"\\n"`` when the last line is a
    whole record that only lacks its newline, else ``""``."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 65536))
        tail = f.read()
        if tail.endswith(b"\n"):
            return ""
        cut = tail.rfind(b"\n")
        if cut < 0 and size > len(tail):  # a last line longer than 64 KiB: keep it, on its own line
            return "\n"
        last = tail[cut + 1:]
        try:
            json.loads(last)
            return "\n"
        except ValueError:
            f.truncate(size - len(last))
            return ""


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read the records of a JSONL file; a missing file gives ``[]``.

    A last line torn by a kill (a truncated JSON object: it ends before the object closes) is dropped
    (:func:`append_jsonl` cuts it off before appending). Any other unreadable line, a torn one in the middle of
    the file included, is corruption: ``ValueError`` naming the path and the line number.
    """
    path = Path(path)
    if not path.exists():
        return []
    out = []
    lines = list(_lines(path))
    for i, (no, line) in enumerate(lines):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            if i < len(lines) - 1 or not _torn(line, e):
                raise ValueError(f"{path}:{no}: not a JSON record (corrupt file?): {e}") from None
    return out


def _torn(line: str, err: json.JSONDecodeError) -> bool:
    """Whether ``line`` is a JSON object cut short: the parse fails in an open string, or at a point followed only
    by the start of a number or literal (``0.``, ``tr``), or at the end."""
    s = line.strip()
    if not s.startswith("{"):
        return False
    return err.msg.startswith("Unterminated string") or re.fullmatch(
        r"[\d.eE+\-]*|t(r(u)?)?|f(a(l(s)?)?)?|n(u(l)?)?", s[err.pos:].strip()) is not None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                if line.strip():
                    yield no, line
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text (corrupt file?): {e}") from None


def config_hash(cfg: Any, *, length: int = 12) -> str:
    """A stable hash of a config (dataclass, dict, tuple ...) for caching results by configuration.

    The same in every process: functions and classes enter by ``module.qualname`` (:func:`to_jsonable`).
    """
    blob = json.dumps(to_jsonable(cfg), sort_keys=True, separators=(",", ":"))
    name = type(cfg).__qualname__ if dataclasses.is_dataclass(cfg) else ""
    return hashlib.sha256((name + blob).encode()).hexdigest()[:length]


# --------------------------------------------------------------------------------------------- checkpoints
def _manager(directory: str | os.PathLike, max_to_keep: int | None = 2):
    import orbax.checkpoint as ocp

    from wavejax.distributed import assert_same

    directory = Path(directory).absolute()
    assert_same("the checkpoint directory", str(directory))  # orbax would wait for ever on split folders
    if _writer():
        directory.mkdir(parents=True, exist_ok=True)
    opts = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
    return ocp.CheckpointManager(directory, options=opts, item_handlers=ocp.StandardCheckpointHandler())


def save_checkpoint(directory: str | os.PathLike, step: int, tree: Any, *, max_to_keep: int = 2) -> list[int]:
    """Save the pytree ``tree`` as checkpoint ``step`` under ``directory`` (orbax; blocks until written).

    Orbax writes into a temporary folder and renames it when complete, so a kill mid-save leaves the previous
    checkpoint intact. With several processes every process must call it; process-local leaves are first
    replicated over all devices (:func:`wavejax.distributed.to_global`), global ones are saved shard by shard.
    Returns the steps kept after the save (ascending).
    """
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"step must be an integer >= 0; got step={step!r}")
    _check_leaves(tree)  # before orbax starts its threads (a caught error must not leave one waiting)
    import orbax.checkpoint as ocp

    from wavejax.distributed import to_global

    if _writer():
        _runfolder.note(Path(directory) / str(int(step)), tree=True)
    tree = to_global(tree)
    with _manager(directory, max_to_keep) as mngr:
        mngr.save(int(step), args=ocp.args.StandardSave(tree))
        mngr.wait_until_finished()
        return sorted(int(s) for s in mngr.all_steps())


def _check_leaves(tree: Any) -> None:
    """``TypeError`` naming the first leaf of ``tree`` that a checkpoint cannot hold (not an array or number)."""
    import jax

    flat = jax.tree_util.tree_flatten_with_path(tree)[0]
    for path, leaf in flat:
        ok = isinstance(leaf, jax.Array | np.ndarray | np.generic | int | float) and not isinstance(leaf, complex)
        if ok and isinstance(leaf, np.ndarray | np.generic) and np.asarray(leaf).dtype == object:
            ok = False
        if not ok:
            where = jax.tree_util.keystr(path) or "<root>"
            raise TypeError(f"tree{where}: a checkpoint holds arrays and numbers only; got "
                            f"{type(leaf).__module__}.{type(leaf).__qualname__}")


def latest_step(directory: str | os.PathLike) -> int | None:
    """The newest complete checkpoint step under ``directory``, or ``None``."""
    if not Path(directory).exists():
        return None
    with _manager(directory, None) as mngr:
        return mngr.latest_step()


def restore_checkpoint(directory: str | os.PathLike, like: Any, step: int | None = None) -> tuple[int, Any] | None:
    """Restore the newest (or given) checkpoint into the structure of ``like``; ``None`` when there is none.

    Every leaf's path, shape and dtype must match ``like`` (else one-line ``ValueError`` naming the folder and the
    leaves); an unreadable (truncated, corrupt) newest checkpoint is skipped with a warning and the previous kept
    one restored (:mod:`wavejax._checkpoint`). With several processes every process must call it; leaves of
    ``like`` that are not global arrays are restored replicated over all devices.
    """
    from wavejax._checkpoint import restore

    if not Path(directory).exists():
        return None
    with _manager(directory, None) as mngr:
        return restore(mngr, Path(directory), like, step)


def checkpoint_steps(directory: str | os.PathLike) -> list[int]:
    """The complete checkpoint steps kept under ``directory`` (ascending; ``[]`` when there is none)."""
    if not Path(directory).exists():
        return []
    with _manager(directory, None) as mngr:
        return sorted(int(s) for s in mngr.all_steps())
