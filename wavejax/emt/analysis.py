"""Analyses and figures of a trained RNN against the variable-binding circuit (emt.md §5, §6; wave.md §5).

* :func:`analyse_rnn`: spectrum vs theory (count of |lambda| > thr, modulus range, phase-matching spectral error),
  privileged basis (dual error, Phi_emp, off/on ratio, sign agreement, readout fraction) and, for repeat copy,
  the block-tracking test of the variable memories (emt.md §7.5, §7.8-7.11).
* Figures: eigenvalues on the unit circle vs theory (:func:`plot_spectrum`), Phi_emp with the s x s block grid
  (:func:`plot_phi_emp`), variable memories over time on the "315" probe (:func:`plot_memories`) and gradient
  norm vs lag before / after training (:func:`plot_gradients`, with :func:`wavejax.wave.gradient_vs_lag`).
* :data:`PAPER_TABLE` and :func:`format_table`: Table 1 of the paper and the measured table in its format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate
from wavejax.emt.circuit import circuit_rollout, phi_from_operator, recurrent_positions, unit_count
from wavejax.emt.privileged import (
    block_tracking,
    dual_error,
    phi_emp,
    predicted_block,
    privileged_basis,
    readout_fraction,
    structure_metrics,
    variable_memories,
)
from wavejax.emt.spectral import dominant_eigenvalues, spectral_error
from wavejax.emt.tasks import TASKS, decode_task, make_batch
from wavejax.report import eigen_plot, heatmap, line_plot
from wavejax.wave.gradients import gradient_vs_lag, rnn_runner

__all__ = ["PAPER_TABLE", "analyse_rnn", "probe_inputs", "gradient_profile", "plot_spectrum", "plot_phi_emp",
           "plot_memories", "plot_gradients", "format_cell", "format_table"]

_C = TASKS["compose_copy"]
#: Table 1 of the paper (emt.md §6): (task id, H, L2) -> (spectral error in rad or None for "---", test accuracy).
PAPER_TABLE: dict[tuple[tuple[int, int, int], int, float], tuple[float | None, float]] = {}
for _tid, _cells in {
    TASKS["repeat_copy"]: [(None, 0.97), (None, 0.88), (None, 0.50), (0.0005, 1.00), (None, 0.93), (None, 0.50)],
    _C: [(0.0075, 1.00), (None, 0.85), (None, 0.50), (0.0055, 0.98), (0.0031, 0.98), (None, 0.50)],
    TASKS["mix_262676_189"]: [(0.0026, 1.00), (0.0010, 0.97), (None, 0.50), (0.0031, 0.98), (0.0005, 1.00),
                              (None, 0.50)],
    TASKS["mix_38637_145"]: [(0.0112, 0.94), (0.0011, 1.00), (None, 0.50), (0.0022, 1.00), (0.0006, 1.00),
                             (None, 0.50)],
}.items():
    for _i, (_H, _l2) in enumerate([(64, 0.0), (64, 1e-3), (64, 0.1), (128, 0.0), (128, 1e-3), (128, 0.1)]):
        PAPER_TABLE[(_tid, _H, _l2)] = _cells[_i]


def _params(params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    for k in ("W_uh", "W_hh", "W_hy"):
        if k not in params:
            raise ValueError(f"params must hold {k!r} (Elman parameters); got keys {sorted(params)}")
    p = {k: np.asarray(params[k], np.float64) for k in ("W_uh", "W_hh", "W_hy")}
    H = _validate.shape("W_hh", p["W_hh"], (None, None))[0]
    _validate.shape("W_hh", p["W_hh"], (H, H))
    return p


def probe_inputs(s: int = 8, d: int = 8, horizon: int = 16) -> np.ndarray:
    """The "315" probe (wave.md §5.5) as one input sequence (s + horizon, d): 7 glyph steps, one -1 step, zeros."""
    from wavejax.wave.probe import probe_315

    if s < 7:
        raise ValueError(f"the 315 probe needs s >= 7 input steps; got s={s}")
    x = np.zeros((s + horizon, d))
    x[:7] = probe_315(d)
    x[7:s] = -1.0
    return x


def analyse_rnn(params: Mapping[str, Any], task: tuple[int, int, int] | str, *, s: int = 8, thr: float = 0.9,
                grounding: Literal["output", "input"] = "output", key=None, batch: int = 64, horizon: int = 40,
                n_pca: int = 10) -> dict[str, Any]:
    """Compare a trained bias-free tanh RNN with the circuit of its task.

    Args:
      params: Elman parameters ``W_uh`` (H, d), ``W_hh`` (H, H), ``W_hy`` (d, H).
      task: task name or id.
      s: history length.
      thr: eigenvalue modulus threshold (0.9 in the acceptance checks).
      grounding: privileged-basis grounding ("output" or "input").
      key: PRNG key of the trajectory batch (default key(0)).
      batch, horizon: trajectory batch for the PCA complement and the block tracking.
      n_pca: complement size.

    Returns:
      A dict of NumPy arrays and floats: ``eig`` (all eigenvalues of W_hh), ``eig_theory``, ``count``,
      ``count_theory``, ``mod_min``, ``mod_max``, ``spectral_error`` (rad, NaN on a count mismatch), ``basis``
      (:class:`~wavejax.emt.privileged.PrivilegedBasis`), ``phi_emp``, ``dual_error``, ``off_on``,
      ``sign_agreement``, ``readout_fraction``, ``tracking`` (fraction of (t, mu) in the predicted block; repeat
      copy only, else NaN), ``hs`` (hidden states of the batch), ``x``.
    """
    p = _params(params)
    H = p["W_hh"].shape[0]
    F = decode_task(task, s, p["W_hy"].shape[0])
    d = F.shape[1]
    Phi = phi_from_operator(F, s, d)
    keep = recurrent_positions(Phi)
    Phi_r = Phi[np.ix_(keep, keep)]
    ev = np.linalg.eigvals(p["W_hh"])
    dom = dominant_eigenvalues(p["W_hh"], thr)
    key = jax.random.key(0) if key is None else key
    x, _, _ = make_batch(key, F, s, horizon, batch, dtype=jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    _, hs = circuit_rollout(p, x, nonlinearity="tanh")
    hs = np.asarray(hs, np.float64)
    basis = privileged_basis(p["W_hh"], F, s, W_hy=p["W_hy"], W_uh=p["W_uh"], traj=hs.reshape(-1, H),
                             grounding=grounding, n_pca=n_pca)
    E = phi_emp(p["W_hh"], basis)
    off_on, agree = structure_metrics(E, Phi, basis.keep)
    tracking = math.nan
    if np.array_equal(F, decode_task((2**d - 1, 0, 0), s, d)):  # repeat copy: variables rotate through the blocks
        coords = variable_memories(basis, hs)
        times = np.arange(s - 1, s + horizon)
        got = block_tracking(coords, np.asarray(x)[:, :s], times)
        want = np.array([[predicted_block(mu, t, s) for mu in range(s)] for t in times])
        tracking = float(np.mean(got == want))
    return {
        "eig": ev, "eig_theory": np.linalg.eigvals(Phi_r), "count": int(len(dom)), "count_theory": unit_count(Phi),
        "mod_min": float(np.abs(dom).min()) if len(dom) else math.nan,
        "mod_max": float(np.abs(dom).max()) if len(dom) else math.nan,
        "spectral_error": spectral_error(Phi_r, p["W_hh"], thr), "basis": basis, "phi_emp": E,
        "dual_error": dual_error(basis), "off_on": off_on, "sign_agreement": agree,
        "readout_fraction": readout_fraction(p["W_hy"], basis), "tracking": tracking, "hs": hs, "x": np.asarray(x),
    }


def gradient_profile(params: Mapping[str, Any], *, s: int = 8, max_lag: int = 40, key=None) -> np.ndarray:
    """||d y(k) / d x(0)||_2 for k = 0..max_lag of the tanh RNN on a random +-1 input phase then zeros."""
    p = _params(params)
    d = p["W_uh"].shape[1]
    max_lag = _validate.positive_int("max_lag", max_lag)
    key = jax.random.key(0) if key is None else key
    T = max(max_lag + 1, s)
    xs = np.zeros((T, d))
    xs[:s] = np.asarray(jax.random.rademacher(key, (s, d), dtype=jnp.float32), np.float64)
    run = rnn_runner(p["W_hh"], p["W_uh"], p["W_hy"], nonlinearity="tanh")
    return gradient_vs_lag(run, jnp.asarray(xs), t0=0, max_lag=max_lag)


def plot_spectrum(path: str | Path, eig: np.ndarray, eig_theory: np.ndarray, *, title: str = "") -> Path:
    """Eigenvalues of the trained W_hh vs those of the circuit's recurrent part on the unit circle."""
    return eigen_plot(path, {"trained W_hh": eig, "theory Φ (recurrent part)": eig_theory},
                      title=title or "eig(W_hh) vs eig(Φ)")


