"""Sweep-ready task data: train / validation / test programs as equal-length arrays (docs/tradeoff.md §4 step 1).

:func:`make_task` builds one of

* ``"hmm"``  — a random unifilar HMM (4 states, 3 symbols); floor = its exact entropy rate (nats/step).
* ``"ar"``   — the switching AR process (K = 3 phases, AR(2), σ = 0.1), normalised per program; floor = the mean
  over test programs of σ² / var(x_j) (MSE with the phase known, a lower bound).
* ``"cache"`` — per-interval miss-rate traces of generated programs (:mod:`wavejax.tradeoff._cache`), normalised
  per program; split by program 70/15/15; no analytic floor.
* ``"traces:<folder>"`` — real traces supplied as local ``.npy`` files (:func:`wavejax.tradeoff._tasks.load_traces`).

Programs of one split are truncated to a common length so that they stack into a (P, L) array.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate
from wavejax.tradeoff import _cache as cache
from wavejax.tradeoff import _tasks as tasks

__all__ = ["TaskData", "make_task", "TASKS", "encode", "make_batch_fn", "make_loss_fn", "make_eval_loss_fn"]

TASKS = ("hmm", "ar", "cache")


@dataclasses.dataclass(frozen=True, eq=False)
class TaskData:
    """A task: ``train``/``val``/``test`` arrays (P, L) (int32 symbols or float32 values) and its metadata.

    ``floor`` is the known loss floor (nats/step for discrete tasks, MSE for real ones) or None; ``n_symbols`` is
    the alphabet size A for discrete tasks (None for real-valued ones).
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    discrete: bool
    n_symbols: int | None = None
    floor: float | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def d_in(self) -> int:
        """Input/output dimension: A (one-hot symbols) or 1."""
        return int(self.n_symbols) if self.discrete else 1

    @property
    def n_test_symbols(self) -> int:
        """Number of predicted test symbols n (for the two-part code length)."""
        return int(self.test.shape[0] * (self.test.shape[1] - 1))


def _stack(seqs: list[np.ndarray]) -> np.ndarray:
    L = min(s.shape[0] for s in seqs)
    return np.stack([s[:L] for s in seqs])


