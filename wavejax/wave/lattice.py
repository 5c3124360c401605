"""The traveling-wave lattice: an exact shift register with a computed start boundary (wave.md §2.2–2.4).

Convention (0-based rows; the spec's row i is ``H[i-1]``): row 0 is the oldest entry (the open end), row s-1
the newest (the start boundary). One tick with boundary f:

    H[i](t) = H[i+1](t-1)  for 0 <= i < s-1                      (every wave moves one step)
    H[s-1](t) = x(t)                   where mask[t]   (overwrite; otherwise f(H(t-1)))
    H[s-1](t) = f(H(t-1)) + mask[t] x(t)                          (add)

so with inputs every step, H[s-1-k](t) = x(t-k): the lattice stores the last s inputs without interference.
Two implementations give identical results: ``impl="shift"`` (concatenate ``H[1:]`` with the new row) and
``impl="ring"`` (a ring buffer plus a write pointer, one row written per step; the logical view is a roll).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

from wavejax import _validate
from wavejax.wave.boundary import LinearBoundary

__all__ = ["step", "rollout", "INPUT_MODES"]

INPUT_MODES = ("overwrite", "add")
Boundary = Callable[[Array], Array]


def step(
    f: Boundary,
    H: Float[Array, "s d"],
    x: Float[Array, " d"],
    has_input: Bool[Array, ""] | bool = True,
    input_mode: Literal["overwrite", "add"] = "overwrite",
) -> Float[Array, "s d"]:
    """Advance the lattice one tick (unvalidated core; see :func:`rollout`).

    Args:
      f: boundary function f(H) -> (d,).
      H: substrate at time t-1, shape (s, d), row s-1 newest.
      x: input x(t), shape (d,).
      has_input: whether x(t) is present (mask[t]).
      input_mode: ``"overwrite"`` or ``"add"`` (static).

    Returns:
      The substrate at time t, shape (s, d).
    """
    return jnp.concatenate([H[1:], _new_row(f, H, x, has_input, input_mode)[None]], axis=0)


def _new_row(f, H, x, m, input_mode):
    fh = f(H).astype(H.dtype)
    if input_mode == "overwrite":
        return jnp.where(m, x.astype(H.dtype), fh)
    return fh + jnp.where(m, x.astype(H.dtype), jnp.zeros_like(fh))


def rollout(
    f: Boundary,
    H0: Float[Array, "s d"],
    xs: Float[Array, "T d"],
    mask: Bool[Array, " T"] | None = None,
    input_mode: Literal["overwrite", "add"] = "overwrite",
    *,
    impl: Literal["shift", "ring", "chunked"] = "shift",
    save: Literal["lattice", "newest"] = "lattice",
    unroll: int = 8,
) -> Float[Array, "T s d"] | Float[Array, "T d"]:
    """Run the lattice for T ticks (wave.md §2.2–2.4). Pure, jittable, vmappable, differentiable.

    Args:
      f: boundary f(H) -> (d,): a :class:`~wavejax.wave.LinearBoundary`, :class:`~wavejax.wave.AttentionBoundary`
        or any callable (plain functions are static: a new lambda compiles anew).
      H0: initial substrate, shape (s, d); row s-1 newest.
      xs: inputs x(1..T), shape (T, d).
      mask: shape (T,) bool, True where x(t) is present; default all True.
      input_mode: ``"overwrite"`` (newest = x(t) where present, else f(H)) or ``"add"`` (newest = f(H) + x(t)).
      impl: ``"shift"`` (reference) or ``"ring"`` (ring buffer), bit-identical; or ``"chunked"`` (linear
        boundaries only): s ticks at once as one (s*d, s*d) product with the stacked powers of M wherever no input
        arrives in the chunk (equal to the reference up to float rounding; exact for integer-valued tasks).
      save: ``"lattice"`` returns every substrate (T, s, d); ``"newest"`` only the newest rows (T, d).
      unroll: scan unroll factor (speed only).

    Returns:
      ``Hs`` of shape (T, s, d) with ``Hs[t]`` the substrate after tick t (``save="lattice"``), or the newest rows
      of shape (T, d) (``save="newest"``).

    Raises:
      ValueError: wrong shapes, s or d < 1, unknown input_mode/impl/save, f returning the wrong shape.
      TypeError: f not callable, non-numeric arrays.

    Examples:
      >>> import jax.numpy as jnp
      >>> Hs = rollout(lambda H: H[0], jnp.zeros((3, 1)), jnp.arange(1.0, 5.0)[:, None])
      >>> Hs[-1, :, 0].tolist()                       # the last three inputs, oldest first
      [2.0, 3.0, 4.0]
    """
    _validate.callable_("f", f)
    s, d = _validate.ndim("H0", H0, 2)
    if s < 1 or d < 1:
        raise ValueError(f"H0 must have shape (s, d) with s >= 1 and d >= 1; got shape {(s, d)}")
    T, _ = _validate.shape("xs", xs, (None, d))
    if mask is None:
        mask = jnp.ones((T,), bool)
    _validate.shape("mask", mask, (T,))
    if not jnp.issubdtype(jnp.asarray(mask).dtype, jnp.bool_):
        raise TypeError(f"mask must be a boolean array; got dtype {jnp.asarray(mask).dtype}")
    _validate.one_of("input_mode", input_mode, INPUT_MODES)
    _validate.one_of("impl", impl, ("shift", "ring", "chunked"))
    if impl == "chunked" and not isinstance(f, LinearBoundary):
        raise ValueError(f"impl='chunked' needs a LinearBoundary f; got {type(f).__name__} (use 'shift' or 'ring')")
    _validate.one_of("save", save, ("lattice", "newest"))
    _validate.positive_int("unroll", unroll)
    _validate.finite("H0", H0)
    H0 = jnp.asarray(H0)
    if not jnp.issubdtype(H0.dtype, jnp.floating) and not jnp.issubdtype(H0.dtype, jnp.integer):
        raise TypeError(f"H0 must be numeric; got dtype {H0.dtype}")
    out = jax.eval_shape(f, jax.ShapeDtypeStruct((s, d), H0.dtype))
    if getattr(out, "shape", None) != (d,):
        raise ValueError(f"boundary f must map H of shape {(s, d)} to shape ({d},); got {getattr(out, 'shape', out)}")
    if T == 0:
        return jnp.zeros((0, s, d) if save == "lattice" else (0, d), H0.dtype)
    return _rollout(f, H0, jnp.asarray(xs), jnp.asarray(mask), input_mode, impl, save, unroll)


@eqx.filter_jit
def _rollout(f, H0, xs, mask, input_mode, impl, save, unroll):
    if impl == "chunked":
        Y = _chunked_newest(f, H0, xs, mask, input_mode)
        return Y if save == "newest" else _windows(H0, Y)
    if impl == "shift":

        def body(H, inp):
            x, m = inp
            H = step(f, H, x, m, input_mode)
            return H, (H if save == "lattice" else H[-1])

        return jax.lax.scan(body, H0, (xs, mask), unroll=unroll)[1]

    s = H0.shape[0]

    def ring_body(carry, inp):
        buf, ptr = carry  # logical row i lives at buf[(ptr + i) % s]; ptr indexes the oldest row
        x, m = inp
        H = jnp.roll(buf, -ptr, axis=0)
        new = _new_row(f, H, x, m, input_mode)
        buf = jax.lax.dynamic_update_slice_in_dim(buf, new[None], ptr, axis=0)
        ptr = jnp.where(ptr + 1 == s, 0, ptr + 1)
        if save == "lattice":
            return (buf, ptr), jnp.roll(buf, -ptr, axis=0)
        return (buf, ptr), new

    return jax.lax.scan(ring_body, (H0, jnp.zeros((), jnp.int32)), (xs, mask), unroll=unroll)[1]


def _windows(H0, Y):
    """Lattices from newest rows: the shift is exact, so Hs[t][i] = Z[t+1+i] with Z = [H0; Y]."""
    s = H0.shape[0]
    Z = jnp.concatenate([H0, Y], axis=0)
    idx = jnp.arange(Y.shape[0])[:, None] + 1 + jnp.arange(s)[None, :]
    return Z[idx]


def _chunk_operator(A):
    """G of shape (s*d, s*d): rows k*d:(k+1)*d are R_k = E_s^T M^(k+1), so the next s newest rows are G w.

    Uses the sparsity of M = shift + boundary row B: R_{k+1} = R_k M = [0, R_k[:, :n-d]] + R_k[:, n-d:] B, so
    building G costs O(s * d^2 * n) instead of s dense n x n products.
    """
    s, d, _ = A.shape
    n = s * d
    B = jnp.transpose(A, (1, 0, 2)).reshape(d, n)

    def body(R, _):
        R = jnp.concatenate([jnp.zeros((d, d), R.dtype), R[:, : n - d]], axis=1) + R[:, n - d:] @ B
        return R, R

    R0 = jnp.zeros((d, n), A.dtype).at[:, n - d:].set(jnp.eye(d, dtype=A.dtype))
    _, rows = jax.lax.scan(body, R0, None, length=s)
    return rows.reshape(n, n)


def _chunked_newest(f, H0, xs, mask, input_mode):
    s, d = H0.shape
    T = xs.shape[0]
    n_chunks = -(-T // s)
    pad = n_chunks * s - T
    xs_c = jnp.concatenate([xs, jnp.zeros((pad, d), xs.dtype)]).reshape(n_chunks, s, d)
    m_c = jnp.concatenate([mask, jnp.zeros((pad,), bool)]).reshape(n_chunks, s)
    G = _chunk_operator(f.A.astype(H0.dtype))

    def fast(H, xc, mc):
        return (G @ H.reshape(s * d)).reshape(s, d)

    def slow(H, xc, mc):
        def body(H, inp):
            H = step(f, H, inp[0], inp[1], input_mode)
            return H, None

        return jax.lax.scan(body, H, (xc, mc))[0]

    def chunk(H, inp):
        xc, mc = inp
        Hn = jax.lax.cond(jnp.any(mc), slow, fast, H, xc, mc)
        return Hn, Hn  # after s ticks the window consists exactly of the s new rows

    _, Y = jax.lax.scan(chunk, H0, (xs_c, m_c))
    return Y.reshape(n_chunks * s, d)[:T]
