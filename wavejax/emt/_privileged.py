"""The privileged basis of EMT and the quantitative circuit match (docs/emt.md §5.1, §5.3).

Given a bias-free RNN (W_hh (H, H), readout W_hy (d, H), input W_uh (H, d)), a task operator F and a trajectory
h(t) (T, H):

1. grounding G (H, d): pinv(W_hy) ("output", reported to work better) or W_uh ("input", the paper's choice);
2. power blocks B_k = W_hh^(s-k) G, k = 1..s (block s = newest, the one written/read); columns unit-normalized;
   Psi = [B_1 | ... | B_s] (H, sd), oldest first (:func:`wavejax.wave.extract_wave_basis`, one implementation);
3. pruning to the recurrent part of the theoretical Phi (:func:`wavejax.emt.recurrent_positions`);
4. dual basis Psi* = pinv(Psi_kept) (SVD, rcond 1e-15);
5. complement: h_perp = h - Psi Psi* h; its top ``n_pca`` principal directions are appended as orthonormal
   basis vectors (dual = transpose). They lie in range(Psi)^perp, so the full dual stays exact;
6. Psi_full (H, sd + n_pca), Psi*_full (sd + n_pca, H); pruned positions are zero columns / rows.

Read-outs: Phi_emp = Psi*_full W_hh Psi_full (:func:`phi_emp`), variable memories Psi*_full h(t) reshaped to
(s, d) (:func:`variable_memories`). The circuit match (§5.3 (ii), PROPOSED in the spec) compares Phi_emp with Phi on
the kept positions: off-support / on-support Frobenius ratio and sign agreement on the support
(:func:`structure_metrics`). Everything runs on the host in float64 NumPy. The basis is real (W_hh and G are real);
the spec's complex dtype is not needed.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np

from wavejax import _validate
from wavejax.emt._circuit import circuit_matrix, recurrent_positions
from wavejax.wave._basis import extract_wave_basis

__all__ = ["PrivilegedBasis", "privileged_basis", "phi_emp", "structure_metrics",
           "dual_error", "readout_fraction", "variable_memories", "block_tracking", "predicted_block"]


class PrivilegedBasis(NamedTuple):
    """The privileged basis of a trained RNN: Psi (H, sd + n_pca), Psi* (sd + n_pca, H), kept mask (sd,)."""

    Psi: np.ndarray  # (H, sd + n_pca), pruned columns zero, the PCA complement last
    Psi_star: np.ndarray  # (sd + n_pca, H), pruned rows zero
    keep: np.ndarray  # (sd,) bool, positions of the recurrent part of Phi
    s: int  # history length (number of blocks)
    d: int  # block size

    @property
    def active(self) -> np.ndarray:
        """Indices of the non-zero basis vectors (kept positions, then the PCA complement)."""
        n = self.s * self.d
        return np.concatenate([np.flatnonzero(self.keep), np.arange(n, self.Psi.shape[1])])


def _weights(W_hh, W_hy, W_uh):
    H = _validate.shape("W_hh", W_hh, (None, None))[0]
    _validate.shape("W_hh", W_hh, (H, H))
    _validate.finite("W_hh", W_hh)
    if W_hy is not None:
        _validate.shape("W_hy", W_hy, (None, H))
    if W_uh is not None:
        _validate.shape("W_uh", W_uh, (H, None))
    return H


def privileged_basis(W_hh: np.ndarray, F: np.ndarray, s: int, *, W_hy: np.ndarray | None = None,
                     W_uh: np.ndarray | None = None, traj: np.ndarray | None = None,
                     grounding: Literal["output", "input"] = "output", n_pca: int = 10,
                     prune: bool = True) -> PrivilegedBasis:
    """Grounded power-block basis with pruning, dual and PCA complement (docs/emt.md §5.1 steps 1-6).

    Args:
      W_hh: recurrent matrix (H, H) (mathematical orientation h' = W_hh h).
      F: task operator (s*d, d): decides the kept (recurrent) positions via the theoretical Phi.
      s: history length.
      W_hy: readout (d, H); needed for ``grounding="output"``.
      W_uh: input matrix (H, d); needed for ``grounding="input"``.
      traj: hidden states (T, H) for the PCA complement; None or ``n_pca=0``: no complement.
      grounding: "output" (G = pinv(W_hy)) or "input" (G = W_uh).
      n_pca: number of complement directions (the spec uses 10).
      prune: restrict to the recurrent part of Phi (False keeps all sd positions).

    Returns:
      :class:`PrivilegedBasis`.
    """
    H = _weights(W_hh, W_hy, W_uh)
    s = _validate.positive_int("s", s)
    d = _validate.shape("F", F, (None, None))[1]
    _validate.shape("F", F, (s * d, d))
    _validate.one_of("grounding", grounding, ("output", "input"))
    n_pca = _validate.nonneg_int("n_pca", n_pca)
    if grounding == "output":
        if W_hy is None:
            raise ValueError("grounding='output' needs W_hy (d, H)")
        _validate.shape("W_hy", W_hy, (d, H))
        G = np.linalg.pinv(np.asarray(W_hy, np.float64))
    else:
        if W_uh is None:
            raise ValueError("grounding='input' needs W_uh (H, d)")
        _validate.shape("W_uh", W_uh, (H, d))
        G = np.asarray(W_uh, np.float64)
    n = s * d
    if n > H:
        raise ValueError(f"the circuit needs s*d={n} <= H={H} dims")
    keep = recurrent_positions(circuit_matrix(F, s)) if prune else np.ones(n, bool)
    Psi_all = extract_wave_basis(np.asarray(W_hh, np.float64), G, s, normalize=True)
    Pk = Psi_all[:, keep]
    Pk_star = np.linalg.pinv(Pk, rcond=1e-15)
    Psi = np.zeros((H, n))
    Psi_star = np.zeros((n, H))
    Psi[:, keep] = Pk
    Psi_star[keep] = Pk_star
    if traj is not None and n_pca:
        _validate.shape("traj", traj, (None, H))
        h = np.asarray(traj, np.float64)
        h_perp = h - (h @ Pk_star.T) @ Pk.T
        h_perp = h_perp - h_perp.mean(axis=0, keepdims=True)
        _, sv, Vt = np.linalg.svd(h_perp, full_matrices=False)
        scale = max(float(np.abs(h).max()), 1e-300) * np.sqrt(h.shape[0])
        r = min(n_pca, int(np.sum(sv > 1e-9 * scale)), H - int(keep.sum()))  # drop round-off directions
        comps = Vt[:r]
        comps = comps - (comps @ Pk_star.T) @ Pk.T  # exactly in range(Psi)^perp (re-project round-off)
        comps = np.linalg.qr(comps.T)[0].T if r else comps
        Psi = np.concatenate([Psi, comps.T], axis=1)
        Psi_star = np.concatenate([Psi_star, comps], axis=0)
    return PrivilegedBasis(Psi=Psi, Psi_star=Psi_star, keep=keep, s=s, d=d)


def phi_emp(W_hh: np.ndarray, basis: PrivilegedBasis) -> np.ndarray:
    """Phi_emp = Psi* W_hh Psi, shape (sd + n_pca, sd + n_pca) (zero rows / columns at pruned positions)."""
    _weights(W_hh, None, None)
    return basis.Psi_star @ np.asarray(W_hh, np.float64) @ basis.Psi


def dual_error(basis: PrivilegedBasis) -> float:
    """||Psi* Psi - I||_F over the active (kept + complement) positions (docs/emt.md §7: < 1e-4)."""
    a = basis.active
    G = basis.Psi_star[a] @ basis.Psi[:, a]
    return float(np.linalg.norm(G - np.eye(len(a))))


def structure_metrics(Phi_emp: np.ndarray, Phi: np.ndarray, keep: np.ndarray | None = None) -> tuple[float, float]:
    """Circuit match of Phi_emp with the theoretical Phi on the kept positions (docs/emt.md §5.3 (ii), PROPOSED).

    With S = support of Phi[keep][:, keep] (its nonzero entries) and E = Phi_emp[keep][:, keep]:

        off/on ratio   = ||E outside S||_F / ||E on S||_F
        sign agreement = mean over S of [sign(E) == sign(Phi)]

    (On-support entries are not exactly 1: column normalization makes Phi_emp a diagonally rescaled Phi.)

    Args:
      Phi_emp: (m, m) with m >= n (extra complement rows / columns are ignored).
      Phi: theoretical circuit (n, n).
      keep: (n,) bool mask; None keeps all n positions.

    Returns:
      ``(off_on_ratio, sign_agreement)``.
    """
    n = _validate.shape("Phi", Phi, (None, None))[0]
    _validate.shape("Phi", Phi, (n, n))
    m = _validate.shape("Phi_emp", Phi_emp, (None, None))[0]
    if m < n:
        raise ValueError(f"Phi_emp ({np.shape(Phi_emp)}) must be at least as large as Phi ({n}, {n})")
    keep = np.ones(n, bool) if keep is None else np.asarray(keep, bool)
    _validate.shape("keep", keep, (n,))
    k = np.flatnonzero(keep)
    P = np.asarray(Phi, np.float64)[np.ix_(k, k)]
    E = np.real(np.asarray(Phi_emp))[np.ix_(k, k)]
    S = P != 0
    if not S.any():
        raise ValueError("Phi has no support on the kept positions")
    on = float(np.linalg.norm(E[S]))
    off = float(np.linalg.norm(E[~S]))
    agree = float(np.mean(np.sign(E[S]) == np.sign(P[S])))
    return (off / on if on > 0 else float("inf")), agree


def readout_fraction(W_hy: np.ndarray, basis: PrivilegedBasis) -> float:
    """Fraction of the readout's norm on the newest block in basis coordinates: ||W_hy Psi_s||_F / ||W_hy Psi||_F
    over the kept positions (docs/emt.md §7: > 0.95)."""
    _validate.shape("W_hy", W_hy, (basis.d, basis.Psi.shape[0]))
    R = np.asarray(W_hy, np.float64) @ basis.Psi[:, :basis.s * basis.d]
    newest = R[:, (basis.s - 1) * basis.d:]
    return float(np.linalg.norm(newest) / np.linalg.norm(R))


def variable_memories(basis: PrivilegedBasis, hs: np.ndarray, *, zscore: bool = False) -> np.ndarray:
    """Hidden states in the basis: (Psi* h(t))[:sd] reshaped to (..., T, s, d), block 0 the oldest (docs/emt.md §5.1).

    Args:
      basis: the privileged basis.
      hs: hidden states (..., T, H).
      zscore: z-score every frame (per time step over its s*d coordinates), as in the spec's Figure 3.
    """
    H = basis.Psi.shape[0]
    shp = _validate.ndim("hs", hs, (2, 3))
    if shp[-1] != H:
        raise ValueError(f"hs must have last dimension H={H}; got shape {shp}")
    n = basis.s * basis.d
    c = np.asarray(hs, np.float64) @ basis.Psi_star[:n].T
    if zscore:
        c = (c - c.mean(axis=-1, keepdims=True)) / np.maximum(c.std(axis=-1, keepdims=True), 1e-300)
    return c.reshape(*shp[:-1], basis.s, basis.d)


def predicted_block(mu: int, t: int, s: int) -> int:
    """Block (0 = oldest) holding variable mu at time index t >= s-1 in the repeat-copy circuit (docs/emt.md §7):
    at t = s-1 variable mu is in block mu, then it moves one block toward 0 per step, cyclically."""
    s = _validate.positive_int("s", s)
    _validate.nonneg_int("mu", mu)
    _validate.nonneg_int("t", t)
    return (mu - (t - (s - 1))) % s


def block_tracking(coords: np.ndarray, u: np.ndarray, times: np.ndarray) -> np.ndarray:
    """For each time and variable, the block whose coordinates correlate most with the variable (docs/emt.md §7).

    The score of block k for variable mu at time t is mean_c |corr_b(coords[b, t, k, c], u[b, mu, c])| (correlation
    over the batch b, per dim c).

    Args:
      coords: variable memories (B, T, s, d).
      u: the input variables (B, s, d) (u[:, mu] = x(mu)).
      times: time indices to test, shape (n_t,).

    Returns:
      Argmax block per (time, variable), int array of shape (n_t, s).
    """
    B, T, s, d = _validate.ndim("coords", coords, 4)
    _validate.shape("u", u, (B, s, d))
    times = np.asarray(times, int)
    if times.min() < 0 or times.max() >= T:
        raise ValueError(f"times must lie in [0, {T}); got {times.min()}..{times.max()}")
    z = np.asarray(coords, np.float64)[:, times]  # (B, nt, s, d)
    z = (z - z.mean(0)) / np.maximum(z.std(0), 1e-300)
    v = np.asarray(u, np.float64)
    v = (v - v.mean(0)) / np.maximum(v.std(0), 1e-300)
    corr = np.einsum("btkc,bmc->tmkc", z, v) / B  # (nt, mu, block, dim)
    return np.abs(corr).mean(-1).argmax(-1)
