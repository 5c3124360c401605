"""Costs of a trained parameter pytree (docs/tradeoff.md §2.2).

The lossy deterministic encoder E_b is a per-tensor symmetric uniform quantiser with optional magnitude pruning:

    Δ = max|w| / (2^{b-1} - 1),   q = round(w / Δ),   w̃ = Δ·q          (2 <= b <= 16)
    b = 1:  q = sign(w), Δ = mean|w| over the kept entries;   b = 32: the float32 tensor itself.

Scales: ``scale_bits=32`` stores each Δ as a float32 (4 bytes per tensor); ``scale_bits=8`` (log-domain scales)
rounds Δ up to the grid Δ = 2^(k/8 − 8), k ∈ {-128..127} an int8 (one byte per tensor; range 2^-24..2^7.9, steps
of 9 %), so no code leaves the b-bit range, and stores k. On a small model the float32 scales dominate the cost (a
width-1 Elman net has 7 parameters and 5 tensors: 160 bits of scales), so 8-bit scales are the fairer measure at
the cheap end; every 8-bit-scale model is also storable with float32 scales (2^(k/8 − 8) is a float32), which gives
both cost measures for the same θ̃.

The codes plus per-tensor scales are serialised deterministically (leaves in ``jax.tree_util`` order,
little-endian, the smallest integer dtype holding b bits) and compressed losslessly by LZMA (xz preset 9 extreme,
raw LZMA2 stream), zstd -19 and a static rANS entropy coder (:mod:`wavejax.tradeoff._rans`); the cost is

    C(θ̃) = 8·min_Z |Z(serialize(q))|   bits,    Z ∈ {LZMA, zstd, rANS, stored, b-bit packed},   c₀ = 0,

so a fixed decompressor reproduces θ̃ exactly and K(θ̃) <= C(θ̃) + O(1); the O(1) holds the decoder, the
architecture (shapes, tree structure) and the 3 bits naming Z, none of which depend on θ. "stored" bounds the
cost by the serialised size, which for b = 32 is exactly the raw N·32 bits (the unit scales are not stored).
"""

from __future__ import annotations

import lzma
from typing import Any

import jax
import numpy as np
import zstandard

from wavejax import _validate
from wavejax.tradeoff._rans import rans_bits

__all__ = ["SCALE_BITS", "quantize", "dequantize", "serialize", "compress_sizes", "packed_bits", "compressed_bits",
           "compression_costs",
           "param_count", "nonzeros", "raw_bits", "empirical_entropy_bits", "BITS_LADDER"]

BITS_LADDER = (1, 2, 3, 4, 5, 6, 8, 12, 16, 32)  # docs/tradeoff.md §4 step 4
SCALE_BITS = (32, 8)  # per-tensor scale storage: float32, or an int8 log-domain exponent k (Δ = 2^(k/8 − 8))
_K_MIN, _K_MAX, _K_STEPS, _K_OFF = -128, 127, 8, 64  # the 8-bit grid: Δ = 2^((k − _K_OFF)/_K_STEPS), k in int8
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def _lzma_filters(n: int) -> list[dict[str, int]]:
    """LZMA2 preset 9 extreme with the dictionary cut to the input (>= 4 KiB, a power of two): a raw stream has
    no header and no match reaches past the input, so the output is that of the 64 MiB preset, without its
    ~0.1 s of table set-up per call (tested: equal sizes on every serialised ladder blob)."""
    if n >= _LZMA_FILTERS[0].get("dict_size", 1 << 26):
        return _LZMA_FILTERS
    return [{**_LZMA_FILTERS[0], "dict_size": max(4096, 1 << max(0, int(n - 1).bit_length()))}]


def _check_bits(bits: Any) -> int:
    bits = _validate.positive_int("bits", bits)
    if not (bits <= 16 or bits == 32):
        raise ValueError(f"bits must be in 1..16 or 32 (float32, unquantised); got bits={bits}")
    return bits


def _leaf_name(path: Any) -> str:
    return jax.tree_util.keystr(path) or "[]"


def check_finite_params(name: str, params: Any) -> None:
    """Raise ``ValueError`` naming ``name`` and the leaf when a leaf of ``params`` is not a finite numeric array.

    Runs on the host before any quantisation or allocation: NaN/inf have no integer code (cast to int they become
    ±2^31, whose rANS table once took 16 GiB), so a diverged model has no compression cost.
    """
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        where = f"{name} leaf {_leaf_name(path)}"
        _validate.array(where, leaf)
        a = np.asarray(leaf)
        bad = int(a.size - np.count_nonzero(np.isfinite(a))) if np.issubdtype(a.dtype, np.inexact) else 0
        if bad:
            raise ValueError(f"{where} has {bad} non-finite (NaN/inf) entries; a diverged model has no "
                             "compression cost (mark it diverged instead of compressing it)")


