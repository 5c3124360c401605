"""Fault detection for multi-process runs: no process waits for ever on a peer that died.

:func:`start` (called by :func:`wavejax.distributed.initialize` when there are several processes) runs a daemon
thread that, every second, publishes this process's heartbeat counter in the key-value store of JAX's coordination
service (``wavejax/beat/<i>``) and reads everyone else's. It stops this process with exit status 1 and a message
naming the peer when

* a peer's counter has not changed for ``stale_s`` seconds (killed, frozen, or its machine gone);
* a peer finished with an uncaught exception (``wavejax/exit/<i> = error``, set by an ``excepthook``);
* the coordination service itself (hosted by process 0) cannot be reached for ``stale_s`` seconds.

A process that exits normally marks ``wavejax/exit/<i> = ok`` (``atexit``), so peers still finishing their last
steps do not mistake it for a loss. JAX's own heartbeat (set longer by ``initialize``) stays as a backstop: it
aborts the process without naming the peer.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time

__all__ = ["start"]

_PREFIX = "wavejax/"
_started = threading.Event()


def _client():
    from jax._src import distributed as _d  # the coordination-service client (no public accessor in JAX 0.10)

    return _d.global_state.client


def _fail(msg: str) -> None:
    sys.stderr.write(f"\nwavejax.distributed: {msg}\n")
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(1)


_status: dict[str, str] = {}


def _mark_exit(client, me: int, status: str) -> None:
    if _status.setdefault("exit", status) != status:  # an error already reported stays reported
        return
    try:
        client.key_value_set(f"{_PREFIX}exit/{me}", status, allow_overwrite=True)
    except Exception:  # noqa: BLE001 -- the service may already be gone at exit
        pass


def _check(entries: dict[str, str], me: int, n: int, seen: dict[int, tuple[str, float]], stale_s: float,
           now: float) -> str | None:
    """A failure message, or None; ``seen[k] = (last counter, time it changed)`` is updated in place."""
    for k in range(n):
        if k == me:
            continue
        status = entries.get(f"{_PREFIX}exit/{k}")
        if status == "ok":
            continue
        if status == "error":
            return f"process {k} of {n} stopped with an error (see its output); process {me} exits too"
        beat = entries.get(f"{_PREFIX}beat/{k}", "")
        last, since = seen.get(k, (None, now))
        if beat != last:
            seen[k] = (beat, now)
        elif now - since > stale_s:
            return (f"process {k} of {n} is lost: no heartbeat for {now - since:.0f} s (killed, frozen or its "
                    f"machine unreachable); process {me} exits. Rerun the same command on all processes to "
                    f"resume from the last checkpoint.")
    return None


def _loop(client, me: int, n: int, stale_s: float, coordinator: str | None) -> None:
    seen: dict[int, tuple[str, float]] = {}
    count, ok_at = 0, time.monotonic()
    while True:
        now = time.monotonic()
        try:
            count += 1
            client.key_value_set(f"{_PREFIX}beat/{me}", str(count), allow_overwrite=True)
            entries = dict(client.key_value_dir_get(_PREFIX))
            ok_at = now
        except Exception as e:  # noqa: BLE001 -- the coordinator may be unreachable
            if now - ok_at > stale_s:
                _fail(f"lost the coordination service (process 0 at {coordinator or 'the auto-detected address'}) "
                      f"for {now - ok_at:.0f} s: process 0 is presumably lost; process {me} exits ({e})")
            time.sleep(1.0)
            continue
        msg = _check(entries, me, n, seen, stale_s, now)
        if msg is not None:
            _fail(msg)
        time.sleep(1.0)


def start(*, stale_s: float = 20.0, coordinator: str | None = None) -> None:
    """Start the watchdog thread of this process (once); see the module docstring."""
    import jax

    if _started.is_set():
        return
    _started.set()
    client, me, n = _client(), jax.process_index(), jax.process_count()
    atexit.register(_mark_exit, client, me, "ok")  # runs before JAX's shutdown barrier (registered earlier)
    hook = sys.excepthook

    def excepthook(tp, value, tb):
        _mark_exit(client, me, "error")
        hook(tp, value, tb)

    sys.excepthook = excepthook
    threading.Thread(target=_loop, args=(client, me, n, float(stale_s), coordinator), name="wavejax-watchdog",
                     daemon=True).start()
