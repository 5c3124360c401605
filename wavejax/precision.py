"""Floating-point precision: the one place where wavejax switches JAX's 64-bit mode on.

Library functions never read the process-wide x64 flag. Each takes an explicit ``dtype=`` with a fixed default
and, where float64 is asked for, calls :func:`require_dtype` so the failure names the argument instead of silently
computing in float32. Commands and experiments that need float64 declare it (a config's ``X64 = True`` class
attribute, ``Experiment(x64=True)``); the CLI runner calls :func:`enable_x64` and ``wavejax reproduce`` runs such
experiments inside :func:`x64_scope`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import jax
import numpy as np

__all__ = ["enable_x64", "x64_scope", "x64_available", "require_dtype"]


def enable_x64() -> None:
    """Switch JAX's 64-bit mode on for the rest of the process (what a float64 command does first)."""
    jax.config.update("jax_enable_x64", True)


@contextlib.contextmanager
def x64_scope(enabled: bool = True) -> Iterator[None]:
    """Run a block with 64-bit mode on (``enabled=True``) or leave the mode as it is (``enabled=False``)."""
    if not enabled:
        yield
        return
    with jax.enable_x64(True):
        yield


def x64_available() -> bool:
    """Whether float64 arrays can be made now (decided by what JAX does, not by reading its config)."""
    return jax.dtypes.canonicalize_dtype(np.float64) == np.dtype(np.float64)


def require_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Return ``np.dtype(dtype)``; raise a ``ValueError`` naming ``name`` when it cannot be honoured.

    A float64 request while 64-bit mode is off would silently compute in float32; this turns it into an error
    that says how to switch the mode on.

    >>> require_dtype("float32")
    dtype('float32')
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{name} must be a NumPy/JAX dtype; got {name}={dtype!r}") from e
    if jax.dtypes.canonicalize_dtype(dt) != dt:
        raise ValueError(f"{name}={dt.name} needs JAX's 64-bit mode: call wavejax.precision.enable_x64() first "
                         f"(or pass {name}=float32)")
    return dt
