"""Retrieval metrics: overlaps, decoding, dwell statistics and the dwell law (docs/gsemm.md §2.8, §5).

Overlap (Mattis magnetisation) m_mu(t) = (1/N) xi^mu . sigma_f(v(t)); pass ``v`` already through sigma_f for
LISEM (``overlaps(xi, jnp.tanh(gamma * v))``) or use :func:`model_overlaps`. Decoding is host-side NumPy (its
output has a data-dependent length): argmax over memories, samples with max overlap below ``min_overlap``
ignored, runs shorter than ``min_run`` samples dropped (minimum persistence smoothing), equal runs collapsed.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate as V
from wavejax.gsemm._models import get_model

__all__ = ["overlaps", "model_overlaps", "decode", "Decoded", "follows_graph", "cycle_successors",
           "dwell_stats", "dwell_prediction", "transition_count", "best_chain", "successors_from_phi"]


def overlaps(xi: Float[Array, "N K"], v: Float[Array, "T N"]) -> Float[Array, "T K"]:
    """m[t, mu] = (1/N) sum_i xi[i, mu] v[t, i]; ``v`` of shape (N,) gives (K,). Works under jit/vmap.

    Examples:
      >>> overlaps(jnp.array([[1.0], [-1.0]]), jnp.array([[1.0, -1.0]])).tolist()
      [[1.0]]
    """
    V.ndim("xi", xi, (2,))
    V.ndim("v", v, (1, 2))
    V.shape("v", v, (*v.shape[:-1], xi.shape[0]))
    return jnp.asarray(v) @ jnp.asarray(xi) / xi.shape[0]


def model_overlaps(model: str, xi, v, *, gamma=1.0):
    """Overlaps of sigma_f(v) (tanh(gamma v) for LISEM, v for DSEM), shape (T, K)."""
    return overlaps(xi, get_model(model).feature.sigma(jnp.asarray(v), jnp.asarray(gamma, jnp.asarray(v).dtype)))


class Decoded(tuple):
    """Result of :func:`decode`: the issue's pair ``(sequence, dwell_times)`` plus ``times`` and ``peaks``.

    Unpacks as ``sequence, dwell_times = decode(ts, m)``. Attributes: ``sequence`` (S,) decoded memories,
    ``times`` (S,) start time of each decoded state, ``dwell_times`` (S-1,) = diff(times), ``peaks`` (S,) the peak
    overlap reached in each state.
    """

    sequence: np.ndarray
    times: np.ndarray
    dwell_times: np.ndarray
    peaks: np.ndarray

    def __new__(cls, sequence, times, dwell_times, peaks):
        self = super().__new__(cls, (sequence, dwell_times))
        self.sequence, self.times, self.dwell_times, self.peaks = sequence, times, dwell_times, peaks
        return self

    def __repr__(self) -> str:
        return (f"Decoded(sequence={self.sequence.tolist()}, dwell_times={self.dwell_times.tolist()}, "
                f"times={self.times.tolist()}, peaks={self.peaks.tolist()})")


def decode(ts, m, *, min_run: int = 10, min_overlap: float | None = None) -> Decoded:
    """Decode the visited memories from overlaps (docs/gsemm.md §5).

    Args:
      ts: times, shape (T,). m: overlaps, shape (T, K).
      min_run: runs of the argmax shorter than this many samples are dropped (transient smoothing).
      min_overlap: samples whose max overlap is below this are ignored (C++ uses 0.6); None keeps all.

    Returns:
      :class:`Decoded` with ``sequence`` (ints), ``times`` (start time of each decoded state; the first is the
      time of the first kept sample), ``dwell_times = diff(times)`` and per-state ``peaks``.
      Unpacks as the pair ``sequence, dwell_times``.
    """
    ts, m = np.asarray(ts), np.asarray(m)
    V.ndim("m", m, (2,))
    V.shape("ts", ts, (m.shape[0],))
    V.finite("ts", ts)
    V.finite("m", m)  # NaN/inf overlaps come from a failed solve (its result code): not a decodable sequence
    V.nonneg_int("min_run", min_run)
    arg = m.argmax(axis=1)
    mx = m.max(axis=1)
    keep = np.ones(len(ts), bool) if min_overlap is None else mx >= min_overlap
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return Decoded(np.zeros(0, int), np.zeros(0), np.zeros(0), np.zeros(0))
    a = arg[idx]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    ends = np.r_[starts[1:], a.size]
    runs = [(a[s], idx[s], idx[e - 1]) for s, e in zip(starts, ends, strict=True) if e - s >= min_run]
    seq, times, peaks = [], [], []
    for state, i0, i1 in runs:
        pk = float(m[i0:i1 + 1, state].max())
        if seq and seq[-1] == state:
            peaks[-1] = max(peaks[-1], pk)
            continue
        seq.append(int(state))
        times.append(float(ts[i0]))
        peaks.append(pk)
    seq_a, times_a = np.asarray(seq, int), np.asarray(times)
    return Decoded(seq_a, times_a, np.diff(times_a), np.asarray(peaks))


def successors_from_phi(phi) -> dict[int, int]:
    """{mu: nu} for every row of Phi with a positive off-diagonal maximum (the memory graph)."""
    phi = np.array(phi, float)
    np.fill_diagonal(phi, -np.inf)
    return {mu: int(phi[mu].argmax()) for mu in range(phi.shape[0]) if phi[mu].max() > 0}


def cycle_successors(k: int) -> dict[int, int]:
    """Successor map of the cycle 0 -> 1 -> ... -> K-1 -> 0."""
    return {mu: (mu + 1) % k for mu in range(k)}


def follows_graph(sequence, successors: dict[int, int]) -> bool:
    """True when every decoded change sequence[i] -> sequence[i+1] is an edge of the memory graph."""
    s = np.asarray(sequence)
    return bool(all(successors.get(int(a)) == int(b) for a, b in zip(s[:-1], s[1:], strict=True)))


def transition_count(sequence) -> int:
    """Number of decoded changes."""
    return max(len(sequence) - 1, 0)


def best_chain(sequence, order) -> int:
    """``find_best_chain_length`` of the authors' code: consecutive exact repeats of ``order`` in ``sequence``."""
    s, k, best = list(np.asarray(sequence)), len(order), 0
    for start in range(len(s)):
        n = 0
        while s[start + n * k: start + (n + 1) * k] == list(order):
            n += 1
        best = max(best, n)
    return best


