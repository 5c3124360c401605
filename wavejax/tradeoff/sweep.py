"""The architecture sweep as a resumable job (tradeoff.md §4 steps 3–4).

A sweep trains every (family, width) group of the model family with its seeds as the engine's vmapped member
axis (:func:`wavejax.rnn.train`) — by default several widths of one family at once as ONE vmapped program
("width packing", :func:`train_packed`; ``SweepConfig.pack_widths``/``pack_members``) — then runs the
compression ladder (b, s) on every trained member and evaluates all dequantised models of the group in one
vmapped call whose leading axis is sharded over a 1-D ``Mesh`` of all devices
(:func:`wavejax.distributed.shard_leading`). Every point is appended to ``<out>/points.jsonl`` as soon as it
exists (:func:`wavejax.io.append_jsonl`, one fsynced line), keyed by a hash of everything that determines it; a
rerun reads the file and skips every group whose points are all present, so a killed sweep loses at most the
group (or pack) in flight and never duplicates a point (a rerun packs only the unfinished widths).

Losses: log-loss in nats/step (one-hot symbol tasks) or MSE (real-valued tasks), averaged over the test programs
after a burn-in of ``burn`` steps, each test program run from h(0) = 0 over its whole length.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from wavejax import _validate, io
from wavejax.distributed import pad_leading, shard_leading, sweep_mesh, sweep_vmap, unpad_leading
from wavejax.tradeoff import cost as _cost
from wavejax.tradeoff.data import TASKS, TaskData, make_task
from wavejax.tradeoff.models import FAMILIES, PACKABLE, macs_per_step, make_model, pad_params, state_bits, unpad_params
from wavejax.tradeoff.predictors import trivial_points

__all__ = ["SweepConfig", "run_sweep", "make_batch_fn", "make_loss_fn", "evaluate_stack", "ladder_points",
           "group_key", "load_points", "task_summary", "train_packed"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepConfig:
    """A sweep: task, family × width ladder × seeds, compression ladder, training budget."""

    task: str = "hmm"  # "hmm" | "ar" | "cache" | "traces:<folder>" (data.py)
    length: int = 4096  # steps per program
    n_programs: int = 10  # programs, split 70/15/15 by program
    families: tuple[str, ...] = FAMILIES  # model families (models.py)
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)  # width ladder
    seeds: int = 3  # seeds per (family, width): the engine's vmapped member axis
    bits: tuple[int, ...] = _cost.BITS_LADDER  # quantiser bits b (32 = float32)
    sparsities: tuple[float, ...] = (0.0, 0.5, 0.9)  # magnitude-pruning fractions s
    steps: int = 3000  # optimizer steps (fixed cap for every model, §4 step 3)
    batch: int = 32  # sequences per batch
    window: int = 64  # training sequence length T
    burn: int = 8  # first steps of a sequence excluded from the loss (state warm-up)
    lr: float = 1e-2  # Adam learning rate (engine: clip 1, no decay)
    slots: int = 8  # s for the lattice families
    ckpt_every: int = 0  # engine checkpoints inside a group (0: a killed group restarts)
    seed: int = 0  # root PRNG seed (data and models)
    # width packing: train several widths of one family (PACKABLE) as ONE vmapped program, every member padded to
    # the pack's largest width with its extra units' weights at zero and their gradients masked (the width-w
    # member is the width-w model up to float summation order); at most pack_members members per program.
    # Does not change which models are trained (not part of the group keys).
    pack_widths: bool = True
    pack_members: int = 32

    def __post_init__(self):
        if self.task not in TASKS and not self.task.startswith("traces:"):
            raise ValueError(f"unknown task={self.task!r}; expected one of {TASKS} or 'traces:<folder>'")
        if not self.families or not self.widths or not self.bits or not self.sparsities:
            raise ValueError("families, widths, bits and sparsities must each hold at least one value")
        for f in self.families:
            _validate.one_of("families", f, FAMILIES)
        for w in self.widths:
            _validate.positive_int("widths", w)
        _validate.positive_int("seeds", self.seeds)
        for b in self.bits:
            _cost._check_bits(b)
        for s in self.sparsities:
            _validate.probability("sparsities", s, closed_right=False)
        for name in ("length", "n_programs", "steps", "batch", "window", "slots"):
            _validate.positive_int(name, getattr(self, name))
        _validate.nonneg_int("burn", self.burn)
        _validate.nonneg_int("ckpt_every", self.ckpt_every)
        _validate.positive_int("pack_members", self.pack_members)
        _validate.positive("lr", self.lr)
        if self.burn >= self.window:
            raise ValueError(f"burn must be < window; got burn={self.burn}, window={self.window}")
        chunk = min(self.steps, 100)
        if self.steps % chunk or self.ckpt_every % chunk:
            raise ValueError(f"steps and ckpt_every must be multiples of {chunk} (the engine's chunk); got "
                             f"steps={self.steps}, ckpt_every={self.ckpt_every}")

    @classmethod
    def quick(cls, task: str = "hmm") -> SweepConfig:  # tens of seconds on 2 CPU cores
        return cls(task=task, length=1024, n_programs=8, families=("elman", "lstm", "lattice"),
                   widths=(1, 2, 4, 8, 16), seeds=2, bits=(1, 2, 4, 8, 32), sparsities=(0.0,), steps=300,
                   window=32, burn=4)

    @classmethod
    def full(cls, task: str = "hmm") -> SweepConfig:  # the PROPOSED full sweep (§4), GPU hours
        return cls(task=task, length=8192, n_programs=20, widths=(1, 2, 4, 8, 16, 32, 64, 128, 256),
                   seeds=3, sparsities=(0.0, 0.5, 0.75, 0.9, 0.95), steps=20_000)


def group_key(cfg: SweepConfig, family: str, width: int) -> str:
    """Hash of everything that determines a group's trained models (not the compression ladder)."""
    fields = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("families", "widths", "bits",
                                                                            "sparsities", "ckpt_every",
                                                                            "pack_widths", "pack_members")}
    return f"{family}-w{width}-" + io.config_hash({**fields, "family": family, "width": width})


