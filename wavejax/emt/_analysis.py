"""Analysis of a trained RNN against the variable-binding circuit (docs/emt.md §5, §6; docs/wave.md §5).

:func:`analyze_rnn` returns ONE plain, JSON-able metrics dict: the spectrum vs theory (count of |lambda| > thr,
modulus range, phase-matching spectral error), the privileged basis in BOTH groundings (dual error, Phi_emp,
off/on ratio, sign agreement, readout fraction, block tracking of the variable memories), the variable memories
on the "315" probe and, given the initial parameters, the gradient norm vs lag before / after training
(docs/emt.md §7; docs/wave.md §5.6). The figures of :mod:`wavejax.emt._figures` are drawn from that dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate
from wavejax.emt._circuit import circuit_matrix, circuit_rollout, recurrent_positions, unit_count
from wavejax.emt._privileged import (
    PrivilegedBasis,
    block_tracking,
    dual_error,
    phi_emp,
    predicted_block,
    privileged_basis,
    readout_fraction,
    structure_metrics,
    variable_memories,
)
from wavejax.emt._spectral import dominant_eigenvalues, spectral_error
from wavejax.precision import require_dtype
from wavejax.tasks import decode_task, lag_matrices, parse_task_id, task_batch
from wavejax.wave._gradients import gradient_vs_lag, rnn_runner

__all__ = ["analyze_rnn", "probe_inputs", "gradient_profile"]

GROUNDINGS = ("output", "input")  # privileged-basis groundings reported by analyze_rnn


def _params(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    for k in ("W_uh", "W_hh", "W_hy"):
        if k not in params:
            raise ValueError(f"params must hold {k!r} (Elman parameters); got keys {sorted(params)}")
    p = {k: np.asarray(params[k], np.float64) for k in ("W_uh", "W_hh", "W_hy")}
    H = _validate.shape("W_hh", p["W_hh"], (None, None))[0]
    _validate.shape("W_hh", p["W_hh"], (H, H))
    return p


def complex_pairs(z: np.ndarray) -> list[list[float]]:
    """Complex numbers as JSON-able ``[re, im]`` pairs (inverse: ``a[:, 0] + 1j * a[:, 1]``).

    >>> complex_pairs(np.array([1 + 2j, 3 - 1j]))
    [[1.0, 2.0], [3.0, -1.0]]
    """
    z = np.asarray(z, np.complex128).ravel()
    return np.stack([z.real, z.imag], axis=1).tolist()


def probe_inputs(s: int = 8, d: int = 8, horizon: int = 16) -> np.ndarray:
    """The "315" probe (docs/wave.md §5.5) as one input sequence (s + horizon, d): 7 glyph steps, one -1 step, zeros."""
    from wavejax.wave._probe import probe_315

    if s < 7:
        raise ValueError(f"the 315 probe needs s >= 7 input steps; got s={s}")
    x = np.zeros((s + horizon, d))
    x[:7] = probe_315(d)
    x[7:s] = -1.0
    return x


def _grounded(p: dict, F: np.ndarray, s: int, hs: np.ndarray, x: np.ndarray, grounding: str, n_pca: int,
              copy: bool) -> tuple[PrivilegedBasis, dict[str, Any]]:
    """Basis metrics of one grounding (tracking only for repeat copy: its variables rotate through the blocks)."""
    H, d = p["W_hh"].shape[0], F.shape[1]
    w = {"W_hy": p["W_hy"], "W_uh": p["W_uh"]} if grounding == "output" else {"W_uh": p["W_uh"]}
    basis = privileged_basis(p["W_hh"], F, s, traj=hs.reshape(-1, H), grounding=grounding, n_pca=n_pca, **w)
    E = phi_emp(p["W_hh"], basis)
    off_on, agree = structure_metrics(E, circuit_matrix(F, s), basis.keep)
    tracking = math.nan
    if copy:
        times = np.arange(s - 1, hs.shape[1])
        got = block_tracking(variable_memories(basis, hs), x[:, :s], times)
        want = np.array([[predicted_block(mu, t, s) for mu in range(s)] for t in times])
        tracking = float(np.mean(got == want))
    n = s * d
    return basis, {"dual_error": dual_error(basis), "off_on": off_on, "sign_agreement": agree,
                   "readout_fraction": readout_fraction(p["W_hy"], basis), "tracking": tracking,
                   "phi_emp": np.real(E)[:n, :n].tolist()}


def analyze_rnn(params: Mapping[str, Any], task: tuple[int, int, int] | str, *, s: int = 8, thr: float = 0.9,
                key=None, batch: int = 64, horizon: int = 40, n_pca: int = 10,
                init: Mapping[str, Any] | None = None, dtype=jnp.float64) -> dict[str, Any]:
    """Compare a trained bias-free tanh RNN with the circuit of its task (plain JSON-able dict).

    Args:
      params: Elman parameters ``W_uh`` (H, d), ``W_hh`` (H, H), ``W_hy`` (d, H).
      task: task name or id.
      s: history length (d is the readout's output size).
      thr: eigenvalue modulus threshold (0.9 in the acceptance checks).
      key: PRNG key of the trajectory batch (default key(0)).
      batch, horizon: trajectory batch for the PCA complement and the block tracking.
      n_pca: complement size.
      init: the parameters before training; given, ``"gradients"`` holds the gradient-vs-lag profiles.
      dtype: dtype of the rollouts (float64 needs 64-bit mode, :func:`wavejax.precision.enable_x64`).

    Returns:
      ``task``, ``s``, ``d``, ``hidden``, ``count`` (|lambda| > thr), ``count_theory``, ``mod_min``, ``mod_max``,
      ``spectral_error`` (rad, NaN on a count mismatch), ``eig`` / ``eig_theory`` ([re, im] pairs of W_hh and of
      Phi's recurrent part), per grounding ``"output"`` / ``"input"``: ``dual_error``, ``off_on``,
      ``sign_agreement``, ``readout_fraction``, ``tracking`` (fraction of (t, mu) in the predicted block; repeat
      copy only, else NaN), ``phi_emp`` (s*d x s*d); ``memories`` ((T, s, d) z-scored output-basis coordinates on
      the "315" probe), ``probe_times`` and, with ``init``, ``gradients`` = {"init": [...], "trained": [...]}.
      When H < s*d (no room for the circuit) only the spectrum fields (and ``gradients``) are returned, with
      ``circuit_skipped`` saying why.
    """
    dtype = require_dtype(dtype, "dtype")
    p = _params(params)
    H, d = p["W_hh"].shape[0], p["W_hy"].shape[0]
    F = decode_task(task, s, d)
    Phi = circuit_matrix(F, s)
    keep = recurrent_positions(Phi)
    Phi_r = Phi[np.ix_(keep, keep)]
    dom = dominant_eigenvalues(p["W_hh"], thr)
    res: dict[str, Any] = {
        "task": list(parse_task_id(task)), "s": s, "d": d, "hidden": H, "count": int(len(dom)),
        "count_theory": unit_count(Phi), "mod_min": float(np.abs(dom).min()) if len(dom) else math.nan,
        "mod_max": float(np.abs(dom).max()) if len(dom) else math.nan,
        "spectral_error": spectral_error(Phi_r, p["W_hh"], thr),
        "eig": complex_pairs(np.linalg.eigvals(p["W_hh"])), "eig_theory": complex_pairs(np.linalg.eigvals(Phi_r)),
    }
    if s * d > H:  # no room for the circuit's s*d units: the spectrum (and gradients) only
        res["circuit_skipped"] = f"circuit comparison skipped: needs H >= s*d = {s * d}, got H={H}"
        if init is not None:
            res["gradients"] = {"init": gradient_profile(init, s=s, max_lag=40, dtype=dtype).tolist(),
                                "trained": gradient_profile(p, s=s, max_lag=40, dtype=dtype).tolist()}
        return res
    key = jax.random.key(0) if key is None else key
    x, _, _ = task_batch(key, lag_matrices(F), horizon=horizon, batch=batch, dtype=dtype)
    hs = np.asarray(circuit_rollout(p, x, nonlinearity="tanh")[1], np.float64)
    copy = bool(np.array_equal(F, decode_task((2**d - 1, 0, 0), s, d)))
    bases = {}
    for g in GROUNDINGS:
        bases[g], res[g] = _grounded(p, F, s, hs, np.asarray(x), g, n_pca, copy)
    _, hp = circuit_rollout(p, jnp.asarray(probe_inputs(s, d), dtype)[None], nonlinearity="tanh")
    res["memories"] = variable_memories(bases["output"], np.asarray(hp)[0], zscore=True).tolist()
    if init is not None:
        res["gradients"] = {"init": gradient_profile(init, s=s, max_lag=40, dtype=dtype).tolist(),
                            "trained": gradient_profile(p, s=s, max_lag=40, dtype=dtype).tolist()}
    return res


def gradient_profile(params: Mapping[str, Any], *, s: int = 8, max_lag: int = 40, key=None,
                     dtype=jnp.float64) -> np.ndarray:
    """||d y(k) / d x(0)||_2 for k = 0..max_lag of the tanh RNN on a random +-1 input phase then zeros.

    ``dtype`` is that of the input sequence (float64 needs 64-bit mode).
    """
    dtype = require_dtype(dtype, "dtype")
    p = _params(params)
    d = p["W_uh"].shape[1]
    max_lag = _validate.positive_int("max_lag", max_lag)
    key = jax.random.key(0) if key is None else key
    T = max(max_lag + 1, s)
    xs = np.zeros((T, d))
    xs[:s] = np.asarray(jax.random.rademacher(key, (s, d), dtype=jnp.float32), np.float64)
    run = rnn_runner(p["W_hh"], p["W_uh"], p["W_hy"], nonlinearity="tanh")
    return gradient_vs_lag(run, jnp.asarray(xs, dtype), t0=0, max_lag=max_lag)
