"""The one sharding path (wavejax.distributed): padding round trip, and sharded == single-device results."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from helpers import run_multidevice

from wavejax.distributed import pad_leading, shard_leading, sweep_mesh, sweep_vmap, unpad_leading


def test_pad_unpad_round_trip():
    tree = {"a": jnp.arange(5.0), "b": jnp.arange(15.0).reshape(5, 3)}
    padded, n = pad_leading(tree, 4)
    assert n == 5 and padded["a"].shape == (8,) and padded["b"].shape == (8, 3)
    np.testing.assert_array_equal(padded["a"][5:], [4.0, 4.0, 4.0])  # padding repeats the last member
    back = unpad_leading(padded, n)
    np.testing.assert_array_equal(back["b"], tree["b"])


def test_single_device_is_a_no_op():
    tree = (jnp.ones((3, 2)),)
    out, n = shard_leading(tree, sweep_mesh())
    assert n == 3 and out[0] is tree[0]


def test_bad_trees_are_rejected():
    with pytest.raises(ValueError, match="leading"):
        shard_leading({"a": jnp.ones((3,)), "b": jnp.ones((4,))})
    with pytest.raises(ValueError, match="no array leaves"):
        shard_leading({})
    with pytest.raises(ValueError, match="multiple"):
        pad_leading(jnp.ones(3), 0)
    assert sweep_vmap(lambda a: 2 * a, sweep_mesh())(jnp.arange(3.0)).tolist() == [0.0, 2.0, 4.0]  # one device


@pytest.mark.multidevice
def test_sharded_vmap_equals_single_device():
    out = run_multidevice("""
        import jax, jax.numpy as jnp, numpy as np
        from wavejax.distributed import shard_leading, sweep_mesh, sweep_vmap, unpad_leading

        def member(p):  # a small nonlinear recurrence per sweep member
            def body(h, _):
                h = jnp.tanh(p["W"] @ h + p["b"])
                return h, h.sum()
            return jax.lax.scan(body, jnp.ones(6), None, length=50)[1]

        k = jax.random.split(jax.random.key(0), 2)
        tree = {"W": jax.random.normal(k[0], (7, 6, 6)) / 3, "b": jax.random.normal(k[1], (7, 6))}
        f = jax.jit(jax.vmap(member))
        ref = np.asarray(f(tree))
        sharded, n = shard_leading(tree)
        got = f(sharded)
        g = jax.jit(sweep_vmap(lambda p, s: member(p) * s, sweep_mesh(), in_axes=(0, None)))
        got2 = g(sharded, 2.0)  # shard_map path, a replicated scalar argument
        print(len(jax.devices()), n, len(got.sharding.device_set),
              bool(np.array_equal(np.asarray(unpad_leading(got, n)), ref)),
              bool(np.array_equal(np.asarray(unpad_leading(got2, n)), 2.0 * ref)))
    """)
    assert out.split() == ["4", "7", "4", "True", "True"]


def test_blocked_sweep_vmap_matches_vmap_and_checks_block():
    """``block``: lax.map over blocks of vmapped members gives the plain vmap's values (a replicated argument
    included); a slice that is not whole blocks, or a bad block, is refused."""
    W = jnp.asarray(np.random.default_rng(0).normal(size=(12, 5, 5)), jnp.float32)

    def member(w, v):
        return jnp.tanh(w @ v).sum(), w.trace()

    v = jnp.linspace(-1.0, 1.0, 5)
    ref = jax.vmap(member, in_axes=(0, None))(W, v)
    got = jax.jit(sweep_vmap(member, None, in_axes=(0, None), block=4))(W, v)
    assert got[0].shape == (12,) and got[1].shape == (12,)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-6)
    np.testing.assert_array_equal(got[1], ref[1])
    with pytest.raises(ValueError, match="multiple of block=5"):
        sweep_vmap(member, None, in_axes=(0, None), block=5)(W, v)
    with pytest.raises(ValueError, match="block"):
        sweep_vmap(member, None, block=0)
