"""The compression ladder and its evaluation (tradeoff.md §2.2, §4 step 4): costs against the spec's formula with an
independent compressor call, the jitted cores (chex variants, one compile), a float32 smoke run, bad input."""

import lzma

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import zstandard

from wavejax.tradeoff import SweepConfig, _ladder, compressed_bits, make_model, make_task
from wavejax.tradeoff._analysis import usable_points
from wavejax.tradeoff._data import encode, make_batch_fn, make_loss_fn
from wavejax.tradeoff._ladder import evaluate_stack, ladder_points
from wavejax.tradeoff._pack import pad_params, unpad_params
from wavejax.tradeoff._rans import rans_bits

CFG = SweepConfig(task="hmm", length=300, n_programs=5, families=("elman",), widths=(3,), seeds=2, bits=(4, 32),
                  sparsities=(0.0,), steps=100, batch=8, window=16, burn=2)


@pytest.fixture(scope="module")
def task():
    return make_task("hmm", key=jax.random.key(5), length=CFG.length, n_programs=CFG.n_programs)


def _stack(model, task, n, seed=0):
    x = jnp.zeros((1, 4, task.d_in), jnp.float32)
    return jax.vmap(lambda k: model.init(k, x)["params"])(jax.random.split(jax.random.key(seed), n))


def test_ladder_costs_follow_the_spec_formula(task):
    """C = 8·|Z(serialize(q))| with Z the best of xz (preset 9 extreme, raw LZMA2), zstd -19, stored, rANS and the
    b-bit packed code (b < 32: 32 bits per scale + b per code); at b = 32
    serialize(q) is the float32 leaves little-endian in tree order, so the raw size is 32·N with N = H² + 2H·d
    for the bias-free Elman (H = 3, d = 3: N = 27)."""
    H, d = 3, task.d_in
    model = make_model("elman", H, d)
    params = _stack(model, task, 2)
    pts = ladder_points(model, params, task, CFG, family="elman", width=H, gkey="g")
    assert [(p["seed"], p["bits"]) for p in pts] == [(0, 4), (0, 32), (1, 4), (1, 32)]
    N = H * H + 2 * H * d
    for p in pts:
        m = jax.tree.map(lambda a, s=p["seed"]: np.asarray(a[s]), params)
        assert p["n_params"] == N and p["raw_bits"] == 32 * N and p["raw_bits_b"] == p["bits"] * N
        assert p["macs"] == N and p["state_bits"] == 32 * H and np.isfinite(p["loss"])
        if p["bits"] == 32:
            blob = b"".join(np.asarray(a, "<f4").tobytes() for a in jax.tree.leaves(m))
        else:  # per leaf: float32 scale Δ = max|w| / 7, then int8 codes round(w / Δ)
            parts = []
            for a in jax.tree.leaves(m):
                a = np.asarray(a, np.float32)
                delta = np.float32(np.abs(a).max() / np.float32(7))
                parts += [np.asarray([delta], "<f4").tobytes(), np.round(a / delta).astype("<i1").tobytes()]
            blob = b"".join(parts)
        xz = 8 * len(lzma.compress(blob, format=lzma.FORMAT_RAW,
                                   filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]))
        zs = 8 * len(zstandard.ZstdCompressor(level=19).compress(blob))
        assert p["sizes"]["raw"] == 8 * len(blob) == (32 * N if p["bits"] == 32 else 32 * 3 + 8 * N)
        assert (p["sizes"]["lzma"], p["sizes"]["zstd"]) == (xz, zs)
        packed = 32 * 3 + 4 * N if p["bits"] == 4 else None  # b-bit packed codes + 3 float32 scales
        assert p["sizes"].get("packed") == packed
        assert p["cost_bits"] == min(xz, zs, 8 * len(blob), p["sizes"].get("rans", xz), packed or xz)
        assert p["scale_bits"] == 32 and p["cost_bits_scale32"] == p["cost_bits"]