def make_task(name: str, *, key: jax.Array, length: int = 2048, n_programs: int = 10) -> TaskData:
    """Generate (or load) task ``name``; ``length`` steps per program, ``n_programs`` programs for splits.

    For ``"hmm"`` and ``"ar"`` the train split is one program of ``length`` steps per 70 % share and validation /
    test programs are independent draws from the same process.
    """
    key = _validate.prng_key("key", key)
    _validate.positive_int("length", length)
    _validate.positive_int("n_programs", n_programs)
    kp, kd, ks = jax.random.split(key, 3)
    if name == "hmm" or name.startswith("hmm:"):
        S, A = hmm_size(name)
        hmm = tasks.unifilar_hmm(kp, n_states=S, n_symbols=A)
        seqs = [np.asarray(tasks.hmm_sample(k, hmm, length)) for k in jax.random.split(kd, n_programs)]
        tr, va, te = _split(seqs, ks)
        return TaskData(name, tr, va, te, True, n_symbols=A, floor=tasks.hmm_entropy_rate(hmm),
                        info={"E": np.asarray(hmm.E).tolist(), "nxt": np.asarray(hmm.nxt).tolist()})
    if name == "ar":
        p = tasks.switching_ar_params(kp, K=3, p=2, sigma=0.1)
        raw = [np.asarray(tasks.switching_ar(k, p, length)[0], np.float64) for k in jax.random.split(kd, n_programs)]
        seqs = [tasks.normalize(x) for x in raw]
        tr, va, te = _split(seqs, ks)
        # per-program normalisation scales the noise: program j's floor is σ² / var(x_j); the test MSE averages
        # equally long programs, so its floor is the mean of theirs
        te_ids = [j for j in range(n_programs) if any(np.array_equal(seqs[j][: te.shape[1]], t) for t in te)]
        floor = float(np.mean([p.sigma**2 / raw[j].var() for j in te_ids]))
        return TaskData("ar", tr, va, te, False, floor=floor,
                        info={"mu": np.asarray(p.mu).tolist(), "a": np.asarray(p.a).tolist(), "sigma": p.sigma})
    if name == "cache":
        n_seg = max(2, length // 20)
        progs = cache.program_traces(kd, n_programs, n_segments=n_seg, interval=128, dwell=(8, 32))
        seqs = [tasks.normalize(m)[:length] for m, _ in progs.values()]
        tr, va, te = _split(seqs, ks)
        return TaskData("cache", tr, va, te, False, info={"programs": list(progs)})
    if name.startswith("traces:"):
        progs = tasks.load_traces(name.split(":", 1)[1])
        seqs = [tasks.normalize(v) for v in progs.values()]
        tr, va, te = _split(seqs, ks)
        return TaskData(name, tr, va, te, False, info={"programs": list(progs)})
    raise ValueError(f"unknown name={name!r}; expected one of {TASKS} or 'traces:<folder>'")


def hmm_size(name: str) -> tuple[int, int]:
    """(states S, symbols A) of an HMM task name: ``"hmm"`` = (4, 3), ``"hmm:<S>x<A>"`` (e.g. ``"hmm:32x8"``)."""
    if name == "hmm":
        return 4, 3
    try:
        S, A = (int(v) for v in name.split(":", 1)[1].split("x"))
    except ValueError:
        raise ValueError(f"task name {name!r}: expected 'hmm' or 'hmm:<states>x<symbols>', e.g. 'hmm:32x8'") from None
    if S < 1 or A < 2:
        raise ValueError(f"task name {name!r}: need >= 1 state and >= 2 symbols")
    return S, A


def _split(seqs: list[np.ndarray], key: jax.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    names = [str(i) for i in range(len(seqs))]
    tr, va, te = tasks.split_programs(names, key=key)
    get = lambda ids: _stack([seqs[int(i)] for i in ids])
    return get(tr), get(va), get(te)


# ------------------------------------------------------------------------------ model inputs, targets, losses
def encode(seq: jax.Array, task: TaskData, *, dtype: Any = jnp.float32) -> jax.Array:
    """Model inputs/targets of a sequence array (..., T): one-hot (..., T, A) for symbol tasks, (..., T, 1) values
    for real-valued ones, in ``dtype`` (float32 by default, whatever the 64-bit mode)."""
    if task.discrete:
        return jax.nn.one_hot(seq, task.n_symbols, dtype=dtype)
    return seq.astype(dtype)[..., None]


def make_batch_fn(task: TaskData, *, batch: int, window: int, burn: int, dtype: Any = jnp.float32) -> Callable:
    """``batch_fn(key, level) -> (x, y, mask)``: random windows of the train programs, shapes (B, T, d) in ``dtype``
    and a (T,) mask that is False on the first ``burn`` steps."""
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
        return encode(seq[:, :-1], task, dtype=dtype), encode(seq[:, 1:], task, dtype=dtype), jnp.arange(window) >= burn

    return batch_fn


def _masked_xent(pred, y, mask):
    m = jnp.broadcast_to(mask[None, :] if mask.ndim == 1 else mask, pred.shape[:2]).astype(pred.dtype)
    nll = -jnp.sum(y * jax.nn.log_softmax(pred, axis=-1), axis=-1)
    return jnp.sum(m * nll) / jnp.maximum(jnp.sum(m), 1.0)


def _masked_xent_eval(pred, y, mask):
    """:func:`_masked_xent` as two contractions, for the ladder's evaluation. The elementwise form is miscompiled
    by XLA on CPU when vmapped over members with one replicated long target batch (3 programs x 4095 steps: members
    2-7 of a block of 8 got the loss of member 0 or 1; tests/tradeoff/test_tradeoff_ladder.py::
    test_vmapped_xent_is_per_member). Training keeps the elementwise form: its batches are per member and short,
    and its rounding does not depend on the number of members vmapped or sharded (issue 7's bit-identity)."""
    m = jnp.broadcast_to(mask[None, :] if mask.ndim == 1 else mask, pred.shape[:2]).astype(pred.dtype)
    nll = -jnp.einsum("btd,btd->bt", y.astype(pred.dtype), jax.nn.log_softmax(pred, axis=-1))
    return jnp.einsum("bt,bt->", m, nll) / jnp.maximum(jnp.sum(m), 1.0)


def make_loss_fn(task: TaskData) -> Callable:
    """Masked cross-entropy (nats/step; one-hot targets) for symbol tasks, masked MSE for real-valued ones."""
    from wavejax.rnn import masked_mse

    return _masked_xent if task.discrete else masked_mse


def make_eval_loss_fn(task: TaskData) -> Callable:
    """The loss of :func:`make_loss_fn` for the ladder's vmapped whole-program evaluation (the same numbers up to
    float32 rounding; see :func:`_masked_xent_eval`)."""
    from wavejax.rnn import masked_mse

    return _masked_xent_eval if task.discrete else masked_mse
