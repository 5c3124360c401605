"""Headline EMT experiments for ``wavejax reproduce`` and ``wavejax emt ...`` (docs/emt.md §6, §7; issue 3 items 1-4).

Each experiment is ``run(cfg, out) -> Result`` over its frozen config class; the computations live in the library
(:mod:`~wavejax.emt._training`, :mod:`~wavejax.emt._analysis`, :mod:`~wavejax.emt._table`,
:mod:`~wavejax.emt._figures`) and this module only maps their metrics to report rows and claims.

* ``emt.circuit`` (:class:`CircuitConfig`, seconds, float64): task decoding vs the spec's tables, the circuit Phi
  (unit-circle spectrum, count from Phi, pruning), the linear circuit RNN (exact for repeat copy, the documented
  negative result for lags < s) and the privileged basis on the analytic circuit embedded by a random orthonormal
  basis.
* ``emt.repeat_copy`` (:class:`RepeatCopyConfig`): train repeat copy (H = 128) and analyse it. Full = the recipe
  (20k steps) with the acceptance targets; quick = 1,000 steps, which checks only that the curriculum reaches
  horizon 100 and reports the rest without a claim (a 1k-step model has not converged to the circuit).
* ``emt.composition`` (:class:`CompositionConfig`): the three composition tasks, H = 128, 2 seeds x curriculum
  thresholds {0.9, 0.98} (the Table-1 protocol: a seed scores its better run) plus one L2 = 0.1 run per task;
  quick: their circuits only (count 36 < 64), no training.
* ``emt.table`` (:class:`TableExperimentConfig`): the Table-1 sweep written next to the paper's numbers. Quick: a
  smoke sweep (H = 64, L2 in {0, 0.1}, 1 seed, 100 steps, batch 8) that checks only the machinery.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.emt._analysis import analyze_rnn
from wavejax.emt._circuit import (
    circuit_error,
    circuit_matrix,
    circuit_rnn,
    circuit_rollout,
    recurrent_positions,
    unit_count,
)
from wavejax.emt._figures import analysis_figures, plot_phi_emp
from wavejax.emt._privileged import (
    block_tracking,
    dual_error,
    phi_emp,
    predicted_block,
    privileged_basis,
    structure_metrics,
    variable_memories,
)
from wavejax.emt._table import PAPER_TABLE, TableConfig, format_cell, format_table, table_sweep
from wavejax.emt._table import table_cells as table_cells
from wavejax.emt._tasks import CURRICULUM
from wavejax.emt._training import EMTConfig, EMTRun, train_task
from wavejax.emt._training import init_params as init_params
from wavejax.io import atomic_write_json, atomic_write_text
from wavejax.precision import x64_scope
from wavejax.report import Experiment, Result, eigen_plot, heatmap, line_plot, row
from wavejax.report._experiment import holds_ge, holds_le
from wavejax.tasks import NAMED_TASKS as TASKS
from wavejax.tasks import SPEC_TABLES, decode_task, lag_matrices, task_batch, task_table
from wavejax.wave._basis import random_basis

SECTION = "Episodic Memory Theory (Karuvally, Delmastro, Siegelmann, arXiv:2310.02430)"

__all__ = ["EXPERIMENTS", "CircuitConfig", "RepeatCopyConfig", "CompositionConfig", "TableExperimentConfig",
           "run_circuit", "run_repeat_copy", "run_composition", "run_table", "trained_rows"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class CircuitConfig:
    """The analytic circuit checks (same at every scale)."""

    hidden: int = 128  # N of the random orthonormal embedding of the repeat-copy circuit
    horizon: int = 200  # output horizon of the circuit-RNN exactness check
    batch: int = 32  # batch of that check

    @classmethod
    def quick(cls) -> CircuitConfig:
        """Same as full (seconds)."""
        return cls()

    @classmethod
    def full(cls) -> CircuitConfig:
        """N = 128, horizon 200."""
        return cls()


def _task_rows(name: str, tid, cfg: CircuitConfig) -> tuple[list, np.ndarray, dict]:
    F = decode_task(tid)
    d = F.shape[1]
    s = F.shape[0] // d
    ok = task_table(F, s, d) == SPEC_TABLES[name] and bool((np.count_nonzero(F, axis=0) == 1).all())
    Phi = circuit_matrix(F, s)
    ev = np.linalg.eigvals(Phi)
    big = ev[np.abs(ev) > 0.8]
    dev = float(np.abs(np.abs(big) - 1).max())
    cnt, kept = unit_count(Phi), int(recurrent_positions(Phi).sum())
    x, y, m = task_batch(jax.random.key(1), lag_matrices(F), horizon=cfg.horizon, batch=cfg.batch, dtype=jnp.float64)
    err, acc = circuit_error(F, s, x, y, m)
    copy = name == "repeat_copy"
    rows = [
        row(f"{name} {tid}: decoded (sign, lag, src) table = spec §3", "match", "match" if ok else "MISMATCH", ok),
        row(f"{name}: Φ eigenvalues |λ|>0.8 / count from Φ / pruning keeps / max ||λ|−1|",
            "64 (copy), 36 (composition) / on unit circle", f"{len(big)} / {cnt} / {kept} / {dev:.1e}",
            len(big) == cnt == kept and dev < 1e-6 and cnt == (s * d if copy else 36)),
        row(f"{name}: linear circuit RNN, horizon {cfg.horizon}: max error (sign acc.)",
            "0 for repeat copy; ≥ 1 otherwise (§2.4 negative result)", f"{err:.3g} ({acc:.3f})",
            err == 0.0 if copy else err >= 1.0,
            note="" if copy else "documented negative result: lag < s is not realizable by an LTI"),
    ]
    return rows, ev, {"count": cnt, "kept": kept, "circuit_err": err, "circuit_acc": acc}


def _analytic_basis(cfg: CircuitConfig) -> tuple[list, np.ndarray, dict]:
    """Privileged basis of the analytic repeat-copy circuit embedded by a random orthonormal basis."""
    F = decode_task(TASKS["repeat_copy"])
    d = F.shape[1]
    s = F.shape[0] // d
    Psi = random_basis(jax.random.key(3), cfg.hidden, s * d)
    p = circuit_rnn(F, s, Psi)
    x, _, _ = task_batch(jax.random.key(4), lag_matrices(F), horizon=40, batch=64, dtype=jnp.float64)
    hs = np.asarray(circuit_rollout(p, x)[1])
    b = privileged_basis(p["W_hh"], F, s, W_hy=p["W_hy"], traj=hs.reshape(-1, cfg.hidden))
    E = phi_emp(p["W_hh"], b)
    off_on, agree = structure_metrics(E, circuit_matrix(F, s), b.keep)
    times = np.arange(s - 1, hs.shape[1])
    got = block_tracking(variable_memories(b, hs), np.asarray(x)[:, :s], times)
    want = np.array([[predicted_block(mu, t, s) for mu in range(s)] for t in times])
    track, de = float(np.mean(got == want)), dual_error(b)
    rows = [
        row(f"analytic circuit in a random basis (N={cfg.hidden}): ‖Ψ*Ψ − I‖", "< 1e-4", de, holds_le(de, 1e-4)),
        row("analytic circuit: Φ_emp off/on ratio, sign agreement", "< 0.05, 100 %", f"{off_on:.2e}, {agree:.0%}",
            off_on < 0.05 and agree == 1.0),
        row(f"analytic circuit: (t, μ) with variable μ in the predicted block, {len(times)} steps", "100 %",
            f"{track:.1%}", track == 1.0),
    ]
    return rows, E, {"analytic_dual_error": de, "analytic_off_on": off_on}


def run_circuit(cfg: CircuitConfig, out: Path) -> Result:
    """Decoding, circuit spectra / counts / pruning, circuit RNN exactness and the privileged basis (analytic)."""
    rows, eigs, metrics = [], {}, {}
    for name, tid in TASKS.items():
        r, eigs[name], metrics[name] = _task_rows(name, tid, cfg)
        rows += r
    r, E, extra = _analytic_basis(cfg)
    rows += r
    eigen_plot(out / "phi_spectra.png", eigs, panels=True, title="eig(Φ) of the four tasks (unit circle)")
    plot_phi_emp(out / "phi_emp_analytic.png", E, 8, 8, title="Φ_emp of the analytic repeat-copy circuit")
    heatmap(out / "phi_mix_262676_189.png", circuit_matrix(decode_task(TASKS["mix_262676_189"]), 8), block=8,
            title="Φ (task 262676, 189): shift + composition row")
    atomic_write_json(out / "circuit.json", metrics)
    return Result(rows=rows, figures=["phi_spectra.png", "phi_emp_analytic.png", "phi_mix_262676_189.png"],
                  metrics={"circuit": metrics, **extra})


_BASIS_KEYS = ("dual_error", "off_on", "sign_agreement", "readout_fraction", "tracking")


def _metrics(run: EMTRun, member: int, a: dict) -> dict[str, Any]:
    """Flat scalar metrics of one member (output grounding unprefixed, input grounding ``input_*``)."""
    lvl = np.flatnonzero(run.history["level"][member] >= len(CURRICULUM) - 1)  # first step at the last level
    mt = {k: a[k] for k in ("count", "count_theory", "mod_min", "mod_max", "spectral_error")}
    if "circuit_skipped" in a:
        mt["circuit_skipped"] = a["circuit_skipped"]
    else:
        mt |= {k: a["output"][k] for k in _BASIS_KEYS} | {f"input_{k}": a["input"][k] for k in _BASIS_KEYS}
    mt |= {"test_accuracy": float(run.test_accuracy[member]), "level100_step": int(lvl[0]) if len(lvl) else -1,
           "train_accuracy": float(np.nanmean(run.history["accuracy"][member, -100:]))}
    if "gradients" in a:
        mt |= {"grad_init": np.asarray(a["gradients"]["init"]), "grad_trained": np.asarray(a["gradients"]["trained"])}
    return mt


def _copy_rows(tag: str, a: dict, mt: dict, c) -> list:
    o, i = a["output"], a["input"]
    rows = [
        row(f"{tag}privileged basis (output-grounded): ‖Ψ*Ψ − I‖", "< 1e-4", o["dual_error"],
            holds_le(o["dual_error"], 1e-4)),
        row(f"{tag}Φ_emp off/on-support ratio", "< 0.05 (re-sim 0.016)", o["off_on"], c(holds_le(o["off_on"], 0.05))),
        row(f"{tag}Φ_emp sign agreement on the support", "100 %", f"{o['sign_agreement']:.1%}",
            c(o["sign_agreement"] == 1.0)),
        row(f"{tag}readout norm on the newest block", "> 95 % (re-sim 98.4 %)", f"{o['readout_fraction']:.1%}",
            c(o["readout_fraction"] > 0.95)),
        row(f"{tag}(t, μ) with variable μ in the predicted block (41 steps)", "100 %", f"{o['tracking']:.1%}",
            c(o["tracking"] == 1.0)),
        row(f"{tag}input-grounded basis: off/on ratio, sign agreement", "re-sim 0.087, 88 % (no claim)",
            f"{i['off_on']:.3g}, {i['sign_agreement']:.0%}"),
    ]
    if "grad_init" in mt:
        ratio = float(np.mean(mt["grad_trained"][8:17] / mt["grad_init"][8:17]))
        rows.append(row(f"{tag}‖∂y(t0+k)/∂x(t0)‖ at lag k = 8..16, trained / init (mean ratio)",
                        "> 1 (training improves gradient propagation, docs/wave.md §7)", ratio, c(bool(ratio > 1))))
    return rows


def trained_rows(run: EMTRun, member: int, out: Path, *, full: bool, prefix: str = "",
                 figures: bool = True) -> tuple[list, list[str], dict[str, Any]]:
    """Acceptance rows, figures and metrics of one trained member (docs/emt.md §7) from :func:`analyze_rnn`.

    ``full`` attaches the paper-scale claims (acc, counts, spectral error, basis metrics); otherwise rows carry no
    claim (holds None) since a short run has not converged. The analysis runs in float64.
    """
    m = run.members[member]
    tid = tuple(m["task"])
    copy = tid == TASKS["repeat_copy"]
    with x64_scope(True):
        p = run.member_params(member)
        init = init_params(run.hidden, m["seed"], p["W_hy"].shape[0]) if copy and figures else None
        a = analyze_rnn(p, tid, init=init)
    mt = _metrics(run, member, a)
    tag = f"{prefix}seed {m['seed']}: "
    c = (lambda ok: ok) if full else (lambda ok: None)
    rows = [
        row(f"{tag}step at which the curriculum reaches horizon 100", "≤ 2000 (authors ≈ 700)", mt["level100_step"],
            0 <= mt["level100_step"] <= 2000),
        row(f"{tag}training accuracy (last 100 steps)", "≥ 0.999" if copy else "≈ 1", mt["train_accuracy"],
            c(holds_ge(mt["train_accuracy"], 0.999)) if copy else None),
        row(f"{tag}test sign accuracy at horizon 200", "≥ 0.99 (authors 0.99987)" if copy else "≥ 0.97 (Table 1)",
            mt["test_accuracy"], c(holds_ge(mt["test_accuracy"], 0.99 if copy else 0.97))),
        row(f"{tag}eigenvalues |λ| > 0.9 (theory from Φ)", str(a["count_theory"]), a["count"],
            c(a["count"] == a["count_theory"])),
        row(f"{tag}|λ| range of those", "[0.99, 1.02]" if copy else "1.08–1.50 (re-sim)",
            f"{a['mod_min']:.3f}–{a['mod_max']:.3f}",
            c(0.99 <= a["mod_min"] and a["mod_max"] <= 1.02) if copy else None),
        row(f"{tag}spectral error vs Φ (rad)", "≤ 2e-3 (authors 4.8e-4)" if copy else "≤ 1e-2 (Table 1)",
            a["spectral_error"], c(holds_le(a["spectral_error"], 2e-3 if copy else 1e-2))),
    ]
    if "circuit_skipped" in a:
        rows.append(row(f"{tag}circuit comparison (privileged basis, Φ_emp)", "needs H >= s*d", "skipped",
                        note=a["circuit_skipped"]))
    elif copy:
        rows += _copy_rows(tag, a, mt, c)
    else:
        rows.append(row(f"{tag}Φ_emp off/on ratio, sign agreement (output grounding)", "re-sim 0.21–0.37, 100 %",
                        f"{a['output']['off_on']:.3g}, {a['output']['sign_agreement']:.0%}"))
    stem = f"{prefix.strip(': ').replace(' ', '_')}_{m['seed']}".strip("_")
    figs = analysis_figures(a, out, stem, seed=m["seed"], memories=copy and "circuit_skipped" not in a) \
        if figures else []
    return rows, figs, mt


@dataclasses.dataclass(frozen=True, kw_only=True)
class RepeatCopyConfig:
    """Repeat copy, H = 128: train (``emt``) and analyse; ``claims`` attaches the paper-scale claims."""

    emt: EMTConfig = EMTConfig()  # the training run (task repeat_copy by default)
    claims: bool = True  # attach the acceptance claims (off for a short, unconverged run)

    @classmethod
    def quick(cls) -> RepeatCopyConfig:
        """1,000 steps: only the curriculum row carries a claim."""
        return cls(emt=EMTConfig.quick(), claims=False)

    @classmethod
    def full(cls) -> RepeatCopyConfig:
        """The 20k-step recipe with the acceptance targets."""
        return cls()


def run_repeat_copy(cfg: RepeatCopyConfig, out: Path) -> Result:
    """Repeat copy, H = 128 (full: the 20k-step recipe; quick: 1,000 steps, curriculum check only)."""
    run = train_task(cfg.emt, out / "run")
    rows, figs, metrics = trained_rows(run, 0, out, full=cfg.claims)
    acc = run.history["accuracy"][0]
    line_plot(out / "training_curve.png", {"training accuracy": (np.arange(len(acc)), acc)},
              markers=False, xlabel="step", ylabel="sign accuracy", title=f"Repeat copy, H = {cfg.emt.hidden}")
    note = "" if cfg.claims else (f"quick scale: {cfg.emt.train.steps:,} steps; only the curriculum row carries a "
                                  "claim")
    return Result(rows=rows, figures=figs + ["training_curve.png"], metrics=metrics, notes=note)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CompositionConfig:
    """The composition tasks: ``n_seeds`` seeds x ``thresholds`` (Table-1 protocol) + one ``reg_l2`` run per task."""

    tasks: tuple[str, ...] = ("compose_copy", "mix_262676_189", "mix_38637_145")  # task names or ids
    thresholds: tuple[float, ...] = (0.9, 0.98)  # curriculum thresholds of the authors' Table-1 sweep (docs/emt.md §4)
    n_seeds: int = 2  # seeds per threshold
    reg_l2: float = 0.1  # L2 of the regularized run (Table 1: chance)
    emt: EMTConfig = EMTConfig()  # training settings (its task / threshold / n_seeds / l2 are replaced)
    train_models: bool = True  # False: the circuits only (quick)

    @classmethod
    def quick(cls) -> CompositionConfig:
        """Circuits only, no training."""
        return cls(train_models=False)

    @classmethod
    def full(cls) -> CompositionConfig:
        """3 tasks x 2 seeds x 2 thresholds x 20k steps + the L2 = 0.1 runs."""
        return cls()


def _composition_task(cfg: CompositionConfig, n: str, out: Path) -> tuple[list, list[str], dict]:
    rows, figs, metrics, best = [], [], {}, {}
    for th in cfg.thresholds:
        ecfg = dataclasses.replace(cfg.emt, task=n, n_seeds=cfg.n_seeds,
                                   train=dataclasses.replace(cfg.emt.train, threshold=th))
        run = train_task(ecfg, out / f"run_{n}_t{th}")
        for mbr in range(cfg.n_seeds):
            r, f, mt = trained_rows(run, mbr, out, full=True, prefix=f"{n} threshold {th} ",
                                    figures=mbr == 0 and th == cfg.thresholds[0])
            rows, figs, metrics[f"{n}/t{th}/{mbr}"] = rows + r, figs + f, mt
            best[mbr] = max(best.get(mbr, -1.0), mt["test_accuracy"])
    acc = max(best.values())
    rows.append(row(f"{n}: best test accuracy of {cfg.n_seeds} seeds (per seed the better of thresholds "
                    f"{' / '.join(map(str, cfg.thresholds))}, the Table-1 protocol)", "≥ 0.97", acc,
                    holds_ge(acc, 0.97)))
    reg = train_task(dataclasses.replace(cfg.emt, task=n, train=dataclasses.replace(cfg.emt.train, l2=cfg.reg_l2)),
                     out / f"run_{n}_l2")
    metrics[f"{n}/l2={cfg.reg_l2:g}"] = acc_reg = float(reg.test_accuracy[0])
    rows.append(row(f"{n}: test accuracy with L2 = {cfg.reg_l2:g} (seed {cfg.emt.seed})", "≈ 0.5 (Table 1)", acc_reg,
                    bool(abs(acc_reg - 0.5) <= 0.05)))
    return rows, figs, metrics


def run_composition(cfg: CompositionConfig, out: Path) -> Result:
    """The composition tasks, H = 128, 2 seeds x thresholds {0.9, 0.98} + L2 = 0.1 (full); quick: circuits."""
    if not cfg.train_models:
        rows = []
        for n in cfg.tasks:
            cnt = unit_count(circuit_matrix(decode_task(TASKS.get(n, n)), 8))
            rows.append(row(f"{n}: unit-modulus eigenvalues of Φ (computed)", "36 (< 64 of repeat copy)", cnt,
                            cnt == 36, note="quick scale: no training (full: 3 tasks x 2 seeds x 20k steps)"))
        return Result(rows=rows, notes="quick scale: circuits only")
    rows, figs, metrics = [], [], {}
    for n in cfg.tasks:
        r, f, mt = _composition_task(cfg, n, out)
        rows, figs, metrics = rows + r, figs + f, metrics | mt
    return Result(rows=rows, figures=figs, metrics=metrics,
                  notes="Table-1 protocol: each seed is trained with curriculum thresholds 0.9 and 0.98 and scored by "
                        "the better run. With the demo threshold 0.96, compose copy failed for seeds 0 and 1 on our "
                        "CPU runs (docs/results/emt_full_runs).")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableExperimentConfig:
    """The Table-1 sweep (``table``); ``claims`` attaches the L2 = 0.1 chance claim (off for the smoke sweep)."""

    table: TableConfig = TableConfig()  # the sweep
    claims: bool = True  # attach the L2 = 0.1 chance claim

    @classmethod
    def quick(cls) -> TableExperimentConfig:
        """The smoke sweep of :meth:`TableConfig.quick`, no claims."""
        return cls(table=TableConfig.quick(), claims=False)

    @classmethod
    def full(cls) -> TableExperimentConfig:
        """The paper's sweep with the L2 = 0.1 chance claim."""
        return cls()


