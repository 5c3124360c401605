"""Costs of a parameter pytree (issue 5 acceptance 1, 2; tradeoff.md §2.2, §7 checks 1–3)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.tradeoff import (
    compressed_bits,
    dequantize,
    empirical_entropy_bits,
    nonzeros,
    param_count,
    quantize,
    raw_bits,
    serialize,
)
from wavejax.tradeoff._cost import compress_sizes, compression_costs, packed_bits
from wavejax.tradeoff._rans import rans_bits, rans_decode, rans_encode


def _params(key, scale=1.0):
    k1, k2, k3 = jax.random.split(key, 3)
    return {"W": scale * jax.random.normal(k1, (17, 23), jnp.float32),
            "b": scale * jax.random.normal(k2, (23,), jnp.float32),
            "nested": {"U": scale * jax.random.uniform(k3, (5, 4, 3), jnp.float32, -2, 3)}}


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 8, 12, 16])
def test_quantiser_round_trip_within_half_step(bits, getkey):
    """Acceptance 1: |w − Δ·round(w/Δ)| <= Δ/2 elementwise, Δ = max|w| / (2^{b−1} − 1)."""
    p = _params(getkey(), scale=3.0)
    codes, scales = quantize(p, bits)
    deq = dequantize(codes, scales)
    for w, q, s, d in zip(*(jax.tree_util.tree_leaves(t) for t in (p, codes, scales, deq)), strict=True):
        w = np.asarray(w, np.float64)
        step = np.abs(w).max() / (2 ** (bits - 1) - 1)
        assert float(s) == pytest.approx(step, rel=1e-6)
        assert np.abs(np.asarray(q)).max() <= 2 ** (bits - 1) - 1  # codes fit in b signed bits
        # Δ/2 plus float32 rounding of w/Δ and of Δ·q (|w| <= max|w| = (2^{b-1}-1) Δ)
        assert np.all(np.abs(w - np.asarray(d, np.float64)) <= step / 2 + 4e-7 * np.abs(w).max())


def test_sign_quantiser_and_float32_identity(getkey):
    p = _params(getkey())
    codes, scales = quantize(p, 1)
    for w, q, s in zip(*(jax.tree_util.tree_leaves(t) for t in (p, codes, scales)), strict=True):
        assert set(np.unique(np.asarray(q))) <= {-1, 1}
        assert float(s) == pytest.approx(float(np.abs(np.asarray(w)).mean()), rel=1e-5)
    _, deq32 = compressed_bits(p, 32)
    for w, d in zip(jax.tree_util.tree_leaves(p), jax.tree_util.tree_leaves(deq32), strict=True):
        np.testing.assert_array_equal(np.asarray(w), np.asarray(d))  # b = 32 is the float32 tensor itself


def test_32_bits_reproduces_the_float_loss_exactly(getkey):
    """Acceptance 1 (second half): the b = 32 dequantised model has bit-identical loss (and outputs)."""
    from wavejax.rnn import Elman

    m = Elman(hidden=6, d_out=2)
    x = jax.random.normal(getkey(), (3, 20, 2), jnp.float32)
    p = m.init(getkey(), x)["params"]
    _, deq = compressed_bits(p, 32)
    y, yq = m.apply({"params": p}, x), m.apply({"params": deq}, x)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(yq))
    assert float(jnp.mean((y - x) ** 2)) == float(jnp.mean((yq - x) ** 2))


def test_all_zero_params_compress_below_one_percent():
    """Acceptance 2: an all-zero pytree compresses to < 1 % of its raw float32 size."""
    p = {"a": jnp.zeros((128, 128), jnp.float32), "b": jnp.zeros((64,), jnp.float32)}
    for bits in (2, 8, 16, 32):
        c, deq = compressed_bits(p, bits)
        assert c < 0.01 * raw_bits(p), (bits, c)
        assert nonzeros(deq) == 0


def test_iid_float32_gaussian_stays_incompressible(getkey):
    """Acceptance 2: iid float32 Gaussian weights keep >= 90 % of their raw size."""
    p = {"w": jax.random.normal(getkey(), (96, 96), jnp.float32)}
    c, _ = compressed_bits(p, 32)
    assert 0.9 * raw_bits(p) <= c <= raw_bits(p)  # "stored" caps the cost at the raw size
    assert raw_bits(p) == 32 * param_count(p) == 32 * 96 * 96


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 6, 8, 12])
def test_iid_codes_compress_near_the_empirical_entropy(bits, getkey):
    """Acceptance 2: for iid b-bit quantised Gaussian codes the cost is within +15 % of the empirical-entropy
    bound N·Ĥ(q) and never below it (measured: +0.7 % to +11 %). LZMA alone meets +15 % only for b >= 5 (+19 %
    at b = 4, +48 % at b = 2, where Ĥ ≈ 0.36 bit/code and LZMA's byte-literal coder cannot get near it); the
    rANS coder closes that gap.

    The bound is on the codes only: the per-tensor scale (32 bits) is subtracted.
    """
    p = {"w": jax.random.normal(getkey(), (20000,), jnp.float32)}
    codes, scales = quantize(p, bits)
    H = empirical_entropy_bits(codes)
    sizes, _ = compression_costs(p, bits)
    best_codes = sizes["best"] - 32
    assert H <= best_codes <= 1.15 * H, (bits, H, sizes)
    if bits >= 5:
        assert H <= sizes["lzma"] - 32 <= 1.15 * H, (bits, H, sizes["lzma"])


def test_rans_is_lossless_and_above_entropy(getkey):
    q = np.asarray(jax.random.categorical(getkey(), jnp.log(jnp.array([0.6, 0.25, 0.1, 0.05])), shape=(5000,)))
    q = q.astype(np.int64) - 2
    lo, f, stream = rans_encode(q)
    np.testing.assert_array_equal(rans_decode(lo, f, stream, q.size), q)
    _, counts = np.unique(q, return_counts=True)
    H = float(-(counts * np.log2(counts / q.size)).sum())
    assert H <= 8 * len(stream) <= 1.01 * H + 64
    assert rans_bits(q) >= 8 * len(stream)


def test_cost_grows_with_bits_for_fine_quantisers(getkey):
    """tradeoff.md §7 check 3 on a smooth-ish model: cost is non-decreasing in b for b >= 2."""
    p = _params(getkey())
    costs = [compressed_bits(p, b)[0] for b in (2, 3, 4, 5, 6, 8, 12, 16)]
    assert all(a <= b for a, b in zip(costs, costs[1:], strict=False)), costs


def test_pruning_zeros_the_smallest_entries(getkey):
    p = {"w": jax.random.normal(getkey(), (10, 10), jnp.float32)}
    codes, scales = quantize(p, 32, sparsity=0.3)
    d = np.asarray(dequantize(codes, scales)["w"]).ravel()
    w = np.asarray(p["w"]).ravel()
    assert (d == 0).sum() == 30
    assert np.abs(w[d == 0]).max() <= np.abs(w[d != 0]).min()


def test_serialisation_is_deterministic_and_order_fixed(getkey):
    p = _params(getkey())
    c1, s1 = quantize(p, 8)
    reordered = {"nested": p["nested"], "b": p["b"], "W": p["W"]}
    c2, s2 = quantize(reordered, 8)
    assert serialize(c1, s1, 8) == serialize(c2, s2, 8)
    assert compressed_bits(p, 8)[0] == compressed_bits(reordered, 8)[0]


def test_bad_input_errors():
    p = {"w": jnp.ones((3,))}
    with pytest.raises(ValueError, match="bits"):
        compressed_bits(p, 20)
    with pytest.raises(ValueError, match="bits"):
        compressed_bits(p, 0)
    with pytest.raises(ValueError, match="sparsity"):
        compressed_bits(p, 8, sparsity=1.0)
    with pytest.raises(TypeError, match="params leaf"):
        quantize({"w": np.array(["a"])}, 8)


@pytest.mark.parametrize("bits", [1, 2, 4, 16])
def test_8bit_log_scales_lie_on_the_grid_and_bound_the_error(bits, getkey):
    """scale_bits=8: every Δ is 2^(k/8 − 8) for an int8 k, Δ >= the float32 quantiser's Δ and < 2^(1/8) of it
    (rounded up, b >= 2; b = 1 rounds to the nearest grid value), codes stay in the b-bit range, the round trip
    is within Δ/2, and the serialisation holds one byte per scale: 3 bytes fewer per tensor than float32."""
    p = _params(getkey())
    codes, scales = quantize(p, bits, scale_bits=8)
    codes32, scales32 = quantize(p, bits)
    for q, s, s32, w in zip(*(jax.tree_util.tree_leaves(t) for t in (codes, scales, scales32, p)), strict=True):
        k = round(8 * np.log2(float(s)) + 64)
        assert -128 <= k <= 127 and s == np.float32(2.0 ** ((k - 64) / 8))  # the grid value, float32-rounded
        ratio = float(s) / float(s32)
        assert (2 ** (-1 / 16) <= ratio <= 2 ** (1 / 16)) if bits == 1 else (1 <= ratio < 2 ** (1 / 8))
        if bits >= 2:
            assert np.abs(q).max() <= 2 ** (bits - 1) - 1
            assert np.abs(np.asarray(w, np.float64) - float(s) * q).max() <= float(s) / 2 * (1 + 1e-6)
    n_leaves = len(jax.tree_util.tree_leaves(p))
    assert len(serialize(codes, scales, bits)) - len(serialize(codes, scales, bits, scale_bits=8)) == 3 * n_leaves
    with pytest.raises(ValueError, match="grid"):
        serialize(codes32, scales32, bits, scale_bits=8)
    with pytest.raises(ValueError, match="scale_bits"):
        quantize(p, bits, scale_bits=16)


def test_packed_code_length_and_scale32_comparison(getkey):
    """The b-bit packed code costs Σ (scale_bits + n·b) (b = 1 with a pruned zero: 2 bits a code); at
    scale_bits=8 ``best_scale32`` is the cost of the same θ̃ with float32 scales (hand-counted here)."""
    p = {"a": jnp.arange(1.0, 7.0).reshape(2, 3), "b": jnp.array([0.5, -0.25])}
    codes, _ = quantize(p, 3)
    assert packed_bits(codes, 3) == (32 + 6 * 3) + (32 + 2 * 3)
    assert packed_bits(codes, 3, scale_bits=8) == (8 + 18) + (8 + 6)
    assert packed_bits(quantize(p, 1)[0], 1) == 64 + 8  # no zero codes: 1 bit each
    assert packed_bits(quantize(p, 1, 0.5)[0], 1) == 64 + 2 * 8  # pruned zeros: 2 bits each
    sizes, deq = compression_costs(p, 3, scale_bits=8)
    assert sizes["packed"] == 40 and sizes["best"] == min(v for k, v in sizes.items() if k != "best_scale32")
    c8, s8 = quantize(p, 3, scale_bits=8)
    assert sizes["best_scale32"] == min(compress_sizes(c8, s8, 3).values())
    np.testing.assert_array_equal(deq["a"], np.asarray(dequantize(c8, s8)["a"]))
    with pytest.raises(ValueError, match="bits"):
        packed_bits(codes, 32)
