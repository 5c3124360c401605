"""The binary linear variable-binding task family, shared by :mod:`wavejax.wave` and :mod:`wavejax.emt`.

One vocabulary (docs/wave.md §3.1, docs/emt.md §3):

* a **task id** ``(id1, id2, id3)`` (Python ints: id1 of the composition tasks exceeds int64), or a name of
  :data:`NAMED_TASKS`; :func:`parse_task_id` is the one parser (names, tuples, ``"id1,id2,id3"`` strings);
* the **selection operator** ``F`` of shape ``(s*d, d)`` (:func:`decode_task`): row (slot) ``k*d + c`` is time
  t - s + k (k = 0 oldest), dim c; exactly one +-1 per column, y_j(t) = F[:, j] . vec(window);
* the **lag matrices** ``phi`` of shape ``(s, d, d)`` (:func:`lag_matrices`, inverse :func:`phi_to_operator`):
  y(t) = sum_l phi[l-1] y(t-l), ``phi[l-1][j, c] = F[(s-l)*d + c, j]``;
* F read back as one ``(sign, lag, src)`` per output dim (:func:`task_table`);
* the **batch** generator :func:`task_batch` (one implementation; device-side, from a PRNG key).

The circuit matrix Phi (sd x sd, the block companion of F) is :func:`wavejax.emt.circuit_matrix` (equal to the wave
lattice matrix M of :func:`wavejax.wave.lbc_matrix`).

Examples:
  >>> F = decode_task("repeat_copy")
  >>> F.shape, task_table(F)[:2]                        # y(t) = y(t-8)
  ((64, 8), [(1, 8, 0), (1, 8, 1)])
  >>> parse_task_id("0xff, 0, 0")
  (255, 0, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _memory, _validate

__all__ = ["NAMED_TASKS", "SPEC_TABLES", "parse_task_id", "decode_task", "lag_matrices", "phi_to_operator",
           "binary_vb_task", "task_table", "task_batch"]

#: The four tasks of the spec (s = d = 8), name -> (id1, id2, id3). Labels T2/T3 are ambiguous in the sources,
#: so results are always keyed by the id itself.
NAMED_TASKS: dict[str, tuple[int, int, int]] = {
    "repeat_copy": (255, 0, 0),
    "compose_copy": (9241421688590303745, 0, 0),
    "mix_262676_189": (9241421688590303745, 262676, 189),
    "mix_38637_145": (9241421688590303745, 38637, 145),
}

#: The decoding tables of docs/emt.md §3 as published (task name -> one ``(sign, lag, src)`` per output dim j:
#: y_j(t) = sign * y_src(t - lag)); the reference the experiments compare :func:`task_table` with.
SPEC_TABLES: dict[str, list[tuple[int, int, int]]] = {
    "repeat_copy": [(1, 8, j) for j in range(8)],
    "compose_copy": [(1, 8 - j, j) for j in range(8)],
    "mix_262676_189": [(-1, 4, 4), (1, 5, 3), (-1, 6, 2), (-1, 8, 0), (-1, 7, 1), (-1, 3, 5), (1, 1, 7), (-1, 2, 6)],
    "mix_38637_145": [(-1, 3, 5), (1, 2, 6), (1, 8, 0), (1, 7, 1), (-1, 6, 2), (1, 5, 3), (1, 4, 4), (-1, 1, 7)],
}

TaskLike = str | tuple[int, int, int] | Sequence[int]


def _ints(task_id: object) -> tuple[int, int, int]:
    """Names and ``"a,b,c"`` strings to a 3-tuple of non-negative Python ints (no range checks yet)."""
    if isinstance(task_id, str):
        if task_id in NAMED_TASKS:
            return NAMED_TASKS[task_id]
        if "," not in task_id:
            raise ValueError(f"unknown task_id {task_id!r}; named tasks are {tuple(NAMED_TASKS)} "
                             "(or give three comma-separated integers)")
        try:
            task_id = tuple(int(p.strip(), 0) for p in task_id.split(","))
        except ValueError:
            raise ValueError(f"task_id {task_id!r} must be a name or three comma-separated integers") from None
    if not isinstance(task_id, tuple | list) or len(task_id) != 3:
        raise ValueError(f"task_id must be a 3-integer tuple (id1, id2, id3) or a task name; got {task_id!r}")
    ids = []
    for k, v in enumerate(task_id):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"task_id[{k}] must be an integer; got {v!r}")
        if v < 0:
            raise ValueError(f"task_id[{k}] must be >= 0; got {v}")
        ids.append(int(v))
    return ids[0], ids[1], ids[2]


def _slots(ids: tuple[int, int, int], s: int, d: int) -> list[int]:
    """Steps 1-2 of the decoding: the slot of each output dim (raises ValueError on an out-of-range id)."""
    id1, id2, id3 = ids
    n = s * d
    if id1 >= 1 << n:
        raise ValueError(f"task_id[0]={id1} has bits beyond the s*d={n} history slots")
    if bin(id1).count("1") != d:
        raise ValueError(f"task_id[0]={id1} must set exactly d={d} of the s*d={n} slot bits; "
                         f"it sets {bin(id1).count('1')}")
    if id3 >= 1 << d:
        raise ValueError(f"task_id[2]={id3} has sign bits beyond the d={d} output dims")
    slots = [i for i in range(n) if (id1 >> i) & 1]
    rest, k = id2, 0
    while rest:
        g = rest % d
        rest //= d
        if g:
            if k >= d or g >= d - k:
                raise ValueError(f"task_id[1]={id2}: base-{d} digit {g} at position {k} must be < d-k={d - k}")
            slots[k], slots[k + g] = slots[k + g], slots[k]
        k += 1
    return slots


def parse_task_id(task_id: TaskLike, s: int = 8, d: int = 8) -> tuple[int, int, int]:
    """The explicit, validated 3-integer id of a task: the one task-id parser of wavejax.

    Args:
      task_id: a key of :data:`NAMED_TASKS`, a 3-tuple / list of non-negative integers, or a string of three
        comma-separated integers (any base prefix, e.g. ``"0xff,0,0"``).
      s: history length the id is decoded with (validation of the slot bits).
      d: state dimension.

    Returns:
      ``(id1, id2, id3)`` as Python ints.

    Raises:
      ValueError: unknown name, wrong length, non-integer or negative entry, wrong popcount, out-of-range digit.

    Examples:
      >>> parse_task_id("compose_copy")
      (9241421688590303745, 0, 0)
      >>> parse_task_id([255, 0, 0])
      (255, 0, 0)
    """
    s = _validate.positive_int("s", s)
    d = _validate.positive_int("d", d)
    ids = _ints(task_id)
    _slots(ids, s, d)
    return ids


def decode_task(task_id: TaskLike, s: int = 8, d: int = 8) -> np.ndarray:
    """Decode a task id into the signed selection operator F (docs/emt.md §3).

    1. the bits of id1 (exactly d set) choose d of the sd slots, listed ascending;
    2. id2 in base d, least significant digit first: a nonzero digit g at position k (must be < d-k) swaps list
       entries k and k+g;
    3. bit k of id3 set: output dim k has sign -1;
    4. ``F[slot_j, j] = sign_j``.

    Args:
      task_id: anything :func:`parse_task_id` accepts.
      s: history length (substrate length), >= 1.
      d: state dimension, >= 1.

    Returns:
      F of shape ``(s*d, d)`` (float64 NumPy), exactly one nonzero (+-1) per column.

    Raises:
      ValueError: malformed id (see :func:`parse_task_id`).
    """
    s = _validate.positive_int("s", s)
    d = _validate.positive_int("d", d)
    ids = _ints(task_id)
    F = np.zeros((s * d, d))
    for j, slot in enumerate(_slots(ids, s, d)):
        F[slot, j] = -1.0 if (ids[2] >> j) & 1 else 1.0
    return F


def _sd_of(F: np.ndarray, s: int | None, d: int | None) -> tuple[int, int]:
    """(s, d) from F's shape ``(s*d, d)``, checked against the optional explicit s, d."""
    n, dd = _validate.shape("F", F, (None, None))
    if dd < 1 or n % dd or n == 0:
        raise ValueError(f"F must have shape (s*d, d) with s, d >= 1; got F.shape={np.shape(F)}")
    ss = n // dd
    if s is not None and _validate.positive_int("s", s) != ss:
        raise ValueError(f"s={s} does not match F of shape {np.shape(F)} (s = F.shape[0] // F.shape[1] = {ss})")
    if d is not None and _validate.positive_int("d", d) != dd:
        raise ValueError(f"d={d} does not match F of shape {np.shape(F)} (d = F.shape[1] = {dd})")
    return ss, dd