def _check_codes(codes: Any, bits: int) -> None:
    """Codes must be finite and, below 32 bits, integers within the b-bit range (else the serialisation and the
    rANS table are garbage or huge)."""
    check_finite_params("codes", codes)
    if bits == 32:
        return
    lim = 1 if bits == 1 else 2 ** (bits - 1) - 1
    for path, q in jax.tree_util.tree_flatten_with_path(codes)[0]:
        a = np.asarray(q)
        if a.size and (np.any(a != np.round(a)) or np.abs(a).max() > lim):
            raise ValueError(f"codes leaf {_leaf_name(path)} must hold integers in [-{lim}, {lim}] at bits={bits}; "
                             f"got values in [{a.min()}, {a.max()}]")


def _check_scale_bits(scale_bits: Any) -> int:
    if scale_bits not in SCALE_BITS or isinstance(scale_bits, bool):
        raise ValueError(f"scale_bits must be one of {SCALE_BITS}; got scale_bits={scale_bits!r}")
    return int(scale_bits)


def _log_scale(target: float, *, up: bool) -> np.float32:
    """The 8-bit grid scale 2^(k/8 − 8) nearest ``target`` (``up``: the smallest grid value >= target), k clipped to
    int8; 0 maps to the smallest grid value."""
    if target <= 0:
        return _k_scale(_K_MIN)
    x = _K_STEPS * np.log2(float(target)) + _K_OFF
    k = int(np.ceil(x - 1e-9)) if up else int(np.round(x))
    k = min(max(k, _K_MIN), _K_MAX)
    if up and k < _K_MAX and _k_scale(k) < np.float32(target):  # guard the float32 rounding of 2^(k/8)
        k += 1
    return _k_scale(k)


def _k_scale(k: int) -> np.float32:
    return np.float32(2.0 ** ((k - _K_OFF) / _K_STEPS))


def scale_exponent(scale: Any) -> int:
    """k of an 8-bit grid scale Δ = 2^(k/8 − 8) (the byte stored by :func:`serialize` at ``scale_bits=8``)."""
    return int(np.round(_K_STEPS * np.log2(float(scale)) + _K_OFF))


def _prune(w: np.ndarray, sparsity: float) -> np.ndarray:
    """Zero the floor(s·n) smallest-magnitude entries of one tensor (ties broken by position)."""
    k = int(np.floor(sparsity * w.size))
    if k == 0:
        return w
    flat = w.reshape(-1).copy()
    flat[np.argsort(np.abs(flat), kind="stable")[:k]] = 0.0
    return flat.reshape(w.shape)


def _quantize_leaf(w: np.ndarray, *, bits: int, sparsity: float, scale_bits: int = 32
                   ) -> tuple[np.ndarray, np.ndarray]:
    # host-side float32 NumPy (the codes go to host compressors anyway; a jit per leaf shape costs seconds)
    w = _prune(np.asarray(w, np.float32), sparsity)
    if bits == 32:
        return w, np.float32(1.0)
    absw = np.abs(w)
    if bits == 1:
        kept = max(int(np.sum(absw > 0)), 1)
        scale = np.float32(np.sum(absw, dtype=np.float32) / np.float32(kept))
        if scale_bits == 8:
            scale = _log_scale(float(scale), up=False)
        return np.sign(w).astype(np.int32), scale
    qmax = 2 ** (bits - 1) - 1
    scale = np.float32(absw.max(initial=0.0) / np.float32(qmax)) if w.size else np.float32(0.0)
    if scale_bits == 8:
        scale = _log_scale(float(scale), up=True)
    safe = scale if scale > 0 else np.float32(1.0)
    return np.clip(np.round(w / safe), -qmax, qmax).astype(np.int32), scale


