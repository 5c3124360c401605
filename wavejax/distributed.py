"""Put a sweep axis on all devices (and hosts): the one sharding path every wavejax sweep goes through.

A wavejax sweep (RNN seeds / hyperparameters, GSEMM capacity pattern sets, tradeoff widths and seeds) is a
leading array axis of a pytree that a ``jax.vmap``-ed program maps over. On one device nothing changes. On
several devices the axis is laid out over a 1-D :class:`jax.sharding.Mesh` of every device (axis name
``"sweep"``) with ``NamedSharding(mesh, PartitionSpec("sweep"))``; XLA then runs each device's slice of the
vmapped program locally (the sweep members do not communicate), so the results are the same numbers as the
single-device run.

Several processes (TPU pod slice, GPU hosts, or P processes on one machine): call :func:`initialize` once at the
top of the script in every process, before any other JAX call (the ``wavejax`` command does it when the
environment asks for it, :func:`initialize_from_env`); ``jax.devices()`` then lists the devices of all processes
and :func:`sweep_mesh` spans them. Launch recipes (README "Scaling past one machine"):

* one machine: ``wavejax launch --cpu --processes 2 --devices-per-process 2 -- wavejax emt train ...``
  (:mod:`wavejax.launch`);
* GPU hosts: on host ``i`` of ``n`` run
  ``WAVEJAX_COORDINATOR=host0:1234 WAVEJAX_NUM_PROCESSES=n WAVEJAX_PROCESS_ID=i python my_sweep.py``
  (or pass the three values to :func:`initialize`); under SLURM (``srun``) JAX reads them from SLURM;
* TPU pod slice: the same command on every worker with ``WAVEJAX_DISTRIBUTED=1``; JAX discovers the coordinator
  from the TPU metadata.

On CPU the path is tested with ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (one process) and with
2 processes x 2 devices on 127.0.0.1 (``wavejax launch``, :mod:`wavejax.launch`). With several processes the
arrays of a sweep are global (they span devices this process cannot address): read them on the host only through
:func:`to_host`; only process 0 writes files (:mod:`wavejax.io`) and shows progress bars.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from wavejax import _validate

__all__ = ["AXIS", "initialize", "initialize_from_env", "wanted", "process_index", "process_count",
           "is_main_process", "barrier", "agreed_time", "assert_same", "to_host", "to_local", "to_global", "sweep_mesh",
           "sweep_sharding", "pad_leading", "shard_leading", "unpad_leading", "n_devices", "sweep_vmap"]

AXIS = "sweep"  # the mesh axis name of every wavejax sweep


def n_devices() -> int:
    """Number of devices a sweep is spread over (all devices of all processes)."""
    return jax.device_count()


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, heartbeat_s: float | None = None) -> None:
    """Multi-process start-up: ``jax.distributed.initialize`` with values from the arguments or the environment.

    Reads ``WAVEJAX_COORDINATOR`` (``host:port`` of process 0), ``WAVEJAX_NUM_PROCESSES`` and
    ``WAVEJAX_PROCESS_ID`` when the arguments are ``None``; with none of them set, JAX auto-detects (SLURM, TPU
    pods, Open MPI). Call it once per process, before any other JAX call. A single-process run does not need it.

    It also selects gloo for CPU collectives (``jax_cpu_collectives_implementation``; only the CPU backend reads
    it) and, with several processes, starts the watchdog of :mod:`wavejax._watchdog`: if a process dies or stops
    answering for ``heartbeat_s`` seconds (default ``WAVEJAX_HEARTBEAT_S`` or 20), every other process prints
    which one was lost and exits with status 1 instead of waiting in a collective for ever.
    """
    env = os.environ
    coordinator_address = coordinator_address or env.get("WAVEJAX_COORDINATOR")
    if num_processes is None and "WAVEJAX_NUM_PROCESSES" in env:
        num_processes = _env_number("WAVEJAX_NUM_PROCESSES", int)
    if process_id is None and "WAVEJAX_PROCESS_ID" in env:
        process_id = _env_number("WAVEJAX_PROCESS_ID", int)
    if num_processes is not None and num_processes < 1:
        raise ValueError(f"num_processes must be >= 1, got {num_processes}")
    if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
        raise ValueError(f"process_id must be in [0, {num_processes}), got {process_id}")
    hb = float(heartbeat_s if heartbeat_s is not None else _env_number("WAVEJAX_HEARTBEAT_S", float, 20))
    if hb <= 0:
        raise ValueError(f"heartbeat_s must be > 0, got {hb}")
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # JAX's own heartbeat is the backstop (it aborts the process without saying which peer died); the watchdog
    # fires first and names the lost process.
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                               process_id=process_id, heartbeat_timeout_seconds=int(3 * hb) + 10,
                               shutdown_timeout_seconds=int(3 * hb) + 10)
    if jax.process_count() > 1:
        from wavejax import _watchdog

        _watchdog.start(stale_s=hb, coordinator=coordinator_address)


def wanted() -> bool:
    """Whether the environment asks for a multi-process run: ``WAVEJAX_COORDINATOR`` or
    ``WAVEJAX_DISTRIBUTED=1`` (JAX's auto-detection, e.g. a TPU pod slice) or a SLURM step of several tasks."""
    env = os.environ
    if env.get("WAVEJAX_COORDINATOR") or env.get("WAVEJAX_DISTRIBUTED", "0") == "1":
        return True
    tasks = "SLURM_STEP_NUM_TASKS" if "SLURM_STEP_NUM_TASKS" in env else "SLURM_NTASKS"
    return "SLURM_JOB_ID" in env and _env_number(tasks, int, 1) > 1


def _env_number(name: str, kind: type, default: Any = None) -> Any:
    """``kind(os.environ[name])`` (``default`` when unset); a ValueError naming the variable when it does not
    parse (``int("abc")``'s own message does not say where "abc" came from)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} must be {'an integer' if kind is int else 'a number'}"
                         ) from None


def initialize_from_env() -> bool:
    """:func:`initialize` when :func:`wanted` (the ``wavejax`` command calls this first); returns whether it did."""
    if not wanted() or jax.distributed.is_initialized():
        return False
    initialize()
    return True


def process_index() -> int:
    """This process's index (0 when ``jax.distributed`` is not initialized; starts no backend)."""
    return jax.process_index() if jax.distributed.is_initialized() else 0


def process_count() -> int:
    """Number of processes (1 when ``jax.distributed`` is not initialized; starts no backend)."""
    return jax.process_count() if jax.distributed.is_initialized() else 1


def is_main_process() -> bool:
    """True on process 0: the one writer of results, metrics, figures and progress bars."""
    return process_index() == 0


def barrier(name: str) -> None:
    """Wait until every process reaches ``barrier(name)`` (no-op with one process)."""
    if process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def agreed_time() -> float:
    """``time.time()`` of process 0 on every process (timestamped default folders must be one folder)."""
    import time

    now = time.time()
    if process_count() == 1:
        return now
    from jax.experimental import multihost_utils

    base = 1_700_000_000  # seconds since it fit int32 (JAX without x64 has no int64)
    return base + float(multihost_utils.broadcast_one_to_all(np.asarray(int(now) - base, np.int32)))


def assert_same(name: str, value: str) -> None:
    """Raise ``ValueError`` unless every process passes the same ``value`` (a collective; no-op on one process)."""
    if process_count() == 1:
        return
    import hashlib

    from jax.experimental import multihost_utils

    mine = np.frombuffer(hashlib.sha256(value.encode()).digest()[:16], np.uint8)  # uint8: no x64 needed
    if not np.all(np.asarray(multihost_utils.process_allgather(mine)) == mine):
        raise ValueError(f"{name} differs between processes (this one: {value!r}); every process must use the "
                         "same one (a folder shared by all processes)")


def _global(a: Any) -> bool:
    return isinstance(a, jax.Array) and not a.is_fully_addressable


def to_host(tree: Any) -> Any:
    """The one host read of (possibly sharded) arrays: every leaf as a NumPy array on every process.

    A leaf that spans devices of other processes is gathered with
    ``jax.experimental.multihost_utils.process_allgather`` (a collective: every process must call this with
    the same tree); other leaves are copied with ``jax.device_get``. Never ``np.asarray`` a global array.
    """
    if any(_global(a) for a in jax.tree_util.tree_leaves(tree)):
        from jax.experimental import multihost_utils

        return jax.tree_util.tree_map(
            lambda a: np.asarray(multihost_utils.process_allgather(a, tiled=True)) if _global(a)
            else np.asarray(jax.device_get(a)), tree)
    return jax.tree_util.tree_map(lambda a: np.asarray(jax.device_get(a)), tree)


def to_local(tree: Any) -> Any:
    """Leaves that span other processes' devices gathered into process-local arrays (others unchanged)."""
    if not any(_global(a) for a in jax.tree_util.tree_leaves(tree)):
        return tree
    return jax.tree_util.tree_map(lambda a: jnp.asarray(to_host(a)) if _global(a) else a, tree)


def to_global(tree: Any, mesh: Mesh | None = None) -> Any:
    """With several processes: process-local leaves (equal on every process) as arrays replicated over ``mesh``
    (default all devices), the form orbax saves; already-global leaves and one-process trees are unchanged."""
    if process_count() == 1:
        return tree
    rep = NamedSharding(mesh or sweep_mesh(), PartitionSpec())
    return jax.tree_util.tree_map(lambda a: a if _global(a) else jax.device_put(jnp.asarray(a), rep), tree)


def sweep_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh named ``"sweep"`` over ``devices`` (default: every device of every process)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("devices must not be empty")
    return Mesh(np.array(devs), (AXIS,))


def sweep_sharding(mesh: Mesh | None = None) -> NamedSharding:
    """``NamedSharding`` that splits the leading axis of an array over the ``"sweep"`` mesh axis."""
    return NamedSharding(mesh or sweep_mesh(), PartitionSpec(AXIS))


def _leading(tree: Any) -> int:
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError("tree has no array leaves")
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(f"every leaf must share one leading (sweep) axis; got leading sizes {sorted(sizes)}")
    return sizes.pop()


def pad_leading(tree: Any, multiple: int) -> tuple[Any, int]:
    """Pad the leading axis of every leaf to a multiple of ``multiple`` by repeating the last member.

    Returns ``(padded_tree, n)`` with ``n`` the original length (use :func:`unpad_leading` on results).
    Padding members are copies, so they compute valid numbers that are thrown away.
    """
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    n = _leading(tree)
    pad = (-n) % multiple
    if pad == 0:
        return tree, n
    return jax.tree_util.tree_map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]), tree), n


