"""Sequence capacity K*(N) of GSEMM (gsemm.md §5, criterion for wavejax).

K*(N) = largest K for which at least ``need`` of ``n_sets`` random pattern sets traverse the whole cycle
0 -> 1 -> ... -> K-1 -> 0 with every decoded change correct (Euler dt 0.05, T_f = 1, T_d = 20). All pattern
sets of one (N, K) point are solved in ONE vmapped fixed-step scan with the pattern-set axis leading; when several
devices are present that axis is sharded over all devices by :func:`wavejax.distributed.shard_leading` (padded to a
multiple of the device count; the padding members are dropped from the results).
K is searched by doubling then bisection (assumes the pass/fail outcome is monotone in K; recorded per K).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate as V
from wavejax.distributed import shard_leading, unpad_leading
from wavejax.gsemm.metrics import cycle_successors, decode, follows_graph
from wavejax.gsemm.models import MODELS, get_model, make_params
from wavejax.gsemm.scan import scan_solve
from wavejax.gsemm.simulate import check_x64

__all__ = ["CAPACITY_PRESETS", "cycle_trial", "cycle_pass", "capacity_search", "capacity_curve", "fit_growth"]

# Scalars of the capacity criterion (gsemm.md §5); LISEM's a_s, a_c scale as 4.5 / N.
CAPACITY_PRESETS = {
    "dsem": dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, gamma=1.0, t_f=1.0, t_d=20.0, dwell=25.0),
    "dsem_poly": dict(alpha_s=1.0, alpha_c=2.0, beta_d=1.0, gamma=1.0, t_f=1.0, t_d=20.0, dwell=25.0),
    "lisem": dict(alpha_s_N=4.5, alpha_c_N=4.5, beta_d=1.0, gamma=1.0, t_f=1.0, t_d=20.0, dwell=40.0),
}


def _scalars(model: str, n: int, overrides: dict) -> dict:
    s = dict(CAPACITY_PRESETS[model])
    s.update(overrides)
    if model == "lisem":
        s.setdefault("alpha_s", s.pop("alpha_s_N") / n)
        s.setdefault("alpha_c", s.pop("alpha_c_N") / n)
        s.pop("alpha_s_N", None)
        s.pop("alpha_c_N", None)
    return s


@functools.partial(jax.jit, static_argnames=("model", "n_save", "stride", "dt"))
def _batched_overlaps(model, xi, phi, scal, *, n_save, stride, dt):
    m = get_model(model)

    def one(x, f):
        p = make_params(x, f, dtype=x.dtype, **scal)
        v0 = jnp.sqrt(p.alpha_s) * x[:, 0] if model != "lisem" else x[:, 0]
        save = lambda t, v, vd: m.feature.sigma(v, p.gamma) @ x / x.shape[0]  # noqa: E731
        return scan_solve(m, p, v0, jnp.zeros_like(v0), dt=dt, stride=stride, n_save=n_save, save_fn=save)

    return jax.vmap(one)(xi, phi)


def cycle_trial(model: str, key: jax.Array, n_features: int, n_memories: int, *, n_sets: int = 4,
                dt: float = 0.05, save_every: float = 0.5, t1: float | None = None, dtype=jnp.float64,
                **overrides) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``n_sets`` random K-cycles of N features at once; return (ts (T,), overlaps (n_sets, T, K)).

    Cue xi^0 (scaled by sqrt(a_s) for DSEM), v_d(0) = 0. ``t1`` defaults to (K + 2) times the preset dwell.
    ``overrides`` replace the scalars of ``CAPACITY_PRESETS[model]`` (alpha_s, alpha_c, beta_d, gamma, t_f, t_d).
    """
    V.one_of("model", model, tuple(MODELS))
    N, K, S = (V.positive_int(n, x) for n, x in (("n_features", n_features), ("n_memories", n_memories),
                                                   ("n_sets", n_sets)))
    check_x64(dtype)
    scal = _scalars(model, N, overrides)
    dwell = scal.pop("dwell")
    t1 = float(t1 if t1 is not None else (K + 2) * dwell)
    stride = int(round(save_every / dt))
    n_save = int(t1 / (stride * dt)) + 1
    xi = jax.random.rademacher(key, (S, N, K), dtype=dtype)
    phi = jnp.broadcast_to(jnp.roll(jnp.eye(K, dtype=dtype), 1, axis=1), (S, K, K))
    (xi, phi), n = shard_leading((xi, phi))  # pads S to a multiple of the device count (no-op on one device)
    scal = {k: jnp.asarray(v, dtype) for k, v in scal.items()}
    m = unpad_leading(_batched_overlaps(model, xi, phi, scal, n_save=n_save, stride=stride, dt=float(dt)), n)
    ts = np.arange(n_save) * stride * dt
    return ts, np.asarray(m)