def quantize(params: Any, bits: int, sparsity: float = 0.0, *, scale_bits: int = 32) -> tuple[Any, Any]:
    """Quantise every leaf of ``params`` (docs/tradeoff.md §2.2, encoder E_b).

    Args:
      params: a pytree of float arrays (any shapes).
      bits: b in 1..16 (integer codes) or 32 (codes are the float32 values, scales 1).
      sparsity: fraction s in [0, 1) of each tensor's smallest-magnitude entries zeroed before quantising.
      scale_bits: 32 (Δ exact in float32) or 8 (Δ rounded up to the grid 2^(k/8 − 8); b = 1: to the nearest).

    Returns:
      ``(codes, scales)``: pytrees like ``params`` of NumPy arrays; codes int32 of the leaf's shape (float32
      when b = 32), scales float32 scalars Δ per leaf. Runs on the host in float32 (deterministic).

    Raises:
      ValueError: naming ``params`` and the leaf when a leaf holds NaN/inf (a diverged model has no cost).
    """
    bits = _check_bits(bits)
    scale_bits = _check_scale_bits(scale_bits)
    _validate.probability("sparsity", sparsity, closed_right=False)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    check_finite_params("params", params)
    out = [_quantize_leaf(np.asarray(leaf), bits=bits, sparsity=float(sparsity), scale_bits=scale_bits)
           for leaf in leaves]
    return (jax.tree_util.tree_unflatten(treedef, [c for c, _ in out]),
            jax.tree_util.tree_unflatten(treedef, [s for _, s in out]))


def dequantize(codes: Any, scales: Any) -> Any:
    """θ̃ = Δ·q leaf by leaf (float32 NumPy arrays); for b = 32 the codes are already the values."""
    check_finite_params("codes", codes)
    check_finite_params("scales", scales)
    return jax.tree_util.tree_map(lambda q, s: (np.asarray(q, np.float32) * np.float32(s)).astype(np.float32),
                                  codes, scales)


def _int_dtype(bits: int) -> np.dtype:
    return np.dtype("<i1") if bits <= 8 else np.dtype("<i2")


def serialize(codes: Any, scales: Any, bits: int, *, scale_bits: int = 32) -> bytes:
    """Deterministic bytes: per leaf the scale (float32, or at ``scale_bits=8`` its int8 exponent k) then the
    codes (int8/int16/float32, little-endian); for b = 32 only the float32 values (every scale is 1).

    Leaf order is ``jax.tree_util`` order (dict keys sorted), so equal pytrees give equal bytes. Shapes and the
    tree structure are the architecture description (c₀), known to the decoder and not serialised.
    """
    bits = _check_bits(bits)
    scale_bits = _check_scale_bits(scale_bits)
    _check_codes(codes, bits)
    check_finite_params("scales", scales)
    chunks = []
    for q, s in zip(jax.tree_util.tree_leaves(codes), jax.tree_util.tree_leaves(scales), strict=True):
        if bits != 32 and scale_bits == 8:
            k = scale_exponent(s)
            if not (_K_MIN <= k <= _K_MAX and _k_scale(k) == np.float32(s)):
                raise ValueError(f"scales must lie on the 8-bit grid 2^(k/8 - 8) for scale_bits=8; got {float(s)!r}")
            chunks.append(np.int8(k).tobytes())
        elif bits != 32:
            chunks.append(np.asarray(s, dtype="<f4").reshape(1).tobytes())
        dt = np.dtype("<f4") if bits == 32 else _int_dtype(bits)
        chunks.append(np.ascontiguousarray(np.asarray(q).astype(dt)).tobytes())
    return b"".join(chunks)


def compress_sizes(codes: Any, scales: Any, bits: int, *, scale_bits: int = 32) -> dict[str, int]:
    """Compressed size in bits of the serialised codes under each lossless compressor.

    Keys: ``"lzma"`` (raw LZMA2, preset 9 extreme), ``"zstd"`` (level 19), ``"rans"`` (static rANS over all
    integer codes plus ``scale_bits`` bits per scale and its frequency table; absent for b = 32), ``"raw"``
    (the serialised size: the "stored" option) and ``"packed"`` (absent for b = 32): every code in b bits,
    fixed length, plus the scales, Σ_leaves (scale_bits + n·b'), b' = b except b = 1 with a zero code (pruned
    entries: three values), where b' = 2 — the codes of a b-bit quantiser take at most 2^b − 1 values, so this
    is a lossless code whose length the decoder knows from b and the shapes.
    """
    blob = serialize(codes, scales, bits, scale_bits=scale_bits)
    out = {"raw": 8 * len(blob),
           "lzma": 8 * len(lzma.compress(blob, format=lzma.FORMAT_RAW, filters=_lzma_filters(len(blob)))),
           "zstd": 8 * len(zstandard.ZstdCompressor(level=19).compress(blob))}
    if bits != 32:
        leaves = jax.tree_util.tree_leaves(codes)
        allq = np.concatenate([np.asarray(q, np.int64).reshape(-1) for q in leaves]) if leaves else np.zeros(0)
        out["rans"] = rans_bits(allq) + int(scale_bits) * len(leaves)
        out["packed"] = packed_bits(codes, bits, scale_bits=scale_bits)
    return out


