"""Headline EMT experiments for ``wavejax reproduce`` and ``wavejax emt ...`` (emt.md §6, §7; issue 3 items 1-4).

* ``emt.circuit`` (same at every scale, seconds): task decoding vs the spec's tables, the circuit Phi (unit-circle
  spectrum, count from Phi, pruning), the linear circuit RNN (exact for repeat copy, the documented negative result
  for lags < s) and the privileged basis on the analytic circuit embedded by a random orthonormal basis.
* ``emt.repeat_copy``: train repeat copy (H = 128) and analyse it (spectrum, spectral error, privileged basis,
  variable memories on the "315" probe, gradient vs lag before / after training). Full = the recipe (20k steps)
  with the acceptance targets; quick = 1,000 steps, which checks only that the curriculum reaches horizon 100 and
  reports the rest without a claim (a 1k-step model has not converged to the circuit).
* ``emt.composition``: the three composition tasks, H = 128, 2 seeds x curriculum thresholds {0.9, 0.98} (the
  Table-1 protocol: a seed scores its better run) plus one L2 = 0.1 run per task (full: 20k steps, targets acc >=
  0.97 for one seed, 36 eigenvalues > 0.9, spectral error <= 1e-2, L2 = 0.1 at chance); quick: their circuits only
  (count 36 < 64, pruning, negative result), no training.
* ``emt.table``: the Table-1 sweep (tasks x H in {64, 128} x L2 in {0, 1e-3, 0.1} x thresholds x seeds; seeds,
  L2, thresholds and tasks are ONE vmapped member axis per H) written next to the paper's numbers. Quick: a smoke
  sweep (H = 64, L2 in {0, 0.1}, 1 seed, 100 steps, batch 8) that checks only the machinery.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.emt.analysis import (
    PAPER_TABLE,
    analyse_rnn,
    format_table,
    gradient_profile,
    plot_gradients,
    plot_memories,
    plot_phi_emp,
    plot_spectrum,
    probe_inputs,
)
from wavejax.emt.circuit import (
    circuit_error,
    circuit_rnn,
    circuit_rollout,
    phi_from_operator,
    recurrent_positions,
    unit_count,
)
from wavejax.emt.privileged import (
    block_tracking,
    dual_error,
    phi_emp,
    predicted_block,
    privileged_basis,
    structure_metrics,
    variable_memories,
)
from wavejax.emt.spectral import spectral_error
from wavejax.emt.tasks import TASKS, decode_task, make_batch, task_table
from wavejax.emt.training import EMTConfig, EMTRun, train_sweep, train_task
from wavejax.io import atomic_write_json, atomic_write_text
from wavejax.report import Experiment, Result, eigen_plot, heatmap, line_plot, row
from wavejax.report.experiment import Scale, holds_ge, holds_le
from wavejax.rnn import Elman, TrainConfig, init_state
from wavejax.wave.basis import random_basis

SECTION = "Episodic Memory Theory (Karuvally, Delmastro, Siegelmann, arXiv:2310.02430)"

__all__ = ["EXPERIMENTS", "SPEC_TABLES", "TableConfig", "run_circuit", "run_repeat_copy", "run_composition",
           "run_table", "trained_rows", "init_params", "table_cells"]

#: The decoded tables of emt.md §3: task name -> one (sign, lag, src) per output dim j.
SPEC_TABLES: dict[str, list[tuple[int, int, int]]] = {
    "repeat_copy": [(1, 8, j) for j in range(8)],
    "compose_copy": [(1, 8 - j, j) for j in range(8)],
    "mix_262676_189": [(-1, 4, 4), (1, 5, 3), (-1, 6, 2), (-1, 8, 0), (-1, 7, 1), (-1, 3, 5), (1, 1, 7), (-1, 2, 6)],
    "mix_38637_145": [(-1, 3, 5), (1, 2, 6), (1, 8, 0), (1, 7, 1), (-1, 6, 2), (1, 5, 3), (1, 4, 4), (-1, 1, 7)],
}


def run_circuit(scale: Scale, out: Path) -> Result:
    """Decoding, circuit spectra / counts / pruning, circuit RNN exactness and the privileged basis (analytic)."""
    rows, eigs, metrics = [], {}, {}
    with jax.enable_x64(True):
        for name, tid in TASKS.items():
            F = decode_task(tid)
            ok = task_table(F, 8, 8) == SPEC_TABLES[name] and bool((np.count_nonzero(F, axis=0) == 1).all())
            Phi = phi_from_operator(F, 8)
            ev = np.linalg.eigvals(Phi)
            big = ev[np.abs(ev) > 0.8]
            dev = float(np.abs(np.abs(big) - 1).max())
            cnt, kept = unit_count(Phi), int(recurrent_positions(Phi).sum())
            x, y, m = make_batch(jax.random.key(1), F, 8, 200, 32, dtype=jnp.float64)
            err, acc = circuit_error(F, 8, x, y, m)
            eigs[f"{name}"] = ev
            metrics[name] = {"count": cnt, "kept": kept, "circuit_err": err, "circuit_acc": acc}
            rows.append(row(f"{name} {tid}: decoded (sign, lag, src) table = spec §3", "match", "match" if ok else
                            "MISMATCH", ok))
            rows.append(row(f"{name}: Φ eigenvalues |λ|>0.8 / count from Φ / pruning keeps / max ||λ|−1|",
                            "64 (copy), 36 (composition) / on unit circle", f"{len(big)} / {cnt} / {kept} / {dev:.1e}",
                            len(big) == cnt == kept and dev < 1e-6 and cnt == (64 if name == "repeat_copy" else 36)))
            copy = name == "repeat_copy"
            rows.append(row(f"{name}: linear circuit RNN, horizon 200: max error (sign acc.)",
                            "0 for repeat copy; ≥ 1 otherwise (§2.4 negative result)", f"{err:.3g} ({acc:.3f})",
                            err == 0.0 if copy else err >= 1.0,
                            note="" if copy else "documented negative result: lag < s is not realizable by an LTI"))
        # privileged basis of the analytic repeat-copy circuit embedded by a random orthonormal basis (N = 128)
        F = decode_task(TASKS["repeat_copy"])
        Phi = phi_from_operator(F, 8)
        Psi = random_basis(jax.random.key(3), 128, 64)
        p = circuit_rnn(F, 8, Psi)
        x, _, _ = make_batch(jax.random.key(4), F, 8, 40, 64, dtype=jnp.float64)
        _, hs = circuit_rollout(p, x)
        hs = np.asarray(hs)
        b = privileged_basis(p["W_hh"], F, 8, W_hy=p["W_hy"], traj=hs.reshape(-1, 128))
        E = phi_emp(p["W_hh"], b)
        off_on, agree = structure_metrics(E, Phi, b.keep)
        times = np.arange(7, 48)
        got = block_tracking(variable_memories(b, hs), np.asarray(x)[:, :8], times)
        want = np.array([[predicted_block(mu, t, 8) for mu in range(8)] for t in times])
        track = float(np.mean(got == want))
        de = dual_error(b)
    rows += [
        row("analytic circuit in a random basis (N=128): ‖Ψ*Ψ − I‖", "< 1e-4", de, holds_le(de, 1e-4)),
        row("analytic circuit: Φ_emp off/on ratio, sign agreement", "< 0.05, 100 %", f"{off_on:.2e}, {agree:.0%}",
            off_on < 0.05 and agree == 1.0),
        row("analytic circuit: (t, μ) with variable μ in the predicted block, 41 steps", "100 %", f"{track:.1%}",
            track == 1.0),
    ]
    eigen_plot(out / "phi_spectra.png", eigs, panels=True, title="eig(Φ) of the four tasks (unit circle)")
    plot_phi_emp(out / "phi_emp_analytic.png", E, 8, 8, title="Φ_emp of the analytic repeat-copy circuit")
    heatmap(out / "phi_mix_262676_189.png", phi_from_operator(decode_task(TASKS["mix_262676_189"]), 8), block=8,
            title="Φ (task 262676, 189): shift + composition row")
    atomic_write_json(out / "circuit.json", metrics)
    return Result(rows=rows, figures=["phi_spectra.png", "phi_emp_analytic.png", "phi_mix_262676_189.png"],
                  metrics={"circuit": metrics, "analytic_dual_error": de, "analytic_off_on": off_on})


def init_params(hidden: int, seed: int, d: int = 8) -> dict[str, np.ndarray]:
    """The engine's initial Elman parameters of member seed ``seed`` (before training), float64 NumPy."""
    x = jnp.zeros((1, 9, d), jnp.float32)
    st = init_state(Elman(hidden=hidden, d_out=d), jax.random.key(seed), x, cfg=TrainConfig(steps=1))
    return {k: np.asarray(v, np.float64) for k, v in st.params.items()}