def cycle_pass(ts, m, *, min_run: int = 4) -> bool:
    """The capacity criterion for one pattern set: the cycle is traversed completely (K changes, back to the
    start) with every decoded change the correct successor. ``m`` has shape (T, K)."""
    K = m.shape[1]
    seq = decode(ts, m, min_run=min_run).sequence
    return bool(len(seq) >= K + 1 and seq[0] == 0 and follows_graph(seq, cycle_successors(K)))


def capacity_search(model: str, key: jax.Array, n_features: int, *, n_sets: int = 4, need: int = 3,
                    k_start: int = 2, k_max: int = 512, **trial_kw) -> tuple[int, dict[int, int]]:
    """Largest K with >= ``need`` of ``n_sets`` passing (doubling, then bisection). Returns (K*, {K: n_pass}).

    K* = 0 when even ``k_start`` fails.
    """
    tried: dict[int, int] = {}

    def ok(k: int) -> bool:
        if k not in tried:
            ts, m = cycle_trial(model, jax.random.fold_in(key, k), n_features, k, n_sets=n_sets, **trial_kw)
            tried[k] = sum(cycle_pass(ts, mk) for mk in m)
        return tried[k] >= need

    lo, hi = 0, None
    k = k_start
    while k <= k_max:
        if ok(k):
            lo, k = k, k * 2
        else:
            hi = k
            break
    if hi is None:
        return lo, tried
    lo_b = max(lo, k_start - 1)
    while hi - lo_b > 1:
        mid = (lo_b + hi) // 2
        if ok(mid):
            lo_b = mid
        else:
            hi = mid
    return (lo_b if lo_b >= k_start else 0), tried


def capacity_curve(model: str, key: jax.Array, ns, **kw) -> dict[str, list]:
    """K*(N) for each N in ``ns`` (independent keys per N); returns {"N": [...], "K": [...], "tried": [...]}."""
    out: dict[str, list] = {"N": [], "K": [], "tried": []}
    for n in ns:
        kstar, tried = capacity_search(model, jax.random.fold_in(key, int(n)), int(n), **kw)
        out["N"].append(int(n))
        out["K"].append(int(kstar))
        out["tried"].append({int(a): int(b) for a, b in tried.items()})
    return out


def fit_growth(ns, ks) -> dict[str, dict[str, float]]:
    """Least-squares fits of K*(N): linear K = a N + b, power K = c N^s (log-log), exponential K = c e^{g N}
    (semi-log). Each entry gives the parameters and R^2 in the space of the fit; points with K = 0 are dropped."""
    n, k = np.asarray(ns, float), np.asarray(ks, float)
    good = k > 0
    out: dict[str, dict[str, float]] = {}

    def r2(y, yhat):
        ss = float(((y - y.mean()) ** 2).sum())
        return 1.0 - float(((y - yhat) ** 2).sum()) / ss if ss > 0 else math.nan

    if good.sum() >= 2:
        a, b = np.polyfit(n, k, 1)
        out["linear"] = {"slope": float(a), "intercept": float(b), "r2": r2(k, a * n + b)}
        ln, lk = np.log(n[good]), np.log(k[good])
        s, c = np.polyfit(ln, lk, 1)
        out["power"] = {"exponent": float(s), "log_c": float(c), "r2": r2(lk, s * ln + c)}
        g, c2 = np.polyfit(n[good], lk, 1)
        out["exponential"] = {"rate": float(g), "log_c": float(c2), "r2": r2(lk, g * n[good] + c2)}
    return out
