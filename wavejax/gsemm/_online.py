"""The authors' contrastive online rule: a faithful port of EDEN_cpp ``gsemm/ExpSM.cpp`` (docs/gsemm.md §4.2–4.3).

``ExpSM`` is DSEM with tanh on the delay in the hidden drive and a_s unsplit (:data:`~wavejax.gsemm.EXPSM`:
h = a_s Xi^T v, drive Xi f, as below, in learning and in recall alike).
One step of the online protocol (``ExpSM::update`` then ``ExpSM::learn``, forward Euler, step dt) with the
presented pattern t as input current I = t (NOT scaled by 1/T_f):

    h      = a_s Xi^T v + a_c Phi^T Xi^T tanh(v_d),   f = softmax(h)            (h before the step: "stale")
    v'     = v + dt [ (Xi f - v) / T_f + t ]
    v_d'   = v_d + dt (v' - v_d) / T_d                                          (uses the new v')
    f*     = softmax(sqrt(a_s) Xi^T t)
    Xi'    = Xi + dt/Tl_xi [ (1 + sqrt(a_s)) (t f*^T - v' f^T) + a_c v_d' (Phi (f* - f))^T ]
    Phi'   = Phi + dt/Tl_phi a_c (Xi'^T v_d') (f* - f)^T                         (uses the new Xi')

Init (``evaluate_learning``): Xi, Phi ~ N(0, 1), each scaled to Frobenius norm 1; v = v_d = 0. Recall
(``evaluate_learning``): v ~ N(0, 1), v_d = 0, no input, for 2 P steps_per_memory steps, through the one
simulation core (:func:`wavejax.gsemm.solve`, model ``expsm``, Euler dt; its v_d step uses the old v, an
O(dt^2) per-step difference from the C++). Decoder (:func:`cpp_decode`): every ``diagnostic`` steps
m = patterns^T clip(v, -1, 1) / N_h over all N_h drawn patterns (the P presented ones and N_h - P never-presented
distractors); samples with max m <= 0.6 are skipped; the mode of the last ``swindow`` kept argmaxes is the output
unless it is a distractor; consecutive equal outputs collapse. A link i -> i+1 is recalled when it appears as
consecutive outputs (:func:`count_links`; K - 1 links for K patterns).

Sweeps: :func:`contrastive_runs` learns and recalls a batch of configurations in ONE compilation: the scalars
(a_s, a_c, T_f, T_d, Tl_xi, Tl_phi, dt, steps_per_memory) travel as traced :class:`OnlineScalars` under ``vmap``
(presentations are a ``fori_loop`` with a traced length; the recall is solved to the longest horizon of the batch and
cut per member). It equals the static-config path to round-off (tests: <= 1e-14, NumPy transcription to 1e-12).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.gsemm._learning import LearningRule, LearnState, _state
from wavejax.gsemm._metrics import decode
from wavejax.gsemm._models import EXPSM, make_params
from wavejax.gsemm._solve import NONFINITE, SUCCESS, SolverConfig, result_name, save_grid, solve

__all__ = ["OnlineConfig", "OnlineScalars", "contrastive_step", "CONTRASTIVE", "contrastive_recall",
           "contrastive_runs", "cpp_decode", "count_links", "recall_score"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class OnlineConfig:
    """The contrastive online protocol (docs/gsemm.md §4.3); EDEN_cpp program defaults unless noted."""

    n_features: int = 50  # N (cluster sweep; the program default is 100)
    n_patterns: int = 10  # P, presented once in order 0..P-1
    n_hidden: int = 20  # N_h = 2P
    alpha_s: float = 1.0  # symmetric strength (ExpSM default 1)
    alpha_c: float = 3.0  # cross strength
    t_f: float = 0.1  # feature time constant
    t_d: float = 20.0  # delay time constant (program default; the cluster sweep uses 50 T_f)
    tl_xi: float = 0.1  # learning time constant of Xi
    tl_phi: float = 0.1  # learning time constant of Phi
    dt: float = 0.001  # Euler step
    steps_per_memory: int = 1200  # presentation length per pattern, in steps
    diagnostic: int = 50  # recall: steps between decoded samples (diagnostic_timescale)
    swindow: int = 10  # recall: mode window of the decoder, in samples

    def __post_init__(self):
        for f in ("n_features", "n_patterns", "n_hidden", "steps_per_memory", "diagnostic", "swindow"):
            V.positive_int(f, getattr(self, f))
        for f in ("alpha_s", "t_f", "t_d", "tl_xi", "tl_phi", "dt"):
            V.positive(f, getattr(self, f))
        V.nonneg("alpha_c", self.alpha_c)
        if self.n_hidden < self.n_patterns:
            raise ValueError(f"n_hidden must be >= n_patterns (N_h patterns are drawn and the first P presented); "
                             f"got n_hidden={self.n_hidden}, n_patterns={self.n_patterns}")

    @classmethod
    def quick(cls) -> OnlineConfig:
        """Half-length presentations (seconds on CPU)."""
        return cls(steps_per_memory=600)

    @classmethod
    def full(cls) -> OnlineConfig:
        """The program defaults."""
        return cls()


class OnlineScalars(NamedTuple):
    """The per-configuration scalars of :class:`OnlineConfig` as arrays: traced values under ``jit``/``vmap``, so
    that a sweep over configurations compiles once (:func:`contrastive_runs`). Same attribute names as the
    config, so :func:`contrastive_step` accepts either."""

    alpha_s: jax.Array
    alpha_c: jax.Array
    t_f: jax.Array
    t_d: jax.Array
    tl_xi: jax.Array
    tl_phi: jax.Array
    dt: jax.Array
    steps_per_memory: jax.Array  # int32

    @classmethod
    def stack(cls, cfgs, dtype=jnp.float64) -> OnlineScalars:
        """The scalars of ``cfgs`` (a sequence of :class:`OnlineConfig`) stacked along a leading axis (C,)."""
        cols = {f: [getattr(c, f) for c in cfgs] for f in cls._fields}
        return cls(**{f: jnp.asarray(x, jnp.int32 if f == "steps_per_memory" else dtype) for f, x in cols.items()})


def contrastive_step(st: LearnState, target, cfg: OnlineConfig | OnlineScalars) -> LearnState:
    """One step of ``ExpSM::update`` + ``ExpSM::learn`` with the pattern ``target`` (N,) as input (module doc).

    ``cfg`` may be an :class:`OnlineConfig` (static scalars) or :class:`OnlineScalars` (traced scalars)."""
    sa = jnp.sqrt(cfg.alpha_s)
    h = cfg.alpha_s * (st.xi.T @ st.v) + cfg.alpha_c * (st.phi.T @ (st.xi.T @ jnp.tanh(st.v_d)))
    f = jax.nn.softmax(h)
    v = st.v + cfg.dt * ((st.xi @ f - st.v) / cfg.t_f + target)
    vd = st.v_d + cfg.dt * (v - st.v_d) / cfg.t_d
    f_star = jax.nn.softmax(sa * (st.xi.T @ target))
    d_xi = (1 + sa) * (jnp.outer(target, f_star) - jnp.outer(v, f)) + cfg.alpha_c * jnp.outer(vd, st.phi @ (
        f_star - f))
    xi = st.xi + cfg.dt / cfg.tl_xi * d_xi
    phi = st.phi + cfg.dt / cfg.tl_phi * cfg.alpha_c * jnp.outer(xi.T @ vd, f_star - f)
    return st._replace(xi=xi, phi=phi, v=v, v_d=vd)


def _init(key, patterns, cfg: OnlineConfig) -> LearnState:
    N, H = patterns.shape[1], cfg.n_hidden
    k1, k2 = jax.random.split(key)
    xi = jax.random.normal(k1, (N, H), patterns.dtype)
    phi = jax.random.normal(k2, (H, H), patterns.dtype)
    return _state(xi / jnp.linalg.norm(xi), phi / jnp.linalg.norm(phi), N)


def _update(st: LearnState, pattern, cfg: OnlineConfig) -> LearnState:
    st, _ = jax.lax.scan(lambda s, _: (contrastive_step(s, pattern, cfg), None), st, None,
                         length=cfg.steps_per_memory)
    return _counted(st)


def _counted(st: LearnState) -> LearnState:
    """One more pattern presented; a non-finite state becomes the result code (the first failure is kept)."""
    finite = jnp.all(jnp.asarray([jnp.all(jnp.isfinite(a)) for a in (st.xi, st.phi, st.v, st.v_d)]))
    code = jnp.where(finite, SUCCESS, NONFINITE)
    return st._replace(count=st.count + 1,
                       result=jnp.where(jnp.asarray(st.result) == SUCCESS, code, st.result).astype(jnp.int32))


CONTRASTIVE = LearningRule("contrastive", _init, _update)


@functools.partial(jax.jit, static_argnames=("cfg", "n_steps"))
def contrastive_recall(st: LearnState, v0, *, cfg: OnlineConfig, n_steps: int):
    """Free recall of the learned ExpSM from ``v0`` (N,), v_d = 0, no input, Euler ``cfg.dt``, through
    :func:`wavejax.gsemm.solve`; returns the :class:`~wavejax.gsemm.Trajectory` saved every
    ``cfg.diagnostic`` steps (v (T, N), result code)."""
    p = make_params(st.xi, st.phi, alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, t_f=cfg.t_f, t_d=cfg.t_d,
                    dtype=st.xi.dtype)
    save_every = cfg.diagnostic * cfg.dt
    n_save, _ = save_grid(n_steps * cfg.dt, save_every, cfg.dt)
    return solve(EXPSM, p, v0, jnp.zeros_like(v0), n_save=n_save, save_every=save_every,
                 cfg=SolverConfig(solver="euler_scan", dt=cfg.dt), max_steps=1)


_STATIC = ("n_features", "n_patterns", "n_hidden", "dt", "diagnostic", "swindow")


def _present_traced(st: LearnState, pattern, sc: OnlineScalars) -> LearnState:
    st = jax.lax.fori_loop(0, sc.steps_per_memory, lambda i, s: contrastive_step(s, pattern, sc), st)
    return _counted(st)


def _run_one(key, patterns, sc: OnlineScalars, cfg: OnlineConfig, n_save: int):
    """Learn once (traced scalars), recall from a random state for 2 P steps_per_memory steps; v after the
    config's own horizon is NaN (the recall is solved to the common horizon of the batch)."""
    k1, k2 = jax.random.split(key)
    st = _init(k1, patterns, cfg)
    st, _ = jax.lax.scan(lambda s, x: (_present_traced(s, x, sc), None), st, patterns)
    p = make_params(st.xi, st.phi, alpha_s=sc.alpha_s, alpha_c=sc.alpha_c, t_f=sc.t_f, t_d=sc.t_d,
                    dtype=st.xi.dtype)
    v0 = jax.random.normal(k2, (patterns.shape[1],), patterns.dtype)
    tr = solve(EXPSM, p, v0, jnp.zeros_like(v0), n_save=n_save, save_every=cfg.diagnostic * cfg.dt,
               cfg=SolverConfig(solver="euler_scan", dt=cfg.dt), max_steps=1)
    n_real = 2 * patterns.shape[0] * sc.steps_per_memory // cfg.diagnostic + 1
    inside = jnp.arange(n_save) < n_real
    v = jnp.where(inside[:, None], tr.v, jnp.nan)
    finite = jnp.all(jnp.isfinite(tr.v) | ~inside[:, None])
    return st, v, n_real, finite


