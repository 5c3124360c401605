"""``wavejax launch``: run one command as P cooperating JAX processes on this machine (127.0.0.1).

    wavejax launch --cpu --processes 2 --devices-per-process 2 -- wavejax emt train --preset quick --out runs/rc

Starts ``processes`` copies of the command with ``WAVEJAX_COORDINATOR=127.0.0.1:<free port>``,
``WAVEJAX_NUM_PROCESSES`` and ``WAVEJAX_PROCESS_ID`` set (the ``wavejax`` command then calls
:func:`wavejax.distributed.initialize`; a Python script calls it itself), and, with ``devices_per_process``, CPU
devices forced by ``XLA_FLAGS=--xla_force_host_platform_device_count``. Every process uses the platform JAX finds
(a GPU or TPU when there is one) unless ``--cpu`` sets ``JAX_PLATFORMS=cpu``. Every output line is forwarded with a
``[p<i>]`` prefix. When a process fails, the others get ``grace_s`` seconds to stop by themselves (their watchdog
names the lost process, :mod:`wavejax._watchdog`) and are then killed. The exit status is 0 when every process
succeeded, else the first failure's status (1 if that was a signal).

The same command run on several machines (each with its own ``WAVEJAX_PROCESS_ID`` and the coordinator's address)
is a multi-host run; the launcher is only the one-machine case.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from wavejax import _validate

__all__ = ["LaunchConfig", "free_port", "process_env", "launch", "main"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class LaunchConfig:
    """P processes x D devices of one command on 127.0.0.1."""

    processes: int = 2  # number of JAX processes
    devices_per_process: int = 0  # forced CPU devices per process (XLA_FLAGS); 0: leave the platform's devices
    port: int = 0  # coordinator port on 127.0.0.1; 0: a free one
    grace_s: float = 90.0  # after a failure, seconds the others get to stop by themselves before being killed
    # --cpu: set JAX_PLATFORMS=cpu (the CPU recipe, with devices_per_process forced host devices); without it every
    # process uses the platform JAX finds (GPU/TPU when present) and the environment's JAX_PLATFORMS, if any
    cpu: bool = False

    def __post_init__(self):
        _validate.positive_int("processes", self.processes)
        _validate.nonneg_int("devices_per_process", self.devices_per_process)
        _validate.nonneg_int("port", self.port)
        _validate.positive("grace_s", self.grace_s)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(cfg: LaunchConfig, process_id: int, port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of process ``process_id``: coordinator variables, forced CPU devices, unbuffered output."""
    env = dict(os.environ if base is None else base)
    env.update(WAVEJAX_COORDINATOR=f"127.0.0.1:{port}", WAVEJAX_NUM_PROCESSES=str(cfg.processes),
               WAVEJAX_PROCESS_ID=str(process_id), PYTHONUNBUFFERED="1")
    if cfg.cpu:
        env["JAX_PLATFORMS"] = "cpu"
    if cfg.devices_per_process:
        flags = re.sub(r"--xla_force_host_platform_device_count=\S+", "", env.get("XLA_FLAGS", "")).split()
        env["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={cfg.devices_per_process}"])
    return env


def _forward(stream, prefix: str, sink) -> None:
    for line in iter(stream.readline, ""):
        sink.write(prefix + line if line.endswith("\n") else prefix + line + "\n")
        sink.flush()
    stream.close()


def launch(cmd: Sequence[str], cfg: LaunchConfig, *, sink=None, env: dict[str, str] | None = None,
           timeout_s: float | None = None) -> int:
    """Run ``cmd`` as ``cfg.processes`` processes (see the module docstring); returns the exit status.

    ``sink``: where the prefixed output goes (default stdout); ``env``: base environment (default
    ``os.environ``); ``timeout_s``: kill every process after that many seconds (status 124).
    """
    if not cmd:
        raise ValueError("cmd must name the command to run (after --)")
    sink = sink or sys.stdout
    port = cfg.port or free_port()
    procs, threads = [], []
    for i in range(cfg.processes):
        p = subprocess.Popen(list(cmd), env=process_env(cfg, i, port, env), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, bufsize=1)
        t = threading.Thread(target=_forward, args=(p.stdout, f"[p{i}] ", sink), daemon=True)
        t.start()
        procs.append(p)
        threads.append(t)
    try:
        status = _wait(procs, cfg.grace_s, sink, None if timeout_s is None else time.monotonic() + timeout_s)
    except KeyboardInterrupt:
        for p in procs:
            p.kill()
        status = 130
    for t in threads:
        t.join(timeout=5)
    return status


def _wait(procs: list[subprocess.Popen], grace_s: float, sink, stop_at: float | None) -> int:
    first: int | None = None
    deadline, reported = None, set()

    def report():
        nonlocal first, deadline
        for i, p in enumerate(procs):
            rc = p.poll()
            if rc not in (None, 0) and i not in reported:
                reported.add(i)
                sink.write(f"[launch] process {i} exited with status {rc}\n")
                if first is None:
                    first = rc if rc > 0 else 1
                    deadline = time.monotonic() + grace_s

    while any(p.poll() is None for p in procs):
        report()
        late = deadline is not None and time.monotonic() > deadline
        if late or (stop_at is not None and time.monotonic() > stop_at):
            sink.write("[launch] " + ("timeout" if not late else f"still running {grace_s:g} s after a failure")
                       + ": killing the remaining processes\n")
            for p in procs:
                if p.poll() is None:
                    p.kill()
            if not late:
                first = 124
        time.sleep(0.2)
    report()
    return first or 0


def main(argv: list[str]) -> int:
    """``wavejax launch [--processes P] [--devices-per-process D] [--port N] [--grace-s S] [--cpu] -- CMD ...``."""
    import tyro

    if "--" in argv:
        cut = argv.index("--")
        own, cmd = argv[:cut], argv[cut + 1:]
    else:
        own, cmd = argv, []
    cfg = tyro.cli(LaunchConfig, args=own, prog="wavejax launch")
    if not cmd:
        raise SystemExit("wavejax launch: give the command after --, e.g. "
                         "wavejax launch --processes 2 -- wavejax emt train --preset quick")
    return launch(cmd, cfg)
