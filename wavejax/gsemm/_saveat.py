"""Diffrax solves whose save times wavejax builds itself, without Diffrax's runtime ``saveat.ts`` checks.

``diffrax.diffeqsolve(saveat=SaveAt(ts=ts))`` (Diffrax 0.7.2, ``_integrate.py``) wraps ``ts`` in two equinox
``error_if`` checks ("increasing", "between t0 and t1"). Under ``jit`` their predicates are traced, so equinox
lowers them to host ``pure_callback``s: the module can then not be exported for ``cuda``/``tpu`` from another
platform, and a host round trip sits in every solve (issue 19). wavejax's own save grids are ``save_every *
arange(n_save)`` with ``t0 = 0`` and ``t1 = ts[-1]``: :func:`check_grid` proves on the host, before tracing, that
both checks hold, and :func:`grid_saveat` traces the solve with exactly these two checks left out.

How: while the solve is traced, ``equinox.internal.error_if`` (the function Diffrax calls for these checks) is
replaced by one that returns ``x`` unchanged for these two messages only and forwards every other check. This is
trace-time only and scoped to the ``with`` block (reentrant). Setting ``EQX_ON_ERROR`` instead would change every
equinox check of the process. Solver failures are unaffected: they reach ``Trajectory.result`` through
``sol.result`` (``throw=False``), never through ``error_if``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import equinox.internal as eqxi

_TS_CHECKS = frozenset({"saveat.ts must be increasing or decreasing.", "saveat.ts must lie between t0 and t1."})
_LOCK = threading.RLock()
_DEPTH = [0]
_ORIGINAL = eqxi.error_if


def _error_if(x, pred, msg):
    if msg in _TS_CHECKS:
        return x
    return _ORIGINAL(x, pred, msg)


def check_grid(n_save: int, save_every: float) -> None:
    """Host proof that ``save_every * arange(n_save)`` on [0, ts[-1]] passes Diffrax's two ``ts`` checks."""
    if int(n_save) != n_save or n_save < 1:
        raise ValueError(f"n_save must be a positive integer; got n_save={n_save!r}")
    if not save_every > 0:
        raise ValueError(f"save_every must be positive; got save_every={save_every!r}")


@contextlib.contextmanager
def grid_saveat(n_save: int, save_every: float) -> Iterator[None]:
    """Trace a ``diffeqsolve`` on wavejax's save grid without the two host-callback ``ts`` checks."""
    check_grid(n_save, save_every)
    with _LOCK:
        if _DEPTH[0] == 0:
            eqxi.error_if = _error_if
        _DEPTH[0] += 1
        try:
            yield
        finally:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                eqxi.error_if = _ORIGINAL
