"""Figures of a trained RNN's analysis (docs/emt.md §5.1 "Figures 3, 4"; docs/wave.md §5.6), drawn from the metrics
dict of :func:`wavejax.emt.analyze_rnn`.

* :func:`plot_spectrum`: eigenvalues of W_hh vs those of the circuit's recurrent part on the unit circle.
* :func:`plot_phi_emp`: Phi_emp with the s x s block grid. :func:`plot_memories`: the variable memories over time.
* :func:`plot_gradients`: gradient norm vs lag before / after training.
* :func:`analysis_figures`: all of them for one analysed member.
* :func:`plot_training`: loss, training accuracy and curriculum level vs step of every member of a run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wavejax import _validate
from wavejax.report import eigen_plot, heatmap, line_plot

__all__ = ["plot_spectrum", "plot_phi_emp", "plot_memories", "plot_gradients", "analysis_figures", "plot_training"]

PROBE_TIMES = (1, 2, 3, 4, 5, 14, 15, 16, 17, 18)  # time steps of the memories figure (docs/emt.md §5.1 step 7)


def _complex(a: Any) -> np.ndarray:
    a = np.asarray(a)
    return a[:, 0] + 1j * a[:, 1] if a.ndim == 2 and a.shape[1] == 2 and not np.iscomplexobj(a) else a


def plot_spectrum(path: str | Path, eig: Any, eig_theory: Any, *, title: str = "") -> Path:
    """Eigenvalues of the trained W_hh vs those of the circuit's recurrent part (complex or [re, im] pairs)."""
    return eigen_plot(path, {"trained W_hh": _complex(eig), "theory Φ (recurrent part)": _complex(eig_theory)},
                      title=title or "eig(W_hh) vs eig(Φ)")


def plot_phi_emp(path: str | Path, E: Any, s: int, d: int, *, title: str = "") -> Path:
    """Phi_emp = Psi* W_hh Psi (the first s*d coordinates) with the s x s block grid (docs/emt.md §5.1 "Figure 4")."""
    n = s * d
    return heatmap(path, np.real(np.asarray(E))[:n, :n], block=d, title=title or "W_hh in the privileged basis (Φ_emp)",
                   xlabel="basis vector (block 0 = oldest)", ylabel="basis vector")


def plot_memories(path: str | Path, coords: Any, times: Sequence[int], *, title: str = "") -> Path:
    """Variable memories (T, s, d) at the given time indices, one panel each (docs/emt.md §5.1 "Figure 3")."""
    coords = np.asarray(coords)
    _validate.ndim("coords", coords, 3)
    panels = {f"t = {t}": coords[t].T for t in times}
    return heatmap(path, None, panels=panels, xlabel="block (0 = oldest)", ylabel="dim",
                   title=title or "Hidden state in the privileged basis (variable memories)")


def plot_gradients(path: str | Path, before: Any, after: Any, *, s: int = 8) -> Path:
    """||dy(t0+k)/dx(t0)|| vs lag k at initialization and after training (docs/wave.md §5.6)."""
    before, after = np.asarray(before), np.asarray(after)
    k = np.arange(len(before))
    return line_plot(path, {"initialization": (k, before), "trained": (k, after)}, logy=True, xlabel="lag k",
                     ylabel="||∂y(k)/∂x(0)||₂", title=f"Gradient vs lag before / after training (s = {s})")


def analysis_figures(a: Mapping[str, Any], out: str | Path, stem: str, *, seed: int | None = None,
                     memories: bool = True) -> list[str]:
    """Spectrum and Phi_emp (output grounding) of one analysis; with ``memories`` also the "315"-probe memories and,
    when ``a`` holds ``gradients``, the gradient-vs-lag figure. Returns the file names written into ``out``."""
    out = Path(out)
    tid = tuple(a["task"])
    plot_spectrum(out / f"spectrum_{stem}.png", a["eig"], a["eig_theory"],
                  title=f"eig(W_hh) vs eig(Φ), task {tid[1:]}, seed {seed}")
    figs = [f"spectrum_{stem}.png"]
    if "output" in a:  # absent when the circuit comparison was skipped (H < s*d)
        plot_phi_emp(out / f"phi_emp_{stem}.png", a["output"]["phi_emp"], a["s"], a["d"])
        figs.append(f"phi_emp_{stem}.png")
    if memories:
        plot_memories(out / f"memories_{stem}.png", a["memories"], PROBE_TIMES,
                      title="'315' probe in the privileged basis (t = 1–5, 14–18)")
        figs.append(f"memories_{stem}.png")
        if "gradients" in a:
            plot_gradients(out / f"gradients_{stem}.png", a["gradients"]["init"], a["gradients"]["trained"], s=a["s"])
            figs.append(f"gradients_{stem}.png")
    return figs


def plot_training(path: str | Path, history: Mapping[str, Any], labels: Sequence[str] | None = None, *,
                  title: str = "") -> Path:
    """Training curves of a run: loss (log scale), training sign accuracy and curriculum level vs step.

    Args:
      path: the PNG to write.
      history: ``{"loss", "accuracy", "level", ...}`` each of shape (M, steps) (:class:`~wavejax.emt.EMTRun`);
        panels for missing keys are left out, NaN steps (not logged) are gaps.
      labels: one legend label per member (default ``member m``); no legend above 10 members.
    """
    import matplotlib.pyplot as plt

    from wavejax.report._plots import save_figure

    keys = [k for k in ("loss", "accuracy", "level") if k in history]
    if not keys:
        raise ValueError(f"history must hold loss, accuracy or level curves; got keys {sorted(history)}")
    curves = {k: np.atleast_2d(np.asarray(history[k], np.float64)) for k in keys}
    m = curves[keys[0]].shape[0]
    labels = list(labels) if labels is not None else [f"member {i}" for i in range(m)]
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.4 * len(keys)), sharex=True, squeeze=False)
    ylabel = {"loss": "training loss", "accuracy": "training sign accuracy", "level": "curriculum level"}
    for ax, k in zip(axes[:, 0], keys, strict=True):
        for i, y in enumerate(curves[k]):
            ax.plot(np.arange(1, y.size + 1), y, lw=1, label=labels[i] if i < len(labels) else None)
        ax.set(ylabel=ylabel[k], yscale="log" if k == "loss" and np.nanmin(curves[k], initial=1.0) > 0 else "linear")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    if 1 < m <= 10:
        axes[0, 0].legend(fontsize=7)
    axes[0, 0].set_title(title or "Training curves")
    return save_figure(fig, path)
