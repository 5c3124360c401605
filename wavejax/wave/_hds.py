"""History-dependent systems (HDS) and the binary linear variable-binding task family (docs/wave.md §2.1, §3).

An HDS of history length s on states x(t) in R^d is x(t) = f(x(t-1), ..., x(t-s)). The linear case is the
VARMA(s) recursion

    x(t) = sum_{l=1..s} phi_l x(t-l),          phi_l in R^{d x d}   (array ``phi[l-1]``, lag l)

The binary linear-VB task family (decoding, lag matrices, the batch generator) lives in :mod:`wavejax.tasks`,
shared with :mod:`wavejax.emt`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = ["varma", "fibonacci", "nonlinear_hds"]


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
    """Generalized Fibonacci x(t+1) = sum_{k=0..s-1} x(t-k) (docs/wave.md §2.7); exact for integer dtypes.

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