def test_evaluate_stack_traces_once_and_matches_a_loop(task, monkeypatch):
    """10 members in calls of 4 (the last padded): rnn.evaluate traces the loss once (one compile serves every
    call), and each loss equals the loss of that member evaluated alone (the vmapped block does not mix members)."""
    model = make_model("elman", 3, task.d_in)
    params = _stack(model, task, 10, seed=1)
    loss = chex.assert_max_traces(_ladder.make_eval_loss_fn(task), n=1)
    monkeypatch.setattr(_ladder, "make_eval_loss_fn", lambda t: loss)
    losses = evaluate_stack(model, params, task, burn=2, max_members=4)
    assert losses.shape == (10,) and losses.dtype == np.float64
    data = jnp.asarray(task.test)
    x, y = encode(data[:, :-1], task), encode(data[:, 1:], task)
    mask = jnp.arange(x.shape[1]) >= 2
    for i in (0, 9):
        p_i = jax.tree.map(lambda a, i=i: a[i], params)
        ref = float(_ladder.make_eval_loss_fn(task)(model.apply({"params": p_i}, x), y, mask))
        # float32 contractions vmapped or not sum in different orders (measured 1.4e-6 relative); a mixed-up
        # member is off by ~1e-2
        np.testing.assert_allclose(losses[i], ref, rtol=1e-5)
    chex.clear_trace_counter()