def lag_matrices(F: np.ndarray) -> np.ndarray:
    """The lag matrices phi ``(s, d, d)`` of a window operator F ``(s*d, d)``: ``phi[l-1] = F[(s-l)d:(s-l+1)d].T``.

    Examples:
      >>> phi = lag_matrices(decode_task((255, 0, 0)))     # repeat copy: only lag 8 is used
      >>> bool((phi[7] == np.eye(8)).all()), float(abs(phi[:7]).sum())
      (True, 0.0)
    """
    s, d = _sd_of(F, None, None)
    F = np.asarray(F)
    return np.stack([F[(s - lag) * d:(s - lag + 1) * d, :].T for lag in range(1, s + 1)])


def phi_to_operator(phi: np.ndarray) -> np.ndarray:
    """Inverse of :func:`lag_matrices`: F of shape ``(s*d, d)`` from phi ``(s, d, d)``."""
    _validate.ndim("phi", phi, 3)
    phi = np.asarray(phi)
    s = phi.shape[0]
    return np.concatenate([phi[s - k - 1].T for k in range(s)], axis=0)


def binary_vb_task(task_id: TaskLike, s: int = 8, d: int = 8) -> np.ndarray:
    """The lag matrices of a task id: ``lag_matrices(decode_task(task_id, s, d))``, shape ``(s, d, d)``."""
    return lag_matrices(decode_task(task_id, s, d))