@functools.partial(jax.jit, static_argnames=("cfg", "n_save"))
def _runs(keys, patterns, sc: OnlineScalars, *, cfg: OnlineConfig, n_save: int):
    axis = 0 if patterns.ndim == 3 else None  # one pattern set per configuration, or one for all
    return jax.vmap(_run_one, in_axes=(0, axis, 0, None, None))(keys, patterns, sc, cfg, n_save)


def contrastive_runs(keys: jax.Array, patterns, cfgs) -> list[dict]:
    """Learn ``patterns`` (P, N), or one set per configuration (C, P, N), once with the contrastive rule under each
    configuration of ``cfgs`` (C :class:`OnlineConfig`, key ``keys[c]``), recall from a random state for
    2 P steps_per_memory steps, and decode with three decoders; ONE compilation for the whole batch (the scalars
    are :class:`OnlineScalars`, vmapped).

    Per configuration (same steps as ``learn("contrastive", k1, ...)`` then :func:`contrastive_recall` from
    N(0, 1) drawn with k2, ``k1, k2 = split(keys[c])``): the C++ decoder's sequence and links (:func:`cpp_decode`
    with N_h - P random distractor patterns drawn with ``fold_in(keys[c], 7)``, as ``evaluate_learning`` scores
    N_h patterns; ``presented_only_*``: the same decoder on the P presented patterns only), wavejax's decoder's
    (:func:`recall_score`, overlap v.p/N >= 0.5, min_run 3), finiteness and ||Xi||_F.
    ``n_features, n_patterns, n_hidden, dt, diagnostic, swindow`` must agree across ``cfgs``.
    """
    cfgs = list(cfgs)
    base = cfgs[0]
    for f in _STATIC:
        if len({getattr(c, f) for c in cfgs}) != 1:
            raise ValueError(f"cfgs must share {f}; got {sorted({getattr(c, f) for c in cfgs})}")
    pats_all = jnp.asarray(patterns)
    P = pats_all.shape[-2]
    n_save = 2 * P * max(c.steps_per_memory for c in cfgs) // base.diagnostic + 1
    st, v, n_real, finite = _runs(jnp.asarray(keys), pats_all, OnlineScalars.stack(cfgs, pats_all.dtype),
                                  cfg=OnlineConfig(**{f: getattr(base, f) for f in _STATIC}), n_save=n_save)
    out = []
    for c in range(len(cfgs)):
        pats = pats_all[c] if pats_all.ndim == 3 else pats_all
        vs = np.asarray(v[c, : int(n_real[c])])
        dis = jax.random.rademacher(jax.random.fold_in(keys[c], 7), (max(base.n_hidden - P, 0), pats.shape[1]),
                                    dtype=pats.dtype)
        seq = cpp_decode(pats, vs, base.n_hidden, swindow=base.swindow, distractors=dis)
        seq_p = cpp_decode(pats, vs, base.n_hidden, swindow=base.swindow)
        sc = (recall_score(pats, vs, base.diagnostic * base.dt) if np.isfinite(vs).all()
              else {"sequence": [], "links_learned": 0})  # a non-finite recall (result 2) decodes to nothing
        ok = bool(jnp.isfinite(st.xi[c]).all() and jnp.isfinite(st.phi[c]).all())
        code = int(st.result[c]) or (SUCCESS if bool(finite[c]) else NONFINITE)  # learning's failure first
        out.append({"sequence": seq, "links": count_links(seq, P), "result": code, "reason": result_name(code),
                    "finite_weights": ok, "xi_norm": float(jnp.linalg.norm(st.xi[c])),
                    "presented_only_sequence": seq_p, "presented_only_links": count_links(seq_p, P),
                    "wavejax_sequence": sc["sequence"], "wavejax_links": sc["links_learned"]})
    return out


