"""``wavejax gsemm retrieve|retrieval|dwell|landscape|capacity|learning`` (tyro over the frozen config classes).

``retrieve`` recalls a cycle from a (noisy) cue with any model and solver (:class:`RetrieveConfig`); the other
commands are the headline experiments of :mod:`wavejax.gsemm._experiments`, generated from their own config
classes (``--preset quick|full``, every field a flag). Every command returns a ``Result``; the runner writes
``results.json`` in the one schema.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np

from wavejax._cli import experiment_commands, run_subcommands
from wavejax.gsemm._solve import SolverConfig
from wavejax.report import Result, line_plot, row

__all__ = ["main", "RetrieveConfig", "retrieve"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetrieveConfig:
    """Recall a cycle of memories from a (noisy) cue and plot the overlaps and the energy over time."""

    X64: ClassVar[bool] = True
    model: Literal["dsem", "lisem", "dsem_poly", "expsm"] = "dsem"  # GSEMM instance
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
    solver: SolverConfig = SolverConfig()  # integration (--solver.solver tsit5|...|rk4_split_scan, --solver.dt)
    flip: float = 0.0  # fraction of cue bits flipped (jax.random.bernoulli, key seed + 2)
    seed: int = 0  # PRNG seed

    @classmethod
    def quick(cls) -> RetrieveConfig:
        """A short run (seconds)."""
        return cls(t1=300.0)

    @classmethod
    def full(cls) -> RetrieveConfig:
        return cls()


def retrieve(cfg: RetrieveConfig, out: Path) -> Result:
    """Run :class:`RetrieveConfig`; figures overlaps.png and energy.png in ``out``."""
    from wavejax.gsemm import cycle_memories, decode, dwell_prediction, dwell_stats, energy, result_name, simulate
    from wavejax.gsemm._metrics import cycle_successors, follows_graph, model_overlaps

    out.mkdir(parents=True, exist_ok=True)
    xi, phi = cycle_memories(jax.random.key(cfg.seed), cfg.n_features, cfg.n_memories)
    flips = jax.random.bernoulli(jax.random.key(cfg.seed + 2), cfg.flip, (cfg.n_features,))
    cue = jnp.where(flips, -xi[:, 0], xi[:, 0])
    if cfg.model != "lisem":
        cue = np.sqrt(cfg.alpha_s) * cue
    kw = dict(alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta_d=cfg.beta_d, gamma=cfg.gamma)
    tr = simulate(cfg.model, xi, phi, cue, t1=cfg.t1, save_every=cfg.save_every, t_f=cfg.t_f, t_d=cfg.t_d,
                  solver_config=cfg.solver, **kw)
    m = np.asarray(model_overlaps(cfg.model, xi, tr.v, gamma=cfg.gamma))
    e = np.asarray(energy(cfg.model, xi, phi, tr.v, tr.v_d, **kw))
    dec = decode(tr.ts, m)
    ts = np.asarray(tr.ts)
    line_plot(out / "overlaps.png", {f"ξ{mu}": (ts, m[:, mu]) for mu in range(min(cfg.n_memories, 12))},
              markers=False, xlabel="time", ylabel="overlap", title=f"{cfg.model}: overlaps with the memories")
    line_plot(out / "energy.png", {"E(v; v_d)": (ts, e)}, markers=False, xlabel="time", ylabel="energy",
              title=f"{cfg.model}: energy along the trajectory")
    ordered = follows_graph(dec.sequence, cycle_successors(cfg.n_memories))
    min_peak = float(dec.peaks.min()) if dec.peaks.size else float("nan")
    metrics = {"sequence": dec.sequence.tolist(), "dwell": dwell_stats(dec), "ordered": ordered,
               "min_peak_overlap": min_peak, "result": result_name(tr.result)}
    rows = [row(f"{cfg.model}: decoded changes follow the cycle ({len(dec.sequence)} states decoded)",
                "in order", ordered, None),
            row("  min peak overlap per dwell", "—", min_peak, None),
            row("  solver result", "successful", result_name(tr.result), int(tr.result) == 0)]
    if cfg.model == "dsem":
        pred = dwell_prediction(cfg.alpha_s, cfg.alpha_c, cfg.beta_d, cfg.t_d)
        metrics["dwell_prediction"] = pred
        rows.append(row("  mean dwell after the first vs D = −T_d ln(1−√r)", f"{pred['D']:.2f} (PROPOSED law)",
                        metrics["dwell"]["mean"], None))
    return Result(rows=rows, figures=["overlaps.png", "energy.png"], metrics=metrics)


def commands() -> dict:
    """``{name: (config class, fn)}`` of every ``wavejax gsemm`` subcommand."""
    return {"retrieve": (RetrieveConfig, retrieve), **experiment_commands("gsemm")}


def main(argv: list[str]) -> None:
    """Entry point of ``wavejax gsemm``."""
    run_subcommands("wavejax gsemm", commands(), argv)
