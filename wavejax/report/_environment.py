"""The environment a result was measured in (issue 22): wavejax commit, jax/jaxlib, CPU model and flags, device.

:func:`environment` is recorded in every ``results.json`` by :func:`wavejax.report.results.results_record`.
Fields that cannot be determined are the string ``"unknown"``, never a guess. Committed result folders made before
this record existed carry an ``environment.json`` (:data:`ENVIRONMENT_FILE`) with what their notes state.
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
ENVIRONMENT_FILE = "environment.json"
FIELDS = ("wavejax_commit", "jax", "jaxlib", "cpu_model", "cpu_flags", "cpu_count", "device", "platform")


@functools.cache
def _commit() -> str:
    """The git commit of the wavejax source tree (``+dirty`` with uncommitted changes), else "unknown"; read once
    per process (the first record's time), so every record of one run names the same commit."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return UNKNOWN
    try:
        run = lambda *a: subprocess.run(["git", "-C", str(root), *a], capture_output=True, text=True,  # noqa: E731
                                        timeout=10, check=True).stdout.strip()
        head = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no", "--", "wavejax")
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return head + ("+dirty" if dirty else "") if head else UNKNOWN


def _cpu() -> tuple[str, str]:
    """(model name, flags) from /proc/cpuinfo; "unknown" where absent (e.g. not Linux)."""
    model, flags = UNKNOWN, UNKNOWN
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or UNKNOWN, UNKNOWN
    for line in text.splitlines():
        key, _, val = line.partition(":")
        key = key.strip()
        if key == "model name" and model == UNKNOWN:
            model = val.strip()
        elif key in ("flags", "Features") and flags == UNKNOWN:
            flags = val.strip()
    return model, flags


def _versions() -> tuple[str, str]:
    import importlib.metadata as md

    out = []
    for pkg in ("jax", "jaxlib"):
        try:
            out.append(md.version(pkg))
        except md.PackageNotFoundError:  # pragma: no cover
            out.append(UNKNOWN)
    return out[0], out[1]


def _device() -> str:
    try:
        import jax

        devs = jax.devices()
        return f"{len(devs)} x {devs[0].platform}:{devs[0].device_kind}"
    except Exception:  # noqa: BLE001 - the record must never fail a run
        return UNKNOWN


def environment() -> dict[str, Any]:
    """The environment of this process (every field of :data:`FIELDS`; "unknown" where it cannot be read)."""
    model, flags = _cpu()
    jax_v, jaxlib_v = _versions()
    return {"wavejax_commit": _commit(), "jax": jax_v, "jaxlib": jaxlib_v, "cpu_model": model, "cpu_flags": flags,
            "cpu_count": os.cpu_count() or UNKNOWN, "device": _device(),
            "platform": f"{platform.system()} {platform.machine()}"}
