"""Trivial predictors that anchor the high-loss end of the frontier (docs/tradeoff.md §4 step 2).

Each returns a frontier point ``{"family", "width", "bits", "loss", "cost_bits", "n_params", ...}`` with the cost
measured exactly like a trained model's (the parameters are quantised and compressed; integer count tables are
lossless). Real-valued tasks use MSE; discrete tasks use log-loss in nats/step.

* last value      x̂_{t+1} = x_t                          (no parameters, cost 0 bits)
* global mean     x̂_{t+1} = mean of the training data     (one float32)
* n-gram (real)   x̂_{t+1} = E[x_{t+1} | bins of x_{t−n+1:t}], B quantile bins, table quantised at 8 bits
* n-gram (symbol) P(x_{t+1} = a | x_{t−n+1:t}) = (c + α) / (Σ c + Aα), integer count table (lossless)
"""

from __future__ import annotations

import lzma
from typing import Any

import numpy as np

from wavejax import _validate
from wavejax.tradeoff._cost import compressed_bits
from wavejax.tradeoff._rans import rans_bits

__all__ = ["last_value", "global_mean", "ngram_real", "ngram_symbols", "integer_table_bits", "trivial_points"]


def integer_table_bits(table: Any) -> int:
    """Lossless cost of a non-negative integer table: min(LZMA of the int32 bytes, rANS, stored int32) bits."""
    a = np.asarray(table)
    _validate.array("table", a)
    if a.size and (not np.isfinite(a).all() or np.any(a != np.round(a)) or a.min() < 0 or a.max() >= 2**31):
        raise ValueError("table must hold non-negative int32 integers (finite); got values in "
                         f"[{a.min()}, {a.max()}]")
    t = a.astype(np.int64).reshape(-1)
    lz = 8 * len(lzma.compress(t.astype("<i4").tobytes(), format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]))
    return min(lz, rans_bits(t), 32 * t.size)


def _point(name: str, loss: float, cost: int, n_params: int, **extra: Any) -> dict[str, Any]:
    return {"family": f"trivial:{name}", "width": 0, "seed": 0, "bits": 32, "sparsity": 0.0,
            "loss": float(loss), "cost_bits": int(cost), "n_params": int(n_params), **extra}


def _check_sequences(name: str, seqs: Any, n_symbols: int | None = None) -> None:
    """Every sequence of ``seqs`` finite (and, with ``n_symbols``, integers in [0, n_symbols)); a ValueError naming
    ``name`` and the sequence (a NaN in the data once surfaced as a non-finite compressed "params leaf")."""
    for i, x in enumerate(seqs):
        _validate.finite(f"{name}[{i}]", x)
        a = np.asarray(x)
        if n_symbols is not None and a.size and (np.any(a != np.round(a)) or a.min() < 0 or a.max() >= n_symbols):
            raise ValueError(f"{name}[{i}] must hold integer symbols in [0, {n_symbols}); got values in "
                             f"[{a.min()}, {a.max()}]")


def last_value(test: Any) -> dict[str, Any]:
    """MSE of x̂_{t+1} = x_t on the test sequences (list of 1-D arrays)."""
    _check_sequences("test", test)
    err = np.concatenate([np.diff(np.asarray(x, np.float64)) for x in test])
    return _point("last", float(np.mean(err**2)), 0, 0)


def global_mean(train: Any, test: Any) -> dict[str, Any]:
    """MSE of the training mean (one float32 parameter, compressed as a model would be)."""
    _check_sequences("train", train)
    _check_sequences("test", test)
    mu = np.float32(np.mean(np.concatenate([np.asarray(x) for x in train])))
    cost, deq = compressed_bits({"mu": np.asarray([mu])}, 32)
    mu_t = float(np.asarray(deq["mu"])[0])
    err = np.concatenate([np.asarray(x, np.float64)[1:] - mu_t for x in test])
    return _point("mean", float(np.mean(err**2)), cost, 1)


def _contexts(x: np.ndarray, n: int, B: int) -> np.ndarray:
    idx = np.zeros(x.size - n, np.int64)
    for j in range(n):
        idx = idx * B + x[j: x.size - n + j]
    return idx


def ngram_real(train: Any, test: Any, *, n: int = 2, n_bins: int = 8, bits: int = 8) -> dict[str, Any]:
    """MSE of the n-gram conditional-mean predictor over ``n_bins`` quantile bins of the training data."""
    _validate.positive_int("n", n)
    _validate.positive_int("n_bins", n_bins)
    _check_sequences("train", train)
    _check_sequences("test", test)
    allx = np.concatenate([np.asarray(x, np.float64) for x in train])
    edges = np.quantile(allx, np.linspace(0, 1, n_bins + 1)[1:-1])
    sums, cnt = np.zeros(n_bins**n), np.zeros(n_bins**n)
    for x in train:
        x = np.asarray(x, np.float64)
        c = _contexts(np.searchsorted(edges, x), n, n_bins)
        np.add.at(sums, c, x[n:])
        np.add.at(cnt, c, 1)
    table = np.where(cnt > 0, sums / np.maximum(cnt, 1), allx.mean()).astype(np.float32)
    cost, deq = compressed_bits({"table": table, "edges": edges.astype(np.float32)}, bits)
    tab, ed = np.asarray(deq["table"], np.float64), np.asarray(deq["edges"], np.float64)
    err = []
    for x in test:
        x = np.asarray(x, np.float64)
        err.append(tab[_contexts(np.searchsorted(ed, x), n, n_bins)] - x[n:])
    e = np.concatenate(err)
    return _point(f"{n}-gram", float(np.mean(e**2)), cost, table.size + edges.size, bits_table=bits)


def ngram_symbols(train: Any, test: Any, n_symbols: int, *, n: int = 2, alpha: float = 0.5) -> dict[str, Any]:
    """Log-loss (nats/step) of the add-α n-gram model over an alphabet of ``n_symbols``; cost = its counts."""
    A = _validate.positive_int("n_symbols", n_symbols)
    _validate.nonneg_int("n", n)
    _validate.positive("alpha", alpha)
    _check_sequences("train", train, A)
    _check_sequences("test", test, A)
    counts = np.zeros((A**n, A), np.int64)
    for x in train:
        x = np.asarray(x, np.int64)
        np.add.at(counts, (_contexts(x, n, A), x[n:]), 1)
    logp = np.log((counts + alpha) / (counts.sum(1, keepdims=True) + A * alpha))
    nll = np.concatenate([-logp[_contexts(np.asarray(x, np.int64), n, A), np.asarray(x, np.int64)[n:]]
                          for x in test])
    return _point(f"{n}-gram", float(nll.mean()), integer_table_bits(counts), counts.size)


def trivial_points(train: Any, test: Any, *, discrete: bool, n_symbols: int | None = None,
                   orders: tuple[int, ...] = (0, 1, 2, 3)) -> list[dict[str, Any]]:
    """All trivial anchors for one task: n-grams of the given orders, plus last value and mean if real."""
    if discrete:
        if n_symbols is None:
            raise ValueError("n_symbols is required for a discrete task")
        return [ngram_symbols(train, test, n_symbols, n=k) for k in orders]
    pts = [last_value(test), global_mean(train, test)]
    return pts + [ngram_real(train, test, n=k) for k in orders if k >= 1]
