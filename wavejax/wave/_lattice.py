"""The traveling-wave lattice: an exact shift register with a computed start boundary (docs/wave.md §2.2–2.4).

Convention (0-based rows; the spec's row i is ``H[i-1]``): row 0 is the oldest entry (the open end), row s-1
the newest (the start boundary). One tick with boundary f:

    H[i](t) = H[i+1](t-1)  for 0 <= i < s-1                      (every wave moves one step)
    H[s-1](t) = x(t)                   where mask[t]   (overwrite; otherwise f(H(t-1)))
    H[s-1](t) = f(H(t-1)) + mask[t] x(t)                          (add)

so with inputs every step, H[s-1-k](t) = x(t-k): the lattice stores the last s inputs without interference.
Two implementations give identical results: ``impl="shift"`` (concatenate ``H[1:]`` with the new row) and
``impl="ring"`` (a ring buffer plus a write pointer, one row written per step; the logical view is a roll). For a
linear boundary, ``impl="chunked"`` advances K input-free ticks with one product by the stacked rows of M^1..M^K
(same result up to float rounding; bit-exact for integer-valued tasks) and falls back to the reference scan in
chunks that hold an input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import custom_batching
from jaxtyping import Array, Bool, Float

from wavejax import _memory, _validate
from wavejax._matmul import POLICY, matmul_precision
from wavejax.wave._boundary import LinearBoundary

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
    *,
    mask: Bool[Array, " T"] | None = None,
    input_mode: Literal["overwrite", "add"] = "overwrite",
    impl: Literal["shift", "ring", "chunked"] = "shift",
    save: Literal["lattice", "newest"] = "lattice",
    unroll: int = 8,
    chunk: int | None = None,
) -> Float[Array, "T s d"] | Float[Array, "T d"]:
    """Run the lattice for T ticks (docs/wave.md §2.2–2.4). Pure, jittable, vmappable, differentiable.

    Args:
      f: boundary f(H) -> (d,): a :class:`~wavejax.wave.LinearBoundary`, :class:`~wavejax.wave.AttentionBoundary`
        or any callable (plain functions are static: a new lambda compiles anew).
      H0: initial substrate, shape (s, d); row s-1 newest.
      xs: inputs x(1..T), shape (T, d).
      mask: shape (T,) bool, True where x(t) is present; default all True.
      input_mode: ``"overwrite"`` (newest = x(t) where present, else f(H)) or ``"add"`` (newest = f(H) + x(t)).
      impl: ``"shift"`` (reference) or ``"ring"`` (ring buffer), bit-identical; or ``"chunked"`` (linear
        boundaries only): K ticks at once as one (K*d, s*d) product with the stacked rows E_s^T M^k, k = 1..K,
        wherever no input arrives in the chunk, and the reference scan in chunks that hold an input (equal to the
        reference up to float rounding; exact for integer-valued tasks such as the binary family). Under ``vmap``
        over >= 128 input-free sequences, all T ticks of the batch are one (B, s*d) @ (s*d, T*d) product.
      save: ``"lattice"`` returns every substrate (T, s, d); ``"newest"`` only the newest rows (T, d).
      unroll: scan unroll factor (speed only).
      chunk: ticks per chunk K of ``impl="chunked"`` (default: a multiple of s, at least 2*s, with K*d >= 256;
        capped at T); speed only. The work per tick is the same s*d*d multiply-adds as the reference at every K;
        a larger K means fewer, larger matrix products and a larger (K*d, s*d) operator.

    Note:
      Input modes (docs/wave.md §2.4). ``"add"`` lets the boundary fire while the inputs are still being written: any f
      that reads a recent row (every non-copy binary task with the linear boundary) mixes f(H) of a half-filled
      substrate into the stored inputs, so add-mode rollouts of those tasks are wrong by design, not by a bug.
      ``"overwrite"`` (the default) stores inputs exactly; initializing ``H0`` with the first s states is the
      other exact route (Theorem 3.1).

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
    if chunk is not None:
        _validate.positive_int("chunk", chunk)
    _validate.finite("H0", H0)
    H0 = jnp.asarray(H0)
    if not jnp.issubdtype(H0.dtype, jnp.floating) and not jnp.issubdtype(H0.dtype, jnp.integer):
        raise TypeError(f"H0 must be numeric; got dtype {H0.dtype}")
    if isinstance(f, LinearBoundary) and tuple(f.A.shape) != (s, d, d):
        raise ValueError(f"H0 must have shape (s, d) = {tuple(f.A.shape[:2])} to match the LinearBoundary f "
                         f"(lag matrices of shape {tuple(f.A.shape)}); got H0 shape {(s, d)}")
    try:
        out = jax.eval_shape(f, jax.ShapeDtypeStruct((s, d), H0.dtype))
    except (TypeError, ValueError) as e:
        raise ValueError(f"boundary f cannot take H0 of shape {(s, d)}: {e}") from e
    if getattr(out, "shape", None) != (d,):
        raise ValueError(f"boundary f must map H of shape {(s, d)} to shape ({d},); got {getattr(out, 'shape', out)}")
    if T == 0:
        return jnp.zeros((0, s, d) if save == "lattice" else (0, d), H0.dtype)
    _memory.require_fits({"len(xs)": T}, _memory.nbytes((T, s, d) if save == "lattice" else (T, d), H0.dtype),
                         what=f"the saved {save} states")
    K = min(_default_chunk(s, d) if chunk is None else int(chunk), T)
    with matmul_precision(POLICY["wave"]):  # true float32 on TPU/GPU too (docs/gpu-tpu.md)
        return _rollout(f, H0, jnp.asarray(xs), jnp.asarray(mask), input_mode, impl, save, unroll, K)


