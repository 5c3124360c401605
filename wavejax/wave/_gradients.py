"""Gradient propagation vs lag (docs/wave.md §2.7 "diminishing gradient", §5.6).

For a map ``run: xs (T, d_in) -> ys (T, d_out)`` the lag profile is

    g(k) = || d ys[t0 + k] / d xs[t0] ||_2          (spectral norm of a d_out x d_in Jacobian)

computed exactly with forward-mode autodiff (``jax.jacfwd`` over the single input x(t0)).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from wavejax import _validate
from wavejax.precision import require_dtype
from wavejax.rnn import Elman

__all__ = ["gradient_vs_lag", "rnn_runner", "lattice_runner", "random_rnn"]


def gradient_vs_lag(run: Callable[[Array], Array], xs: Float[Array, "T d"], *, t0: int = 0,
                    max_lag: int | None = None) -> np.ndarray:
    """g(k) = ||d run(xs)[t0+k] / d xs[t0]||_2 for k = 0..max_lag.

    Args:
      run: maps inputs (T, d_in) to outputs (T, d_out); must be differentiable.
      xs: the inputs at which to linearize, shape (T, d_in).
      t0: index of the perturbed input.
      max_lag: largest lag (default T - 1 - t0).

    Returns:
      NumPy array of shape (max_lag + 1,).
    """
    T, _ = _validate.ndim("xs", xs, 2)
    _validate.nonneg_int("t0", t0)
    if t0 >= T:
        raise ValueError(f"t0 must be < T={T}; got t0={t0}")
    max_lag = T - 1 - t0 if max_lag is None else _validate.nonneg_int("max_lag", max_lag)
    if t0 + max_lag >= T:
        raise ValueError(f"t0 + max_lag must be < T={T}; got {t0 + max_lag}")
    xs = jnp.asarray(xs)

    def g(x0):
        return run(xs.at[t0].set(x0))[t0:t0 + max_lag + 1]

    J = np.asarray(jax.jacfwd(g)(xs[t0]))  # (max_lag+1, d_out, d_in)
    return np.linalg.norm(J, ord=2, axis=(1, 2))


def rnn_runner(W_hh: Array, W_uh: Array, W_hy: Array | None = None, *,
               nonlinearity: Literal["linear", "tanh"] = "linear") -> Callable[[Array], Array]:
    """``run(xs)`` of the bias-free RNN h(t) = sigma(W_hh h(t-1) + W_uh x(t)), h(0) = 0.

    The recurrence is the engine's :class:`wavejax.rnn.Elman` (``fused_grad=False``: plain scan, so forward-mode
    ``jax.jacfwd`` works) applied to these weights on a batch of one. Returns y(t) = W_hy h(t) when W_hy is given,
    else the hidden states h(t) (shape (T, N)).

    Examples:
      >>> run = rnn_runner(jnp.zeros((3, 3)), jnp.eye(3)[:, :2])
      >>> run(jnp.ones((4, 2))).shape
      (4, 3)
    """
    N = _validate.shape("W_hh", W_hh, (None, None))[0]
    _validate.shape("W_hh", W_hh, (N, N))
    _validate.shape("W_uh", W_uh, (N, None))
    if W_hy is not None:
        _validate.shape("W_hy", W_hy, (None, N))
    _validate.one_of("nonlinearity", nonlinearity, ("linear", "tanh"))
    hidden_out = W_hy is None
    p = {"W_hh": jnp.asarray(W_hh), "W_uh": jnp.asarray(W_uh),
         "W_hy": jnp.zeros((1, N), jnp.asarray(W_hh).dtype) if hidden_out else jnp.asarray(W_hy)}
    model = Elman(hidden=N, d_out=p["W_hy"].shape[0], linear=nonlinearity == "linear", fused_grad=False)

    def run(xs):
        y, hs = model.apply({"params": p}, xs[None], return_hidden=True)
        return hs[0] if hidden_out else y[0]

    return run


def lattice_runner(f: Callable[[Array], Array], s: int, d: int, *, read: Literal["newest", "lattice"] = "lattice"
                   ) -> Callable[[Array], Array]:
    """``run(xs)`` of the lattice in add mode from H0 = 0; outputs the flattened substrate or the newest row.

    Add mode makes every input enter through the boundary, so d H(t+k) / d x(t) shows how far it travels.
    """
    from wavejax.wave._lattice import rollout

    _validate.one_of("read", read, ("newest", "lattice"))

    def run(xs):
        Hs = rollout(f, jnp.zeros((s, d), xs.dtype), xs, input_mode="add")
        return Hs[:, -1] if read == "newest" else Hs.reshape(xs.shape[0], s * d)

    return run


def random_rnn(key: Array, N: int, d: int, *, gain: float, dtype=jnp.float64) -> tuple[np.ndarray, np.ndarray]:
    """W_hh ~ N(0, gain^2 / N) and W_uh ~ N(0, 1/d): the untrained baseline of the gradient analysis.

    ``dtype`` is the dtype the normals are drawn in (float64 by default, which needs 64-bit mode; float32 draws
    different numbers from the same key). The results are NumPy arrays of that dtype.
    """
    key = _validate.prng_key("key", key)
    N = _validate.positive_int("N", N)
    d = _validate.positive_int("d", d)
    _validate.positive("gain", gain)
    dt = require_dtype(dtype, "dtype")
    k1, k2 = jax.random.split(key)
    W = np.asarray(jax.random.normal(k1, (N, N), dt)) * gain / np.sqrt(N)
    U = np.asarray(jax.random.normal(k2, (N, d), dt)) / np.sqrt(d)
    return W, U
