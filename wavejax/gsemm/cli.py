"""``wavejax gsemm retrieve|dwell|capacity|learn|landscape`` (tyro over frozen dataclass configs)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import jax
import numpy as np

from wavejax._cli import default_out, experiment_command, run_subcommands
from wavejax.io import atomic_write_json
from wavejax.report import line_plot

__all__ = ["main", "RetrieveConfig", "AnalysisConfig"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetrieveConfig:
    """Recall a cycle of memories from a (noisy) cue and plot the overlaps and the energy over time."""

    model: Literal["dsem", "lisem", "dsem_poly"] = "dsem"  # GSEMM instance
    n_features: int = 100  # N
    n_memories: int = 10  # K (one cycle 0 -> 1 -> ... -> K-1 -> 0)
    alpha_s: float = 1.0  # symmetric strength (LISEM code default 0.045)
    alpha_c: float = 2.0  # cross strength (LISEM code default 0.004, its own convention)
    beta_d: float = 1.0  # delay gain
    t_f: float = 1.0  # feature time constant
    t_d: float = 20.0  # delay time constant
    gamma: float = 1.0  # gain
    t1: float = 1000.0  # simulated time
    save_every: float = 0.5  # spacing of saved states
    solver: str = "tsit5"  # tsit5, dopri5, dopri8, kvaerno5, euler, rk4, heun, euler_scan, rk4_scan, rk4_split_scan
    dt: float = 0.01  # step of the fixed-step solvers
    flip: float = 0.0  # fraction of cue bits flipped
    seed: int = 0  # PRNG seed
    out: Path | None = None  # output folder (default runs/gsemm-retrieve-<timestamp>)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalysisConfig:
    """Run one of the GSEMM headline experiments at a scale."""

    scale: Literal["quick", "full"] = "quick"  # quick: about a minute on CPU; full: the spec's sizes
    out: Path | None = None  # output folder


def _retrieve(cfg: RetrieveConfig) -> dict:
    from wavejax.gsemm import (
        cycle_memories,
        decode,
        dwell_prediction,
        dwell_stats,
        energy,
        follows_graph,
        model_overlaps,
        simulate,
    )
    from wavejax.gsemm.metrics import cycle_successors

    out = cfg.out or default_out("gsemm", "retrieve")
    out.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(cfg.seed)
    xi, phi = cycle_memories(key, cfg.n_features, cfg.n_memories)
    cue = np.asarray(xi[:, 0]) * np.where(np.random.default_rng(cfg.seed).random(cfg.n_features) < cfg.flip, -1, 1)
    if cfg.model != "lisem":
        cue = np.sqrt(cfg.alpha_s) * cue
    kw = dict(alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta_d=cfg.beta_d, gamma=cfg.gamma)
    tr = simulate(cfg.model, xi, phi, cue, t1=cfg.t1, save_every=cfg.save_every, t_f=cfg.t_f, t_d=cfg.t_d,
                  solver=cfg.solver, dt=cfg.dt, **kw)
    m = np.asarray(model_overlaps(cfg.model, xi, tr.v, gamma=cfg.gamma))
    e = np.asarray(energy(cfg.model, xi, phi, tr.v, tr.v_d, **kw))
    dec = decode(tr.ts, m)
    ts = np.asarray(tr.ts)
    line_plot(out / "overlaps.png", {f"ξ{mu}": (ts, m[:, mu]) for mu in range(min(cfg.n_memories, 12))},
              markers=False, xlabel="time", ylabel="overlap", title=f"{cfg.model}: overlaps with the memories")
    line_plot(out / "energy.png", {"E(v; v_d)": (ts, e)}, markers=False, xlabel="time", ylabel="energy",
              title=f"{cfg.model}: energy along the trajectory")
    res = {"config": cfg, "sequence": dec.sequence.tolist(), "dwell": dwell_stats(dec),
           "ordered": follows_graph(dec.sequence, cycle_successors(cfg.n_memories)),
           "min_peak_overlap": float(dec.peaks.min()) if dec.peaks.size else float("nan")}
    if cfg.model == "dsem":
        res["dwell_prediction"] = dwell_prediction(cfg.alpha_s, cfg.alpha_c, cfg.beta_d, cfg.t_d)
    atomic_write_json(out / "results.json", res)
    print(f"{cfg.model}: decoded {dec.sequence.tolist()[:20]}{' ...' if len(dec.sequence) > 20 else ''}; "
          f"in order: {res['ordered']}; mean dwell {res['dwell']['mean']:.2f}; results in {out}")
    return res




def _sub(doc: str) -> type:
    return type("Config", (AnalysisConfig,), {"__doc__": doc})


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax gsemm``."""
    jax.config.update("jax_enable_x64", True)
    run_subcommands("wavejax gsemm", {
        "retrieve": (RetrieveConfig, _retrieve),
        "dwell": (_sub("Dwell law D = -T_d ln(1 - sqrt r) over a sweep of r, static for r >= 1."),
                  experiment_command("gsemm", "dwell")),
        "capacity": (_sub("Capacity K*(N) of DSEM, polynomial DSEM and LISEM with fitted growth."),
                     experiment_command("gsemm", "capacity")),
        "learn": (_sub("STDP sanity, one-pass sequence learning, the authors' contrastive rule."),
                  experiment_command("gsemm", "learning")),
        "landscape": (_sub("The moving minimum of E(.; v_d(t))."), experiment_command("gsemm", "landscape")),
    }, argv)