def _default_chunk(s: int, d: int) -> int:
    """Ticks per chunk of ``impl="chunked"``: a multiple of s, >= 2s, with at least 256 operator rows (K*d)."""
    return s * max(2, -(-256 // (s * d)))


@eqx.filter_jit
def _rollout(f, H0, xs, mask, input_mode, impl, save, unroll, K):
    if impl == "chunked":
        Y = _chunked_newest(f, H0, xs, mask, input_mode, K)
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


_UNROLL_OPERATOR = 64  # chunk operators of at most this many ticks are built without a loop


def _chunk_operator(A, K):
    """G of shape (K*d, s*d): rows k*d:(k+1)*d are R_k = E_s^T M^(k+1), so the next K newest rows are G w.

    Uses the sparsity of M = shift + boundary row B: R_{k+1} = R_k M = [0, R_k[:, :n-d]] + R_k[:, n-d:] B, so
    building G costs O(K * d^2 * n) instead of K dense n x n products.
    """
    s, d, _ = A.shape
    n = s * d
    B = jnp.transpose(A, (1, 0, 2)).reshape(d, n)

    dt = np.dtype(A.dtype)
    zeros = np.zeros((d, d), dt)  # NumPy literals, not broadcasts / iotas / scatters: XLA does not fold those

    def body(R, _):
        R = jnp.concatenate([zeros, R[:, : n - d]], axis=1) + R[:, n - d:] @ B
        return R, R

    R0 = jnp.asarray(np.eye(d, n, n - d, dtype=dt))  # E_s^T
    if K <= _UNROLL_OPERATOR:  # straight-line code: XLA folds it into a constant when A is one (a fixed boundary)
        rows, R = [], R0
        for _ in range(K):
            R, _ = body(R, None)
            rows.append(R)
        return jnp.concatenate(rows, axis=0)
    _, rows = jax.lax.scan(body, R0, None, length=K)
    return rows.reshape(K * d, n)


#: under ``vmap``, input-free chunked rollouts of at least this many sequences use one (B, s*d) @ (s*d, T*d) product
_BIG_BATCH = 128
_MAX_OPERATOR = 1 << 22  # ... when the (T*d, s*d) operator has at most this many entries (16 MiB in float32)


def _autonomous(T, K, s, d):
    """Newest rows of T input-free ticks from H0, as ``auto(A, H0) -> (T, d)``; batch-aware under ``vmap``.

    One sequence: chunks of K ticks, each one (s*d,) @ (s*d, K*d) product. Under ``vmap`` over H0 with a batch
    of at least ``_BIG_BATCH`` (and A shared), all T ticks of all sequences are one (B, s*d) @ (s*d, T*d) product,
    which XLA runs several times faster than B-row products inside a loop; the numbers agree up to float rounding
    (exactly for integer-valued maps). Differentiation uses the chunk loop (custom JVP), so grad works everywhere.
    """
    n = s * d

    def loop(A, G, H0):
        Gt = G.T  # (s*d, K*d)
        n_full = T // K

        def chunk(H, _):
            Y = (H.reshape(n) @ Gt).reshape(K, d)
            return jnp.concatenate([H, Y], axis=0)[K:], Y  # the window after K ticks: last s rows of [H; Y]

        H, Y = jax.lax.scan(chunk, H0, None, length=n_full)
        Y = Y.reshape(n_full * K, d)
        if T > n_full * K:
            r = T - n_full * K
            Y = jnp.concatenate([Y, (H.reshape(n) @ Gt[:, : r * d]).reshape(r, d)], axis=0)
        return Y

    @custom_batching.custom_vmap
    def batch_aware(A, G, H0):
        return loop(A, G, H0)

    @batch_aware.def_vmap
    def _rule(axis_size, in_batched, A, G, H0):
        A_b, G_b, H_b = in_batched
        if A_b or G_b or not H_b or axis_size < _BIG_BATCH or T * d * n > _MAX_OPERATOR:
            axes = tuple(0 if b else None for b in in_batched)
            return jax.vmap(loop, in_axes=axes, axis_size=axis_size)(A, G, H0), True
        return (H0.reshape(axis_size, n) @ _chunk_operator(A, T).T).reshape(axis_size, T, d), True

    @jax.custom_jvp
    def auto(A, G, H0):
        return batch_aware(A, G, H0)

    @auto.defjvp
    def _jvp(primals, tangents):  # custom_vmap has no reverse mode of its own: differentiate the chunk loop
        return jax.jvp(loop, primals, tangents)

    return auto


def _chunked_newest(f, H0, xs, mask, input_mode, K):
    """Newest rows (T, d): input-free rollouts via :func:`_autonomous`, otherwise chunk by chunk (below).

    The (K*d, s*d) chunk operator G is built once, outside both branches, and passed in as an argument (its tangent
    follows A's); for a fixed boundary under ``jit`` XLA folds it into a constant.
    """
    s, d = H0.shape
    A = f.A.astype(H0.dtype)
    G = _chunk_operator(A, K)
    auto = _autonomous(xs.shape[0], K, s, d)
    return jax.lax.cond(jnp.any(mask), lambda H: _chunked_inputs(f, H, xs, mask, input_mode, K, G),
                        lambda H: auto(A, G, H), H0)


def _chunked_inputs(f, H0, xs, mask, input_mode, K, G):
    """Newest rows (T, d) in chunks of K ticks: one product without inputs, the reference scan with inputs.

    The inputs are read inside the input branch only (``dynamic_slice``), so an autonomous stretch never touches
    ``xs``; each chunk is written in place into the (T, d) output (under vmap: no stacking and transposing of the
    batch); the last T mod K ticks form one shorter chunk.
    """
    s, d = H0.shape
    T = xs.shape[0]
    n_full = T // K
    Gt = G.T  # (s*d, K*d): under vmap one (B, s*d) @ (s*d, K*d) GEMM

    def advance(H, start, L):
        """Newest rows of ticks start..start+L-1 (L static) from the window H before them."""

        def fast(H):
            return (H.reshape(s * d) @ Gt[:, : L * d]).reshape(L, d)

        def slow(H):
            def body(H, inp):
                H = step(f, H, inp[0], inp[1], input_mode)
                return H, H[-1]

            xc = jax.lax.dynamic_slice_in_dim(xs, start, L)
            mc = jax.lax.dynamic_slice_in_dim(mask, start, L)
            return jax.lax.scan(body, H, (xc, mc))[1]

        has_input = jnp.any(jax.lax.dynamic_slice_in_dim(mask, start, L))
        return jax.lax.cond(has_input, slow, fast, H)

    def chunk(carry, c):
        H, out = carry
        Y = advance(H, c * K, K)
        # the shift is exact: after K ticks the window is the last s rows of [H; Y]
        return (jnp.concatenate([H, Y], axis=0)[K:], jax.lax.dynamic_update_slice_in_dim(out, Y, c * K, 0)), None

    (H, out), _ = jax.lax.scan(chunk, (H0, jnp.zeros((T, d), H0.dtype)), jnp.arange(n_full, dtype=jnp.int32))
    if T > n_full * K:
        out = out.at[n_full * K:].set(advance(H, n_full * K, T - n_full * K))
    return out
