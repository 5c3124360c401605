"""Sequence capacity K*(N) of GSEMM (docs/gsemm.md §5, criterion for wavejax).

The criterion: a K "passes" when at least ``need`` of ``n_sets`` random pattern sets traverse the whole cycle
0 -> 1 -> ... -> K-1 -> 0 with every decoded change correct (Euler dt 0.05, T_f = 1, T_d = 20, fresh patterns
per K, a time budget of (K + 2) dwells). K*(N) is the boundary that doubling-then-bisection finds: the pass/fail
outcome is NOT monotone in K (with 4 sets and fresh patterns per K, e.g. at N = 16 K = 17 passes while 15 and 16
fail), so K* is a bisection boundary (a passing K whose bisection neighbour fails), not the largest passing K.
Every trial is recorded per K.

This is a strict, single-operating-point sequence capacity, close in spirit to EDEN_cpp ``ExpSM::evaluate_capacity``
(strict every-transition criterion); it is NOT the criterion of the paper's scripts ``capacity_{LISEM,DSEM}.py``
(for a fixed K, the smallest N for which SOME bisected cross strength gives > 5K transitions with best chain /
possible > 0.8): here alpha is fixed, 100% correctness is required once, and the time budget cuts slow but correct
runs (the GSEMM check: at N = 32, K = 128 the failing set made no wrong transition, it was cut off at 125 of 129
states). Measured with this code and ``key(0)`` folded with N: K*(16) = 14, K*(32) = 156, LISEM K*(200) = 7
(``docs/results/gsemm_capacity``). All pattern
sets of one (N, K) point are solved in ONE vmapped fixed-step scan with the pattern-set axis leading; when several
devices are present that axis is sharded over all devices by :func:`wavejax.distributed.shard_leading` (padded to a
multiple of the device count; the padding members are dropped from the results).

Failures are data: every pattern set's solver result code (:data:`wavejax.gsemm.RESULT_CODES`) comes back with its
overlaps (:class:`CycleTrial`); a set whose solve failed (e.g. a non-finite state) counts as failed, and
:func:`capacity_search` / :func:`capacity_curve` report how many sets failed at each K and why.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _memory
from wavejax import _validate as V
from wavejax.distributed import shard_leading, to_host, unpad_leading
from wavejax.gsemm._device import refuse_f64_on_tpu
from wavejax.gsemm._metrics import cycle_successors, decode, follows_graph
from wavejax.gsemm._models import MODELS, get_model, make_params
from wavejax.gsemm._solve import SUCCESS, SolverConfig, result_name, save_grid, solve
from wavejax.precision import require_dtype

__all__ = ["CapacityNetwork", "CAPACITY_NETWORKS", "CycleTrial", "cycle_trial", "cycle_pass", "capacity_search",
           "capacity_curve", "fit_growth"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CapacityNetwork:
    """Scalars of the capacity criterion for one model (docs/gsemm.md §5).

    ``per_neuron=True`` (LISEM): ``alpha_s`` and ``alpha_c`` are the products a_s N and a_c N, so the network of N
    features uses a_s = alpha_s / N, a_c = alpha_c / N.
    """

    alpha_s: float = 1.0  # symmetric strength (or a_s N when per_neuron)
    alpha_c: float = 2.0  # cross strength (or a_c N when per_neuron); DSEM r = sqrt(a_s)/(a_c b_d) = 0.5
    beta_d: float = 1.0  # delay gain
    gamma: float = 1.0  # gain
    t_f: float = 1.0  # feature time constant
    t_d: float = 20.0  # delay time constant
    dwell: float = 25.0  # time budget per memory: t1 = (K + 2) dwell
    per_neuron: bool = False  # alpha_s, alpha_c given as a_s N, a_c N (LISEM)

    def scalars(self, n: int) -> dict[str, float]:
        """The model scalars for N = n features (make_params keywords)."""
        scale = 1.0 / n if self.per_neuron else 1.0
        return dict(alpha_s=self.alpha_s * scale, alpha_c=self.alpha_c * scale, beta_d=self.beta_d,
                    gamma=self.gamma, t_f=self.t_f, t_d=self.t_d)


CAPACITY_NETWORKS = {
    "dsem": CapacityNetwork(),
    "dsem_poly": CapacityNetwork(),
    "lisem": CapacityNetwork(alpha_s=4.5, alpha_c=4.5, dwell=40.0, per_neuron=True),
}


@functools.partial(jax.jit, static_argnames=("model", "n_save", "save_every", "dt"))
def _batched_overlaps(model, xi, phi, scal, *, n_save, save_every, dt):
    m = get_model(model)
    cfg = SolverConfig(solver="euler_scan", dt=dt)

    def one(x, f):
        p = make_params(x, f, dtype=x.dtype, **scal)
        v0 = jnp.sqrt(p.alpha_s) * x[:, 0] if model != "lisem" else x[:, 0]
        tr = solve(m, p, v0, jnp.zeros_like(v0), n_save=n_save, save_every=save_every, cfg=cfg, max_steps=1,
                   save="overlaps")
        return tr.m, tr.result

    return jax.vmap(one)(xi, phi)


class CycleTrial(NamedTuple):
    """What :func:`cycle_trial` returns: saved times ts (T,), overlaps m (n_sets, T, K) and the solver result
    code of every pattern set (n_sets,) (0 = successful; :func:`wavejax.gsemm.result_name`)."""

    ts: np.ndarray
    m: np.ndarray
    result: np.ndarray


def cycle_trial(model: str, key: jax.Array, n_features: int, n_memories: int, *, n_sets: int = 4,
                dt: float = 0.05, save_every: float = 0.5, t1: float | None = None, dtype=jnp.float64,
                network: CapacityNetwork | None = None, **overrides) -> CycleTrial:
    """Solve ``n_sets`` random K-cycles of N features at once; return :class:`CycleTrial` (ts (T,), overlaps
    (n_sets, T, K), result codes (n_sets,)).

    Cue xi^0 (scaled by sqrt(a_s) for DSEM), v_d(0) = 0. ``t1`` defaults to (K + 2) times the network's dwell.
    ``network`` defaults to ``CAPACITY_NETWORKS[model]``; ``overrides`` replace its fields (e.g. ``alpha_c=1.25``).
    """
    key = V.prng_key("key", key)
    V.one_of("model", model, tuple(MODELS))
    N, K, S = (V.positive_int(n, x) for n, x in (("n_features", n_features), ("n_memories", n_memories),
                                                   ("n_sets", n_sets)))
    dtype = refuse_f64_on_tpu(require_dtype(dtype))
    net = dataclasses.replace(network or CAPACITY_NETWORKS[model], **overrides)
    scal = net.scalars(N)
    t1 = float(t1 if t1 is not None else (K + 2) * net.dwell)
    n_save, stride = save_grid(t1, save_every, dt)
    _memory.require_fits({"n_features": N, "n_memories": K, "n_sets": S},
                         _memory.nbytes((S, n_save + N + K, K), dtype), what="patterns, transitions and overlaps")
    xi = jax.random.rademacher(key, (S, N, K), dtype=dtype)
    phi = jnp.broadcast_to(jnp.roll(jnp.eye(K, dtype=dtype), 1, axis=1), (S, K, K))
    (xi, phi), n = shard_leading((xi, phi))  # pads S to a multiple of the device count (no-op on one device)
    scal = {k: jnp.asarray(v, dtype) for k, v in scal.items()}
    m, res = unpad_leading(_batched_overlaps(model, xi, phi, scal, n_save=n_save, save_every=float(save_every),
                                             dt=float(dt)), n)
    ts = np.arange(n_save) * stride * dt
    m, res = to_host((m, res))  # a collective with several processes: every process gets all pattern sets
    return CycleTrial(ts, m, np.asarray(res, np.int32).reshape(-1))


def cycle_pass(ts, m, *, min_run: int = 4) -> bool:
    """The capacity criterion for one pattern set: the cycle is traversed completely (K changes, back to the
    start) with every decoded change the correct successor. ``m`` has shape (T, K)."""
    K = m.shape[1]
    if not np.isfinite(m).all():  # a diverged solve fails the criterion (it is not decoded)
        return False
    seq = decode(ts, m, min_run=min_run).sequence
    return bool(len(seq) >= K + 1 and seq[0] == 0 and follows_graph(seq, cycle_successors(K)))


def capacity_search(model: str, key: jax.Array, n_features: int, *, n_sets: int = 4, need: int = 3,
                    k_start: int = 2, k_max: int = 512, **trial_kw
                    ) -> tuple[int, dict[int, int], dict[int, dict[str, int]]]:
    """The capacity boundary K* by doubling, then bisection, on "K passes" (>= ``need`` of ``n_sets`` sets pass).

    Returns ``(K*, {K: n_pass}, {K: {reason: n_sets}})``: the last maps each K at which some pattern set's solve
    failed to the failures' result names (``"nonfinite"``, ...); such a set counts as failed. K* passes and K* + 1
    failed when it was tried; because the outcome is not monotone in K (module doc), a larger K may still pass:
    K* is a bisection boundary, not the largest passing K. K* = 0 when even ``k_start`` fails.
    """
    key = V.prng_key("key", key)
    k_start, k_max = V.positive_int("k_start", k_start), V.positive_int("k_max", k_max)
    if k_start > k_max:
        raise ValueError(f"k_start must be <= k_max; got k_start={k_start}, k_max={k_max} (the search would return "
                         "K* = 0 without a trial)")
    n_sets, need = V.positive_int("n_sets", n_sets), V.positive_int("need", need)
    if need > n_sets:
        raise ValueError(f"need must be <= n_sets; got need={need}, n_sets={n_sets} (no K could ever pass)")
    tried: dict[int, int] = {}
    failed: dict[int, dict[str, int]] = {}

    def ok(k: int) -> bool:
        if k not in tried:
            ts, m, res = cycle_trial(model, jax.random.fold_in(key, k), n_features, k, n_sets=n_sets, **trial_kw)
            tried[k] = sum(bool(r == SUCCESS) and cycle_pass(ts, mk) for mk, r in zip(m, res, strict=True))
            bad = [result_name(r) for r in res if r != SUCCESS]
            if bad:
                failed[k] = {name: bad.count(name) for name in sorted(set(bad))}
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
        return lo, tried, failed
    lo_b = max(lo, k_start - 1)
    while hi - lo_b > 1:
        mid = (lo_b + hi) // 2
        if ok(mid):
            lo_b = mid
        else:
            hi = mid
    return (lo_b if lo_b >= k_start else 0), tried, failed


def capacity_curve(model: str, key: jax.Array, ns, **kw) -> dict[str, list]:
    """K*(N) for each N in ``ns`` (independent keys per N); returns {"N": [...], "K": [...], "tried": [...],
    "failed": [...]} (``failed``: per N, ``{K: {result name: pattern sets}}`` of the solves that failed)."""
    key = V.prng_key("key", key)
    out: dict[str, list] = {"N": [], "K": [], "tried": [], "failed": []}
    for n in ns:
        kstar, tried, failed = capacity_search(model, jax.random.fold_in(key, int(n)), int(n), **kw)
        out["N"].append(int(n))
        out["K"].append(int(kstar))
        out["tried"].append({int(a): int(b) for a, b in tried.items()})
        out["failed"].append({int(a): b for a, b in failed.items()})
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
