"""Lattice storage, input modes, implementations and transformations (issue 2 acceptance 1, 5, 7, 8)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wavejax import tasks, wave

TASK_IDS = list(tasks.NAMED_TASKS.values())


def _boundaries(s, d, key):
    k1, k2, k3 = jax.random.split(key, 3)
    return {
        "linear": wave.linear_boundary(jax.random.normal(k1, (s, d, d))),
        "attention": wave.attention_boundary(jax.random.normal(k2, (4, d)), jax.random.normal(k3, (4, d)),
                                             jnp.eye(d)),
        "callable": _tanh_sum,
    }


def _tanh_sum(H):
    """A plain-function boundary (static for rollout: defined once so equal shapes reuse the compiled scan)."""
    return jnp.tanh(H.sum(axis=0))


@settings(max_examples=12, deadline=None)
@given(s=st.sampled_from([1, 3, 8]), d=st.sampled_from([1, 4]), seed=st.integers(0, 2**16),
       which=st.sampled_from(["linear", "attention", "callable"]), impl=st.sampled_from(["shift", "ring"]))
def test_shift_storage_is_bit_exact(s, d, seed, which, impl):
    """Acceptance 1: overwrite mode with inputs present, Hs[t][s-1-k] == xs[t-k] exactly, any boundary."""
    key = jax.random.key(seed)
    f = _boundaries(s, d, key)[which]
    T = 2 * s + 3
    xs = jax.random.normal(jax.random.fold_in(key, 1), (T, d))
    Hs = wave.rollout(f, jax.random.normal(jax.random.fold_in(key, 2), (s, d)), xs, impl=impl)
    chex.assert_shape(Hs, (T, s, d))
    Hs, xs = np.asarray(Hs), np.asarray(xs)
    for t in range(s - 1, T):
        for k in range(s):
            assert (Hs[t, s - 1 - k] == xs[t - k]).all()
    # x(t) is gone from the substrate after s more ticks (open end, no reflection)
    t = s - 1
    assert not any((Hs[t + s] == xs[t]).all(axis=1))


@pytest.mark.parametrize("task_id", TASK_IDS)
def test_ring_buffer_equals_shift_exactly(task_id):
    """Acceptance 7: the ring buffer and the reference shift agree bit for bit, masks and both modes."""
    f = wave.linear_boundary(tasks.binary_vb_task(task_id))
    xs = jax.random.normal(jax.random.key(3), (40, 8))
    mask = (jnp.arange(40) < 8) | (jnp.arange(40) == 21)
    for mode in wave.INPUT_MODES:
        a = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, input_mode=mode)
        b = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, input_mode=mode, impl="ring")
        chex.assert_trees_all_equal(a, b)
        c = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, input_mode=mode, impl="chunked")
        np.testing.assert_allclose(c, a, rtol=0, atol=1e-12)  # float64 products of exact +-1 maps


@pytest.mark.parametrize("chunk", [1, 5, 13, 100])
def test_chunked_any_chunk_size_matches_shift(chunk):
    """impl="chunked": chunk lengths below and above s, not dividing T, and above T give the reference.

    Inputs fall inside some chunks (reference scan there) and the T mod K remainder is a shorter chunk.
    """
    phi = tasks.binary_vb_task("mix_262676_189")
    f = wave.linear_boundary(phi)
    xs = jax.random.normal(jax.random.key(4), (37, 8))
    mask = (jnp.arange(37) < 8) | (jnp.arange(37) == 19) | (jnp.arange(37) == 36)
    ref = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, save="newest")
    got = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, impl="chunked", save="newest", chunk=chunk)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)  # float64, +-1 maps: products of exact values
    # a random dense AR in float32 agrees to rounding (the chunk operator holds products of powers of M)
    phi32 = 0.3 * jax.random.normal(jax.random.key(5), (6, 3, 3), jnp.float32)
    H0 = jax.random.normal(jax.random.key(6), (6, 3), jnp.float32)
    g = wave.linear_boundary(phi32)
    z = jnp.zeros((37, 3), jnp.float32)
    m0 = jnp.zeros((37,), bool)
    np.testing.assert_allclose(wave.rollout(g, H0, z, mask=m0, impl="chunked", save="newest", chunk=chunk),
                               wave.rollout(g, H0, z, mask=m0, save="newest"), rtol=1e-4, atol=1e-5)


def test_chunked_large_batch_path_exact_and_differentiable():
    """Under vmap with >= _BIG_BATCH sequences, input-free chunked rollouts are one big product: still equal to the
    reference (bit-exact for a +-1 task), with inputs or batched boundaries falling back to the chunk loop, and the
    gradient (taken through the chunk loop) equal to the reference gradient."""
    from wavejax.wave._lattice import _BIG_BATCH

    B, T = _BIG_BATCH, 20
    phi = tasks.binary_vb_task("mix_38637_145")
    f = wave.linear_boundary(phi)
    H0 = jax.random.normal(jax.random.key(7), (B, 8, 8))
    z = jnp.zeros((T, 8))

    def run(f, H, mask, impl):
        return wave.rollout(f, H, z, mask=mask, impl=impl, save="newest", chunk=8)

    for mask in (jnp.zeros((T,), bool), jnp.arange(T) == 3):  # autonomous (big product) / with an input
        ref = jax.vmap(lambda H, m=mask: run(f, H, m, "shift"))(H0)
        chex.assert_trees_all_equal(jax.vmap(lambda H, m=mask: run(f, H, m, "chunked"))(H0), ref)
    # a batch of boundaries (A batched as well) takes the per-sequence chunk loop
    As = jnp.stack([f.A, -f.A])
    out = jax.vmap(lambda A: jax.vmap(lambda H: run(wave.LinearBoundary(A=A), H, jnp.zeros((T,), bool),
                                                     "chunked"))(H0))(As)
    chex.assert_trees_all_equal(out[0], jax.vmap(lambda H: run(f, H, jnp.zeros((T,), bool), "shift"))(H0))

    def loss(A, impl):
        g = wave.LinearBoundary(A=A)
        return (jax.vmap(lambda H: run(g, H, jnp.zeros((T,), bool), impl))(H0) ** 2).sum()

    A = 0.3 * jax.random.normal(jax.random.key(8), (8, 8, 8))
    np.testing.assert_allclose(jax.grad(loss)(A, "chunked"), jax.grad(loss)(A, "shift"), rtol=1e-9, atol=1e-9)


def test_save_newest_matches_lattice():
    f = wave.linear_boundary(tasks.binary_vb_task("compose_copy"))
    xs = jax.random.normal(jax.random.key(0), (30, 8))
    mask = jnp.arange(30) < 8
    Hs = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask)
    for impl in ("shift", "ring", "chunked"):
        chex.assert_trees_all_equal(wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask, impl=impl, save="newest"),
                                    Hs[:, -1])


def test_jit_vmap_grad():
    """Acceptance 7: jit, vmap over a batch and grad through the rollout."""
    phi = tasks.binary_vb_task("mix_38637_145")
    f = wave.linear_boundary(phi)
    xs = jax.random.normal(jax.random.key(1), (5, 20, 8))
    mask = jnp.arange(20) < 8
    batched = jax.jit(jax.vmap(lambda x: wave.rollout(f, jnp.zeros((8, 8)), x, mask=mask)))(xs)
    loop = jnp.stack([wave.rollout(f, jnp.zeros((8, 8)), x, mask=mask) for x in xs])
    chex.assert_trees_all_equal(batched, loop)

    def loss(A):
        g = wave.LinearBoundary(A=A)
        return (wave.rollout(g, jnp.zeros((8, 8)), xs[0], mask=mask)[-1] ** 2).sum()

    A = jnp.asarray(phi[::-1])
    grad = jax.grad(loss)(A)
    eps = 1e-6  # central difference in float64: truncation O(eps^2), rounding O(1e-16 / eps)
    E = jnp.zeros_like(A).at[7, 0, 3].set(1.0)
    fd = (loss(A + eps * E) - loss(A - eps * E)) / (2 * eps)
    np.testing.assert_allclose(grad[7, 0, 3], fd, rtol=1e-6)

    # the ring buffer under jit + vmap + grad: same values, same gradient (sums of the same terms)
    ring = jax.jit(jax.vmap(lambda x: wave.rollout(f, jnp.zeros((8, 8)), x, mask=mask, impl="ring")))(xs)
    chex.assert_trees_all_equal(ring, batched)

    def loss_ring(A):
        return (wave.rollout(wave.LinearBoundary(A=A), jnp.zeros((8, 8)), xs[0], mask=mask, impl="ring")[-1] ** 2).sum()

    np.testing.assert_allclose(jax.grad(loss_ring)(A), grad, rtol=1e-12, atol=1e-12)


def test_vmap_over_boundary_parameters():
    """Boundaries are pytrees: vmap over a batch of linear boundaries equals a loop."""
    As = jax.random.normal(jax.random.key(2), (3, 4, 2, 2)) * 0.5
    xs = jax.random.normal(jax.random.key(3), (10, 2))
    mask = jnp.arange(10) < 4
    out = jax.vmap(lambda A: wave.rollout(wave.LinearBoundary(A=A), jnp.zeros((4, 2)), xs, mask=mask))(As)
    for i in range(3):
        ref = wave.rollout(wave.LinearBoundary(A=As[i]), jnp.zeros((4, 2)), xs, mask=mask)
        chex.assert_trees_all_close(out[i], ref)


@pytest.mark.parametrize("task", ["compose_copy", "mix_262676_189", "mix_38637_145"])
def test_input_mode_caveat(task):
    """Acceptance 5 (wave.md §2.4): add mode + LBC corrupts non-copy tasks; overwrite is exact.

    This is a documented property of additive input, not a bug: during the input phase the boundary already
    fires on a half-filled substrate whenever the task reads recent lags.
    """
    phi = tasks.binary_vb_task(task)
    f = wave.linear_boundary(phi)
    x, y, _ = tasks.task_batch(jax.random.key(0), phi, horizon=40, batch=16, dtype=jnp.float64)
    over = jax.vmap(lambda xi: wave.rollout(f, jnp.zeros((8, 8)), xi, mask=jnp.arange(48) < 8, input_mode="overwrite",
                                            save="newest"))(x)
    add = jax.vmap(lambda xi: wave.rollout(f, jnp.zeros((8, 8)), xi, mask=jnp.arange(48) < 8, input_mode="add",
                                           save="newest"))(x)
    out = slice(8, None)
    assert float(jnp.abs(over[:, out] - y[:, out]).max()) == 0.0
    err = float(jnp.abs(add[:, out] - y[:, out]).max())
    acc = float((jnp.sign(add[:, out]) == y[:, out]).mean())
    assert err >= 1.0 and acc < 0.9, (err, acc)


def test_add_mode_is_exact_for_repeat_copy():
    phi = tasks.binary_vb_task("repeat_copy")
    f = wave.linear_boundary(phi)
    x, y, _ = tasks.task_batch(jax.random.key(0), phi, horizon=40, batch=4, dtype=jnp.float64)
    add = jax.vmap(lambda xi: wave.rollout(f, jnp.zeros((8, 8)), xi, mask=jnp.arange(48) < 8, input_mode="add",
                                           save="newest"))(x)
    chex.assert_trees_all_equal(add[:, 8:], y[:, 8:])


def test_generator_targets():
    phi = tasks.binary_vb_task("repeat_copy")
    x, y, mask = tasks.task_batch(jax.random.key(5), phi, horizon=20, batch=3)
    chex.assert_shape([x, y], (3, 28, 8))
    assert x.dtype == jnp.float32 and set(np.unique(np.asarray(x[:, :8]))) == {-1.0, 1.0}
    assert (np.asarray(x[:, 8:]) == 0).all() and (np.asarray(y[:, :8]) == 0).all()
    for k in range(20):
        np.testing.assert_array_equal(y[:, 8 + k], x[:, k % 8])
    np.testing.assert_array_equal(mask, np.arange(28) >= 8)


def _bad(**kw):
    args = dict(f=lambda H: H[0], H0=jnp.zeros((4, 2)), xs=jnp.zeros((6, 2)))
    args.update(kw)
    return args


@pytest.mark.parametrize("kw,exc,match", [
    (dict(H0=jnp.zeros((4,))), ValueError, "H0"),
    (dict(H0=jnp.zeros((0, 2))), ValueError, "H0"),
    (dict(H0=jnp.zeros((4, 0)), xs=jnp.zeros((6, 0))), ValueError, "H0"),
    (dict(xs=jnp.zeros((6, 3))), ValueError, "xs"),
    (dict(mask=jnp.ones((5,), bool)), ValueError, "mask"),
    (dict(mask=jnp.ones((6,))), TypeError, "mask"),
    (dict(input_mode="bogus"), ValueError, "input_mode"),
    (dict(impl="bogus"), ValueError, "impl"),
    (dict(impl="chunked"), ValueError, "chunked"),
    (dict(chunk=0), ValueError, "chunk"),
    (dict(f=3), TypeError, "f must be callable"),
    (dict(f=lambda H: H), ValueError, "boundary f"),
    (dict(H0=jnp.full((4, 2), jnp.nan)), ValueError, "H0 must be finite"),
])
def test_bad_input(kw, exc, match, monkeypatch):
    """Acceptance 8: clear errors naming the argument, before any compile (the jitted core is never reached)."""
    from wavejax.wave import _lattice as lattice

    def _no_compile(*args, **kwargs):
        raise AssertionError("bad input reached the jitted rollout")

    monkeypatch.setattr(lattice, "_rollout", _no_compile)
    a = _bad(**kw)
    with pytest.raises(exc, match=match):
        wave.rollout(a.pop("f"), a.pop("H0"), a.pop("xs"), **a)


def test_boundary_constructors_validate():
    with pytest.raises(ValueError, match="phi"):
        wave.linear_boundary(jnp.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="phi"):
        wave.linear_boundary(jnp.full((3, 2, 2), jnp.nan))
    with pytest.raises(ValueError, match="k must have shape"):
        wave.attention_boundary(jnp.zeros((4, 2)), jnp.zeros((3, 2)), jnp.eye(2))
    with pytest.raises(ValueError, match="scale"):
        wave.attention_boundary(jnp.zeros((4, 2)), jnp.zeros((4, 2)), jnp.eye(2), scale="cube")
    with pytest.raises(ValueError, match="phi"):
        wave.lbc_matrix(np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="phi"):
        wave.lbc_matrix(np.zeros((0, 2, 2)))


@pytest.mark.parametrize("K", [1, 5, 64, 70])  # <= 64: straight-line build (foldable), > 64: the scan build
def test_chunk_operator_rows_are_powers_of_M(K):
    """G[k*d:(k+1)*d] = E_s^T M^(k+1): the newest row after k+1 ticks, for M = lbc_matrix(phi) (float64)."""
    from wavejax.wave._lattice import _chunk_operator

    rng = np.random.default_rng(3)
    s, d = 4, 3
    phi = rng.normal(size=(s, d, d)) / 3
    with jax.enable_x64(True):
        G = np.asarray(_chunk_operator(jnp.asarray(wave.linear_boundary(phi).A, jnp.float64), K))
    M = np.asarray(wave.lbc_matrix(phi), np.float64)
    assert G.shape == (K * d, s * d)
    P = np.eye(s * d)
    for k in range(K):
        P = M @ P
        np.testing.assert_allclose(G[k * d:(k + 1) * d], P[-d:], rtol=1e-9, atol=1e-12)


class LatticeVariants(chex.TestCase):
    """``rollout`` and ``step`` give the same (exact) lattice with and without an outer ``jax.jit``."""

    @chex.variants(with_jit=True, without_jit=True)
    def test_rollout_holds_the_last_s_inputs(self):
        s, d, T = 5, 3, 12
        xs = jax.random.normal(jax.random.key(0), (T, d))
        run = self.variant(lambda x: wave.rollout(_tanh_sum, jnp.zeros((s, d)), x, mask=jnp.ones((T,), bool)))
        Hs = np.asarray(run(xs))
        x = np.asarray(xs)
        for t in range(s - 1, T):  # overwrite mode with every input present: H_i(t) = x(t - s + 1 + i), exactly
            np.testing.assert_array_equal(Hs[t], x[t - s + 1:t + 1])

    @chex.variants(with_jit=True, without_jit=True)
    def test_step_shifts_and_writes_the_boundary(self):
        H = jnp.arange(12.0).reshape(4, 3)
        x = jnp.array([-1.0, 2.0, -3.0])
        over = self.variant(lambda H, x, m: wave.step(_tanh_sum, H, x, m, "overwrite"))
        add = self.variant(lambda H, x, m: wave.step(_tanh_sum, H, x, m, "add"))
        f = np.tanh(np.arange(12.0).reshape(4, 3).sum(axis=0))
        np.testing.assert_array_equal(np.asarray(over(H, x, True)), np.vstack([np.asarray(H)[1:], np.asarray(x)]))
        np.testing.assert_allclose(np.asarray(over(H, x, False)), np.vstack([np.asarray(H)[1:], f]), atol=1e-12)
        np.testing.assert_allclose(np.asarray(add(H, x, True)), np.vstack([np.asarray(H)[1:], f + np.asarray(x)]),
                                   atol=1e-12)


def test_rollout_core_traces_once_per_shape(monkeypatch):
    """New data of the same shapes reuses the compiled lattice (the jitted core is traced once)."""
    import equinox as eqx

    from wavejax.wave import _lattice as lattice

    core = eqx.filter_jit(chex.assert_max_traces(lattice._rollout.__wrapped__, n=1))
    monkeypatch.setattr(lattice, "_rollout", core)
    f = wave.linear_boundary(tasks.binary_vb_task("repeat_copy"))
    mask = jnp.arange(20) < 8
    for i in range(3):
        xs = jax.random.rademacher(jax.random.key(i), (20, 8), jnp.float64)
        Hs = wave.rollout(f, jnp.zeros((8, 8)), xs, mask=mask)
        # repeat copy: the value written at tick t is x(t mod 8); after tick 19 the rows hold ticks 12..19
        np.testing.assert_array_equal(np.asarray(Hs[-1]), np.asarray(xs)[np.arange(12, 20) % 8])


def test_rollout_mask_and_input_mode_are_keyword_only():
    f = wave.linear_boundary(tasks.binary_vb_task("compose_copy"))
    xs = jax.random.rademacher(jax.random.key(4), (20, 8), jnp.float64)
    mask = jnp.arange(20) < 8
    with pytest.raises(TypeError, match="positional"):
        wave.rollout(f, jnp.zeros((8, 8)), xs, mask, "add")
