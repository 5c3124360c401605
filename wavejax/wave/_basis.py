"""The lattice as a matrix, hidden bases and spectra (docs/wave.md §2.3, §2.5, §5).

Vectorised substrate h = vec(H) in R^{sd}, block i = row i of H (0 = oldest). The linear boundary gives

    M = S_s (x) I_d + (e_s (x) I_d) [A_1 ... A_s],       S[i, i+1] = 1          (shift + rank <= d)

and any full-column-rank basis Psi (N x sd) gives an RNN with W_hh = Psi M Psi^+, W_uh = Psi_s = Psi (e_s (x) I_d),
W_hy = Psi*_s = (e_s (x) I_d)^T Psi^+. Spectral analyses run on the host in float64 NumPy (non-symmetric eig).
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.precision import require_dtype

__all__ = [
    "shift_matrix",
    "lbc_matrix",
    "random_basis",
    "embed",
    "write_read",
    "extract_wave_basis",
    "wave_basis_from_rnn",
    "wave_coordinates",
    "spectrum",
    "nonzero_spectrum",
    "autonomous_period",
]


def shift_matrix(s: int, d: int) -> np.ndarray:
    """S_s (x) I_d of shape (sd, sd): block i receives block i+1 (toward the open end)."""
    s = _validate.positive_int("s", s)
    d = _validate.positive_int("d", d)
    return np.kron(np.eye(s, k=1), np.eye(d))


def lbc_matrix(phi: Float[Array, "s d d"]) -> np.ndarray:
    """M = shift + linear boundary of shape (s*d, s*d), blocks ordered oldest first (docs/wave.md §2.5).

    The last block row is [A_1 ... A_s] = [phi_s ... phi_1]: the newest block receives sum_l phi_l x(t-l).

    Examples:
      >>> from wavejax.tasks import binary_vb_task
      >>> M = lbc_matrix(binary_vb_task("repeat_copy"))
      >>> M.shape, bool(np.allclose(np.linalg.matrix_power(M, 8), np.eye(64)))
      ((64, 64), True)
    """
    shp = _validate.ndim("phi", phi, 3)
    if shp[1] != shp[2] or shp[0] < 1 or shp[1] < 1:
        raise ValueError(f"phi must have shape (s, d, d) with s, d >= 1; got shape {shp}")
    _validate.finite("phi", phi)
    phi = np.asarray(phi, dtype=np.float64)
    s, d, _ = phi.shape
    M = shift_matrix(s, d)
    M[(s - 1) * d:, :] = np.concatenate([phi[s - 1 - i] for i in range(s)], axis=1)
    return M


def random_basis(key: Array, N: int, n: int, *, orthonormal: bool = True, dtype=jnp.float64) -> np.ndarray:
    """A random basis Psi of shape (N, n), N >= n: orthonormal columns (QR of a Gaussian) or Gaussian.

    ``dtype`` is the dtype of the Gaussian draw (float64 by default, which needs 64-bit mode; float32 draws other
    numbers from the same key); the basis is returned as float64 NumPy either way.
    """
    key = _validate.prng_key("key", key)
    N = _validate.positive_int("N", N)
    n = _validate.positive_int("n", n)
    if N < n:
        raise ValueError(f"N must be >= n for a full-column-rank basis; got N={N}, n={n}")
    G = np.asarray(jax.random.normal(key, (N, n), dtype=require_dtype(dtype, "dtype")), dtype=np.float64)
    if not orthonormal:
        return G / np.sqrt(N)
    Q, R = np.linalg.qr(G)
    return Q * np.sign(np.diag(R))


def embed(M: np.ndarray, Psi: np.ndarray) -> np.ndarray:
    """W = Psi M Psi^+ (N x N): the same lattice dynamics in the hidden basis Psi (docs/wave.md §2.5)."""
    n = _validate.shape("M", M, (None, None))[0]
    _validate.shape("Psi", Psi, (None, n))
    Psi = np.asarray(Psi, np.float64)
    return Psi @ np.asarray(M, np.float64) @ np.linalg.pinv(Psi)


def write_read(Psi: np.ndarray, s: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """W_uh = Psi_s (N x d, writes the newest block) and W_hy = Psi*_s (d x N, reads it)."""
    _validate.shape("Psi", Psi, (None, s * d))
    Psi = np.asarray(Psi, np.float64)
    return Psi[:, (s - 1) * d:], np.linalg.pinv(Psi)[(s - 1) * d:, :]


def extract_wave_basis(W_hh: np.ndarray, B0: np.ndarray, s: int, *, normalize: bool = True) -> np.ndarray:
    """Krylov/power-block wave basis (docs/wave.md §5.3): block i (0 = oldest) = W_hh^(s-1-i) B0.

    Args:
      W_hh: recurrent matrix (N, N).
      B0: seed block (N, d): W_uh (input-grounded) or pinv(W_hy) (output-grounded); it becomes the newest block.
      s: number of blocks (substrate length).
      normalize: scale every column to unit norm.

    Returns:
      Psi of shape (N, s*d), blocks oldest first.
    """
    N = _validate.shape("W_hh", W_hh, (None, None))[0]
    _validate.shape("W_hh", W_hh, (N, N))
    d = _validate.shape("B0", B0, (N, None))[1]
    s = _validate.positive_int("s", s)
    W = np.asarray(W_hh, np.float64)
    blocks = [np.asarray(B0, np.float64)]
    for _ in range(s - 1):
        blocks.append(W @ blocks[-1])
    Psi = np.concatenate(blocks[::-1], axis=1)
    if normalize:
        Psi = Psi / np.maximum(np.linalg.norm(Psi, axis=0, keepdims=True), 1e-300)
    assert Psi.shape == (N, s * d)
    return Psi


def wave_basis_from_rnn(
    W_hh: np.ndarray,
    s: int,
    *,
    W_uh: np.ndarray | None = None,
    W_hy: np.ndarray | None = None,
    grounding: Literal["output", "input"] = "output",
    normalize: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Wave basis of a bias-free linear or tanh RNN (linearised at the origin, where J = I).

    Output grounding seeds the newest block with pinv(W_hy) (reported to work better); input grounding with W_uh.

    Returns:
      ``(Psi, Psi_star)`` of shapes (N, s*d) and (s*d, N), Psi_star = pinv(Psi).
    """
    _validate.one_of("grounding", grounding, ("output", "input"))
    if grounding == "output":
        if W_hy is None:
            raise ValueError("grounding='output' needs W_hy (d_out x N)")
        B0 = np.linalg.pinv(np.asarray(W_hy, np.float64))
    else:
        if W_uh is None:
            raise ValueError("grounding='input' needs W_uh (N x d_in)")
        B0 = np.asarray(W_uh, np.float64)
    Psi = extract_wave_basis(W_hh, B0, s, normalize=normalize)
    return Psi, np.linalg.pinv(Psi)