def trained_rows(run: EMTRun, member: int, out: Path, *, full: bool, prefix: str = "",
                 figures: bool = True) -> tuple[list, list[str], dict[str, Any]]:
    """Acceptance rows and figures of one trained repeat-copy / composition member (emt.md §7.5-7.11).

    ``full`` attaches the paper-scale claims (acc, counts, spectral error, basis metrics); otherwise rows carry no
    claim (holds None) since a short run has not converged.
    """
    m = run.members[member]
    tid = tuple(m["task"])
    copy = tid == TASKS["repeat_copy"]
    p = run.member_params(member)
    with jax.enable_x64(True):
        a = analyse_rnn(p, tid)
    acc = float(run.test_accuracy[member])
    train_acc = float(np.nanmean(run.history["accuracy"][member, -100:]))
    lvl = run.history["level"][member]
    reach = np.flatnonzero(lvl >= 4)
    reach_step = int(reach[0]) if len(reach) else -1
    tag = f"{prefix}seed {m['seed']}: "
    c = (lambda ok: ok) if full else (lambda ok: None)
    rows = [
        row(f"{tag}step at which the curriculum reaches horizon 100", "≤ 2000 (authors ≈ 700)", reach_step,
            0 <= reach_step <= 2000),
        row(f"{tag}training accuracy (last 100 steps)", "≥ 0.999" if copy else "≈ 1", train_acc,
            c(holds_ge(train_acc, 0.999)) if copy else None),
        row(f"{tag}test sign accuracy at horizon 200", "≥ 0.99 (authors 0.99987)" if copy else "≥ 0.97 (Table 1)",
            acc, c(holds_ge(acc, 0.99 if copy else 0.97))),
        row(f"{tag}eigenvalues |λ| > 0.9 (theory from Φ)", str(a["count_theory"]), a["count"],
            c(a["count"] == a["count_theory"])),
        row(f"{tag}|λ| range of those", "[0.99, 1.02]" if copy else "1.08–1.50 (re-sim)",
            f"{a['mod_min']:.3f}–{a['mod_max']:.3f}",
            c(0.99 <= a["mod_min"] and a["mod_max"] <= 1.02) if copy else None),
        row(f"{tag}spectral error vs Φ (rad)", "≤ 2e-3 (authors 4.8e-4)" if copy else "≤ 1e-2 (Table 1)",
            a["spectral_error"], c(holds_le(a["spectral_error"], 2e-3 if copy else 1e-2))),
    ]
    metrics = {k: a[k] for k in ("count", "count_theory", "mod_min", "mod_max", "spectral_error", "dual_error",
                                 "off_on", "sign_agreement", "readout_fraction", "tracking")}
    metrics |= {"test_accuracy": acc, "train_accuracy": train_acc, "level100_step": reach_step}
    if copy:
        rows += [
            row(f"{tag}privileged basis (output-grounded): ‖Ψ*Ψ − I‖", "< 1e-4", a["dual_error"],
                holds_le(a["dual_error"], 1e-4)),
            row(f"{tag}Φ_emp off/on-support ratio", "< 0.05 (re-sim 0.016)", a["off_on"],
                c(holds_le(a["off_on"], 0.05))),
            row(f"{tag}Φ_emp sign agreement on the support", "100 %", f"{a['sign_agreement']:.1%}",
                c(a["sign_agreement"] == 1.0)),
            row(f"{tag}readout norm on the newest block", "> 95 % (re-sim 98.4 %)", f"{a['readout_fraction']:.1%}",
                c(a["readout_fraction"] > 0.95)),
            row(f"{tag}(t, μ) with variable μ in the predicted block (41 steps)", "100 %", f"{a['tracking']:.1%}",
                c(a["tracking"] == 1.0)),
        ]
        H = p["W_hh"].shape[0]
        b_in = privileged_basis(p["W_hh"], decode_task(tid), 8, W_uh=p["W_uh"], traj=a["hs"].reshape(-1, H),
                                grounding="input")
        in_ratio, in_agree = structure_metrics(phi_emp(p["W_hh"], b_in), phi_from_operator(decode_task(tid), 8),
                                               b_in.keep)
        metrics |= {"input_off_on": in_ratio, "input_sign_agreement": in_agree}
        rows.append(row(f"{tag}input-grounded basis: off/on ratio, sign agreement", "re-sim 0.087, 88 % (no claim)",
                        f"{in_ratio:.3g}, {in_agree:.0%}"))
    else:
        rows.append(row(f"{tag}Φ_emp off/on ratio, sign agreement (output grounding)", "re-sim 0.21–0.37, 100 %",
                        f"{a['off_on']:.3g}, {a['sign_agreement']:.0%}"))
    figs: list[str] = []
    if figures:
        stem = f"{prefix.strip(': ').replace(' ', '_')}_{m['seed']}".strip("_")
        plot_spectrum(out / f"spectrum_{stem}.png", a["eig"], a["eig_theory"],
                      title=f"eig(W_hh) vs eig(Φ), task {tid[1:]}, seed {m['seed']}")
        plot_phi_emp(out / f"phi_emp_{stem}.png", a["phi_emp"], 8, 8)
        figs += [f"spectrum_{stem}.png", f"phi_emp_{stem}.png"]
        if copy:
            with jax.enable_x64(True):
                xp = probe_inputs()
                _, hs = circuit_rollout(p, jnp.asarray(xp)[None], nonlinearity="tanh")
                coords = variable_memories(a["basis"], np.asarray(hs)[0], zscore=True)
                g0 = gradient_profile(init_params(run.hidden, m["seed"]), max_lag=40)
                g1 = gradient_profile(p, max_lag=40)
            plot_memories(out / f"memories_{stem}.png", coords, [1, 2, 3, 4, 5, 14, 15, 16, 17, 18],
                          title="'315' probe in the privileged basis (t = 1–5, 14–18)")
            plot_gradients(out / f"gradients_{stem}.png", g0, g1)
            figs += [f"memories_{stem}.png", f"gradients_{stem}.png"]
            metrics |= {"grad_init": g0, "grad_trained": g1}
            rows.append(row(f"{tag}‖∂y(t0+k)/∂x(t0)‖ at lag k = 8..16, trained / init (mean ratio)",
                            "> 1 (training improves gradient propagation, wave.md §7.10)",
                            float(np.mean(g1[8:17] / g0[8:17])), c(bool(np.mean(g1[8:17] / g0[8:17]) > 1))))
    return rows, figs, metrics


