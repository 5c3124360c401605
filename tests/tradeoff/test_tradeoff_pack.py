"""Width packing (issue 5 acceptance 9): several widths of one family trained as ONE vmapped program.

Every member of a pack is zero-padded to the pack's largest width and its gradient is multiplied by a 0/1 unit
mask (the engine's ``train(init_params=..., grad_mask=...)``), so the width-w member is the width-w model up to
float32 summation order: same loss curves and final params as the unpacked per-width groups, and the padded
entries stay exactly 0.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import wavejax.rnn
from wavejax.rnn import Elman, TrainConfig, train
from wavejax.tradeoff import SweepConfig, make_model, make_task
from wavejax.tradeoff._data import make_batch_fn
from wavejax.tradeoff._models import PACKABLE
from wavejax.tradeoff._pack import _packs, _train_pack, pad_params, unpad_params
from wavejax.tradeoff._sweep import _group_key

# float32 tolerance for packed vs unpacked (the padded zeros change XLA's summation order only)
RTOL, ATOL = 1e-4, 1e-5


def _toy_batch(key, level):
    x = jax.random.normal(key, (8, 5, 3), jnp.float32)
    return x, x[..., :2], jnp.ones((5,), bool)


def test_engine_init_params_and_grad_mask_hooks():
    """init_params equal to the engine's own init gives identical bits; masked zero entries stay exactly 0 under
    Adam + coupled L2 while unmasked ones train; the default (no hooks) is unchanged."""
    cfg = TrainConfig(steps=20, chunk=10, log_every=10, ckpt_every=0, n_levels=1, l2=1e-2)
    model = Elman(hidden=4, d_out=2)
    keys = jax.random.split(jax.random.key(3), 2)
    ref = train(model, _toy_batch, cfg, key=keys, n_members=2)
    x0 = _toy_batch(keys[0], 0)[0]
    p0 = jax.vmap(lambda k: model.init(jax.random.split(k)[0], x0)["params"])(keys)
    same = train(model, _toy_batch, cfg, key=keys, n_members=2, init_params=p0)
    for a, b in zip(jax.tree.leaves(ref.state.params), jax.tree.leaves(same.state.params), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(ref.history["loss"], same.history["loss"])
    mask = jax.tree.map(lambda a: jnp.ones_like(a).at[:, -1].set(0.0), p0)  # freeze row/unit 3 of every leaf
    p0z = jax.tree.map(lambda a, m: a * m, p0, mask)
    res = train(model, _toy_batch, cfg, key=keys, n_members=2, init_params=p0z, grad_mask=mask)
    for a, a0, m in zip(jax.tree.leaves(res.state.params), jax.tree.leaves(p0z), jax.tree.leaves(mask), strict=True):
        a, a0, m = np.asarray(a), np.asarray(a0), np.asarray(m)
        assert np.all(a[m == 0] == 0.0)
        assert np.any(a[m == 1] != a0[m == 1])
    with pytest.raises(ValueError, match="leading axis"):
        train(model, _toy_batch, cfg, key=keys, n_members=2, init_params=jax.tree.map(lambda a: a[0], p0))


@pytest.mark.parametrize("family", PACKABLE)
def test_pad_params_is_the_same_model(family):
    m, M = make_model(family, 3, 4), make_model(family, 7, 4)
    x = jax.random.normal(jax.random.key(1), (2, 9, 4), jnp.float32)
    p = m.init(jax.random.key(0), x)["params"]
    pp = pad_params(family, p, 3, 7)
    np.testing.assert_allclose(np.asarray(M.apply({"params": pp}, x)), np.asarray(m.apply({"params": p}, x)),
                               rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(unpad_params(family, pp, 3, 7)), jax.tree.leaves(p), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("family", PACKABLE)
def test_packed_group_equals_unpacked_groups(family, tmp_path, monkeypatch):
    """Packed widths (2, 5) of a family = the two per-width groups: loss curves and final params to rtol 1e-4 /
    atol 1e-5 (float32, 100 Adam steps), and the padded entries of the trained pack are exactly 0."""
    from wavejax.rnn import TrainConfig as TC

    cfg = SweepConfig(task="hmm", length=512, n_programs=8, families=(family,), widths=(2, 5), seeds=2,
                      steps=100, batch=16, window=16, burn=2, bits=(32,), sparsities=(0.0,))
    task = make_task(cfg.task, key=jax.random.fold_in(jax.random.key(cfg.seed), 0), length=cfg.length,
                     n_programs=cfg.n_programs)
    batch_fn = make_batch_fn(task, batch=cfg.batch, window=cfg.window, burn=cfg.burn)
    tcfg = cfg.train_config()
    assert tcfg == TC(steps=cfg.steps, lr=cfg.lr, n_levels=1, chunk=100, log_every=100, ckpt_every=0)
    root = jax.random.key(cfg.seed)
    groups = [(w, _group_key(cfg, family, w)) for w in cfg.widths]
    assert _packs(cfg, family, groups) == [groups]
    assert _packs(SweepConfig(pack_widths=False, families=(family,)), family, groups) == [[g] for g in groups]
    seen = []
    real = wavejax.rnn.train
    monkeypatch.setattr(wavejax.rnn, "train", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    packed = list(_train_pack(cfg, family, groups, task, batch_fn, tcfg, root, tmp_path / "p"))
    (raw,) = seen
    mask = raw.state  # the pack's padded params: entries outside each member's width are exactly zero
    for i, (w, _) in enumerate(groups):
        rows = slice(2 * i, 2 * i + 2)
        p_w = jax.tree.map(lambda a, rows=rows: a[rows], mask.params)
        ones = unpad_params(family, jax.tree.map(jnp.ones_like, p_w), w, 5, lead=1)
        keep = pad_params(family, ones, w, 5, lead=1)
        for a, k in zip(jax.tree.leaves(p_w), jax.tree.leaves(keep), strict=True):
            assert np.all(np.asarray(a)[np.asarray(k) == 0] == 0.0)
    for (w, g, params, loss), group in zip(packed, groups, strict=True):
        ((w1, g1, params1, loss1),) = list(_train_pack(cfg, family, [group], task, batch_fn, tcfg, root,
                                                      tmp_path / "u"))
        assert (w, g) == (w1, g1) and np.all(np.isfinite(loss))
        np.testing.assert_allclose(loss, loss1, rtol=RTOL, atol=ATOL)
        for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(params1), strict=True):
            assert a.shape == b.shape
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL)
