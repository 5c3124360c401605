"""Shared argument checks: clear ``ValueError``/``TypeError`` before anything is compiled.

Every public wavejax function validates its inputs with these helpers in an unjitted wrapper and then calls a
jitted ``_impl``. Shape checks work on tracers too (shapes are static); value checks (finite, ±1, ...) silently
skip traced inputs, whose values are not known yet.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import jax
import numpy as np

__all__ = [
    "positive_int",
    "nonneg_int",
    "positive",
    "nonneg",
    "probability",
    "one_of",
    "finite",
    "pm_one",
    "shape",
    "ndim",
    "array",
    "callable_",
    "positive_int_fields",
    "distribution",
    "index_range",
    "in_range",
    "prng_key",
]


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def positive_int(name: str, x: Any) -> int:
    """Check that ``x`` is an integer >= 1 and return it as ``int``."""
    if not _is_int(x):
        raise TypeError(f"{name} must be an integer >= 1; got {x!r} of type {type(x).__name__}")
    if x < 1:
        raise ValueError(f"{name} must be an integer >= 1; got {name}={x}")
    return int(x)


def positive_int_fields(obj: Any, *names: str) -> None:
    """Check that each field ``names`` of ``obj`` (e.g. a Flax module's sizes) is an integer >= 1; the error
    names ``<Class>.<field>`` (a zero width used to fail later as ZeroDivisionError or an MLIR error)."""
    for name in names:
        positive_int(f"{type(obj).__name__}.{name}", getattr(obj, name))


def nonneg_int(name: str, x: Any) -> int:
    """Check that ``x`` is an integer >= 0 and return it as ``int``."""
    if not _is_int(x):
        raise TypeError(f"{name} must be an integer >= 0; got {x!r} of type {type(x).__name__}")
    if x < 0:
        raise ValueError(f"{name} must be an integer >= 0; got {name}={x}")
    return int(x)


def _real(name: str, x: Any) -> float | None:
    if isinstance(x, jax.core.Tracer):
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Real | np.ndarray | jax.Array | np.generic):
        raise TypeError(f"{name} must be a real number; got {x!r} of type {type(x).__name__}")
    v = float(np.asarray(x))
    if math.isnan(v):
        raise ValueError(f"{name} must not be NaN")
    return v


def positive(name: str, x: Any) -> Any:
    """Check that the real number ``x`` is finite and > 0 (skipped for tracers)."""
    v = _real(name, x)
    if v is not None and not (0 < v < math.inf):
        raise ValueError(f"{name} must be a positive finite number; got {name}={v}")
    return x


def nonneg(name: str, x: Any) -> Any:
    """Check that the real number ``x`` is finite and >= 0 (skipped for tracers)."""
    v = _real(name, x)
    if v is not None and not (0 <= v < math.inf):
        raise ValueError(f"{name} must be a finite number >= 0; got {name}={v}")
    return x


def probability(name: str, x: Any, *, closed_right: bool = True) -> Any:
    """Check ``0 <= x <= 1`` (or ``< 1`` when ``closed_right`` is False)."""
    v = _real(name, x)
    if v is not None and not (0 <= v <= 1 if closed_right else 0 <= v < 1):
        raise ValueError(f"{name} must lie in [0, 1{']' if closed_right else ')'}; got {name}={v}")
    return x


def one_of(name: str, x: Any, options: Iterable[Any]) -> Any:
    """Check that ``x`` is one of ``options``."""
    options = tuple(options)
    if x not in options:
        raise ValueError(f"unknown {name}={x!r}; expected one of {options}")
    return x


def array(name: str, x: Any) -> Any:
    """Check that ``x`` is array-like with a numeric dtype (tracers pass)."""
    if isinstance(x, jax.core.Tracer | jax.Array | np.ndarray):
        dt = x.dtype
    else:
        try:
            dt = np.asarray(x).dtype
        except Exception as e:  # pragma: no cover - exotic inputs
            raise TypeError(f"{name} must be array-like; got {type(x).__name__}") from e
    if not (np.issubdtype(dt, np.number) or np.issubdtype(dt, np.bool_)):
        raise TypeError(f"{name} must have a numeric dtype; got dtype {dt}")
    return x


def _shape_of(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x)) if not hasattr(x, "shape") else tuple(x.shape)


def ndim(name: str, x: Any, n: int | Sequence[int]) -> tuple[int, ...]:
    """Check the number of dimensions of ``x``; return its shape."""
    array(name, x)
    shp = _shape_of(x)
    allowed = (n,) if isinstance(n, int) else tuple(n)
    if len(shp) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise ValueError(f"{name} must have {want} dimensions; got shape {shp}")
    return shp


def shape(name: str, x: Any, expected: Sequence[int | None]) -> tuple[int, ...]:
    """Check ``x.shape`` against ``expected`` (``None`` matches any size); return the shape."""
    array(name, x)
    shp = _shape_of(x)
    exp = tuple(expected)
    if len(shp) != len(exp) or any(e is not None and e != s for e, s in zip(exp, shp, strict=False)):
        pretty = "(" + ", ".join("?" if e is None else str(e) for e in exp) + ("," if len(exp) == 1 else "") + ")"
        raise ValueError(f"{name} must have shape {pretty}; got shape {shp}")
    return shp


def finite(name: str, x: Any) -> Any:
    """Check that every entry of ``x`` is finite (skipped when ``x`` is traced)."""
    try:
        a = np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return x
    if a.dtype == object:
        raise TypeError(f"{name} must be a numeric array; got dtype object")
    if np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real; got complex dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.inexact) and not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite; {int((~np.isfinite(a)).sum())} entries are NaN/inf")
    return x


def _concrete(x: Any) -> np.ndarray | None:
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def distribution(name: str, p: Any, *, atol: float = 1e-5) -> Any:
    """Check that every row (last axis) of ``p`` is a probability distribution: real, finite, >= 0, summing to 1
    within ``atol`` (skipped when traced)."""
    finite(name, p)
    a = _concrete(p)
    if a is None:
        return p
    if a.ndim == 0 or a.shape[-1] == 0:
        raise ValueError(f"{name} must hold probability vectors along its last axis; got shape {a.shape}")
    if (a < 0).any():
        raise ValueError(f"{name} must be a probability distribution; {int((a < 0).sum())} entries are negative "
                         f"(min {a.min():.3g})")
    err = np.abs(a.sum(axis=-1) - 1.0)
    if (err > atol).any():
        raise ValueError(f"{name} must be a probability distribution (rows sum to 1); {int((err > atol).sum())} "
                         f"rows do not (largest |sum - 1| = {err.max():.3g})")
    return p


def index_range(name: str, idx: Any, n: int) -> Any:
    """Check that ``idx`` holds integers in [0, n) (skipped when traced)."""
    a = _concrete(idx)
    if a is None:
        return idx
    if not (np.issubdtype(a.dtype, np.integer) or a.dtype == bool):
        raise TypeError(f"{name} must hold integer indices; got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"{name} must hold indices in [0, {n}); got values in [{a.min()}, {a.max()}]")
    return idx


def in_range(name: str, x: Any, lo: float, hi: float) -> Any:
    """Check that every entry of ``x`` is real, finite and in [lo, hi] (skipped when traced)."""
    finite(name, x)
    a = _concrete(x)
    if a is not None and a.size and (a.min() < lo or a.max() > hi):
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}]; got values in [{a.min():.4g}, {a.max():.4g}]")
    return x


def prng_key(name: str, key: Any) -> Any:
    """One policy for PRNG keys everywhere: a typed key array (``jax.random.key(seed)``, any shape) is returned as
    is; a raw-uint32 ``jax.random.PRNGKey(seed)`` array (uint32, trailing axis 2) is accepted and converted with
    ``jax.random.wrap_key_data`` (the same random numbers); anything else is a TypeError naming ``name``."""
    if isinstance(key, jax.Array | jax.core.Tracer) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    dt = getattr(key, "dtype", None)
    shp = getattr(key, "shape", None)
    if dt is not None and np.dtype(dt) == np.uint32 and shp is not None and len(shp) >= 1 and shp[-1] == 2:
        return jax.random.wrap_key_data(key)
    raise TypeError(f"{name} must be a PRNG key from jax.random.key(seed) (or a raw uint32 jax.random.PRNGKey(seed)); "
                    f"got {type(key).__name__}" + (f" of dtype {dt} and shape {tuple(shp)}" if dt is not None else ""))


def pm_one(name: str, x: Any) -> Any:
    """Check that every entry of ``x`` is exactly +1 or -1 (skipped when traced)."""
    try:
        a = np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return x
    if not np.all(np.abs(a) == 1):
        raise ValueError(f"{name} must contain only +1/-1 entries; found {int((np.abs(a) != 1).sum())} others")
    return x


def callable_(name: str, f: Any) -> Any:
    """Check that ``f`` is callable."""
    if not callable(f):
        raise TypeError(f"{name} must be callable; got {type(f).__name__}")
    return f
