"""One plotting helper per figure kind. Each returns the saved path (PNG, written atomically).

* ``line_plot``    curves y(x) with optional log axes (dwell laws, gradients vs lag, capacity, training curves)
* ``heatmap``      a matrix with optional block grid (W in a basis, Phi_emp, lattice snapshots)
* ``eigen_plot``   eigenvalues in the complex plane with the unit circle, several sets overlaid
* ``scatter_plot`` labelled point clouds with optional highlighted subsets and fitted lines (frontiers)
* ``image_grid``   a grid of small grayscale images (GAN samples, kernels)
* ``hist_plot``    overlaid histograms (weight distributions)
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from wavejax.io import atomic_write_bytes  # noqa: E402

__all__ = ["save_figure", "line_plot", "heatmap", "eigen_plot", "scatter_plot", "image_grid", "hist_plot"]


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def line_plot(
    path: str | os.PathLike,
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    markers: bool = True,
    hlines: Mapping[str, float] | None = None,
) -> Path:
    """Plot named curves ``{label: (x, y)}``; optional horizontal reference lines ``{label: y}``."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, (x, y) in curves.items():
        ax.plot(np.asarray(x), np.asarray(y), marker="o" if markers else None, ms=3, label=label)
    for label, y in (hlines or {}).items():
        ax.axhline(y, ls="--", c="gray", lw=1, label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    if len(curves) + len(hlines or {}) > 1:
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def heatmap(
    path: str | os.PathLike,
    mat: Any,
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    block: int | None = None,
    cmap: str = "RdBu_r",
    symmetric: bool = True,
    panels: Mapping[str, Any] | None = None,
) -> Path:
    """Show a matrix (or several as ``panels``) with an optional ``block`` x ``block`` grid."""
    mats = dict(panels) if panels is not None else {title: mat}
    fig, axes = plt.subplots(1, len(mats), figsize=(4.2 * len(mats), 4), squeeze=False)
    for ax, (name, m) in zip(axes[0], mats.items(), strict=True):
        m = np.real(np.asarray(m, dtype=complex if np.iscomplexobj(m) else float))
        v = float(np.nanmax(np.abs(m))) or 1.0
        im = ax.imshow(m, cmap=cmap, vmin=-v if symmetric else None, vmax=v if symmetric else None,
                       interpolation="nearest", aspect="auto")
        if block:
            for k in range(block, max(m.shape), block):
                if k < m.shape[1]:
                    ax.axvline(k - 0.5, c="k", lw=0.5)
                if k < m.shape[0]:
                    ax.axhline(k - 0.5, c="k", lw=0.5)
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
        fig.colorbar(im, ax=ax, fraction=0.046)
    if panels is not None and title:
        fig.suptitle(title)
    return save_figure(fig, path)


def eigen_plot(
    path: str | os.PathLike,
    eigs: Mapping[str, Any],
    *,
    title: str = "",
    ncols: int | None = None,
    panels: bool = False,
) -> Path:
    """Eigenvalues ``{label: complex array}`` in the complex plane with the unit circle.

    ``panels=False`` overlays all sets in one axis; ``panels=True`` draws one panel per label.
    """
    items = list(eigs.items())
    n = len(items) if panels else 1
    ncols = ncols or min(n, 4)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.4 * nrows), squeeze=False)
    th = np.linspace(0, 2 * np.pi, 400)
    markers = ["o", "x", "+", "s", "^"]
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        ax.plot(np.cos(th), np.sin(th), c="gray", lw=0.8)
        sel = [items[k]] if panels else items
        for j, (label, ev) in enumerate(sel):
            ev = np.asarray(ev, dtype=complex)
            ax.scatter(ev.real, ev.imag, s=18, marker=markers[j % len(markers)], label=label,
                       facecolors="none" if markers[j % len(markers)] in "os^" else None,
                       edgecolors=f"C{j}" if markers[j % len(markers)] in "os^" else None,
                       c=None if markers[j % len(markers)] in "os^" else f"C{j}")
        ax.set_aspect("equal")
        ax.set(xlabel="Re", ylabel="Im", title=items[k][0] if panels else title)
        if not panels and len(items) > 1:
            ax.legend(fontsize=7, loc="upper right")
        ax.grid(alpha=0.3)
    if panels and title:
        fig.suptitle(title)
    return save_figure(fig, path)


def scatter_plot(
    path: str | os.PathLike,
    groups: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
    lines: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    bands: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]] | None = None,
) -> Path:
    """Point groups ``{label: (x, y)}``, optional lines ``{label: (x, y)}`` and bands ``{label: (x, lo, hi)}``."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label, (x, y) in groups.items():
        ax.scatter(np.asarray(x), np.asarray(y), s=14, alpha=0.75, label=label)
    for label, (x, y) in (lines or {}).items():
        ax.plot(np.asarray(x), np.asarray(y), lw=1.6, label=label)
    for label, (x, lo, hi) in (bands or {}).items():
        ax.fill_between(np.asarray(x), np.asarray(lo), np.asarray(hi), alpha=0.2, label=label)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def image_grid(path: str | os.PathLike, images: Any, *, ncols: int = 8, title: str = "",
               cmap: str = "gray", vmin: float | None = None, vmax: float | None = None) -> Path:
    """Images of shape (n, h, w) or (n, h, w, 1) in a grid."""
    imgs = np.asarray(images)
    if imgs.ndim == 4:
        imgs = imgs[..., 0]
    n = imgs.shape[0]
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.1 * ncols, 1.1 * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(imgs[k], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def hist_plot(path: str | os.PathLike, samples: Mapping[str, Any], *, bins: int = 50, title: str = "",
              xlabel: str = "", density: bool = True, logy: bool = False) -> Path:
    """Overlaid histograms ``{label: values}``."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, v in samples.items():
        ax.hist(np.ravel(np.asarray(v)), bins=bins, histtype="step", density=density, label=label, lw=1.4)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel="density" if density else "count")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