def _point_key(gkey: str, seed: int, bits: int, sparsity: float) -> str:
    return f"{gkey}|s{seed}|b{bits}|p{sparsity:g}"


# ----------------------------------------------------------------------------------------------- training
def _encode(seq: jax.Array, task: TaskData) -> jax.Array:
    if task.discrete:
        return jax.nn.one_hot(seq, task.n_symbols, dtype=jnp.float32)
    return seq.astype(jnp.float32)[..., None]


def make_batch_fn(task: TaskData, *, batch: int, window: int, burn: int) -> Callable:
    """``batch_fn(key, level) -> (x, y, mask)``: random windows of the train programs, shapes (B, T, d)."""
    tr = jnp.asarray(task.train)
    P, L = tr.shape
    if L <= window + 1:
        raise ValueError(f"window must be shorter than the programs; got window={window}, length={L}")

    def batch_fn(key, level):
        del level
        kp, ko = jax.random.split(key)
        p = jax.random.randint(kp, (batch,), 0, P)
        o = jax.random.randint(ko, (batch,), 0, L - window - 1)
        seq = tr[p[:, None], o[:, None] + jnp.arange(window + 1)[None, :]]
        return _encode(seq[:, :-1], task), _encode(seq[:, 1:], task), jnp.arange(window) >= burn

    return batch_fn


def _masked_xent(pred, y, mask):
    m = jnp.broadcast_to(mask[None, :] if mask.ndim == 1 else mask, pred.shape[:2]).astype(jnp.float32)
    nll = -jnp.sum(y * jax.nn.log_softmax(pred, axis=-1), axis=-1)
    return jnp.sum(m * nll) / jnp.maximum(jnp.sum(m), 1.0)


def make_loss_fn(task: TaskData) -> Callable:
    """Masked cross-entropy (nats/step; one-hot targets) for symbol tasks, masked MSE for real-valued ones."""
    from wavejax.rnn import masked_mse

    return _masked_xent if task.discrete else masked_mse


# -------------------------------------------------------------------------------------- sharded evaluation
EVAL_BLOCK = 8  # members vmapped together in the evaluation; fixed so that any device count gives the same bits


@functools.lru_cache(maxsize=32)
def _eval_fn(model, loss_fn: Callable, mesh: Mesh | None = None) -> Callable:
    """jit(vmap(params -> loss)) over the member axis in blocks of :data:`EVAL_BLOCK`, under ``shard_map`` on
    several devices (same bits as one device; :func:`wavejax.distributed.sweep_vmap`); cached per model so equal
    groups compile once."""
    return jax.jit(sweep_vmap(lambda p, x, y, mask: loss_fn(model.apply({"params": p}, x), y, mask), mesh,
                              in_axes=(0, None, None, None), block=EVAL_BLOCK))