def _train_cfg(scale: Scale, **kw) -> EMTConfig:
    if scale == "full":
        return EMTConfig(**kw)
    return EMTConfig(steps=1000, chunk=100, ckpt_every=0, **kw)


def run_repeat_copy(scale: Scale, out: Path) -> Result:
    """Repeat copy, H = 128 (full: the 20k-step recipe; quick: 1,000 steps, curriculum check only)."""
    run = train_task(_train_cfg(scale, task="repeat_copy"), out / "run")
    rows, figs, metrics = trained_rows(run, 0, out, full=scale == "full")
    line_plot(out / "training_curve.png", {"training accuracy": (np.arange(run.history["accuracy"].shape[1]),
                                                                 run.history["accuracy"][0])},
              markers=False, xlabel="step", ylabel="sign accuracy", title="Repeat copy, H = 128")
    note = "" if scale == "full" else "quick scale: 1,000 steps; only the curriculum row carries a claim"
    return Result(rows=rows, figures=figs + ["training_curve.png"], metrics=metrics, notes=note)


COMPOSITION_THRESHOLDS = (0.9, 0.98)  # the curriculum thresholds of the authors' Table-1 sweep (emt.md §4)


def run_composition(scale: Scale, out: Path) -> Result:
    """The three composition tasks, H = 128, 2 seeds x thresholds {0.9, 0.98} + L2 = 0.1 (full); quick: circuits."""
    names = ["compose_copy", "mix_262676_189", "mix_38637_145"]
    if scale != "full":
        rows = []
        for n in names:
            Phi = phi_from_operator(decode_task(TASKS[n]), 8)
            cnt = unit_count(Phi)
            rows.append(row(f"{n}: unit-modulus eigenvalues of Φ (computed)", "36 (< 64 of repeat copy)", cnt,
                            cnt == 36, note="quick scale: no training (full: 3 tasks x 2 seeds x 20k steps)"))
        return Result(rows=rows, notes="quick scale: circuits only")
    rows, figs, metrics = [], [], {}
    for n in names:
        best = {}
        for th in COMPOSITION_THRESHOLDS:
            run = train_task(EMTConfig(task=n, n_seeds=2, threshold=th), out / f"run_{n}_t{th}")
            for mbr in range(2):
                r, f, mt = trained_rows(run, mbr, out, full=True, prefix=f"{n} threshold {th} ",
                                        figures=mbr == 0 and th == COMPOSITION_THRESHOLDS[0])
                rows += r
                figs += f
                metrics[f"{n}/t{th}/{mbr}"] = mt
                best[mbr] = max(best.get(mbr, -1.0), mt["test_accuracy"])
        acc = max(best.values())
        rows.append(row(f"{n}: best test accuracy of 2 seeds (per seed the better of thresholds "
                        f"{' / '.join(map(str, COMPOSITION_THRESHOLDS))}, the Table-1 protocol)", "≥ 0.97", acc,
                        holds_ge(acc, 0.97)))
        reg = train_task(EMTConfig(task=n, l2=0.1), out / f"run_{n}_l2")
        acc_reg = float(reg.test_accuracy[0])
        metrics[f"{n}/l2=0.1"] = acc_reg
        rows.append(row(f"{n}: test accuracy with L2 = 0.1 (seed 0)", "≈ 0.5 (Table 1)", acc_reg,
                        bool(abs(acc_reg - 0.5) <= 0.05)))
    return Result(rows=rows, figures=figs, metrics=metrics,
                  notes="Table-1 protocol: each seed is trained with curriculum thresholds 0.9 and 0.98 and scored by "
                        "the better run. With the demo threshold 0.96, compose copy failed for seeds 0 and 1 on our "
                        "CPU runs (docs/results/emt_full_runs).")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TableConfig:
    """The Table-1 sweep (emt.md §4 sweep, §6 table)."""

    tasks: tuple[str, ...] = tuple(TASKS)  # task names or "id1,id2,id3"
    hiddens: tuple[int, ...] = (64, 128)  # H values (one compiled program each)
    l2s: tuple[float, ...] = (0.0, 1e-3, 0.1)  # coupled L2 values (swept on the member axis)
    thresholds: tuple[float, ...] = (0.9, 0.98)  # curriculum thresholds; a cell takes the best of them per seed
    seeds: int = 20  # seeds 0..seeds-1
    steps: int = 20_000  # optimizer steps
    batch: int = 64  # batch size
    test_batches: int = 10  # test batches at horizon 200

    @classmethod
    def quick(cls) -> TableConfig:
        """Smoke sweep: seconds per H on CPU; checks only the machinery."""
        return cls(hiddens=(64,), l2s=(0.0, 0.1), thresholds=(0.96,), seeds=1, steps=100, batch=8, test_batches=1)

    @classmethod
    def full(cls) -> TableConfig:
        """The paper's sweep restricted to H in {64, 128} and L2 in {0, 1e-3, 0.1}."""
        return cls()