def dwell_stats(dec: Decoded) -> dict[str, float]:
    """First dwell and mean/SD of the later dwells (the last decoded state is censored and excluded)."""
    d = dec.dwell_times
    first = float(d[0]) if d.size else math.nan
    rest = d[1:]
    return {"first": first, "mean": float(rest.mean()) if rest.size else math.nan,
            "sd": float(rest.std()) if rest.size else math.nan, "n": int(d.size)}


def dwell_prediction(alpha_s: float, alpha_c: float, beta_d: float, t_d: float) -> dict[str, float]:
    """PROPOSED dwell law of docs/gsemm.md §2.8 for DSEM (large N, hard softmax).

        r = sqrt(a_s) / (a_c b_d);  D = -T_d ln(1 - sqrt(r));  D_1 = -T_d ln(1 - r);  r >= 1: static (inf)

    Examples:
      >>> round(dwell_prediction(1.0, 2.0, 1.0, 20.0)["D"], 3)
      24.559
    """
    r = math.sqrt(alpha_s) / (alpha_c * beta_d) if alpha_c * beta_d > 0 else math.inf
    if r >= 1:
        return {"r": r, "D": math.inf, "D1": math.inf}
    return {"r": r, "D": -t_d * math.log(1 - math.sqrt(r)), "D1": -t_d * math.log(1 - r)}
