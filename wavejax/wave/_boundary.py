"""Start-boundary functions f(H) -> (d,) of the wave lattice (docs/wave.md §2.5, §2.6).

A boundary is any callable mapping the substrate H of shape (s, d) (row 0 oldest, row s-1 newest) to the new
newest entry of shape (d,). The two built-in boundaries are Equinox modules: their arrays are pytree leaves, so
they are traced (not baked in as constants) by ``rollout``'s ``filter_jit`` and can be vmapped or differentiated.
A plain Python function also works; it is treated as static (hashed by identity: a new lambda compiles anew).
"""

from __future__ import annotations

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = ["LinearBoundary", "AttentionBoundary", "linear_boundary", "attention_boundary"]


class LinearBoundary(eqx.Module):
    """Linear boundary condition (LBC, docs/wave.md §2.5): f(H) = sum_{i=1..s} A_i H_i.

    ``A[i]`` (0-based, shape (d, d)) multiplies row i of H; ``A[s-1]`` multiplies the newest entry (lag 1), so
    ``A = phi[::-1]`` for the lag matrices of an HDS.
    """

    A: Float[Array, "s d d"]

    def __call__(self, H: Float[Array, "s d"]) -> Float[Array, " d"]:
        s, d = H.shape
        # sum_i A_i H_i as one (s*d,) @ (s*d, d) product: under vmap this is a plain GEMM (B, sd) @ (sd, d).
        return H.reshape(s * d) @ jnp.transpose(self.A, (0, 2, 1)).reshape(s * d, d)


def linear_boundary(phi: Float[Array, "s d d"]) -> LinearBoundary:
    """LBC from lag matrices: f(H) = sum_l phi[l-1] H[s-l] (x(t) = sum_l phi_l x(t-l)).

    Args:
      phi: lag matrices of shape (s, d, d); ``phi[l-1]`` multiplies x(t-l).

    Returns:
      A :class:`LinearBoundary` with ``A = phi[::-1]``.

    Examples:
      >>> import numpy as np
      >>> f = linear_boundary(np.stack([np.zeros((1, 1)), np.eye(1)]))   # x(t) = x(t-2)
      >>> float(f(jnp.array([[3.0], [5.0]]))[0])
      3.0
    """
    shp = _validate.ndim("phi", phi, 3)
    if shp[1] != shp[2]:
        raise ValueError(f"phi must have shape (s, d, d); got shape {shp}")
    if shp[0] < 1 or shp[1] < 1:
        raise ValueError(f"phi must have s >= 1 and d >= 1; got shape {shp}")
    _validate.finite("phi", phi)
    return LinearBoundary(A=jnp.asarray(phi)[::-1])


class AttentionBoundary(eqx.Module):
    """Self-attention boundary condition (SBC, docs/wave.md §2.6), single head.

        Z_i = H_i + p_i                          (optional positional embedding p, shape (s, d))
        score_i = c (K Z_i)^T (Q Z_s) + b_i      (c: scale, b: optional positional score bias, shape (s,))
        f(H) = sum_i softmax(score)_i V Z_i  (+ H_s if residual)

    Shapes: Q, K of shape (d_k, d), V of shape (d, d). Row s-1 (0-based) of H is the query (newest entry).
    """

    q: Float[Array, "dk d"]
    k: Float[Array, "dk d"]
    v: Float[Array, "d d"]
    pos: Float[Array, "s d"] | None
    bias: Float[Array, " s"] | None
    scale: float = eqx.field(static=True)
    residual: bool = eqx.field(static=True)

    def __call__(self, H: Float[Array, "s d"]) -> Float[Array, " d"]:
        Z = H if self.pos is None else H + self.pos
        query = self.q @ Z[-1]
        scores = (Z @ self.k.T) @ query * self.scale
        if self.bias is not None:
            scores = scores + self.bias
        alpha = jax.nn.softmax(scores)
        out = alpha @ (Z @ self.v.T)
        return out + H[-1] if self.residual else out


def attention_boundary(
    q: Float[Array, "dk d"],
    k: Float[Array, "dk d"],
    v: Float[Array, "d d"],
    *,
    scale: Literal["none", "sqrt"] | float = "none",
    positional: Float[Array, "s d"] | None = None,
    bias: Float[Array, " s"] | None = None,
    residual: bool = False,
) -> AttentionBoundary:
    """Build a single-head attention boundary (one decoding step of an attention-only transformer).

    The options are UNCONFIRMED in the paper (docs/wave.md §2.6); the defaults follow the spec's formula exactly:
    no 1/sqrt(d_k) scaling, no positional terms, no residual.

    Args:
      q: query matrix Q, shape (d_k, d).
      k: key matrix K, shape (d_k, d).
      v: value matrix V, shape (d, d).
      scale: ``"none"`` (c = 1), ``"sqrt"`` (c = 1/sqrt(d_k)) or a positive number.
      positional: additive positional embeddings p of shape (s, d) (row i for substrate position i), or None.
      bias: additive positional score bias b of shape (s,) (-inf masks a position), or None.
      residual: add the newest entry H_s to the output (f = H_s + attention).

    Returns:
      An :class:`AttentionBoundary`.
    """
    shp_q = _validate.ndim("q", q, 2)
    dk, d = shp_q
    _validate.shape("k", k, (dk, d))
    _validate.shape("v", v, (d, d))
    for name, arr in (("q", q), ("k", k), ("v", v)):
        _validate.finite(name, arr)
    if positional is not None:
        _validate.shape("positional", positional, (None, d))
    if bias is not None:
        _validate.ndim("bias", bias, 1)
        if positional is not None and np.shape(bias)[0] != np.shape(positional)[0]:
            raise ValueError(f"bias must have shape (s,) = ({np.shape(positional)[0]},); got {np.shape(bias)}")
    if isinstance(scale, str):
        _validate.one_of("scale", scale, ("none", "sqrt"))
        c = 1.0 if scale == "none" else 1.0 / float(np.sqrt(dk))
    else:
        c = float(_validate.positive("scale", scale))
    return AttentionBoundary(q=jnp.asarray(q), k=jnp.asarray(k), v=jnp.asarray(v),
                             pos=None if positional is None else jnp.asarray(positional),
                             bias=None if bias is None else jnp.asarray(bias), scale=c, residual=bool(residual))