def table_cells(run: EMTRun, hidden: int) -> tuple[dict, list[dict]]:
    """Cells "(mean over seeds of the min spectral error over thresholds, mean over seeds of the max accuracy)".

    The mean over seeds skips NaN spectral errors (pandas' default, as in the authors' notebook); a cell is NaN
    ("---") when no seed has a finite error. Returns the cells and the per-member records.
    """
    recs = []
    for i, m in enumerate(run.members):
        tid = tuple(m["task"])
        Phi = phi_from_operator(decode_task(tid), 8)
        keep = recurrent_positions(Phi)
        err = spectral_error(Phi[np.ix_(keep, keep)], run.params["W_hh"][i], 0.9)
        recs.append({**m, "task": tid, "H": hidden, "spectral_error": err, "accuracy": float(run.test_accuracy[i])})
    cells = {}
    for key in dict.fromkeys((r["task"], r["l2"]) for r in recs):
        by_seed: dict[int, list[dict]] = {}
        for r in recs:
            if (r["task"], r["l2"]) == key:
                by_seed.setdefault(r["seed"], []).append(r)
        errs = [np.nanmin([r["spectral_error"] for r in rs]) if any(math.isfinite(r["spectral_error"]) for r in rs)
                else math.nan for rs in by_seed.values()]
        accs = [max(r["accuracy"] for r in rs) for rs in by_seed.values()]
        finite = [e for e in errs if math.isfinite(e)]
        cells[(key[0], hidden, key[1])] = (float(np.mean(finite)) if finite else None, float(np.mean(accs)))
    return cells, recs


