"""The model family ℱ = {f_θ : θ ∈ Θ_a, a ∈ 𝒜} of the sweep (docs/tradeoff.md §2.1, §4 step 3).

Every sequence model wavejax has, each a Flax module ``(B, T, d_in) -> (B, T, d_out)`` trained by the shared
engine :func:`wavejax.rnn.train`, over a width ladder:

* ``elman``  — :class:`wavejax.rnn.Elman` with H = width.
* ``lstm``   — :class:`wavejax.rnn.LSTM` with H = width.
* ``wave``   — :class:`wavejax.rnn.WaveRNN` with n = min(width, 8) units per channel, c = ceil(width / 8).
* ``lattice`` — the traveling-wave lattice with a learned linear boundary (:func:`wavejax.wave.rollout`,
  :class:`wavejax.wave.LinearBoundary`), d = width waves, s slots, input added at the start boundary:
  H_s(t) = Σ_i A_i H_i(t−1) + U x(t), prediction y(t) = W_y H_s(t) + c.
* ``attention`` — the same lattice with a single-head attention boundary (:func:`wavejax.wave.attention_boundary`
  with learned positional embeddings and a residual), i.e. a one-layer attention-only transformer over a window
  of s past states. The boundary output is squashed, H_s(t) = tanh(f(H(t−1))) + U x(t): with the residual the
  unsquashed recursion integrates its input and diverges over the thousands of steps of a test program (it only
  appears stable on short training windows).

:func:`macs_per_step` and :func:`state_bits` give the §2.2 hardware costs of each.
"""

from __future__ import annotations

import math

import equinox as eqx
import flax.linen as nn
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.rnn import LSTM, Elman, WaveRNN, sym_uniform

__all__ = ["LatticeLinear", "LatticeAttention", "FAMILIES", "PACKABLE", "make_model", "macs_per_step", "state_bits"]

FAMILIES = ("elman", "lstm", "wave", "lattice", "attention")


def _wave(width: int) -> tuple[int, int]:
    n = min(width, 8)
    return math.ceil(width / n), n


class _LatticeBase(nn.Module):
    width: int  # d, waves per slot
    d_out: int  # readout dimension
    slots: int = 8  # s, substrate length (history window)

    def __post_init__(self):
        _validate.positive_int_fields(self, "width", "d_out", "slots")
        super().__post_init__()

    def boundary(self, d: int):  # pragma: no cover - abstract
        raise NotImplementedError

    @nn.compact
    def __call__(self, x: Float[Array, "B T d_in"]) -> Float[Array, "B T d_out"]:
        from wavejax.wave import rollout

        d, s = self.width, self.slots
        U = self.param("U", sym_uniform(1.0 / math.sqrt(x.shape[-1])), (d, x.shape[-1]))
        W_y = self.param("W_y", sym_uniform(1.0 / math.sqrt(d)), (self.d_out, d))
        c = self.param("c", nn.initializers.zeros, (self.d_out,))
        f = self.boundary(d)
        xs = x @ U.T
        newest = jax.vmap(lambda u: rollout(f, jnp.zeros((s, d), u.dtype), u, input_mode="add", save="newest"))(xs)
        return newest @ W_y.T + c[None, None, :]


class LatticeLinear(_LatticeBase):
    """Lattice with a learned linear boundary f(H) = Σ_i A_i H_i; A (s, d, d) initialised U(±0.5/sqrt(s d))."""

    def boundary(self, d: int):
        from wavejax.wave import LinearBoundary

        A = self.param("A", sym_uniform(0.5 / math.sqrt(self.slots * d)), (self.slots, d, d))
        return LinearBoundary(A=A)


class LatticeAttention(_LatticeBase):
    """Lattice with a squashed attention boundary tanh(f(H)) (Q, K, V (d, d), positions (s, d), residual, 1/sqrt(d))."""

    def boundary(self, d: int):
        from wavejax.wave import attention_boundary

        init = sym_uniform(1.0 / math.sqrt(d))
        q = self.param("q", init, (d, d))
        k = self.param("k", init, (d, d))
        v = self.param("v", sym_uniform(0.5 / math.sqrt(d)), (d, d))
        pos = self.param("pos", sym_uniform(0.1), (self.slots, d))
        return _attention(attention_boundary, q, k, v, pos)


