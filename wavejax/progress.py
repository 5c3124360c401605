"""Progress display for long runs (tqdm; silenced with ``WAVEJAX_PROGRESS=0``; shown by process 0 only)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress"]


def progress(iterable: Iterable[Any] | None = None, *, total: int | None = None, desc: str = "", **kw: Any) -> tqdm:
    """A tqdm progress bar; shown on terminals, hidden when ``WAVEJAX_PROGRESS=0`` and on every process but 0."""
    from wavejax.distributed import is_main_process

    disable = os.environ.get("WAVEJAX_PROGRESS", "1") == "0" or not is_main_process()
    return tqdm(iterable, total=total, desc=desc, disable=disable, dynamic_ncols=True, leave=False, **kw)