def plot_phi_emp(path: str | Path, E: np.ndarray, s: int, d: int, *, title: str = "") -> Path:
    """Phi_emp = Psi* W_hh Psi (the first s*d coordinates) with the s x s block grid (emt.md §5.1 "Figure 4")."""
    n = s * d
    return heatmap(path, np.real(E)[:n, :n], block=d, title=title or "W_hh in the privileged basis (Φ_emp)",
                   xlabel="basis vector (block 0 = oldest)", ylabel="basis vector")


def plot_memories(path: str | Path, coords: np.ndarray, times: list[int], *, title: str = "") -> Path:
    """Variable memories (T, s, d) at the given time indices, one panel each (emt.md §5.1 "Figure 3")."""
    _validate.ndim("coords", coords, 3)
    panels = {f"t = {t}": np.asarray(coords[t]).T for t in times}
    return heatmap(path, None, panels=panels, xlabel="block (0 = oldest)", ylabel="dim",
                   title=title or "Hidden state in the privileged basis (variable memories)")


def plot_gradients(path: str | Path, before: np.ndarray, after: np.ndarray, *, s: int = 8) -> Path:
    """||dy(t0+k)/dx(t0)|| vs lag k at initialization and after training (wave.md §5.6)."""
    k = np.arange(len(before))
    return line_plot(path, {"initialization": (k, before), "trained": (k, after)}, logy=True, xlabel="lag k",
                     ylabel="||∂y(k)/∂x(0)||₂", title=f"Gradient vs lag before / after training (s = {s})")


