"""Width packing (docs/tradeoff.md §4 step 3): several widths of one family trained as ONE vmapped engine program.

Every member of a pack is padded to the pack's largest width W with its extra units' weights at zero
(:func:`pad_params`), and the engine multiplies its gradient by its 0/1 unit mask, so the padded entries stay
exactly 0 and the width-w member computes the width-w model up to float32 summation order; :func:`unpad_params`
cuts the width-w block back out. A pack trains the same models as separate per-width groups (same member keys,
same inits), which is why packing is not part of the sweep's group keys.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate, io
from wavejax.tradeoff._data import TaskData, make_loss_fn
from wavejax.tradeoff._models import PACKABLE, _unit_spec, make_model

__all__ = ["train_packed", "pad_params", "unpad_params"]


class PackSpec(Protocol):
    """The fields of a sweep config that the packing reads (:class:`~wavejax.tradeoff.SweepConfig` has them); a
    protocol, so this module does not import the sweep that calls it."""

    seeds: int
    slots: int
    pack_members: int
    pack_widths: bool


def _map_named(fn, params):
    return jax.tree_util.tree_map_with_path(
        lambda path, a: fn(str(getattr(path[-1], "key", path[-1])), a), params)


def pad_params(family: str, params, width: int, to: int, *, lead: int = 0):
    """Zero-pad the params of a width-``width`` model of ``family`` to width ``to`` (unit blocks padded at their
    end, e.g. each LSTM gate separately). ``lead``: number of leading batch axes (e.g. 1 for a member axis)."""
    if to < width:
        raise ValueError(f"to={to} must be >= width={width}")

    def pad(name, a):
        spec = _unit_spec(family, name, a.ndim - lead)
        shape, widths = list(a.shape[:lead]), [(0, 0)] * lead
        for ax, blocks in enumerate(spec):
            n = a.shape[lead + ax]
            if blocks:
                shape += [blocks, n // blocks]
                widths += [(0, 0), (0, (to - width))]
            else:
                shape += [n]
                widths += [(0, 0)]
        b = jnp.pad(jnp.reshape(a, shape), widths)
        return jnp.reshape(b, a.shape[:lead] + tuple(
            (blocks * to if blocks else a.shape[lead + ax]) for ax, blocks in enumerate(spec)))

    return _map_named(pad, params)


def unpad_params(family: str, params, width: int, to: int, *, lead: int = 0):
    """Inverse of :func:`pad_params`: the width-``width`` block of params padded to width ``to``."""

    def cut(name, a):
        spec = _unit_spec(family, name, a.ndim - lead)
        shape, idx = list(a.shape[:lead]), [slice(None)] * lead
        for ax, blocks in enumerate(spec):
            n = a.shape[lead + ax]
            if blocks:
                if n != blocks * to:
                    raise ValueError(f"{name}: axis {ax} has {n} entries, expected {blocks * to}")
                shape += [blocks, to]
                idx += [slice(None), slice(0, width)]
            else:
                shape += [n]
                idx += [slice(None)]
        b = jnp.reshape(a, shape)[tuple(idx)]
        return jnp.reshape(b, a.shape[:lead] + tuple(
            (blocks * width if blocks else a.shape[lead + ax]) for ax, blocks in enumerate(spec)))

    return _map_named(cut, params)


def _packs(cfg: PackSpec, family: str, groups: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Split a family's unfinished (width, group key) list into packs trained as one program each: consecutive
    widths (ascending), at most ``cfg.pack_members // cfg.seeds`` widths per pack; one width per pack when packing
    is off or the family does not pack."""
    per = max(1, cfg.pack_members // cfg.seeds) if cfg.pack_widths and family in PACKABLE else 1
    groups = sorted(groups)
    return [groups[i:i + per] for i in range(0, len(groups), per)]


def _train_pack(cfg: PackSpec, family: str, pack: list[tuple[int, str]], task: TaskData, batch_fn: Callable,
                tcfg, root, out: Path):
    """Train the seeds of every (width, group key) of ``pack`` as one vmapped program; yields ``(width, gkey,
    params stacked over seeds (width-``width`` shapes), loss history (seeds, steps))`` per width.

    Member keys are those of the unpacked group, ``split(fold_in(root, group seed), seeds)``, and every member starts
    from the width-w model's own init (zero-padded), so a pack trains the same models as separate groups."""
    from wavejax.rnn import train

    def gseed(gkey):
        return int(gkey.rsplit("-", 1)[1][:7], 16)

    if len(pack) == 1:  # the plain group: the engine's own init from the group key
        (width, gkey), = pack
        model = make_model(family, width, task.d_in, slots=cfg.slots)
        res = train(model, batch_fn, tcfg, key=jax.random.fold_in(root, gseed(gkey)), n_members=cfg.seeds,
                    loss_fn=make_loss_fn(task), out=out / "groups" / gkey, desc=f"{family} w={width}")
        yield width, gkey, res.state.params, res.history["loss"]
        return
    keys = [jax.random.split(jax.random.fold_in(root, gseed(g)), cfg.seeds) for _, g in pack]
    pkey = f"{family}-pack-" + io.config_hash({"groups": [g for _, g in pack]})
    res = train_packed(family, [w for w, _ in pack], keys, batch_fn, tcfg, d_out=task.d_in, slots=cfg.slots,
                       loss_fn=make_loss_fn(task), out=out / "groups" / pkey)
    for (width, gkey), (params, loss) in zip(pack, res, strict=True):
        yield width, gkey, params, loss


def train_packed(family: str, widths: list[int], keys: list[jax.Array], batch_fn: Callable, tcfg, *, d_out: int,
                 slots: int = 8, loss_fn: Callable | None = None, out: str | Path | None = None
                 ) -> list[tuple[Any, np.ndarray]]:
    """Train several widths of one family as ONE vmapped engine program (width packing).

    Width ``widths[i]`` gets ``len(keys[i])`` members with member keys ``keys[i]``; every member starts from the
    width-w model's init ``init(split(key)[0])`` (what the engine gives an unpacked run with that key), zero-padded
    to W = max(widths) (:func:`pad_params`), and the engine multiplies its gradient by its
    0/1 unit mask (``train(init_params=..., grad_mask=...)``): the padded entries stay exactly 0 and the width-w
    member computes the width-w model up to float32 summation order.

    Returns:
      per width, ``(params stacked over its members with width-w shapes, loss history (members, steps))``.
    """
    from wavejax.rnn import masked_mse, train

    _validate.one_of("family", family, PACKABLE)
    if len(widths) != len(keys) or not widths:
        raise ValueError(f"need one key array per width; got {len(widths)} widths and {len(keys)} key arrays")
    W = max(widths)
    counts = tuple(len(k) for k in keys)
    allkeys = jnp.concatenate(keys)
    x0 = batch_fn(allkeys[0], 0)[0]
    init, mask = _pack_init_fn(family, tuple(widths), counts, d_out, slots, tuple(x0.shape), str(x0.dtype))(allkeys)
    res = train(make_model(family, W, d_out, slots=slots), batch_fn, tcfg, key=allkeys, n_members=len(allkeys),
                loss_fn=loss_fn or masked_mse, out=out, desc=f"{family} w={'/'.join(map(str, widths))}",
                init_params=init, grad_mask=mask)
    params = _unpack_fn(family, tuple(widths), counts)(res.state.params)
    outs, lo = [], 0
    for p, n in zip(params, counts, strict=True):
        outs.append((p, res.history["loss"][lo:lo + n]))
        lo += n
    return outs


@functools.lru_cache(maxsize=32)
def _pack_init_fn(family: str, widths: tuple[int, ...], counts: tuple[int, ...], d_out: int, slots: int,
                  x_shape: tuple[int, ...], x_dtype: str):
    """jit(keys -> (padded stacked init params, 0/1 unit masks)) of a pack (one program, not ~100 eager ops per
    width); ``x_shape``/``x_dtype``: the model input of the batches."""
    W = max(widths)
    x0 = jax.ShapeDtypeStruct(x_shape, jnp.dtype(x_dtype))

    def fn(keys):
        inits, masks, lo = [], [], 0
        for width, n in zip(widths, counts, strict=True):
            m_w = make_model(family, width, d_out, slots=slots)
            # lazy_init: the same params as init without tracing the forward pass (which cost seconds of compile)
            p = jax.vmap(lambda k, m_w=m_w: m_w.lazy_init(jax.random.split(k)[0], x0)["params"])(keys[lo:lo + n])
            lo += n
            inits.append(pad_params(family, p, width, W, lead=1))
            masks.append(pad_params(family, jax.tree_util.tree_map(jnp.ones_like, p), width, W, lead=1))
        cat = functools.partial(jax.tree_util.tree_map, lambda *a: jnp.concatenate(a))
        return cat(*inits), cat(*masks)

    return jax.jit(fn)


@functools.lru_cache(maxsize=32)
def _unpack_fn(family: str, widths: tuple[int, ...], counts: tuple[int, ...]):
    """jit(padded stacked params -> [width-w params stacked over that width's members, per width])."""
    W = max(widths)

    def fn(params):
        outs, lo = [], 0
        for width, n in zip(widths, counts, strict=True):
            sub = jax.tree_util.tree_map(lambda a, lo=lo, n=n: a[lo:lo + n], params)
            outs.append(unpad_params(family, sub, width, W, lead=1))
            lo += n
        return outs

    return jax.jit(fn)
