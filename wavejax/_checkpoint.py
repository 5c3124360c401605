"""Checkpoint restore that names what is wrong: checked against the template, falls back past corrupt steps.

:func:`restore` (behind :func:`wavejax.io.restore_checkpoint`) reads each kept checkpoint's metadata first and
compares every leaf's path, shape and dtype with the template: a mismatch (e.g. another ``--hidden`` in the same
folder) is a one-line ``ValueError`` naming the folder, the step and the first differing leaves, raised before
orbax reads any array (orbax itself would cast dtypes silently). A checkpoint that cannot be read (truncated or
corrupt files) is skipped with a ``warnings.warn`` naming it, and the previous kept one is restored instead.
"""

from __future__ import annotations

import gc
import warnings
from pathlib import Path
from typing import Any

import jax
import numpy as np

__all__ = ["restore", "leaf_specs"]


def _key_name(k: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return str(getattr(k, attr))
    return str(k)


def leaf_specs(tree: Any) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{"a.b.0": (shape, dtype name)}`` of every leaf with a shape (arrays, orbax metadata, ShapeDtypeStruct)."""
    flat = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: hasattr(x, "shape"))[0]
    return {".".join(_key_name(k) for k in path) or "<root>": (tuple(leaf.shape), str(np.dtype(leaf.dtype)))
            for path, leaf in flat}


def _mismatch(saved: dict, want: dict) -> list[str]:
    diffs = [f"{k}: missing in the checkpoint" for k in want if k not in saved]
    diffs += [f"{k}: in the checkpoint but not in this run" for k in saved if k not in want]
    for k in want:
        if k in saved and saved[k] != want[k]:
            (s0, d0), (s1, d1) = saved[k], want[k]
            what = [f"shape {s0} in the checkpoint, {s1} in this run"] if s0 != s1 else []
            what += [f"dtype {d0} in the checkpoint, {d1} in this run"] if d0 != d1 else []
            diffs.append(f"{k}: {', '.join(what)}")
    return diffs


def _short(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg[:300]}"


def restore(mngr: Any, directory: Path, like: Any, step: int | None) -> tuple[int, Any] | None:
    """Restore the newest readable (or the given) checkpoint of ``mngr`` into the structure of ``like``."""
    import orbax.checkpoint as ocp

    from wavejax.distributed import to_global

    kept = sorted(mngr.all_steps(), reverse=True)
    if step is not None:
        if int(step) not in kept:
            raise ValueError(f"checkpoint folder {directory} has no step {step}; kept steps: {sorted(kept)}")
        kept = [int(step)]
    if not kept:
        return None
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, to_global(like))
    want = leaf_specs(abstract)
    errors = []
    for s in kept:
        try:
            meta = mngr.item_metadata(s)
            saved = leaf_specs(getattr(meta, "tree", meta))
        except Exception as e:  # unreadable metadata: a corrupt or truncated checkpoint
            errors.append((s, e))
            _skip(directory, s, e, kept)
            continue
        diffs = _mismatch(saved, want)
        if diffs:
            more = f" (and {len(diffs) - 3} more)" if len(diffs) > 3 else ""
            raise ValueError(f"checkpoint {directory}/{s} does not match this run: {'; '.join(diffs[:3])}{more}. "
                             "Was the folder made with another config? Use another output folder or start afresh "
                             "(--overwrite / overwrite=True)")
        try:
            return s, mngr.restore(s, args=ocp.args.StandardRestore(abstract))
        except Exception as e:  # unreadable arrays
            errors.append((s, e))
            gc.collect()  # finalise orbax's aborted reads now (else they print asyncio noise at exit)
            _skip(directory, s, e, kept)
    s, e = errors[0]
    raise ValueError(f"checkpoint folder {directory}: no readable checkpoint among steps {sorted(kept)} "
                     f"(step {s}: {_short(e)})") from None


def _skip(directory: Path, s: int, e: BaseException, kept: list[int]) -> None:
    older = [k for k in kept if k < s]
    then = f"falling back to step {older[0]}" if older else "no older checkpoint is kept"
    warnings.warn(f"checkpoint {directory}/{s} is unreadable ({_short(e)}); {then}", RuntimeWarning, stacklevel=4)