def wave_coordinates(Psi_star: np.ndarray, hs: np.ndarray, s: int, d: int) -> np.ndarray:
    """Wave coordinates of hidden states: (Psi* h(t)) reshaped to (T, s, d), row 0 the oldest block."""
    _validate.shape("Psi_star", Psi_star, (s * d, None))
    N = np.shape(Psi_star)[1]
    _validate.shape("hs", hs, (None, N))
    return (np.asarray(hs) @ np.asarray(Psi_star).T).reshape(-1, s, d)


def spectrum(W: np.ndarray) -> np.ndarray:
    """Eigenvalues of a square matrix (float64 host computation), sorted by decreasing modulus."""
    n = _validate.shape("W", W, (None, None))[0]
    _validate.shape("W", W, (n, n))
    _validate.finite("W", W)
    ev = np.linalg.eigvals(np.asarray(W, np.float64))
    return ev[np.argsort(-np.abs(ev), kind="stable")]


def nonzero_spectrum(W: np.ndarray, *, tol: float = 1e-6) -> np.ndarray:
    """Eigenvalues with modulus > tol (nilpotent parts of M give eigenvalues at 0 up to ~eps^(1/k))."""
    ev = spectrum(W)
    return ev[np.abs(ev) > tol]


def autonomous_period(M: np.ndarray, *, max_period: int = 100_000) -> int:
    """Smallest p > 0 with M^(p+n) = M^n, n = size of M (docs/wave.md §7); computed exactly for integer M.

    Raises:
      ValueError: when M is not integer-valued or no period <= max_period exists.
    """
    n = _validate.shape("M", M, (None, None))[0]
    Mf = np.asarray(M, np.float64)
    if not np.array_equal(Mf, np.round(Mf)):
        raise ValueError("autonomous_period needs an integer-valued M (e.g. a binary-task LBC matrix)")
    Mi = np.round(Mf).astype(np.int64)
    base = np.linalg.matrix_power(Mi, n)
    P = base.copy()
    for p in range(1, max_period + 1):
        P = P @ Mi
        if np.array_equal(P, base):
            return p
        if np.abs(P).max() > 2**40:
            break
    raise ValueError(f"no period <= max_period={max_period} (M is not eventually periodic)")
