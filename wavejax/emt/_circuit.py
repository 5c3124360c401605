"""The analytic variable-binding circuit Phi and the linear circuit RNN (docs/emt.md §2.3, §2.4).

For a task operator F (``(s*d, d)``) the circuit on n = s*d dims (s blocks of d, block 0 the oldest) is the block
companion matrix

    Phi[i, i + d] = 1   for i < n - d           (shift: block k+1 -> block k every step)
    Phi[n-d:, :]  = F^T                          (composition row: the newest block receives F^T vec(window))

i.e. exactly the wave lattice matrix M of :func:`wavejax.wave.lbc_matrix` (one implementation). The circuit RNN
is h(t) = W_hh h(t-1) + W_uh u(t), y(t) = W_hy h(t), h(0) = 0 with W_hh = Psi Phi Psi^+, W_uh = Psi_s (writes the
newest block), W_hy = Psi*_s (reads it); Psi = I gives the circuit in its own basis.

Spectrum: every row of Phi has exactly one +-1 entry (a signed functional graph), so Phi^k has the same property;
its nonzero eigenvalues are roots of +-1 (|lambda| = 1) and their number equals rank(Phi^n), the number of slots on
cycles -- the slots the composition row depends on (transitively). All other directions are nilpotent. The count
is computed from Phi, never hard-coded (64 for repeat copy, 36 for the three composition tasks at s = d = 8).

Negative result (§2.4): the circuit reproduces repeat copy exactly; for a task with a lag p < s the composition
row already fires during the input phase on partly filled blocks, so the stored window is corrupted (no
zero-initial-state LTI system realizes a lag < s output exactly). :func:`circuit_error` measures it.
"""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.precision import require_dtype
from wavejax.rnn import Elman
from wavejax.tasks import lag_matrices
from wavejax.wave._basis import embed, lbc_matrix

__all__ = ["circuit_matrix", "unit_count", "recurrent_positions", "circuit_rnn", "circuit_rollout",
           "circuit_error"]


def _sd(F: np.ndarray, s: int) -> int:
    s = _validate.positive_int("s", s)
    d = _validate.shape("F", F, (None, None))[1]
    _validate.shape("F", F, (s * d, d))
    return d


def circuit_matrix(F: np.ndarray, s: int | None = None) -> np.ndarray:
    """The variable-binding circuit Phi of shape ``(s*d, s*d)`` (float64) for operator F (docs/emt.md §2.3).

    Args:
      F: task operator ``(s*d, d)`` (:func:`wavejax.tasks.decode_task`).
      s: history length (optional: it is F.shape[0] // F.shape[1]; checked when given).

    Examples:
      >>> from wavejax.tasks import decode_task
      >>> Phi = circuit_matrix(decode_task((255, 0, 0)), 8)          # repeat copy: a cyclic block permutation
      >>> bool(np.array_equal(np.linalg.matrix_power(Phi, 8), np.eye(64)))
      True
    """
    if s is not None:
        _sd(F, s)
    return lbc_matrix(lag_matrices(np.asarray(F, np.float64)))


def unit_count(Phi: np.ndarray) -> int:
    """Number of nonzero eigenvalues of Phi (with multiplicity) = rank(Phi^n), n = Phi.shape[0].

    Exact for the integer circuits (no eigenvalue round-off: nilpotent Jordan blocks of size k perturb eigenvalues
    by ~eps^(1/k), which can exceed a modulus threshold for k ~ 64). For the binary tasks every nonzero eigenvalue
    has modulus 1, so this is the count of unit-modulus eigenvalues compared with |lambda| > thr of a trained W_hh.
    """
    n = _validate.shape("Phi", Phi, (None, None))[0]
    _validate.shape("Phi", Phi, (n, n))
    if n == 0:
        return 0
    P = np.linalg.matrix_power(np.asarray(Phi, np.float64), n)
    return int(np.linalg.matrix_rank(P))


def recurrent_positions(Phi: np.ndarray) -> np.ndarray:
    """Pruning to the recurrent part (docs/emt.md §5.1 step 3): keep position c iff deleting row and column c of Phi
    lowers the count of unit-modulus eigenvalues (:func:`unit_count`).

    Returns:
      Boolean mask of shape ``(n,)``; ``mask.sum() == unit_count(Phi)`` for the binary-task circuits.
    """
    n = _validate.shape("Phi", Phi, (None, None))[0]
    _validate.shape("Phi", Phi, (n, n))
    full = unit_count(Phi)
    keep = np.zeros(n, bool)
    for c in range(n):
        idx = np.delete(np.arange(n), c)
        keep[c] = unit_count(np.asarray(Phi)[np.ix_(idx, idx)]) < full
    return keep


