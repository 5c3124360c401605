"""Program-phase traces: a set-associative LRU cache model (JAX) over address streams of real kernels.

(docs/tradeoff.md §3: the paper's likely data are per-interval cache-miss-rate traces; none are public, so wavejax
generates them.) A program is a sequence of kernel segments (naive matmul, tiled matmul, merge sort, 2-D
5-point stencil, pointer chasing) with random sizes and dwell lengths; each segment repeats its kernel's address
stream until it has filled its dwell. The cache maps a byte address a to line ℓ = ⌊a / line⌋, set ℓ mod n_sets
and tag ⌊ℓ / n_sets⌋; a set holds ``ways`` tags and evicts the least recently used one. The trace is the
per-interval miss rate m_j = (misses in accesses jI .. (j+1)I − 1) / I.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate

__all__ = ["CacheConfig", "simulate_cache", "KERNELS", "kernel_addresses", "program_addresses",
           "program_trace", "program_traces"]

ELEM = 8  # bytes per array element (float64 / pointer)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """A set-associative LRU cache: capacity = n_sets · ways · line bytes."""

    n_sets: int = 32  # number of sets (power of two not required)
    ways: int = 4  # associativity
    line: int = 64  # line size in bytes

    def __post_init__(self):
        _validate.positive_int("n_sets", self.n_sets)
        _validate.positive_int("ways", self.ways)
        _validate.positive_int("line", self.line)


@functools.partial(jax.jit, static_argnames=("n_sets", "ways", "line"))
def _simulate(addrs, *, n_sets, ways, line):
    lines = addrs // line
    sets = (lines % n_sets).astype(jnp.int32)
    tags = lines // n_sets

    def step(state, inp):
        tag_arr, stamp = state
        t, s, tag = inp
        row = tag_arr[s]
        match = row == tag
        hit = jnp.any(match)
        way = jnp.where(hit, jnp.argmax(match), jnp.argmin(stamp[s]))  # LRU victim (empty ways have stamp -1)
        tag_arr = tag_arr.at[s, way].set(tag)
        stamp = stamp.at[s, way].set(t)
        return (tag_arr, stamp), hit

    init = (jnp.full((n_sets, ways), -1, tags.dtype), jnp.full((n_sets, ways), -1, jnp.int32))
    _, hits = jax.lax.scan(step, init, (jnp.arange(addrs.shape[0], dtype=jnp.int32), sets, tags))
    return hits


def simulate_cache(addrs: Any, cfg: CacheConfig = CacheConfig()) -> jax.Array:
    """Hit (True) / miss (False) of every access of a byte-address stream (shape (n,)), cold cache at start.

    Vectorise over programs of equal length with ``jax.vmap(lambda a: _simulate(a, ...))``; see
    :func:`program_traces`.
    """
    a = np.asarray(addrs)
    _validate.ndim("addrs", a, 1)
    if a.size and a.min() < 0:
        raise ValueError("addrs must be non-negative byte addresses")
    return _simulate(jnp.asarray(a, jnp.int32), n_sets=cfg.n_sets, ways=cfg.ways, line=cfg.line)


# ------------------------------------------------------------------------------------ kernel address streams
def _matmul_naive(n: int, rng: np.random.Generator) -> np.ndarray:
    i, j, k = (g.ravel() for g in np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij"))
    A, B = (i * n + k), n * n + (k * n + j)  # C[i, j] += A[i, k] B[k, j], row-major
    acc = np.stack([A, B], 1).reshape(-1)
    return acc * ELEM


def _matmul_tiled(n: int, rng: np.random.Generator, tile: int = 8) -> np.ndarray:
    out = []
    tile = min(tile, n)
    for i0 in range(0, n, tile):
        for j0 in range(0, n, tile):
            for k0 in range(0, n, tile):
                i, j, k = (g.ravel() for g in np.meshgrid(np.arange(i0, min(i0 + tile, n)),
                                                          np.arange(j0, min(j0 + tile, n)),
                                                          np.arange(k0, min(k0 + tile, n)), indexing="ij"))
                out.append(np.stack([i * n + k, n * n + k * n + j], 1).reshape(-1))
    return np.concatenate(out) * ELEM


def _merge_sort(n: int, rng: np.random.Generator) -> np.ndarray:
    """Bottom-up merge sort of random keys: the data-dependent sequence of reads and writes."""
    src, base_src, base_dst = list(rng.permutation(n)), 0, n
    acc: list[int] = []
    width = 1
    while width < n:
        dst = [0] * n
        for lo in range(0, n, 2 * width):
            mid, hi = min(lo + width, n), min(lo + 2 * width, n)
            a, b, o = lo, mid, lo
            while a < mid or b < hi:
                take_a = b >= hi or (a < mid and src[a] <= src[b])
                r = a if take_a else b
                acc += [base_src + r, base_dst + o]
                dst[o] = src[r]
                a, b, o = (a + 1, b, o + 1) if take_a else (a, b + 1, o + 1)
        src, base_src, base_dst, width = dst, base_dst, base_src, 2 * width
    return np.asarray(acc, np.int64) * ELEM


def _stencil(n: int, rng: np.random.Generator) -> np.ndarray:
    i, j = (g.ravel() for g in np.meshgrid(np.arange(1, n - 1), np.arange(1, n - 1), indexing="ij"))
    c = i * n + j
    acc = np.stack([c - n, c - 1, c, c + 1, c + n, n * n + c], 1).reshape(-1)  # 5 reads of A, write of B
    return acc * ELEM


def _pointer_chase(n: int, rng: np.random.Generator) -> np.ndarray:
    perm = rng.permutation(n)
    nxt = np.empty(n, np.int64)
    nxt[perm] = np.roll(perm, -1)  # one random cycle through all nodes
    node, out = perm[0], np.empty(n, np.int64)
    for t in range(n):
        out[t] = node
        node = nxt[node]
    return out * 64  # one 64-byte node per element


KERNELS = {"matmul_naive": _matmul_naive, "matmul_tiled": _matmul_tiled, "sort": _merge_sort,
           "stencil": _stencil, "pointer_chase": _pointer_chase}
_SIZES = {"matmul_naive": (8, 12, 16, 24, 32), "matmul_tiled": (16, 24, 32), "sort": (128, 256, 512, 1024),
          "stencil": (16, 24, 32, 48), "pointer_chase": (64, 256, 1024, 4096)}


def kernel_addresses(name: str, n: int, *, seed: int = 0) -> np.ndarray:
    """Byte-address stream (int64, shape (accesses,)) of one run of kernel ``name`` at size ``n``."""
    _validate.one_of("name", name, KERNELS)
    _validate.positive_int("n", n)
    return KERNELS[name](n, np.random.default_rng(seed))


def program_addresses(key: jax.Array, *, n_segments: int = 12, interval: int = 256, dwell=(8, 32),
                      kernels: tuple[str, ...] = tuple(KERNELS)) -> tuple[np.ndarray, np.ndarray]:
    """A program switching between kernels: (addresses (n_intervals·interval,), kernel id per interval).

    Segment j runs kernel k_j (uniform over ``kernels``, never the previous one) at a random size for
    d_j ~ U{dwell} intervals, repeating its stream; each segment gets its own base address region.
    """
    key = _validate.prng_key("key", key)
    _validate.positive_int("n_segments", n_segments)
    _validate.positive_int("interval", interval)
    for k in kernels:
        _validate.one_of("kernels", k, KERNELS)
    rng = np.random.default_rng(np.asarray(jax.random.randint(key, (), 0, 2**31 - 1)).item())
    addrs, labels, prev = [], [], -1
    for j in range(n_segments):
        choices = [i for i in range(len(kernels)) if i != prev or len(kernels) == 1]
        ki = int(rng.choice(choices))
        name = kernels[ki]
        n = int(rng.choice(_SIZES[name]))
        d = int(rng.integers(dwell[0], dwell[1] + 1))
        stream = kernel_addresses(name, n, seed=int(rng.integers(2**31)))
        reps = -(-d * interval // stream.size)
        seg = np.tile(stream, reps)[: d * interval] + (j % 4) * (1 << 22)  # 4 MiB apart
        addrs.append(seg)
        labels.append(np.full(d, KERNELS_ID[name], np.int32))
        prev = ki
    return np.concatenate(addrs), np.concatenate(labels)


KERNELS_ID = {k: i for i, k in enumerate(KERNELS)}


def program_trace(key: jax.Array, cfg: CacheConfig = CacheConfig(), *, interval: int = 256,
                  **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Per-interval miss-rate trace (float32, shape (n_intervals,)) and kernel labels of one program."""
    key = _validate.prng_key("key", key)
    addrs, labels = program_addresses(key, interval=interval, **kwargs)
    hits = np.asarray(simulate_cache(addrs, cfg))
    return (1.0 - hits.reshape(-1, interval).mean(1)).astype(np.float32), labels


def program_traces(key: jax.Array, n_programs: int, cfg: CacheConfig = CacheConfig(), *, interval: int = 256,
                   **kwargs) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``n_programs`` traces ``{"prog00": (miss_rate, labels), ...}``; the cache runs vmapped over programs."""
    key = _validate.prng_key("key", key)
    _validate.positive_int("n_programs", n_programs)
    progs = [program_addresses(k, interval=interval, **kwargs) for k in jax.random.split(key, n_programs)]
    L = max(a.size for a, _ in progs)
    pad = np.stack([np.pad(a, (0, L - a.size), mode="edge") for a, _ in progs])
    sim = jax.vmap(functools.partial(_simulate, n_sets=cfg.n_sets, ways=cfg.ways, line=cfg.line))
    hits = np.asarray(sim(jnp.asarray(pad, jnp.int32)))
    out = {}
    for p, ((a, lab), h) in enumerate(zip(progs, hits, strict=True)):
        m = 1.0 - h[: a.size].reshape(-1, interval).mean(1)
        out[f"prog{p:02d}"] = (m.astype(np.float32), lab)
    return out