def cpp_decode(patterns, vs, n_hidden: int, *, swindow: int = 10, threshold: float = 0.6,
               distractors=None) -> list[int]:
    """The recall decoder of ``ExpSM::evaluate_learning`` (module doc): the collapsed sequence of window modes.

    patterns (P, N) the presented patterns; vs (T, N) the recalled states at the diagnostic samples. Non-finite
    samples are skipped. ``distractors`` (D, N), optional: the C++ draws N_h patterns and presents only the first P;
    the other N_h - P are scored too (they take part in the threshold, the argmax and the window mode), but a
    window mode that is a distractor is not output. Without ``distractors`` only the P presented patterns are
    scored.

    Examples:
      >>> p = np.array([[1.0, 1, 1, 1], [1, -1, 1, -1]])
      >>> cpp_decode(p, np.repeat(p, 12, axis=0), 2, swindow=3)
      [0, 1]
      >>> d = np.array([[1.0, 1, -1, -1]])  # a distractor between the two: 0, (d), 1 still reads as 0 -> 1
      >>> cpp_decode(p, np.repeat(np.concatenate([p[:1], d, p[1:]]), 12, axis=0), 2, swindow=3, distractors=d)
      [0, 1]
    """
    pats, vs = np.asarray(patterns, float), np.asarray(vs, float)
    n_presented = len(pats)
    if distractors is not None:
        pats = np.concatenate([pats, np.asarray(distractors, float)])
    m = np.clip(vs, -1.0, 1.0) @ pats.T / n_hidden
    window: list[int] = []
    outputs: list[int] = []
    kept = 0
    for row in m:
        if not np.all(np.isfinite(row)) or row.max() <= threshold:
            continue
        window = (window + [int(row.argmax())])[-swindow:]
        kept += 1
        if kept > swindow:  # as the C++: an output once more than swindow samples were kept
            vals, counts = np.unique(window, return_counts=True)
            out = int(vals[counts.argmax()])
            if out < n_presented and (not outputs or outputs[-1] != out):
                outputs.append(out)
    return outputs