def unpad_leading(tree: Any, n: int) -> Any:
    """Drop padding members: keep the first ``n`` entries of the leading axis of every leaf (0 <= n <= length;
    a negative ``n`` would silently drop real members, a larger one would keep nothing it promised)."""
    _validate.nonneg_int("n", n)
    length = _leading(tree)
    if n > length:
        raise ValueError(f"n must be <= the leading axis length {length}; got n={n}")
    return jax.tree_util.tree_map(lambda a: a[:n], tree)


def shard_leading(tree: Any, mesh: Mesh | None = None, *, pad: bool = True) -> tuple[Any, int]:
    """Lay the leading (sweep) axis of every leaf of ``tree`` over the devices of ``mesh``.

    Args:
      tree: pytree whose leaves share a leading axis of length ``n``.
      mesh: 1-D mesh (default :func:`sweep_mesh`, all devices).
      pad: pad ``n`` up to a multiple of the device count (repeating the last member); with ``pad=False`` a
        length that does not divide is left unsharded (replicated on the default device).

    Returns:
      ``(tree_on_devices, n)``; a vmapped program applied to it returns padded outputs: slice with
      :func:`unpad_leading`. On one device the tree is returned unchanged.
    """
    mesh = mesh or sweep_mesh()
    n = _leading(tree)
    k = mesh.devices.size
    if k == 1:
        return tree, n
    if n % k:
        if not pad:
            return tree, n
        tree, _ = pad_leading(tree, k)
    return jax.device_put(tree, sweep_sharding(mesh)), n


