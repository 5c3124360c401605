"""History-dependent systems (HDS) and the binary linear variable-binding task family (wave.md §2.1, §3).

An HDS of history length s on states x(t) in R^d is x(t) = f(x(t-1), ..., x(t-s)). The linear case is the
VARMA(s) recursion

    x(t) = sum_{l=1..s} phi_l x(t-l),          phi_l in R^{d x d}   (array ``phi[l-1]``, lag l)

The binary linear-VB task family (emt.md §3) is a set of signed selection operators F in {0, +-1}^{sd x d}: output
dim j copies +-1 entry of the last s states. F's row (slot) ``k*d + c`` is time t-s+k (k = 0 oldest), dim c, so
lag l = s - k and ``phi[l-1][j, c] = F[(s-l)*d + c, j]``. Task ids are decoded on the host with Python ints (id1 of
the composition tasks exceeds int64).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = [
    "NAMED_TASKS",
    "decode_task",
    "operator_to_phi",
    "phi_to_operator",
    "binary_vb_task",
    "varma",
    "fibonacci",
    "nonlinear_hds",
    "binary_task_batch",
]

#: The four tasks of the spec, keyed by a descriptive name (labels T2/T3 are ambiguous in the sources, so
#: results are always keyed by the id itself).
NAMED_TASKS: dict[str, tuple[int, int, int]] = {
    "repeat_copy": (255, 0, 0),
    "compose_copy": (9241421688590303745, 0, 0),
    "mix_262676_189": (9241421688590303745, 262676, 189),
    "mix_38637_145": (9241421688590303745, 38637, 145),
}


def _check_task_id(task_id: object, s: int, d: int) -> tuple[int, int, int]:
    if isinstance(task_id, str):
        if task_id not in NAMED_TASKS:
            raise ValueError(f"unknown task_id {task_id!r}; named tasks are {tuple(NAMED_TASKS)}")
        task_id = NAMED_TASKS[task_id]
    if not isinstance(task_id, tuple | list) or len(task_id) != 3:
        raise ValueError(f"task_id must be a 3-integer tuple (id1, id2, id3) or a task name; got {task_id!r}")
    ids = []
    for k, v in enumerate(task_id):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"task_id[{k}] must be an integer; got {v!r}")
        if v < 0:
            raise ValueError(f"task_id[{k}] must be >= 0; got {v}")
        ids.append(int(v))
    id1, id2, id3 = ids
    n = s * d
    if id1 >= 1 << n:
        raise ValueError(f"task_id[0]={id1} has bits beyond the s*d={n} history slots")
    if bin(id1).count("1") != d:
        raise ValueError(f"task_id[0]={id1} must set exactly d={d} of the s*d={n} slot bits; "
                         f"it sets {bin(id1).count('1')}")
    if id3 >= 1 << d:
        raise ValueError(f"task_id[2]={id3} has sign bits beyond the d={d} output dims")
    return id1, id2, id3


def decode_task(task_id: tuple[int, int, int] | str, s: int = 8, d: int = 8) -> np.ndarray:
    """Decode a 3-integer task id into the signed selection operator F (emt.md §3).

    1. the bits of id1 (exactly d set) choose d of the sd slots, listed ascending;
    2. id2 in base d, least significant digit first: a nonzero digit g at position k (must be < d-k) swaps list
       entries k and k+g;
    3. bit k of id3 set: output dim k has sign -1;
    4. ``F[slot_j, j] = sign_j``.

    Args:
      task_id: ``(id1, id2, id3)`` or a key of :data:`NAMED_TASKS`.
      s: history length (substrate length), >= 1.
      d: state dimension, >= 1.

    Returns:
      F of shape ``(s*d, d)`` (float64 NumPy), exactly one nonzero (+-1) per column.

    Raises:
      ValueError: malformed id (wrong length, negative, wrong popcount, out-of-range digit or bits).
    """
    s = _validate.positive_int("s", s)
    d = _validate.positive_int("d", d)
    id1, id2, id3 = _check_task_id(task_id, s, d)
    slots = [i for i in range(s * d) if (id1 >> i) & 1]
    rest, k = id2, 0
    while rest:
        g = rest % d
        rest //= d
        if g:
            if k >= d or g >= d - k:
                raise ValueError(f"task_id[1]={id2}: base-{d} digit {g} at position {k} must be < d-k={d - k}")
            slots[k], slots[k + g] = slots[k + g], slots[k]
        k += 1
    F = np.zeros((s * d, d))
    for j, slot in enumerate(slots):
        F[slot, j] = -1.0 if (id3 >> j) & 1 else 1.0
    return F


def operator_to_phi(F: np.ndarray, s: int, d: int) -> np.ndarray:
    """Lag matrices from a window operator: ``phi[l-1] = F[(s-l)d:(s-l+1)d, :].T``, shape ``(s, d, d)``."""
    _validate.shape("F", F, (s * d, d))
    F = np.asarray(F)
    return np.stack([F[(s - lag) * d:(s - lag + 1) * d, :].T for lag in range(1, s + 1)])


def phi_to_operator(phi: np.ndarray) -> np.ndarray:
    """Inverse of :func:`operator_to_phi`: F of shape ``(s*d, d)`` from phi ``(s, d, d)``."""
    _validate.ndim("phi", phi, 3)
    phi = np.asarray(phi)
    s = phi.shape[0]
    return np.concatenate([phi[s - k - 1].T for k in range(s)], axis=0)


def binary_vb_task(task_id: tuple[int, int, int] | str, s: int = 8, d: int = 8) -> np.ndarray:
    """The lag matrices of a binary linear-VB task: ``phi`` of shape ``(s, d, d)``, x(t) = sum_l phi[l-1] x(t-l).

    Examples:
      >>> phi = binary_vb_task((255, 0, 0))          # repeat copy: x(t) = x(t-8)
      >>> bool((phi[7] == np.eye(8)).all()), float(abs(phi[:7]).sum())
      (True, 0.0)
    """
    s = _validate.positive_int("s", s)
    d = _validate.positive_int("d", d)
    return operator_to_phi(decode_task(task_id, s, d), s, d)


def varma(phi: Float[Array, "s d d"], x0: Float[Array, "s d"], steps: int) -> Float[Array, "steps d"]:
    """Run the linear HDS x(t) = sum_l phi[l-1] x(t-l) for ``steps`` steps after the history ``x0``.

    ``x0[i]`` is x(i+1) (oldest first, as the lattice rows). Returns the continuation x(s+1..s+steps).
    """
    phi = jnp.asarray(phi)
    s = phi.shape[0]
    _validate.shape("x0", x0, (s, phi.shape[1]))
    steps = _validate.positive_int("steps", steps)
    A = phi[::-1]  # A[i] multiplies window row i (i = 0 oldest, lag s)
    return nonlinear_hds(lambda W: jnp.einsum("sij,sj->i", A, W), x0, steps)


def fibonacci(x0: Array, steps: int) -> Array:
    """Generalized Fibonacci x(t+1) = sum_{k=0..s-1} x(t-k) (wave.md §2.7); exact for integer dtypes.

    Args:
      x0: the first s states, shape ``(s, d)`` (any dtype; integers stay integers).
      steps: number of new states.

    Returns:
      x(s+1..s+steps), shape ``(steps, d)``.
    """
    _validate.ndim("x0", x0, 2)
    steps = _validate.positive_int("steps", steps)
    return nonlinear_hds(lambda W: W.sum(axis=0), jnp.asarray(x0), steps)


def nonlinear_hds(f: Callable[[Array], Array], x0: Array, steps: int) -> Array:
    """Simulate x(t) = f(W(t)) with W(t) = [x(t-s), ..., x(t-1)] (oldest first, shape (s, d)).

    This direct window recursion is the independent reference for Theorem 3.1 tests of the lattice.
    """
    _validate.callable_("f", f)
    _validate.ndim("x0", x0, 2)
    steps = _validate.positive_int("steps", steps)

    def body(W, _):
        x = f(W)
        return jnp.concatenate([W[1:], x[None].astype(W.dtype)], axis=0), x

    _, xs = jax.lax.scan(body, jnp.asarray(x0), None, length=steps)
    return xs


def binary_task_batch(
    key: Array, phi: Float[Array, "s d d"], *, horizon: int, batch: int, dtype=jnp.float32
) -> tuple[Float[Array, "batch T d"], Float[Array, "batch T d"], Array]:
    """A fresh batch of the binary task (wave.md §3.1, emt.md §3): generated on device from ``key``.

    Input phase: s steps of i.i.d. uniform +-1 vectors, then ``horizon`` steps of zero input. Targets: 0 during the
    input phase; afterwards the HDS continuation y(t) = sum_l phi[l-1] y(t-l) seeded with y(t) = u(t), t < s.

    Args:
      key: PRNG key.
      phi: lag matrices ``(s, d, d)``.
      horizon: output-phase length H >= 1.
      batch: batch size >= 1.
      dtype: dtype of x and y (float32 by default; targets are exact +-1/0).

    Returns:
      ``(x, y, mask)``: inputs and targets of shape ``(batch, s + horizon, d)`` and the output-phase mask of shape
      ``(s + horizon,)`` (True where the loss counts).
    """
    _validate.ndim("phi", phi, 3)
    horizon = _validate.positive_int("horizon", horizon)
    batch = _validate.positive_int("batch", batch)
    return _binary_task_batch(key, jnp.asarray(phi, dtype), horizon, batch)


@jax.jit(static_argnums=(2, 3))
def _binary_task_batch(key, phi, horizon, batch):
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
