"""Atomic file replacement, the one primitive below :mod:`wavejax.io` and the run record (:mod:`wavejax._runfolder`).

Kept apart so that the run record can write itself without going through :mod:`wavejax.io`, whose writes call
the record first (that would be an import cycle, ``tests/test_api.py``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def replace_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync and ``os.replace``.

    The file gets the permissions of a plain ``open(path, "w")`` (0666 minus the umask), not the 0600 of the
    temporary file; the temp file is removed when anything fails (interrupts included).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
