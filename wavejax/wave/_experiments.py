"""Headline TWM experiments for ``wavejax reproduce`` and ``wavejax wave ...`` (docs/wave.md §7).

Every experiment is ``run(cfg, out) -> Result`` with ``cfg`` a :class:`WaveConfig`; they run in float64
(``Experiment(x64=True)``: ``wavejax reproduce`` and the CLI switch 64-bit mode on), with explicit dtypes here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from wavejax.io import atomic_write_json
from wavejax.report import Experiment, Result, eigen_plot, heatmap, line_plot, row
from wavejax.report._experiment import holds_le
from wavejax.tasks import NAMED_TASKS, binary_vb_task, task_batch
from wavejax.wave._basis import (
    autonomous_period,
    embed,
    lbc_matrix,
    nonzero_spectrum,
    random_basis,
    spectrum,
    write_read,
)
from wavejax.wave._boundary import linear_boundary
from wavejax.wave._gradients import gradient_vs_lag, random_rnn, rnn_runner
from wavejax.wave._hds import nonlinear_hds
from wavejax.wave._lattice import rollout

SECTION = "Traveling-wave working memory (Karuvally, Sejnowski, Siegelmann, ICML 2024)"

__all__ = ["EXPERIMENTS", "WaveConfig", "run_theory", "run_spectra", "run_gradients", "run_travel"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class WaveConfig:
    """Sizes of the TWM theory checks (one config for the four experiments; float64 numerics)."""

    X64: ClassVar[bool] = True  # the CLI runner switches 64-bit mode on

    steps: int = 1000  # rollout length of the Theorem 3.1 check
    N: int = 128  # hidden size of the basis-invariance RNN
    max_lag: int = 40  # largest lag of the gradient analysis
    seed: int = 0  # PRNG seed

    @classmethod
    def quick(cls) -> WaveConfig:
        return cls(steps=300, N=128, max_lag=40)

    @classmethod
    def full(cls) -> WaveConfig:
        return cls(steps=1000, N=256, max_lag=80)


F64 = jnp.float64


def run_theory(cfg: WaveConfig, out: Path) -> Result:
    """Theorem 3.1 (nonlinear HDS, float64), input-mode caveat and basis invariance."""
    key = jax.random.key(cfg.seed)
    s, d = 6, 3
    A = jax.random.normal(key, (s, d, d), F64) * 0.7
    f = lambda H: jnp.tanh(jnp.einsum("sij,sj->i", A, H))
    x0 = jax.random.normal(jax.random.fold_in(key, 1), (s, d), F64)
    ref = nonlinear_hds(f, x0, cfg.steps)
    Hs = rollout(f, x0, jnp.zeros((cfg.steps, d), F64), mask=jnp.zeros((cfg.steps,), bool))
    thm_err = float(jnp.abs(Hs[:, -1] - ref).max())
    modes = _input_modes(key)
    M = lbc_matrix(binary_vb_task("repeat_copy"))
    Psi = random_basis(jax.random.fold_in(key, 3), cfg.N, 64, dtype=F64)
    W = embed(M, Psi)
    W_uh, W_hy = write_read(Psi, 8, 8)
    x, y, _ = task_batch(jax.random.fold_in(key, 4), binary_vb_task("repeat_copy"), horizon=200, batch=8, dtype=F64)
    rnn_err = float(jnp.abs(jax.vmap(rnn_runner(W, W_uh, W_hy))(x)[:, 8:] - y[:, 8:]).max())
    rows = [
        row(f"Theorem 3.1: max |lattice - HDS| over {cfg.steps} steps (float64, random tanh HDS)", "exact (≤ 1e-10)",
            thm_err, holds_le(thm_err, 1e-10)),
        row(f"linear RNN W = ΨMΨ⁺ (N={cfg.N}) on repeat copy, 200 steps: max error", "≤ 1e-10 (re-sim 6e-13)",
            rnn_err, holds_le(rnn_err, 1e-9)),
    ]
    for name in NAMED_TASKS:
        eo, _ = modes[(name, "overwrite")]
        ea, acc = modes[(name, "add")]
        rows.append(row(f"{name}: overwrite max error / add max error (sign acc.)",
                        "0 / 0 for copy, clearly off otherwise (spec §2.4)", f"{eo:.3g} / {ea:.3g} ({acc:.3f})",
                        eo == 0.0 and ((ea == 0.0) if name == "repeat_copy" else ea >= 1.0),
                        note="add-mode failure is the documented caveat, not a bug"))
    atomic_write_json(out / "theory.json", {"theorem_err": thm_err, "rnn_err": rnn_err,
                                            "modes": {f"{k[0]}/{k[1]}": v for k, v in modes.items()}})
    return Result(rows=rows, metrics={"theorem_err": thm_err, "rnn_err": rnn_err})


def _input_modes(key) -> dict[tuple[str, str], tuple[float, float]]:
    """(max error, sign accuracy) of the LBC lattice per (task, input mode) on 32 sequences of horizon 40."""
    modes = {}
    for name, tid in NAMED_TASKS.items():
        phi = binary_vb_task(tid)
        fb = linear_boundary(phi)
        x, y, _ = task_batch(jax.random.fold_in(key, 2), phi, horizon=40, batch=32, dtype=F64)
        m = jnp.arange(48) < 8
        for mode in ("overwrite", "add"):
            o = jax.vmap(lambda xi, mode=mode: rollout(fb, jnp.zeros((8, 8), F64), xi, mask=m, input_mode=mode,
                                                       save="newest"))(x)
            modes[(name, mode)] = (float(jnp.abs(o[:, 8:] - y[:, 8:]).max()),
                                   float((jnp.sign(o[:, 8:]) == y[:, 8:]).mean()))
    return modes


def run_spectra(cfg: WaveConfig, out: Path) -> Result:
    """Spectra of M for the four tasks: unit-circle eigenvalues, counts and autonomous periods."""
    eigs, rows = {}, []
    for name, tid in NAMED_TASKS.items():
        M = lbc_matrix(binary_vb_task(tid))
        ev = spectrum(M)
        nz = nonzero_spectrum(M, tol=1e-3)
        count = int(np.linalg.matrix_rank(np.linalg.matrix_power(M, M.shape[0])))
        rank = int(np.linalg.matrix_rank(M - np.kron(np.eye(8, k=1), np.eye(8))))
        dev = float(np.abs(np.abs(nz) - 1).max())
        p = autonomous_period(M)
        eigs[f"{name} {tid[1:]}"] = ev
        rows.append(row(f"{name}: rank(M − shift) / nonzero eigenvalues / period / max ||λ|−1|",
                        "≤ 8 / on unit circle", f"{rank} / {count} / {p} / {dev:.1e}",
                        rank <= 8 and dev <= 1e-9 and len(nz) == count))
    eigen_plot(out / "spectra.png", eigs, panels=True, title="eig(M) for the four binary tasks")
    heatmap(out / "M_mix_262676_189.png", lbc_matrix(binary_vb_task("mix_262676_189")), block=8,
            title="M = shift + boundary (task 262676,189)")
    return Result(rows=rows, figures=["spectra.png", "M_mix_262676_189.png"])


def run_gradients(cfg: WaveConfig, out: Path) -> Result:
    """||dh(t+k)/dx(t)|| vs lag: constructed wave RNN (orthonormal Ψ) vs a random tanh RNN (gain 0.9)."""
    M = lbc_matrix(binary_vb_task("repeat_copy"))
    Psi = random_basis(jax.random.key(cfg.seed), cfg.N, 64, dtype=F64)
    W = embed(M, Psi)
    W_uh, _ = write_read(Psi, 8, 8)
    T = cfg.max_lag + 10
    xs = 0.1 * jax.random.normal(jax.random.key(1), (T, 8), F64)
    g_wave = gradient_vs_lag(rnn_runner(W, W_uh), xs, t0=0, max_lag=cfg.max_lag)
    Wr, Ur = random_rnn(jax.random.key(2), cfg.N, 8, gain=0.9, dtype=F64)
    g_rand = gradient_vs_lag(rnn_runner(Wr, Ur, nonlinearity="tanh"), xs, t0=0, max_lag=cfg.max_lag)
    k = np.arange(cfg.max_lag + 1)
    line_plot(out / "gradient_vs_lag.png", {"wave RNN (orthonormal Ψ, repeat copy)": (k, g_wave),
                                            "random tanh RNN, gain 0.9": (k, g_rand)},
              logy=True, xlabel="lag k", ylabel="||∂h(t+k)/∂x(t)||₂", title="Gradient propagation vs lag")
    dev = float(np.abs(g_wave - 1).max())
    rate = float(np.exp(np.polyfit(k[10:], np.log(g_rand[10:]), 1)[0]))
    return Result(rows=[
        row(f"wave RNN: max | ‖∂h(t+k)/∂x(t)‖ − 1 |, k ≤ {cfg.max_lag}", "0 (no decay inside the window)", dev,
            holds_le(dev, 1e-9)),
        row("random tanh RNN (gain 0.9): fitted per-step decay factor", "< 1 (geometric decay)", rate, rate < 1),
    ], figures=["gradient_vs_lag.png"], metrics={"g_wave": g_wave, "g_random": g_rand})


def run_travel(cfg: WaveConfig, out: Path) -> Result:
    """A "315" bitmap written into the lattice travels one row per tick and re-enters at the boundary."""
    from wavejax.wave._probe import probe_315

    bitmap = probe_315()  # (7 steps, 8 dims)
    phi = binary_vb_task("repeat_copy")
    xs = np.zeros((24, 8))
    xs[:7] = bitmap
    mask = np.arange(24) < 8
    Hs = np.asarray(rollout(linear_boundary(phi), jnp.zeros((8, 8), F64), jnp.asarray(xs, F64),
                            mask=jnp.asarray(mask)))
    panels = {f"t = {t}": Hs[t].T for t in (6, 9, 12, 15, 18, 21)}
    heatmap(out / "wave_315.png", None, panels=panels, xlabel="lattice position (0 = oldest)", ylabel="wave j",
            title="The '315' probe travelling through the lattice (repeat copy)")
    corr = float(np.corrcoef(Hs[9:, :-1].ravel(), Hs[8:-1, 1:].ravel())[0, 1])
    return Result(rows=[row("corr(H_i(t), H_{i+1}(t−1)) on the '315' probe", "≈ 1", corr, corr > 0.999)],
                  figures=["wave_315.png"])


def _exp(name: str, title: str, fn, version: int = 1) -> Experiment:
    return Experiment(name=f"wave.{name}", section=SECTION, title=title, run=fn, config=WaveConfig, x64=True,
                      version=version)


EXPERIMENTS = [
    _exp("theory", "Theorem 3.1, input modes and basis invariance", run_theory, version=2),  # 2: engine Elman
    _exp("spectra", "Spectra of the LBC matrix M for the four binary tasks", run_spectra),
    _exp("gradients", "Gradient propagation vs lag", run_gradients, version=2),  # 2: engine Elman
    _exp("travel", "A wave travelling through the lattice", run_travel),
]