class _Squashed(eqx.Module):
    """f̃(H) = tanh(f(H)): a bounded boundary (a pytree, so the lattice's filter_jit traces its arrays)."""

    inner: eqx.Module

    def __call__(self, H):
        return jnp.tanh(self.inner(H))


def _attention(build, q, k, v, pos):
    # attention_boundary validates finiteness on concrete arrays; inside the engine these are tracers
    return _Squashed(build(q, k, v, scale="sqrt", positional=pos, residual=True))


def make_model(family: str, width: int, d_out: int, *, slots: int = 8) -> nn.Module:
    """The Flax module of ``family`` at ``width`` with readout dimension ``d_out``."""
    _validate.one_of("family", family, FAMILIES)
    w = _validate.positive_int("width", width)
    _validate.positive_int("d_out", d_out)
    if family == "elman":
        return Elman(hidden=w, d_out=d_out)
    if family == "lstm":
        return LSTM(hidden=w, d_out=d_out)
    if family == "wave":
        c, n = _wave(w)
        return WaveRNN(channels=c, units=n, d_out=d_out)
    if family == "lattice":
        return LatticeLinear(width=w, d_out=d_out, slots=slots)
    return LatticeAttention(width=w, d_out=d_out, slots=slots)


# ------------------------------------------------------------------------------------------ width packing
# Families whose width-w model equals the width-W model (W >= w) with the extra units' weights at zero: the padded
# units' states stay exactly 0 (Elman: tanh(0); LSTM: c = σ(0)·0 + σ(0)·tanh(0) = 0, h = σ(0)·tanh(0) = 0; linear
# lattice: the padded waves never receive anything) and the readout ignores them. The wave family changes its
# channel layout with the width and the attention boundary scales its scores by sqrt(d), so neither packs.
PACKABLE = ("elman", "lstm", "lattice")

# per family and parameter: for each axis, how many blocks of `width` units it holds (0: not a unit axis)
_UNIT_AXES = {
    "elman": {"W_uh": (1, 0), "W_hh": (1, 1), "W_hy": (0, 1)},
    "lstm": {"W_ih": (4, 0), "W_hh": (4, 1), "W_hy": (0, 1)},
    "lattice": {"U": (1, 0), "W_y": (0, 1), "c": (0,), "A": (0, 1, 1)},
}


def _unit_spec(family: str, name: str, ndim: int) -> tuple[int, ...]:
    _validate.one_of("family", family, PACKABLE)
    spec = _UNIT_AXES[family].get(name)
    if spec is None or len(spec) != ndim:
        raise ValueError(f"unexpected parameter {name!r} (ndim {ndim}) for family {family!r}")
    return spec


def macs_per_step(family: str, width: int, d_in: int, d_out: int, *, slots: int = 8) -> int:
    """Multiply-accumulates per predicted step (e.g. LSTM: 4h(h + d) + h·d_out, docs/tradeoff.md §2.2)."""
    _validate.one_of("family", family, FAMILIES)
    h, s = width, slots
    if family == "elman":
        return h * (h + d_in) + h * d_out
    if family == "lstm":
        return 4 * h * (h + d_in) + h * d_out
    if family == "wave":
        c, n = _wave(h)
        H = c * n
        return H * d_in + 3 * c * c * n + H * d_out
    if family == "lattice":
        return h * d_in + s * h * h + h * d_out
    # attention: input embedding, query, keys and values of s slots, scores and weighted sum, readout
    return h * d_in + h * h + 2 * s * h * h + 2 * s * h + h * d_out


def state_bits(family: str, width: int, *, slots: int = 8) -> int:
    """Recurrent-state bits (float32): h (Elman, wave), 2h (LSTM h and c), s·d (lattices)."""
    _validate.one_of("family", family, FAMILIES)
    if family == "lstm":
        return 64 * width
    if family == "wave":
        c, n = _wave(width)
        return 32 * c * n
    if family in ("lattice", "attention"):
        return 32 * slots * width
    return 32 * width