def task_table(F: np.ndarray, s: int | None = None, d: int | None = None) -> list[tuple[int, int, int]]:
    """Read F back as one ``(sign, lag, src)`` per output dim j: y_j(t) = sign * y_src(t - lag) (docs/emt.md §3).

    Args:
      F: the selection operator, shape ``(s*d, d)`` with exactly one nonzero (+-1) per column.
      s: history length (optional; checked against F's shape).
      d: state dimension (optional; checked against F's shape).

    Returns:
      A list of d tuples ``(sign, lag, src)`` with lag in 1..s, src in 0..d-1.
    """
    s, d = _sd_of(F, s, d)
    F = np.asarray(F)
    out = []
    for j in range(d):
        nz = np.flatnonzero(F[:, j])
        if len(nz) != 1 or abs(F[nz[0], j]) != 1:
            raise ValueError(f"F column {j} must have exactly one +-1 entry; it has {len(nz)} nonzeros")
        k, c = divmod(int(nz[0]), d)
        out.append((int(np.sign(F[nz[0], j])), s - k, c))
    return out


def task_batch(
    key: Array, phi: Float[Array, "s d d"], *, horizon: int, batch: int, dtype=jnp.float32
) -> tuple[Float[Array, "batch T d"], Float[Array, "batch T d"], Array]:
    """A fresh batch of the binary task (docs/wave.md §3.1, docs/emt.md §3): generated on device from ``key``.

    Input phase: s steps of i.i.d. uniform +-1 vectors, then ``horizon`` steps of zero input. Targets: 0 during the
    input phase; afterwards the HDS continuation y(t) = sum_l phi[l-1] y(t-l) seeded with y(t) = u(t), t < s.

    Args:
      key: PRNG key.
      phi: lag matrices ``(s, d, d)`` (:func:`lag_matrices` of F).
      horizon: output-phase length H >= 1.
      batch: batch size >= 1.
      dtype: dtype of x and y (float32 by default; targets are exact +-1/0).

    Returns:
      ``(x, y, mask)``: inputs and targets of shape ``(batch, s + horizon, d)`` and the output-phase mask of shape
      ``(s + horizon,)`` (True where the loss counts).

    Examples:
      >>> x, y, mask = task_batch(jax.random.key(0), binary_vb_task("repeat_copy"), horizon=3, batch=2)
      >>> x.shape, bool((y[:, 8:] == x[:, :3]).all()), int(mask.sum())
      ((2, 11, 8), True, 3)
    """
    key = _validate.prng_key("key", key)
    _, d, _ = _validate.ndim("phi", phi, 3)
    _validate.shape("phi", phi, (None, d, d))
    _validate.finite("phi", phi)
    horizon = _validate.positive_int("horizon", horizon)
    batch = _validate.positive_int("batch", batch)
    s, d = int(phi.shape[0]), int(phi.shape[2])
    _memory.require_fits({"batch": batch, "horizon": horizon}, 3 * _memory.nbytes((batch, s + horizon, d), dtype),
                         what="inputs, targets and their generation")
    return _task_batch(key, jnp.asarray(phi, dtype), horizon, batch)


@jax.jit(static_argnums=(2, 3))
def _task_batch(key, phi, horizon, batch):
    s, d, _ = phi.shape
    u = jax.random.rademacher(key, (batch, s, d), dtype=phi.dtype)
    cont = jax.vmap(lambda w: _window_continuation(phi, w, horizon))(u)
    x = jnp.concatenate([u, jnp.zeros((batch, horizon, d), phi.dtype)], axis=1)
    y = jnp.concatenate([jnp.zeros_like(u), cont], axis=1)
    mask = jnp.arange(s + horizon) >= s
    return x, y, mask


def _window_continuation(phi, W0, steps):
    A = phi[::-1]

    def body(W, _):
        x = jnp.einsum("sij,sj->i", A, W)
        return jnp.concatenate([W[1:], x[None]], axis=0), x

    return jax.lax.scan(body, W0, None, length=steps)[1]