def run_table(scale: Scale, out: Path, cfg: TableConfig | None = None) -> Result:
    """Run the sweep per H and write ``table1.md`` (measured cells with the paper's next to them)."""
    cfg = cfg or (TableConfig.quick() if scale == "quick" else TableConfig.full())
    cells, recs = {}, []
    for H in cfg.hiddens:
        ecfg = EMTConfig(hidden=H, steps=cfg.steps, batch=cfg.batch, test_batches=cfg.test_batches,
                         chunk=min(100, cfg.steps), ckpt_every=1000 if scale == "full" else 0)
        run = train_sweep(ecfg, cfg.tasks, cfg.l2s, cfg.thresholds, range(cfg.seeds), out=out / f"sweep_H{H}")
        c, r = table_cells(run, H)
        cells |= c
        recs += r
    text = (f"# Table 1 (measured; {cfg.seeds} seed(s), {cfg.steps} steps, thresholds {cfg.thresholds})\n\n"
            "Cell: mean over seeds of the min spectral error (rad) over thresholds (mean over seeds of the max test "
            "accuracy at horizon 200); \"---\" = NaN (count of |λ| > 0.9 differs from theory). "
            "[paper: ...] = Table 1 of the paper.\n\n" + format_table(cells, hiddens=cfg.hiddens, l2s=cfg.l2s))
    atomic_write_text(out / "table1.md", text)
    atomic_write_json(out / "table1.json", {"config": cfg, "members": [{**r, "task": list(r["task"])} for r in recs]})
    rows = []
    for (tid, H, lam), (err, acc) in cells.items():
        paper = PAPER_TABLE.get((tid, H, lam))
        ptxt = "n/a" if paper is None else ("---" if paper[0] is None else f"{paper[0]:.4f}") + f" ({paper[1]:.2f})"
        mtxt = ("---" if err is None else f"{err:.4f}") + f" ({acc:.2f})"
        claim = None
        if scale == "full" and lam == 0.1:
            claim = abs(acc - 0.5) <= 0.05  # L2 = 0.1 gives chance
        rows.append(row(f"Table 1 {tid} H={H} L2={lam:g}: spectral error (accuracy)", ptxt, mtxt, claim))
    bounded = all(0.0 <= r["accuracy"] <= 1.0 for r in recs) and len(recs) == (
        len(cfg.tasks) * len(cfg.l2s) * len(cfg.thresholds) * cfg.seeds * len(cfg.hiddens))
    rows.append(row("sweep: members trained and evaluated (tasks x L2 x thresholds x seeds x H)",
                    "all", len(recs), bounded))
    return Result(rows=rows, metrics={"cells": {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in cells.items()}},
                  notes="" if scale == "full" else "quick: smoke sweep (H=64, 1 seed, 100 steps); not converged")


def _exp(name: str, title: str, fn, version: int = 1) -> Experiment:
    return Experiment(name=f"emt.{name}", section=SECTION, title=title, run=fn, version=version)


EXPERIMENTS = [
    _exp("circuit", "Task decoding, the variable-binding circuit Φ, the circuit RNN and the privileged basis",
         run_circuit),
    _exp("repeat_copy", "Repeat copy, H = 128: spectrum, spectral error, privileged basis, variable memories",
         run_repeat_copy),
    _exp("composition", "The three composition tasks, H = 128, 2 seeds", run_composition, version=2),
    _exp("table", "Table 1: tasks x H x L2 sweep", run_table),
]