def packed_bits(codes: Any, bits: int, *, scale_bits: int = 32) -> int:
    """Σ_leaves (scale_bits + n_leaf·b'): the codes bit-packed at b' bits each (b' = 2 for a b = 1 leaf holding a
    zero code, else b) plus one scale per leaf (see :func:`compress_sizes`)."""
    bits, scale_bits = _check_bits(bits), _check_scale_bits(scale_bits)
    if bits == 32:
        raise ValueError("bits must be 1..16 for packed codes (b = 32 stores the float32 values)")
    total = 0
    for q in jax.tree_util.tree_leaves(codes):
        q = np.asarray(q)
        b_leaf = 2 if bits == 1 and q.size and not np.all(q != 0) else bits
        total += scale_bits + q.size * b_leaf
    return int(total)


def compressed_bits(params: Any, bits: int, sparsity: float = 0.0, *, scale_bits: int = 32) -> tuple[int, Any]:
    """Compression cost C(θ̃) in bits and the dequantised parameters θ̃ (docs/tradeoff.md §2.2).

        C(θ̃) = min(|LZMA|, |zstd|, |rANS|, |stored|)   bits   (<= 32 N at b = 32)

    Args:
      params: pytree of float arrays.
      bits: quantiser bits b (1..16, or 32 for the unquantised float32 tensors).
      sparsity: magnitude-pruning fraction s in [0, 1) applied per tensor before quantising.
      scale_bits: per-tensor scale storage, 32 (float32) or 8 (log-domain int8; see the module docstring).

    Returns:
      ``(cost_bits, dequantised_params)``; re-evaluate the model's loss on the second element.

    Examples:
      >>> import jax.numpy as jnp
      >>> c, p = compressed_bits({"w": jnp.zeros((64, 64))}, 8)
      >>> c < 0.01 * 64 * 64 * 32
      True
    """
    sizes, deq = compression_costs(params, bits, sparsity, scale_bits=scale_bits)
    return sizes["best"], deq


def compression_costs(params: Any, bits: int, sparsity: float = 0.0, *, scale_bits: int = 32
                      ) -> tuple[dict[str, int], Any]:
    """Like :func:`compressed_bits` but returns every compressor's size: ``({"lzma", "zstd", "rans", "raw",
    "best"}, dequantised_params)``; ``"best"`` = the smallest size, stored included (the cost C). At
    ``scale_bits=8`` it adds ``"best_scale32"``: the cost of the same θ̃ with its scales stored as float32."""
    codes, scales = quantize(params, bits, sparsity, scale_bits=scale_bits)
    sizes = compress_sizes(codes, scales, bits, scale_bits=scale_bits)
    sizes["best"] = int(min(sizes.values()))
    if scale_bits == 8:
        sizes["best_scale32"] = int(min(compress_sizes(codes, scales, bits, scale_bits=32).values()))
    return sizes, dequantize(codes, scales)


def param_count(params: Any) -> int:
    """N: the number of scalar parameters."""
    return int(sum(np.size(x) for x in jax.tree_util.tree_leaves(params)))


def nonzeros(params: Any) -> int:
    """The number of nonzero scalar parameters (``params`` must be finite)."""
    check_finite_params("params", params)
    return int(sum(np.count_nonzero(np.asarray(x)) for x in jax.tree_util.tree_leaves(params)))


def raw_bits(params: Any, bits: int = 32) -> int:
    """N·b: the uncompressed cost at b bits per parameter."""
    _validate.positive_int("bits", bits)
    return param_count(params) * int(bits)


def empirical_entropy_bits(codes: Any) -> float:
    """N·Ĥ(q): the empirical (zeroth-order) entropy bound of all integer codes together, in bits."""
    check_finite_params("codes", codes)
    q = np.concatenate([np.asarray(c).reshape(-1) for c in jax.tree_util.tree_leaves(codes)])
    _, counts = np.unique(q, return_counts=True)
    p = counts / q.size
    return float(-(counts * np.log2(p)).sum())
