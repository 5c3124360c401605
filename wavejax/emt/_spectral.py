"""The spectral convergence metric of EMT (docs/emt.md §5.2; docs/wave.md §5.2).

A trained bias-free RNN is said to implement the variable-binding circuit Phi (docs/emt.md §2.3) when the
eigenvalues of W_hh with modulus above a threshold have the same *phases* as those of Phi. Magnitudes are
ignored on purpose: a tanh network turns |lambda| > 1 growth into a stable limit cycle (docs/emt.md §2.4), so only
phases are comparable.

All analysis here runs on the host in float64/complex128 NumPy (``np.linalg.eigvals``), never inside ``jit``.
"""

from __future__ import annotations

import math

import numpy as np

from wavejax import _validate

__all__ = ["dominant_eigenvalues", "spectral_error"]


def dominant_eigenvalues(A: np.ndarray, thr: float = 0.9) -> np.ndarray:
    """Eigenvalues of the square matrix ``A`` with ``|lambda| > thr`` (complex128, eigvals order).

    Args:
      A: square matrix, shape ``(n, n)``.
      thr: modulus threshold (strict), >= 0.

    Returns:
      The dominant eigenvalues, shape ``(k,)``.
    """
    _validate.ndim("A", A, 2)
    A = np.asarray(A, dtype=np.complex128 if np.iscomplexobj(A) else np.float64)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square; got shape {A.shape}")
    _validate.nonneg("thr", thr)
    lam = np.linalg.eigvals(A)
    return lam[np.abs(lam) > thr]


def spectral_error(A: np.ndarray, B: np.ndarray, thr: float = 0.9) -> float:
    """Mean phase mismatch (radians) between the dominant eigenvalues of ``A`` and ``B`` (docs/emt.md §5.2).

    1. Keep the eigenvalues with ``|lambda| > thr`` of both matrices. If the counts differ the shorter list is
       zero-padded and normalizing a zero gives NaN: the result is ``nan`` (printed "---" in Table 1).
    2. Map each kept eigenvalue to the unit circle, a = lambda / |lambda|.
    3. Greedy matching: for each eigenvalue a of A, in ``np.linalg.eigvals`` order, take the unused eigenvalue
       b of B with the smallest angle ``arccos(clip(Re(a conj(b)), -1, 1))``, add that angle, remove b.
    4. Return the mean angle. With no dominant eigenvalue in either matrix the mean of nothing is ``nan`` too.

    Used as ``spectral_error(Phi, W_hh)`` with the theoretical circuit Phi (its recurrent part) as ``A``.

    Args:
      A: square matrix ``(n, n)``, the reference (theory) whose eigenvalues are matched in order.
      B: square matrix ``(m, m)``, e.g. the trained W_hh (m need not equal n).
      thr: modulus threshold; the spec default is 0.9.

    Returns:
      The mean matched angle in radians (a Python float), or ``nan`` on a count mismatch / empty lists.

    Examples:
      >>> P = np.roll(np.eye(4), 1, axis=0)             # a 4-cycle: eigenvalues 1, i, -1, -i
      >>> spectral_error(P, P.T)                        # same spectrum (conjugated): error 0
      0.0
      >>> import math; math.isnan(spectral_error(P, np.eye(3)))
      True
    """
    a = dominant_eigenvalues(A, thr)
    b = dominant_eigenvalues(B, thr)
    if len(a) != len(b) or len(a) == 0:
        return math.nan
    a = a / np.abs(a)
    pool = list(b / np.abs(b))
    total = 0.0
    for ai in a:
        cos = np.clip(np.real(ai * np.conj(np.asarray(pool))), -1.0, 1.0)
        ang = np.arccos(cos)
        j = int(np.argmin(ang))
        total += float(ang[j])
        pool.pop(j)
    return total / len(a)