def circuit_rnn(F: np.ndarray, s: int, Psi: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Weights of the linear circuit RNN in a basis Psi (default: the identity, N = s*d).

    W_hh = Psi Phi Psi^+ (N, N); W_uh = Psi_s = the newest block of Psi (N, d); W_hy = Psi*_s = the newest block
    rows of Psi^+ (d, N). The dict keys are the parameter names of :class:`wavejax.rnn.Elman` /
    :class:`wavejax.rnn.LinearRNN`; :func:`circuit_rollout` runs them through the engine's ``Elman``.

    Args:
      F: task operator ``(s*d, d)``.
      s: history length.
      Psi: basis ``(N, s*d)`` with full column rank (N >= s*d); None = identity.

    Returns:
      ``{"W_uh": (N, d), "W_hh": (N, N), "W_hy": (d, N)}`` float64 NumPy arrays.
    """
    d = _sd(F, s)
    n = s * d
    Phi = circuit_matrix(F, s)
    if Psi is None:
        Psi = np.eye(n)
    _validate.shape("Psi", Psi, (None, n))
    Psi = np.asarray(Psi, np.float64)
    if Psi.shape[0] < n or np.linalg.matrix_rank(Psi) < n:
        raise ValueError(f"Psi of shape {Psi.shape} must have full column rank {n}")
    Psi_star = np.linalg.pinv(Psi)
    return {"W_uh": Psi[:, n - d:], "W_hh": embed(Phi, Psi), "W_hy": Psi_star[n - d:, :]}


def circuit_rollout(params: dict[str, Array], x: Float[Array, "B T d"], *,
                    nonlinearity: Literal["linear", "tanh"] = "linear"
                    ) -> tuple[Float[Array, "B T d"], Float[Array, "B T N"]]:
    """Run the bias-free RNN h(t) = sigma(W_hh h(t-1) + W_uh u(t)), y = W_hy h, h(0) = 0 on a batch.

    The recurrence is the engine's :class:`wavejax.rnn.Elman` (``linear=True`` for the circuit, plain scan
    ``fused_grad=False``), applied to these weights; the weights are cast to the dtype of x.

    Args:
      params: ``{"W_uh", "W_hh", "W_hy"}`` (e.g. from :func:`circuit_rnn` or a trained Elman).
      x: inputs ``(B, T, d_in)``.
      nonlinearity: "linear" (the circuit) or "tanh" (the trained Elman model).

    Returns:
      ``(y, hs)``: outputs ``(B, T, d_out)`` and hidden states ``(B, T, N)`` in the dtype of x.

    Examples:
      >>> from wavejax.tasks import decode_task
      >>> p = circuit_rnn(decode_task("repeat_copy"), 8)
      >>> y, hs = circuit_rollout(p, jnp.ones((2, 10, 8), jnp.float32))
      >>> y.shape, hs.shape
      ((2, 10, 8), (2, 10, 64))
    """
    _validate.one_of("nonlinearity", nonlinearity, ("linear", "tanh"))
    for k in ("W_uh", "W_hh", "W_hy"):
        if k not in params:
            raise ValueError(f"params must hold {k!r}; got keys {sorted(params)}")
    N = _validate.shape("W_hh", params["W_hh"], (None, None))[0]
    _validate.shape("W_hh", params["W_hh"], (N, N))
    d_in = _validate.shape("x", x, (None, None, None))[2]
    _validate.shape("W_uh", params["W_uh"], (N, d_in))
    _validate.shape("W_hy", params["W_hy"], (None, N))
    x = jnp.asarray(x)
    p = {k: jnp.asarray(params[k], x.dtype) for k in ("W_uh", "W_hh", "W_hy")}
    return _rollout(p, x, nonlinearity == "tanh")


@jax.jit(static_argnums=2)
def _rollout(p, x, tanh):
    model = Elman(hidden=p["W_hh"].shape[0], d_out=p["W_hy"].shape[0], linear=not tanh, fused_grad=False)
    return model.apply({"params": p}, x, return_hidden=True)


def circuit_error(F: np.ndarray, s: int, x: Float[Array, "B T d"], y: Float[Array, "B T d"],
                  mask: Array, Psi: np.ndarray | None = None, *, dtype=jnp.float64) -> tuple[float, float]:
    """Max |error| and sign accuracy of the circuit RNN on a batch over the output phase (``mask``).

    Exact (error 0 in float64) for repeat copy at any horizon; >= 1 for tasks with a lag < s (docs/emt.md §2.4).
    A non-finite output counts as wrong (sign accuracy) and makes the max error NaN.

    Args:
      F: task operator ``(s*d, d)``.
      s: history length.
      x: inputs ``(B, T, d)``.
      y: targets ``(B, T, d)`` (+-1 on the output phase).
      mask: ``(T,)`` True on the output phase.
      Psi: basis of the circuit RNN (default identity).
      dtype: dtype of the rollout (float64 by default: needs 64-bit mode, see :mod:`wavejax.precision`).
    """
    dtype = require_dtype(dtype, "dtype")
    params = circuit_rnn(F, s, Psi)
    pred, _ = circuit_rollout(params, jnp.asarray(x, dtype))
    m = np.asarray(mask, bool)
    pred, tgt = np.asarray(pred)[:, m], np.asarray(y)[:, m]
    err = np.abs(pred - tgt)
    sign = np.where(pred >= 0, 1.0, -1.0)
    acc = float(((sign == tgt) & np.isfinite(pred)).mean())
    return float(err.max()), acc