def evaluate_stack(model, params: Any, task: TaskData, *, burn: int, split: str = "test",
                   max_members: int = 64) -> np.ndarray:
    """Loss of every member of a stacked params pytree (leading axis M) on the whole ``split`` programs.

    Each program is run from h(0) = 0 over its whole length; the loss averages steps t >= ``burn`` of all
    programs. The member axis is vmapped and laid over all devices by :func:`wavejax.distributed.shard_leading`
    (padded to whole blocks of :data:`EVAL_BLOCK` per device, padding dropped with
    :func:`~wavejax.distributed.unpad_leading`), in calls of at most ``max_members`` (the last one padded, so one
    compile serves all). The fixed block makes the losses bit-identical for any device count.

    Returns:
      float64 array of shape (M,); non-finite where a (dequantised) model diverges.
    """
    _validate.one_of("split", split, ("train", "val", "test"))
    _validate.positive_int("max_members", max_members)
    data = jnp.asarray(getattr(task, split))
    x, y = _encode(data[:, :-1], task), _encode(data[:, 1:], task)
    mask = jnp.arange(x.shape[1]) >= burn
    fn = _eval_fn(model, make_loss_fn(task), sweep_mesh() if jax.device_count() > 1 else None)
    M = int(jax.tree_util.tree_leaves(params)[0].shape[0])
    unit = EVAL_BLOCK * jax.device_count()  # every device gets whole blocks
    size = min(M, max_members)
    out = []
    for lo in range(0, M, size):
        block = jax.tree_util.tree_map(lambda a, lo=lo: jnp.asarray(a[lo:lo + size]), params)
        block, _ = pad_leading(block, size)  # the last block padded to ``size``: one compile serves all blocks
        block, n = pad_leading(block, -(-size // unit) * unit)
        sharded, _ = shard_leading(block)
        losses = unpad_leading(fn(sharded, x, y, mask), n)
        out.append(np.asarray(jax.device_get(losses), np.float64))
    return np.concatenate(out)[:M]


def ladder_points(model, params: Any, task: TaskData, cfg: SweepConfig, *, family: str, width: int,
                  gkey: str) -> list[dict[str, Any]]:
    """Quantise + compress every member of a stacked group at every (b, s) and evaluate them all at once."""
    M = int(jax.tree_util.tree_leaves(params)[0].shape[0])
    meta, deqs = [], []
    for m in range(M):
        p_m = jax.tree_util.tree_map(lambda a, m=m: np.asarray(a[m], np.float32), params)
        N = _cost.param_count(p_m)
        for b in cfg.bits:
            for s in cfg.sparsities:
                sizes, deq = _cost.compression_costs(p_m, b, s)
                deqs.append(deq)
                meta.append({"key": _point_key(gkey, m, b, s), "group": gkey, "task": cfg.task, "family": family,
                             "width": width, "seed": m, "bits": b, "sparsity": s, "cost_bits": sizes["best"],
                             "sizes": sizes, "n_params": N, "raw_bits": 32 * N, "raw_bits_b": b * N,
                             "nonzeros": _cost.nonzeros(deq),
                             "macs": macs_per_step(family, width, task.d_in, task.d_in, slots=cfg.slots),
                             "state_bits": state_bits(family, width, slots=cfg.slots)})
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *deqs)
    losses = evaluate_stack(model, stacked, task, burn=cfg.burn)
    for rec, loss in zip(meta, losses, strict=True):
        rec["loss"] = float(loss) if math.isfinite(float(loss)) else None  # None: diverged, kept off the frontier
    return meta


def task_summary(task: TaskData) -> dict[str, Any]:
    """What the frontier analysis needs about a task: name, discrete, floor, n_test_symbols, shapes."""
    return {"name": task.name, "discrete": task.discrete, "floor": task.floor, "n_symbols": task.n_symbols,
            "n_test_symbols": task.n_test_symbols, "train_shape": list(task.train.shape),
            "test_shape": list(task.test.shape)}


def load_points(out: str | Path) -> list[dict[str, Any]]:
    """The points recorded so far in ``<out>/points.jsonl`` (first record per key wins; a torn last line from a
    killed run is dropped). Diverged models carry ``"loss": None``."""
    seen, pts = set(), []
    for r in io.read_jsonl(Path(out) / "points.jsonl"):
        if r.get("key") not in seen:
            seen.add(r.get("key"))
            pts.append(r)
    return pts


def _drop_torn_tail(path: Path) -> None:
    """A kill during a write can leave a last line without its newline; cut it so the next append starts a
    fresh line (otherwise the next record would be glued to the torn one and lost)."""
    if not path.exists():
        return
    blob = path.read_bytes()
    if blob and not blob.endswith(b"\n"):
        io.atomic_write_bytes(path, blob[: blob.rfind(b"\n") + 1])


def _packs(cfg: SweepConfig, family: str, groups: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Split a family's unfinished (width, group key) list into packs trained as one program each: consecutive
    widths (ascending), at most ``cfg.pack_members // cfg.seeds`` widths per pack; one width per pack when packing
    is off or the family does not pack."""
    per = max(1, cfg.pack_members // cfg.seeds) if cfg.pack_widths and family in PACKABLE else 1
    groups = sorted(groups)
    return [groups[i:i + per] for i in range(0, len(groups), per)]


def _train_pack(cfg: SweepConfig, family: str, pack: list[tuple[int, str]], task: TaskData, batch_fn: Callable,
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
    to W = max(widths) (:func:`~wavejax.tradeoff.models.pad_params`), and the engine multiplies its gradient by its
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


def run_sweep(cfg: SweepConfig, out: str | Path, *, on_group: Callable[[str], None] | None = None
              ) -> dict[str, Any]:
    """Run (or resume) the sweep, appending every point to ``<out>/points.jsonl``.

    Args:
      cfg: :class:`SweepConfig`.
      out: output folder; rerunning with the same folder skips finished groups.
      on_group: called with the group key after each trained group's points are written.

    Returns:
      ``{"trained": [group keys trained now], "skipped": [groups already complete], "n_points": int,
      "seconds": float, "task": TaskData}``.
    """
    from wavejax.progress import progress
    from wavejax.rnn import TrainConfig

    out = Path(out)
    path = out / "points.jsonl"
    t0 = time.perf_counter()
    root = jax.random.key(cfg.seed)
    task = make_task(cfg.task, key=jax.random.fold_in(root, 0), length=cfg.length, n_programs=cfg.n_programs)
    io.atomic_write_json(out / "task.json", task_summary(task))
    _drop_torn_tail(path)
    done = {r.get("key") for r in io.read_jsonl(path)}
    data_hash = io.config_hash({k: getattr(cfg, k) for k in ("task", "length", "n_programs", "seed")})
    for pt in trivial_points(list(task.train), list(task.test), discrete=task.discrete, n_symbols=task.n_symbols):
        pt.update(key=f"trivial|{cfg.task}|{pt['family']}|{data_hash}",
                  task=cfg.task, group="trivial", raw_bits=32 * pt["n_params"], raw_bits_b=32 * pt["n_params"])
        if pt["key"] not in done:
            io.append_jsonl(path, pt)
            done.add(pt["key"])
    tcfg = TrainConfig(steps=cfg.steps, lr=cfg.lr, n_levels=1, chunk=min(cfg.steps, 100),
                       log_every=min(cfg.steps, 100), ckpt_every=cfg.ckpt_every)
    batch_fn = make_batch_fn(task, batch=cfg.batch, window=cfg.window, burn=cfg.burn)
    trained, skipped = [], []
    todo: dict[str, list[tuple[int, str]]] = {}
    for family in cfg.families:
        for width in cfg.widths:
            gkey = group_key(cfg, family, width)
            want = [_point_key(gkey, m, b, s) for m in range(cfg.seeds) for b in cfg.bits for s in cfg.sparsities]
            if all(k in done for k in want):
                skipped.append(gkey)
            else:
                todo.setdefault(family, []).append((width, gkey))
    packs = [(family, pack) for family, groups in todo.items() for pack in _packs(cfg, family, groups)]
    for family, pack in progress(packs, total=len(packs), desc=f"sweep {cfg.task}"):
        for width, gkey, params, loss_hist in _train_pack(cfg, family, pack, task, batch_fn, tcfg, root, out):
            model = make_model(family, width, task.d_in, slots=cfg.slots)
            for rec in ladder_points(model, params, task, cfg, family=family, width=width, gkey=gkey):
                if rec["key"] not in done:
                    rec["train_loss_end"] = float(np.nanmean(loss_hist[rec["seed"], -10:]))
                    io.append_jsonl(path, rec)
                    done.add(rec["key"])
            trained.append(gkey)
            if on_group is not None:
                on_group(gkey)
    return {"trained": trained, "skipped": skipped, "n_points": len(load_points(out)),
            "seconds": time.perf_counter() - t0, "task": task}
