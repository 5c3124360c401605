"""A static rANS entropy coder for integer codes (Duda 2013, "Asymmetric numeral systems").

The encoder quantises the empirical symbol counts to frequencies f_s summing to M = 2^16 (every present symbol
gets f_s >= 1), writes a header (minimum symbol, range, Elias-gamma coded f_s + 1 for every value in the range)
and then the byte-renormalised rANS stream of the symbols. The stream length is

    Σ_i log2(M / f_{q_i}) + O(32) bits  >=  N·Ĥ(q)     (Gibbs' inequality: the empirical distribution minimises
                                                         the cross-entropy, so no quantised table beats N·Ĥ).

``rans_encode``/``rans_decode`` are exact inverses (tested); ``rans_bits`` is the length of the encoded message.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rans_encode", "rans_decode", "rans_bits"]

_SCALE = 16  # log2 M
_M = 1 << _SCALE
_L = 1 << 23  # lower end of the normalised state interval [L, 256 L)


def _frequencies(counts: np.ndarray) -> np.ndarray:
    """Quantise counts (> 0 where present) to integer frequencies summing to M, each present one >= 1."""
    present = counts > 0
    f = np.where(present, np.maximum(1, np.floor(counts / counts.sum() * _M)), 0).astype(np.int64)
    diff = _M - int(f.sum())
    order = np.argsort(-counts, kind="stable")
    i = 0
    while diff != 0:  # give/take the remainder on the most frequent symbols (keeping each >= 1)
        s = order[i % int(present.sum())]
        if diff > 0:
            f[s] += 1
            diff -= 1
        elif f[s] > 1:
            f[s] -= 1
            diff += 1
        i += 1
    return f


def _gamma_bits(v: np.ndarray) -> int:
    """Total Elias-gamma length of the positive integers ``v``: 2·floor(log2 v) + 1 each."""
    return int((2 * np.floor(np.log2(v)) + 1).sum())


MAX_RANGE = 1 << 20  # largest symbol range (max - min + 1) of a table; 16-bit codes span at most 2^16 - 1


def _symbols(q) -> np.ndarray:
    """``q`` as a flat int64 array; ValueError (before any table is allocated) when it holds NaN/inf or
    non-integers, or spans more than :data:`MAX_RANGE` values (the table has one entry per value in the range)."""
    a = np.asarray(q)
    if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.bool_)):
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(f"q must hold integer symbols; got dtype {a.dtype}")
        if not np.isfinite(a).all():
            raise ValueError(f"q must be finite integer symbols; {int((~np.isfinite(a)).sum())} entries are NaN/inf")
        if np.any(a != np.round(a)):
            raise ValueError("q must hold integer symbols; got non-integer values")
    a = a.astype(np.int64).reshape(-1)
    if a.size and int(a.max()) - int(a.min()) >= MAX_RANGE:
        raise ValueError(f"q spans symbols {int(a.min())}..{int(a.max())}, more than {MAX_RANGE} values "
                         "(a table that large is not a code of quantised weights)")
    return a


def _table(q: np.ndarray) -> tuple[int, np.ndarray]:
    lo = int(q.min())
    counts = np.bincount(q - lo)
    return lo, _frequencies(counts)


def rans_encode(q: np.ndarray) -> tuple[int, np.ndarray, bytes]:
    """Encode integer symbols ``q`` (shape (N,)); returns ``(min symbol, frequencies, stream bytes)``."""
    q = _symbols(q)
    if q.size == 0:
        return 0, np.zeros(0, np.int64), b""
    lo, f = _table(q)
    cum = np.concatenate([[0], np.cumsum(f)[:-1]])
    fl, cl = f.tolist(), cum.tolist()
    out = bytearray()
    x = _L
    for s in (q - lo)[::-1].tolist():
        fs = fl[s]
        x_max = ((_L >> _SCALE) << 8) * fs
        while x >= x_max:
            out.append(x & 0xFF)
            x >>= 8
        x = (x // fs << _SCALE) + x % fs + cl[s]
    out += x.to_bytes(4, "little")
    return lo, f, bytes(out[::-1])


def rans_decode(lo: int, f: np.ndarray, stream: bytes, n: int) -> np.ndarray:
    """Invert :func:`rans_encode`: the ``n`` symbols."""
    if n == 0:
        return np.zeros(0, np.int64)
    cum = np.concatenate([[0], np.cumsum(f)])
    lookup = np.repeat(np.arange(f.size), f)  # slot -> symbol
    fl, cl, ll = f.tolist(), cum.tolist(), lookup.tolist()
    x = int.from_bytes(stream[:4], "big")
    pos = 4
    res = []
    for _ in range(n):
        slot = x & (_M - 1)
        s = ll[slot]
        res.append(s)
        x = fl[s] * (x >> _SCALE) + slot - cl[s]
        while x < _L and pos < len(stream):
            x = (x << 8) | stream[pos]
            pos += 1
    return np.asarray(res, np.int64) + lo


def rans_bits(q: np.ndarray) -> int:
    """Bits of the full rANS message: 64-bit header (min symbol, range), gamma-coded table, stream."""
    q = _symbols(q)
    if q.size == 0:
        return 64
    _, f, stream = rans_encode(q)
    return 64 + _gamma_bits(f + 1) + 8 * len(stream)