class LossVariants(chex.TestCase):
    """The masked cross-entropy core with and without jit against a NumPy reference; one trace per shape."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_masked_xent_matches_numpy(self):
        task = make_task("hmm", key=jax.random.key(0), length=300, n_programs=5)
        loss = make_loss_fn(task)
        pred = jax.random.normal(jax.random.key(1), (2, 6, 3), jnp.float32)
        y = jax.nn.one_hot(jnp.array([[0, 1, 2, 0, 1, 2], [2, 2, 1, 1, 0, 0]]), 3)
        mask = jnp.arange(6) >= 2
        got = float(self.variant(loss)(pred, y, mask))
        p = np.asarray(pred, np.float64)
        logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
        nll = -(np.asarray(y) * logp).sum(-1)[:, 2:]
        np.testing.assert_allclose(got, nll.mean(), rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_pad_unpad_round_trip(self):
        model = make_model("lstm", 3, 2)
        p = model.init(jax.random.key(0), jnp.zeros((1, 4, 2)))["params"]
        back = self.variant(lambda q: unpad_params("lstm", pad_params("lstm", q, 3, 5), 3, 5))(p)
        chex.assert_trees_all_equal(back, p)


def test_loss_core_traces_once_per_shape():
    task = make_task("hmm", key=jax.random.key(0), length=300, n_programs=5)
    fn = jax.jit(chex.assert_max_traces(make_loss_fn(task), n=1))
    bf = make_batch_fn(task, batch=4, window=8, burn=2)
    for k in range(3):  # new values, same shapes: no retrace
        x, y, mask = bf(jax.random.key(k), 0)
        assert np.isfinite(float(fn(x[..., :3] * 0.5, y, mask)))
    chex.clear_trace_counter()


def test_float32_smoke_without_64_bit_mode(task):
    """With 64-bit mode off: float32 batches, a ladder on a float32 model, finite float64 losses (host side)."""
    with jax.enable_x64(False):
        x, y, mask = make_batch_fn(task, batch=4, window=8, burn=2)(jax.random.key(0), 0)
        assert x.dtype == y.dtype == jnp.float32 and mask.dtype == jnp.bool_
        model = make_model("elman", 3, task.d_in)
        params = _stack(model, task, 2)
        assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(params))
        pts = ladder_points(model, params, task, CFG, family="elman", width=3, gkey="g32")
        assert len(pts) == 4 and all(np.isfinite(p["loss"]) for p in pts)


def test_nan_parameter_is_a_clear_error_not_an_allocation():
    """issue 14 item 2: a NaN weight used to allocate 16 GiB in the rANS table; now a ValueError naming the leaf,
    at every bits value (b = 32 too: a diverged model has no cost), raised before any allocation."""
    bad = {"w": np.array([1, np.nan], np.float32)}
    for b in (1, 8, 32):
        with pytest.raises(ValueError, match=r"params leaf \['w'\] has 1 non-finite"):
            compressed_bits(bad, b)
    with pytest.raises(ValueError, match="q must be finite"):
        rans_bits(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="q spans symbols"):  # the int32 cast of NaN: once a 16 GiB table
        rans_bits(np.array([0, -(2 ** 31)], np.int64))


def test_diverged_member_is_data_not_a_crash(task):
    """issue 14 item 2: a member with a NaN weight (or a non-finite final training loss) gets points marked
    diverged with no cost; the other member is compressed and evaluated as before (same points as alone)."""
    model = make_model("elman", 3, task.d_in)
    params = _stack(model, task, 2)
    poisoned = jax.tree.map(lambda a: a.at[0, 0].set(jnp.nan) if a.ndim == 3 else a, params)
    assert list(_ladder.member_diverged(poisoned)) == [True, False]
    assert list(_ladder.member_diverged(params, np.array([[1.0, 1.0], [1.0, np.inf]]))) == [False, True]
    pts = ladder_points(model, poisoned, task, CFG, family="elman", width=3, gkey="g")
    dead = [p for p in pts if p["seed"] == 0]
    assert len(dead) == 2 and all(p["diverged"] and p["loss"] is None and p["cost_bits"] is None for p in dead)
    assert usable_points(pts) == [p for p in pts if p["seed"] == 1]
    one = jax.tree.map(lambda a: a[1:], params)
    ref = ladder_points(model, one, task, CFG, family="elman", width=3, gkey="g")
    assert [(p["cost_bits"], p["loss"]) for p in pts if p["seed"] == 1] == [(p["cost_bits"], p["loss"]) for p in ref]


def test_sweep_goes_on_past_a_diverged_member(tmp_path, monkeypatch):
    """issue 14 item 2: the sweep checks each member for divergence BEFORE compressing; a member whose params
    went NaN (injected after training) is recorded diverged, the sweep finishes, and a rerun skips the group."""
    from wavejax.tradeoff import _sweep as sweep
    from wavejax.tradeoff import run_sweep

    real = sweep._train_pack

    def poisoned(*a, **k):
        for width, gkey, params, loss in real(*a, **k):
            params = jax.tree.map(lambda x: x.at[0].set(jnp.nan), params)  # member 0 diverged
            yield width, gkey, params, np.asarray(loss).copy()

    monkeypatch.setattr(sweep, "_train_pack", poisoned)
    res = run_sweep(CFG, tmp_path)
    pts = [p for p in sweep.load_points(tmp_path) if p["group"] != "trivial"]
    assert len(pts) == CFG.seeds * len(CFG.bits) and len(res["trained"]) == 1
    assert all(p.get("diverged") is True and p["cost_bits"] is None for p in pts if p["seed"] == 0)
    assert all(not p.get("diverged") and np.isfinite(p["loss"]) for p in pts if p["seed"] == 1)
    assert run_sweep(CFG, tmp_path)["trained"] == []


def test_vmapped_xent_is_per_member():
    """Regression: vmapping the log-loss over members with one replicated long target batch (3 programs of 4095
    steps, the full sweep's test split) gives each member its own loss. The former jnp.sum(m * nll) form was
    miscompiled by XLA on CPU: members 2–7 of a block of 8 got the loss of member 0 or 1 (numbers off by ~1e-2)."""
    task = make_task("hmm", key=jax.random.key(0), length=300, n_programs=5)
    loss = _ladder.make_eval_loss_fn(task)
    rng = np.random.default_rng(0)
    pred = jnp.asarray(rng.standard_normal((8, 3, 4095, 3)), jnp.float32)
    y = jax.nn.one_hot(jnp.asarray(rng.integers(0, 3, (3, 4095))), 3, dtype=jnp.float32)
    mask = jnp.arange(4095) >= 4
    got = np.asarray(jax.jit(jax.vmap(loss, in_axes=(0, None, None)))(pred, y, mask))
    p = np.asarray(pred, np.float64)
    logp = p - np.log(np.exp(p).sum(-1, keepdims=True))
    want = -(np.asarray(y, np.float64)[None] * logp).sum(-1)[:, :, 4:].mean(axis=(1, 2))
    np.testing.assert_allclose(got, want, rtol=1e-5)  # the bug was ~1e-2