def sweep_vmap(fn: Callable, mesh: Mesh | None = None, *, in_axes: int | tuple[int | None, ...] = 0,
               block: int | None = None) -> Callable:
    """``jax.vmap(fn, in_axes)`` over the sweep axis; on a multi-device ``mesh`` run under ``shard_map``.

    Under ``shard_map`` every device executes the single-device vmapped program on its slice of members (sweep
    members never communicate). Plain ``jit`` on sharded inputs lets the SPMD partitioner re-fuse elementwise
    code differently, which can change the last bit of results. Arguments with ``in_axes`` ``None`` are
    replicated; outputs are split along the sweep axis. Inputs mapped over must already be padded to a multiple of
    the device count (:func:`shard_leading` does it), and of ``devices * block`` when ``block`` is given.

    Args:
      fn: the per-member function.
      mesh: 1-D ``"sweep"`` mesh; ``None`` or one device: plain vmap.
      in_axes: 0 (mapped) or ``None`` (replicated) per argument.
      block: if given, every device maps ``jax.vmap(fn)`` over consecutive blocks of ``block`` members with
        ``lax.map`` instead of vmapping its whole slice at once. XLA may compile a vmapped reduction differently
        for different member counts (one ulp apart); with a fixed block the compiled per-block program is the
        same whatever the device count, so a sweep sharded over k devices returns the same bits as on one.
    """
    if block is not None and (not isinstance(block, int) or block < 1):
        raise ValueError(f"block must be a positive int or None, got {block!r}")
    axes = in_axes if isinstance(in_axes, tuple) else None
    vm = jax.vmap(fn, in_axes=in_axes)

    def run(*args):
        if block is None:
            return vm(*args)
        mapped = [axes is None or axes[i] == 0 for i in range(len(args))]
        n = _leading([a for a, m in zip(args, mapped, strict=True) if m])
        if n % block:
            raise ValueError(f"the sweep axis ({n} members per device) must be a multiple of block={block}")

        def split(a):
            return jax.tree_util.tree_map(lambda x: x.reshape((n // block, block) + x.shape[1:]), a)

        def body(chunk):
            it = iter(chunk)
            return vm(*[next(it) if m else a for a, m in zip(args, mapped, strict=True)])

        out = jax.lax.map(body, [split(a) for a, m in zip(args, mapped, strict=True) if m])
        return jax.tree_util.tree_map(lambda x: x.reshape((n,) + x.shape[2:]), out)

    if mesh is None or mesh.devices.size == 1:
        return run

    def spec(ax):
        if ax not in (0, None):
            raise ValueError(f"in_axes entries must be 0 or None, got {ax!r}")
        return PartitionSpec(AXIS) if ax == 0 else PartitionSpec()

    in_specs = spec(in_axes) if not isinstance(in_axes, tuple) else tuple(spec(a) for a in in_axes)
    return jax.shard_map(run, mesh=mesh, in_specs=in_specs, out_specs=PartitionSpec(AXIS), check_vma=False)