def table_result(cfg: TableConfig, out: Path, *, claims: bool) -> Result:
    """Run the sweep of ``cfg``, write ``table1.md`` / ``table1.json`` into ``out`` and map the cells to rows."""
    cells, recs = table_sweep(cfg, out)
    text = (f"# Table 1 (measured; {cfg.seeds} seed(s), {cfg.train.steps} steps, thresholds {cfg.thresholds})\n\n"
            "Cell: mean over seeds of the min spectral error (rad) over thresholds (mean over seeds of the max test "
            "accuracy at horizon 200); \"---\" = NaN (count of |λ| > 0.9 differs from theory). "
            "[paper: ...] = Table 1 of the paper.\n\n" + format_table(cells, hiddens=cfg.hiddens, l2s=cfg.l2s))
    atomic_write_text(out / "table1.md", text)
    atomic_write_json(out / "table1.json", {"config": cfg, "members": [{**r, "task": list(r["task"])} for r in recs]})
    rows = []
    for (tid, H, lam), (err, acc) in cells.items():
        paper = PAPER_TABLE.get((tid, H, lam))
        claim = abs(acc - 0.5) <= 0.05 if claims and lam == 0.1 else None  # L2 = 0.1 gives chance
        rows.append(row(f"Table 1 {tid} H={H} L2={lam:g}: spectral error (accuracy)",
                        "n/a" if paper is None else format_cell(*paper), format_cell(err, acc), claim))
    n = len(cfg.tasks) * len(cfg.l2s) * len(cfg.thresholds) * cfg.seeds * len(cfg.hiddens)
    bounded = all(0.0 <= r["accuracy"] <= 1.0 for r in recs) and len(recs) == n
    rows.append(row("sweep: members trained and evaluated (tasks x L2 x thresholds x seeds x H)",
                    "all", len(recs), bounded))
    seeds = f"{cfg.seeds} seed{'s' if cfg.seeds > 1 else ''}"
    note = f"quick: smoke sweep (H={', '.join(map(str, cfg.hiddens))}, {seeds}, {cfg.train.steps} steps); not converged"
    return Result(rows=rows, metrics={"cells": {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in cells.items()}},
                  notes="" if claims else note)


def run_table(cfg: TableExperimentConfig, out: Path) -> Result:
    """Run the sweep per H and write ``table1.md`` (measured cells with the paper's next to them)."""
    return table_result(cfg.table, out, claims=cfg.claims)


EXPERIMENTS = [
    Experiment(name="emt.circuit", section=SECTION, run=run_circuit, config=CircuitConfig, x64=True,
               title="Task decoding, the variable-binding circuit Φ, the circuit RNN and the privileged basis"),
    Experiment(name="emt.repeat_copy", section=SECTION, run=run_repeat_copy, config=RepeatCopyConfig,
               title="Repeat copy, H = 128: spectrum, spectral error, privileged basis, variable memories"),
    Experiment(name="emt.composition", section=SECTION, run=run_composition, config=CompositionConfig, version=2,
               title="The three composition tasks, H = 128, 2 seeds"),
    Experiment(name="emt.table", section=SECTION, run=run_table, config=TableExperimentConfig,
               title="Table 1: tasks x H x L2 sweep"),
]
