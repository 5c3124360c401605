"""Memory checked before allocating (issue 22 item 2).

Public entries whose memory grows with their arguments estimate their peak from shapes and dtypes (a lower bound:
the arrays they must hold at once) and call :func:`require_fits` before anything is compiled or allocated; a request
that cannot fit is a ``ValueError`` naming the argument and both sizes, e.g.
``batch=1000000000 needs ~3.7 TiB, 19 GiB available``, instead of an XLA abort, a ``RESOURCE_EXHAUSTED`` after
minutes of compiling, a NumPy ``MemoryError`` or a hang.

Available memory: the default device's ``memory_stats()`` (``bytes_limit - bytes_in_use``) on GPU/TPU, else the
host's ``MemAvailable`` from ``/proc/meminfo`` (``os.sysconf`` where there is no /proc). ``WAVEJAX_MEMORY_LIMIT``
(bytes, or with a K/M/G/T suffix) lowers the limit, e.g. to share a machine.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _env_limit() -> int | None:
    raw = os.environ.get("WAVEJAX_MEMORY_LIMIT", "").strip()
    if not raw:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?", raw, flags=re.IGNORECASE)
    if m is None:
        raise ValueError(f"WAVEJAX_MEMORY_LIMIT must be a byte count such as 8G or 512M; got {raw!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _host_available() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 2**63 - 1


def _device_available() -> int | None:
    import jax

    dev = jax.devices()[0]
    if dev.platform == "cpu":
        return None
    try:
        stats = dev.memory_stats() or {}
    except Exception:  # noqa: BLE001 - some backends do not report; fall back to the host
        return None
    if "bytes_limit" not in stats:
        return None
    return int(stats["bytes_limit"] - stats.get("bytes_in_use", 0))


def available_bytes() -> int:
    """Bytes the next allocation can use: the accelerator's free memory, else the host's MemAvailable."""
    dev = _device_available()
    avail = _host_available() if dev is None else dev
    limit = _env_limit()
    return avail if limit is None else min(avail, limit)


def nbytes(shape: Iterable[int], dtype: Any = np.float32) -> int:
    """Bytes of one array of ``shape`` and ``dtype`` (Python ints: no overflow for huge shapes)."""
    return math.prod(int(s) for s in shape) * np.dtype(dtype).itemsize


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units with 2 significant digits (``3.7 TiB``, ``19 GiB``, ``512 B``)."""
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            x = n / size
            return f"{x:.1f} {unit}" if x < 10 else f"{x:.0f} {unit}"
    return f"{int(n)} B"


def require_fits(sizes: dict[str, Any], need: int, *, what: str = "") -> None:
    """Raise ``ValueError`` naming every ``name=value`` of ``sizes`` (the arguments the estimate grows with) and
    both byte counts when ``need`` bytes exceed :func:`available_bytes`; ``what`` says what the estimate counts."""
    avail = available_bytes()
    if need > avail:
        args = ", ".join(f"{k}={v}" for k, v in sizes.items())
        extra = f" ({what})" if what else ""
        raise ValueError(f"{args} needs ~{format_bytes(need)}{extra}, {format_bytes(avail)} available; "
                         f"reduce {' or '.join(sizes)}")
