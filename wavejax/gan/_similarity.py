"""Generator/critic kernel similarity with the null baselines the claim needs (docs/gan.md §5 (c), §7, §9).

Best-match cosine (docs/gan.md §5 (c)). For kernels A (G) and B (D) of shape (5, 5, C_in, C_out) every 5x5 slice
a_ij = A[:, :, i, j] is a 25-vector (0-based i < C_in, j < C_out, flattened as row i * C_out + j) and

    s_ij = max_{(k, l)} <a_ij, b_kl> / (||a_ij|| ||b_kl||)       (signed cosine, over all C_in' * C_out' slices of B).

Vectorised: rows of A and B L2-normalised, S = A_hat B_hat^T, s = max(S, axis=1), computed in row blocks so that
h = 256 kernels (65,536 slices) fit in memory.

The maximum over thousands of candidates in 25 dimensions is biased upwards even for unrelated kernels, so the
statistic means nothing alone (§5). :func:`null_baselines` computes the same statistic for

* ``gaussian_matched``: independent Gaussian kernels with A's and B's mean and SD;
* ``truncnormal_vs_sign``: a truncated-normal (sigma 0.02, the init) kernel vs c * sign(N(0, 1)) (a fully clipped
  critic kernel);
* ``value_shuffled``: B's entries permuted over all positions (exactly B's value histogram, structure destroyed);
* ``tap_shuffled``: the 25 taps of each slice of B permuted independently (each slice keeps its values and norm,
  loses its spatial pattern);
* ``channel_shuffled``: B's input and output channels permuted. The best-match statistic is invariant to this by
  construction (it searches all slices), so this null equals the observed distribution exactly; it shows the
  statistic carries no channel correspondence. The channel-*aligned* cosine cos(a_ij, b_ij) is reported beside it;
* ``independent_critic``: A vs the critic kernel of an independently trained run (when given),

and :func:`similarity_report` adds a two-sample Kolmogorov-Smirnov test of the observed distribution against each
null and a conclusion derived from those numbers. The C_in * C_out values share one candidate pool and are not
independent, so KS p-values are indicative only; the report therefore also requires a mean gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = ["best_match_cosine", "aligned_cosine", "clip_fraction", "null_baselines", "ks_2samp",
           "similarity_report", "format_similarity_report", "NULLS"]

NULLS = ("gaussian_matched", "truncnormal_vs_sign", "value_shuffled", "tap_shuffled", "channel_shuffled",
         "independent_critic")

_BLOCK = 4096  # rows of S computed at once: 4096 x N float32 (64 MiB at N = 4096)


def _check_kernel(name: str, k: Any) -> tuple[int, ...]:
    shp = _validate.ndim(name, k, 4)
    if shp[0] * shp[1] == 0 or shp[2] * shp[3] == 0:
        raise ValueError(f"{name} must have non-empty spatial and channel axes; got shape {shp}")
    return shp


def _slices(k: Array) -> Array:
    """(kh, kw, C_in, C_out) -> (C_in * C_out, kh * kw); row i * C_out + j is the slice k[:, :, i, j]."""
    kh, kw, ci, co = k.shape
    return jnp.transpose(k, (2, 3, 0, 1)).reshape(ci * co, kh * kw)


def _normalise(v: Array) -> Array:
    n = jnp.sqrt(jnp.sum(v * v, axis=1, keepdims=True))
    return v / jnp.where(n > 0, n, 1.0)  # an all-zero slice has cosine 0 with everything


@partial(jax.jit, static_argnames=("block",))
def _best_match_impl(a: Array, b: Array, *, block: int) -> Array:
    an, bn = _normalise(_slices(a)), _normalise(_slices(b))
    n = an.shape[0]
    if n <= block:
        return jnp.max(an @ bn.T, axis=1)
    pad = (-n) % block
    ap = jnp.concatenate([an, jnp.zeros((pad, an.shape[1]), an.dtype)]).reshape(-1, block, an.shape[1])
    return jax.lax.map(lambda r: jnp.max(r @ bn.T, axis=1), ap).reshape(-1)[:n]


def best_match_cosine(a: Float[Array, "5 5 ci co"], b: Float[Array, "5 5 ci2 co2"]) -> Float[Array, " ci*co"]:
    """Best-match signed cosine of every 5x5 slice of ``a`` against all slices of ``b`` (docs/gan.md §5 (c)).

        s_ij = max_{k,l} <a_ij, b_kl> / (||a_ij|| ||b_kl||),     a_ij = a[:, :, i, j] as a 25-vector.

    Args:
      a: kernel (kh, kw, C_in, C_out), HWIO (the generator's in the paper's analysis).
      b: kernel (kh, kw, C_in', C_out') with the same kh, kw (the critic's); channel counts may differ.

    Returns:
      s of shape (C_in * C_out,), entry i * C_out + j for slice (i, j); values in [-1, 1]. A slice of zeros has
      cosine 0 with everything. ``best_match_cosine(a, a)`` is all ones; permuting ``b``'s channels changes
      nothing.

    Raises:
      ValueError: a kernel is not 4-D or the spatial sizes differ.

    Example:
      >>> a = jax.random.normal(jax.random.key(0), (5, 5, 8, 8))
      >>> float(best_match_cosine(a, a).min())  # doctest: +ELLIPSIS
      0.99999...
    """
    sa, sb = _check_kernel("a", a), _check_kernel("b", b)
    if sa[:2] != sb[:2]:
        raise ValueError(f"a and b must have the same spatial size; got a.shape={sa}, b.shape={sb}")
    dt = jnp.result_type(a, b, jnp.float32)
    return _best_match_impl(jnp.asarray(a, dt), jnp.asarray(b, dt), block=_BLOCK)


def aligned_cosine(a: Float[Array, "5 5 ci co"], b: Float[Array, "5 5 ci co"]) -> Float[Array, " ci*co"]:
    """Channel-aligned cosine cos(a_ij, b_ij) of same-index slices; shapes must be equal. Returns (C_in*C_out,)."""
    sa = _check_kernel("a", a)
    _validate.shape("b", b, sa)
    an, bn = _normalise(_slices(jnp.asarray(a))), _normalise(_slices(jnp.asarray(b)))
    return jnp.sum(an * bn, axis=1)


def clip_fraction(w: Any, c: float = 0.01, *, rel_tol: float = 0.1) -> float:
    """Fraction of entries of ``w`` within ``rel_tol * c`` of the clip bounds +-c (|w| >= (1 - rel_tol) c)."""
    _validate.positive("c", c)
    _validate.probability("rel_tol", rel_tol)
    w = np.abs(np.asarray(w, np.float64)).ravel()
    return float(np.mean(w >= (1.0 - rel_tol) * c))


def null_baselines(a: Float[Array, "5 5 ci co"], b: Float[Array, "5 5 ci co"], key: jax.Array, *,
                   b_independent: Float[Array, "5 5 ci co"] | None = None, clip: float = 0.01,
                   ) -> dict[str, np.ndarray]:
    """Best-match cosines of the observed pair and of every null baseline (module docstring).

    Args:
      a: generator kernel (5, 5, C_in, C_out).
      b: critic kernel of the same shape.
      key: PRNG key for the random nulls.
      b_independent: critic kernel of an independently trained run (same shape); omitted -> no such null.
      clip: the clip bound c of the sign null.

    Returns:
      ``{"observed": s, <null>: s_null, ..., "aligned_observed": ..., "aligned_channel_shuffled": ...}``, each
      a float64 NumPy array of shape (C_in * C_out,).
    """
    shp = _check_kernel("a", a)
    _validate.shape("b", b, shp)
    if b_independent is not None:
        _validate.shape("b_independent", b_independent, shp)
    _validate.positive("clip", clip)
    b_ind = None if b_independent is None else jnp.asarray(b_independent, jnp.float32)
    out = _nulls_impl(jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32), key, b_ind, clip=float(clip))
    return {name: np.asarray(v, np.float64) for name, v in out.items()}


@partial(jax.jit, static_argnames=("clip",))
def _nulls_impl(a: Array, b: Array, key: jax.Array, b_ind: Array | None, *, clip: float) -> dict[str, Array]:
    best = partial(_best_match_impl, block=_BLOCK)
    shp = a.shape
    kh, kw, ci, co = shp
    k = jax.random.split(key, 8)
    out = {"observed": best(a, b)}
    ga = jnp.mean(a) + jnp.std(a) * jax.random.normal(k[0], shp, jnp.float32)
    gb = jnp.mean(b) + jnp.std(b) * jax.random.normal(k[1], shp, jnp.float32)
    out["gaussian_matched"] = best(ga, gb)
    tn = 0.02 * jax.random.truncated_normal(k[2], -2.0, 2.0, shp, jnp.float32)
    sg = clip * jnp.sign(jax.random.normal(k[3], shp, jnp.float32))
    out["truncnormal_vs_sign"] = best(tn, sg)
    out["value_shuffled"] = best(a, jax.random.permutation(k[4], b.ravel()).reshape(shp))
    sl = _slices(b)
    perm_taps = jax.vmap(jax.random.permutation)(jax.random.split(k[5], sl.shape[0]), sl)
    out["tap_shuffled"] = best(a, jnp.transpose(perm_taps.reshape(ci, co, kh, kw), (2, 3, 0, 1)))
    bc = b[:, :, jax.random.permutation(k[6], ci)][:, :, :, jax.random.permutation(k[7], co)]
    out["channel_shuffled"] = best(a, bc)
    if b_ind is not None:
        out["independent_critic"] = best(a, b_ind)
    an, bn, bcn = _normalise(_slices(a)), _normalise(_slices(b)), _normalise(_slices(bc))
    out["aligned_observed"] = jnp.sum(an * bn, axis=1)
    out["aligned_channel_shuffled"] = jnp.sum(an * bcn, axis=1)
    return out


def ks_2samp(x: Any, y: Any) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic sup_t |F_x(t) - F_y(t)| and its asymptotic p-value (SciPy)."""
    from scipy import stats

    r = stats.ks_2samp(np.ravel(x), np.ravel(y))
    return float(r.statistic), float(r.pvalue)


def similarity_report(values: Mapping[str, Any], *, alpha: float = 0.01, min_gap: float = 0.02) -> dict[str, Any]:
    """Summaries, KS tests against every null and the conclusion that follows from them.

    The observed similarity is called *above chance* only if, against every null present (except the
    ``channel_shuffled`` identity check), its mean exceeds the null mean by at least ``min_gap`` AND the KS test
    rejects equality at level ``alpha``. It is called *at or below chance* if some null has a mean at least as
    large or the KS test does not reject; anything else is *inconclusive*.

    Args:
      values: output of :func:`null_baselines` (``"observed"`` plus nulls).
      alpha: KS significance level.
      min_gap: smallest mean difference (cosine units) counted as a real excess.

    Returns:
      ``{"summary": {name: {mean, sd, min, max, n}}, "ks": {null: {statistic, pvalue, mean_gap}},
      "above_chance": {null: bool}, "verdict": "above chance" | "not above chance" | "inconclusive",
      "conclusion": str}``.
    """
    if "observed" not in values:
        raise ValueError("values must contain 'observed' (use null_baselines)")
    _validate.probability("alpha", alpha)
    _validate.nonneg("min_gap", min_gap)
    summ = {n: {"mean": float(np.mean(v)), "sd": float(np.std(v)), "min": float(np.min(v)),
                "max": float(np.max(v)), "n": int(np.size(v))} for n, v in values.items()}
    obs = np.asarray(values["observed"])
    ks, above, below = {}, {}, []
    for n in NULLS:
        if n not in values:
            continue
        d, p = ks_2samp(obs, values[n])
        gap = summ["observed"]["mean"] - summ[n]["mean"]
        ks[n] = {"statistic": d, "pvalue": p, "mean_gap": gap}
        if n == "channel_shuffled":
            continue  # identity check: equal by construction
        above[n] = bool(gap >= min_gap and p < alpha)
        if gap <= 0 or p >= alpha:
            below.append(n)
    if above and all(above.values()):
        verdict = "above chance"
    elif below:
        verdict = "not above chance"
    else:
        verdict = "inconclusive"
    obs_m = summ["observed"]["mean"]
    parts = [f"observed mean best-match cosine {obs_m:.3f}"]
    parts += [f"{n} {summ[n]['mean']:.3f} (KS D={ks[n]['statistic']:.3f}, p={ks[n]['pvalue']:.2g})"
              for n in ks if n != "channel_shuffled"]
    if verdict == "above chance":
        why = f"it exceeds every null baseline by >= {min_gap:.2f} with KS p < {alpha:g}"
    elif verdict == "not above chance":
        why = ("it does not exceed " + ", ".join(below)
               + f" (mean gap <= 0 or KS p >= {alpha:g}): the similarity is explained by chance / matched statistics"
               )
    else:
        why = f"it differs from the nulls significantly but by less than {min_gap:.2f} for: " + ", ".join(
            n for n, ok in above.items() if not ok)
    chan = ks.get("channel_shuffled")
    if chan is not None:
        why += f"; channel shuffling leaves the statistic unchanged (KS D={chan['statistic']:.3g})"
    if "aligned_observed" in values and "aligned_channel_shuffled" in values:
        why += (f"; channel-aligned cosine {summ['aligned_observed']['mean']:.3f} vs shuffled "
                f"{summ['aligned_channel_shuffled']['mean']:.3f}")
    conclusion = f"G-vs-D kernel similarity is {verdict.upper()}: " + "; ".join(parts) + ". Reason: " + why + "."
    return {"summary": summ, "ks": ks, "above_chance": above, "verdict": verdict, "conclusion": conclusion}


def format_similarity_report(rep: Mapping[str, Any]) -> str:
    """Markdown table of a :func:`similarity_report` (one line per distribution) plus its conclusion."""
    lines = ["| distribution | mean | SD | min | max | KS D vs observed | KS p | mean gap |",
             "|---|---|---|---|---|---|---|---|"]
    for n, s in rep["summary"].items():
        k = rep["ks"].get(n)
        ks_txt = (f"{k['statistic']:.3f} | {k['pvalue']:.2g} | {k['mean_gap']:+.3f}" if k else " | | ")
        lines.append(f"| {n} | {s['mean']:.4f} | {s['sd']:.4f} | {s['min']:.3f} | {s['max']:.3f} | {ks_txt} |")
    return "\n".join(lines) + "\n\n" + rep["conclusion"] + "\n"
