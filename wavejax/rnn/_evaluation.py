"""The one evaluator of the sequence engine: mean loss / metric of (stacked) params over fresh batches.

:func:`evaluate` serves the engine's tests, EMT (per-member tasks through ``data=``) and the tradeoff sweep
(whole programs: a ``batch_fn`` that ignores its key, ``n_batches=1``, ``block=`` for device-count independent
bits).

Example:
  >>> import jax, jax.numpy as jnp
  >>> from wavejax.rnn import Elman, evaluate
  >>> model = Elman(hidden=4, d_out=1)
  >>> def batch_fn(key):
  ...     x = jax.random.normal(key, (8, 5, 1), jnp.float32)
  ...     return x, jnp.sign(x), jnp.ones((5,), bool)
  >>> keys = jax.random.split(jax.random.key(0), 3)
  >>> params = jax.vmap(lambda k: model.init(k, jnp.zeros((1, 5, 1)))["params"])(keys)
  >>> {k: v.shape for k, v in evaluate(model, params, batch_fn, key=jax.random.key(1), n_batches=2).items()}
  {'loss': (3,), 'accuracy': (3,)}
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from wavejax import _validate, distributed
from wavejax.rnn._metrics import masked_mse, sign_accuracy

__all__ = ["evaluate"]


def evaluate(model: Any, params: Any, batch_fn: Callable, *, key: Any, data: Any = None,
             loss_fn: Callable = masked_mse, metric_fn: Callable | None = sign_accuracy, n_batches: int = 10,
             stacked: bool | None = None, block: int | None = None) -> dict[str, np.ndarray]:
    """Mean ``loss_fn`` and ``metric_fn`` of ``model`` with ``params`` over ``n_batches`` fresh batches.

    Args:
      model: Flax module (B, T, d_in) -> (B, T, d_out).
      params: its params, or a stack of them with a leading member axis M.
      batch_fn: ``batch_fn(key) -> (x, y, mask)``, or ``batch_fn(key, data) -> (x, y, mask)`` when ``data`` is
        given. Batch b of every member uses ``split(key, n_batches)[b]``: all members see the same batches.
      key: PRNG key.
      data: optional pytree handed to ``batch_fn``; with stacked params its leaves carry the leading member axis
        M and member m gets ``data[m]`` (the convention of ``rnn.train``'s ``data=``, e.g. EMT's lag matrices
        of shape (M, s, d, d)); with unstacked params it is passed as it is.
      loss_fn, metric_fn: ``fn(pred, y, mask) -> scalar``; ``metric_fn=None`` skips ``"accuracy"``.
      n_batches: number of batches averaged (with 1 the single batch is evaluated directly, no loop).
      stacked: whether params carry the member axis; ``None`` infers it from the model's param shapes
        (``jax.eval_shape``, nothing is compiled).
      block: stacked only. Members are vmapped in fixed blocks of ``block`` with
        :func:`wavejax.distributed.sweep_vmap`, padded to whole blocks on every device and laid over all
        devices: the results are bit-identical for any device count. ``None``: one plain vmap on one device.

    Returns:
      ``{"loss": (M,), "accuracy": (M,)}`` NumPy arrays (0-d for unstacked params; no ``"accuracy"`` when
      ``metric_fn`` is None). One compiled function serves every call with the same
      (model, batch_fn, loss_fn, metric_fn, stacked, data given, block): reuse the same ``batch_fn`` object.
    """
    key = _validate.prng_key("key", key)
    n_batches = _validate.positive_int("n_batches", n_batches)
    _validate.callable_("batch_fn", batch_fn)
    _validate.callable_("loss_fn", loss_fn)
    if metric_fn is not None:
        _validate.callable_("metric_fn", metric_fn)
    if block is not None:
        _validate.positive_int("block", block)
    if not jax.tree.leaves(params):
        raise ValueError("params has no array leaves")
    if stacked is None:
        stacked = _infer_stacked(model, params, batch_fn, key, data)
    elif not isinstance(stacked, bool):
        raise TypeError(f"stacked must be a bool or None, got {stacked!r}")
    if block is not None and not stacked:
        raise ValueError("block needs stacked params (a leading member axis)")
    keys = jax.random.split(key, n_batches)
    if not stacked:
        fn = _evaluate_fn(model, batch_fn, loss_fn, metric_fn, False, data is not None, None, None)
        return _numpy(fn(params, keys, data))
    n = _members(params)
    if data is not None:
        _check_leading("data", data, n)
    if block is None:
        fn = _evaluate_fn(model, batch_fn, loss_fn, metric_fn, True, data is not None, None, None)
        return _numpy(fn(params, keys, data))
    mesh = distributed.sweep_mesh() if distributed.n_devices() > 1 else None
    per = (1 if mesh is None else mesh.devices.size) * block
    mapped = (params,) if data is None else (params, data)
    mapped, _ = distributed.pad_leading(mapped, per)
    if mesh is not None:
        mapped, _ = distributed.shard_leading(mapped, mesh)
    fn = _evaluate_fn(model, batch_fn, loss_fn, metric_fn, True, data is not None, block, mesh)
    res = fn(mapped[0], keys, mapped[1] if data is not None else None)
    return _numpy(distributed.unpad_leading(res, n))


def _numpy(res: dict) -> dict[str, np.ndarray]:
    res = distributed.to_host(res)  # the one host read: gathers members that live on other processes' devices
    return {k: res[k] for k in ("loss", "accuracy") if k in res}


def _members(params: Any) -> int:
    sizes = {a.shape[0] if a.ndim else None for a in jax.tree.leaves(params)}
    if len(sizes) != 1 or None in sizes:
        raise ValueError(f"stacked params must share one leading member axis; got leading sizes {sizes}")
    return sizes.pop()


def _check_leading(name: str, tree: Any, n: int) -> None:
    bad = [np.shape(a) for a in jax.tree.leaves(tree) if not np.ndim(a) or np.shape(a)[0] != n]
    if bad or not jax.tree.leaves(tree):
        raise ValueError(f"{name} leaves must have a leading member axis of {n} (the params'); got shapes {bad}")


def _param_shapes(model: Any, batch_fn: Callable, key: Any, data: Any) -> tuple[list, Any]:
    def init():
        x, _, _ = batch_fn(key) if data is None else batch_fn(key, data)
        return model.init(jax.random.key(0), x)["params"]

    leaves, tree = jax.tree.flatten(jax.eval_shape(init))
    return [tuple(s.shape) for s in leaves], tree


def _infer_stacked(model: Any, params: Any, batch_fn: Callable, key: Any, data: Any) -> bool:
    """Whether ``params`` are the model's params with one extra leading axis (shapes only, via eval_shape)."""
    leaves, tree = jax.tree.flatten(params)
    got = [tuple(np.shape(a)) for a in leaves]
    member0 = None if data is None else jax.tree.map(lambda a: a[0] if np.ndim(a) else a, data)
    for stacked, d in ((True, member0), (False, data)):
        try:
            want, want_tree = _param_shapes(model, batch_fn, key, d)
        except Exception:  # noqa: BLE001 -- a hypothesis whose data shapes batch_fn cannot take
            continue
        if want_tree != tree:
            raise ValueError(f"params do not have the tree structure of the model's params ({want_tree})")
        if stacked and all(len(g) == len(w) + 1 and g[1:] == w for g, w in zip(got, want, strict=True)):
            return True
        if not stacked and got == want:
            return False
    raise ValueError("cannot tell whether params are stacked: their shapes match neither the model's params "
                     "nor a stack of them; pass stacked= explicitly")


@functools.lru_cache(maxsize=64)
def _evaluate_fn(model: Any, batch_fn: Callable, loss_fn: Callable, metric_fn: Callable | None, stacked: bool,
                 has_data: bool, block: int | None, mesh: Any) -> Callable:
    """jit((params, keys, data) -> {"loss", "accuracy"} means), one per argument tuple (cached)."""

    def one(p, keys, d):
        def per(k):
            x, y, mask = batch_fn(k) if not has_data else batch_fn(k, d)
            pred = model.apply({"params": p}, x)
            res = {"loss": loss_fn(pred, y, mask)}
            if metric_fn is not None:
                res["accuracy"] = metric_fn(pred, y, mask)
            return res

        if keys.shape[0] == 1:  # one batch: no loop, the mean of one value is that value
            return per(keys[0])
        return jax.tree.map(lambda v: v.mean(), jax.lax.map(per, keys))

    if not stacked:
        return jax.jit(one)
    in_axes = (0, None, 0 if has_data else None)
    if block is None:
        return jax.jit(jax.vmap(one, in_axes=in_axes))
    return jax.jit(distributed.sweep_vmap(one, mesh, in_axes=in_axes, block=block))