def count_links(sequence, n_patterns: int) -> int:
    """Number of distinct successor links i -> i+1 (i < n_patterns - 1) among consecutive entries of ``sequence``.

    Examples:
      >>> count_links([0, 1, 2, 5, 6, 9, 8, 9], 10)  # 0->1, 1->2, 5->6, 8->9
      4
    """
    s = list(sequence)
    links = {(int(a), int(b)) for a, b in zip(s[:-1], s[1:], strict=False)}
    return sum((i, i + 1) in links for i in range(n_patterns - 1))


def recall_score(patterns, vs, dt_save: float, *, min_overlap: float = 0.5) -> dict:
    """Score a free recall against the presented order 0..P-1 (docs/gsemm.md §7 A11), wavejax decoder.

    Overlaps of v with the patterns (1/N); returns the decoded sequence (:func:`~wavejax.gsemm.decode`,
    min_run 3), the successor links i -> i+1 (i < P-1) that appear as decoded changes, their fraction, and the
    peak overlap of each visited memory.
    """
    pats = np.asarray(patterns)
    P, N = pats.shape
    m = np.asarray(vs) @ pats.T / N
    dec = decode(np.arange(len(m)) * dt_save, m, min_run=3, min_overlap=min_overlap)
    seq = dec.sequence
    learned = count_links(seq.tolist(), P)
    return {"sequence": seq.tolist(), "links_learned": learned, "link_fraction": learned / (P - 1),
            "peak_overlaps": dec.peaks.tolist(),
            "min_peak": float(dec.peaks.min()) if dec.peaks.size else float("nan")}