def format_cell(err: float | None, acc: float) -> str:
    """A Table-1 cell: "0.0005 (1.00)", or "--- (0.93)" when the spectral error is NaN / missing."""
    e = "---" if err is None or not math.isfinite(err) else f"{err:.4f}"
    return f"{e} ({acc:.2f})"


def format_table(cells: Mapping[tuple[tuple[int, int, int], int, float], tuple[float | None, float]],
                 *, hiddens=(64, 128), l2s=(0.0, 1e-3, 0.1), with_paper: bool = True) -> str:
    """Markdown Table 1 (emt.md §6): rows = task ids, columns = H x L2; cells "err (acc)".

    ``cells[(task_id, H, l2)] = (mean spectral error or None, mean test accuracy)``; missing cells print "n/a".
    With ``with_paper`` every cell also shows the paper's value: "measured [paper: ...]".
    """
    tids = list(dict.fromkeys(k[0] for k in cells)) or list(TASKS.values())
    cols = [(H, lam) for H in hiddens for lam in l2s]
    head = "| task id | " + " | ".join(f"H{H} L2={lam:g}" for H, lam in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for tid in tids:
        name = next((n for n, v in TASKS.items() if v == tid), "")
        cs = []
        for H, lam in cols:
            c = cells.get((tid, H, lam))
            txt = "n/a" if c is None else format_cell(*c)
            if with_paper and (tid, H, lam) in PAPER_TABLE:
                txt += f" [paper: {format_cell(*PAPER_TABLE[(tid, H, lam)])}]"
            cs.append(txt)
        lines.append(f"| {tid} {name} | " + " | ".join(cs) + " |")
    return "\n".join(lines) + "\n"
