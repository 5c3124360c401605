"""Tasks with a known loss floor (docs/tradeoff.md §3).

* :func:`switching_ar` — a hidden semi-Markov switching AR(p) process: K phases, each with its own mean μ_k and
  AR coefficients a_k; dwell times uniform on [d_min, d_max]; additive Gaussian noise σ:

      x_{t+1} = μ_k + Σ_{j=1..p} a_{k,j} (x_{t+1-j} − μ_k) + σ ε_t,   k = phase at t+1.

  MSE floor: σ² (the noise; reached only with the phase known, so the Bayes MSE is slightly above it).
* :func:`unifilar_hmm` / :func:`hmm_sample` / :func:`hmm_entropy_rate` — a discrete HMM over S states and an
  alphabet of A symbols in which the next state is a function of the current state and the emitted symbol
  (a unifilar HMM, as an ε-machine). Its entropy rate is exact and closed-form,

      H = Σ_s π_s H(E_s)  nats/symbol,    π the stationary law of P(s'|s) = Σ_x E_{s,x} [δ(s, x) = s'],

  and :func:`hmm_forward_nll` (the forward algorithm) gives the Bayes-optimal per-step log-loss of any sequence.
* :func:`load_traces` — real traces supplied as local ``.npy`` files (one 1-D array per program); nothing is
  ever downloaded.

All generators are pure functions of an explicit ``key``; arrays are float32 / int32.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from wavejax import _validate

__all__ = ["SwitchingAR", "switching_ar_params", "switching_ar", "HMM", "unifilar_hmm", "hmm_sample",
           "hmm_entropy_rate", "hmm_forward_nll", "load_traces", "normalize", "split_programs", "windows"]


class SwitchingAR(NamedTuple):
    """Parameters of the switching AR process: means μ (K,), coefficients a (K, p), noise σ, dwell range."""

    mu: jax.Array  # (K,)
    a: jax.Array  # (K, p)
    sigma: float
    d_min: int
    d_max: int


def switching_ar_params(key: jax.Array, *, K: int = 3, p: int = 2, sigma: float = 0.1, d_min: int = 20,
                        d_max: int = 60) -> SwitchingAR:
    """Random stable phases: μ_k spread on [−1.5, 1.5], AR poles inside radius 0.8 (so each AR(p) is stable)."""
    key = _validate.prng_key("key", key)
    _validate.positive_int("K", K)
    _validate.positive_int("p", p)
    _validate.positive("sigma", sigma)
    _validate.positive_int("d_min", d_min)
    if d_max < d_min:
        raise ValueError(f"d_max must be >= d_min; got d_min={d_min}, d_max={d_max}")
    rng = np.random.default_rng(np.asarray(jax.random.randint(key, (), 0, 2**31 - 1)).item())
    mu = np.linspace(-1.5, 1.5, K) + 0.1 * rng.standard_normal(K)
    roots = rng.uniform(-0.8, 0.8, (K, p))  # real poles |r| < 0.8: each AR(p) is stable
    a = np.stack([-np.poly(r)[1:] for r in roots])  # Π_j (1 − r_j z⁻¹) = 1 − Σ_j a_j z⁻ʲ
    return SwitchingAR(mu=jnp.asarray(mu, jnp.float32), a=jnp.asarray(a, jnp.float32), sigma=float(sigma),
                       d_min=int(d_min), d_max=int(d_max))


@functools.partial(jax.jit, static_argnames=("T", "sigma", "d_min", "d_max"))
def _switching_ar(key, mu, a, *, T, sigma, d_min, d_max):
    K, p = a.shape
    kd, kk, ke = jax.random.split(key, 3)
    n_seg = T // d_min + 2
    dwell = jax.random.randint(kd, (n_seg,), d_min, d_max + 1)
    jumps = jax.random.randint(kk, (n_seg,), 1, max(K, 2))  # next phase differs from the current one
    seg_phase = jnp.cumsum(jumps) % K
    seg_of_t = jnp.searchsorted(jnp.cumsum(dwell), jnp.arange(T), side="right")
    phase = seg_phase[seg_of_t].astype(jnp.int32)
    eps = jax.random.normal(ke, (T,), jnp.float32)

    def step(hist, inp):
        k, e = inp
        x = mu[k] + jnp.dot(a[k], hist - mu[k]) + sigma * e
        return jnp.concatenate([x[None], hist[:-1]]), x

    _, xs = jax.lax.scan(step, jnp.full((p,), mu[phase[0]], jnp.float32), (phase, eps))
    return xs.astype(jnp.float32), phase


def switching_ar(key: jax.Array, params: SwitchingAR, T: int) -> tuple[jax.Array, jax.Array]:
    """Sample x_{1:T} (float32, shape (T,)) and the phase labels k_{1:T} (int32, shape (T,))."""
    key = _validate.prng_key("key", key)
    _validate.positive_int("T", T)
    return _switching_ar(key, params.mu, params.a, T=T, sigma=params.sigma, d_min=params.d_min,
                         d_max=params.d_max)


class HMM(NamedTuple):
    """Unifilar HMM: emissions E (S, A) with E[s, x] = P(x | s); next state nxt (S, A) = δ(s, x)."""

    E: jax.Array
    nxt: jax.Array

    @property
    def transition(self) -> jax.Array:
        """State transition matrix P (S, S): P[s, s'] = Σ_x E[s, x] [δ(s, x) = s']."""
        S = self.E.shape[0]
        return jnp.einsum("sx,sxt->st", self.E, jax.nn.one_hot(self.nxt, S, dtype=self.E.dtype))


def unifilar_hmm(key: jax.Array, *, n_states: int = 4, n_symbols: int = 3, concentration: float = 0.7) -> HMM:
    """A random unifilar HMM: Dirichlet(concentration) emissions, random δ; regenerated until P is irreducible."""
    key = _validate.prng_key("key", key)
    S = _validate.positive_int("n_states", n_states)
    A = _validate.positive_int("n_symbols", n_symbols)
    _validate.positive("concentration", concentration)
    for i in range(100):
        E, nxt = _draw_hmm(jax.random.fold_in(key, i), S=S, A=A, concentration=float(concentration))
        hmm = HMM(E=E, nxt=nxt)
        reach = np.linalg.matrix_power(np.asarray(hmm.transition > 1e-9, float) + np.eye(S), S)
        if (reach > 0).all():
            return hmm
    raise ValueError("could not draw an irreducible unifilar HMM; try a larger concentration")  # pragma: no cover


def _draw_hmm(key, *, S, A, concentration):
    # host-side draw (NumPy seeded from the key): jax.random.dirichlet takes seconds to compile
    rng = np.random.default_rng(np.asarray(jax.random.randint(key, (), 0, 2**31 - 1)).item())
    E = rng.dirichlet(np.full(A, concentration), S)
    return jnp.asarray(E, jnp.float32), jnp.asarray(rng.integers(0, S, (S, A)), jnp.int32)


def _stationary(P: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    return pi / pi.sum()


def _check_hmm(hmm: HMM) -> HMM:
    """Raise ValueError unless ``hmm.E`` (S, A) is a table of distributions (rows >= 0 summing to 1) and
    ``hmm.nxt`` (S, A) holds next states in [0, S)."""
    _validate.ndim("hmm.E", hmm.E, 2)
    _validate.distribution("hmm.E", hmm.E)
    S, A = np.shape(hmm.E)
    _validate.shape("hmm.nxt", hmm.nxt, (S, A))
    _validate.index_range("hmm.nxt", hmm.nxt, S)
    return hmm


def hmm_entropy_rate(hmm: HMM) -> float:
    """Exact entropy rate H = Σ_s π_s H(E_s) in nats/symbol (exact because the HMM is unifilar)."""
    _check_hmm(hmm)
    E = np.asarray(hmm.E, np.float64)
    pi = _stationary(np.asarray(hmm.transition, np.float64))
    h = -np.sum(np.where(E > 0, E * np.log(np.where(E > 0, E, 1.0)), 0.0), axis=1)
    return float(pi @ h)


@functools.partial(jax.jit, static_argnames=("T",))
def _hmm_sample(key, E, nxt, s0, *, T):
    def step(s, k):
        x = jax.random.categorical(k, jnp.log(E[s])).astype(jnp.int32)
        return nxt[s, x].astype(jnp.int32), x

    _, xs = jax.lax.scan(step, jnp.asarray(s0, jnp.int32), jax.random.split(key, T))
    return xs.astype(jnp.int32)


def hmm_sample(key: jax.Array, hmm: HMM, T: int) -> jax.Array:
    """Sample T symbols (int32, shape (T,)) starting from a stationary state."""
    key = _validate.prng_key("key", key)
    _validate.positive_int("T", T)
    _check_hmm(hmm)
    k0, k1 = jax.random.split(key)
    pi = _stationary(np.asarray(hmm.transition, np.float64))
    s0 = jax.random.categorical(k0, jnp.log(jnp.asarray(np.clip(pi, 1e-30, None))))
    return _hmm_sample(k1, hmm.E, hmm.nxt, s0, T=T)


@jax.jit
def _forward(E, nxt, pi, xs):
    S = E.shape[0]
    M = jax.nn.one_hot(nxt, S, dtype=E.dtype)  # (S, A, S)

    def step(b, x):
        px = b @ E[:, x]
        b = (b * E[:, x]) @ M[:, x, :]
        return b / px, -jnp.log(px)

    _, nll = jax.lax.scan(step, pi, xs)
    return nll


def hmm_forward_nll(hmm: HMM, xs: Any) -> jax.Array:
    """Forward algorithm: −log P(x_t | x_{<t}) for every t (shape (T,)), starting from the stationary belief.

    Its mean converges to :func:`hmm_entropy_rate`; it is the loss of the Bayes-optimal predictor.
    """
    _check_hmm(hmm)
    _validate.ndim("xs", xs, 1)
    _validate.index_range("xs", xs, np.shape(hmm.E)[1])
    xs = jnp.asarray(xs, jnp.int32)
    pi = jnp.asarray(_stationary(np.asarray(hmm.transition, np.float64)), hmm.E.dtype)
    return _forward(hmm.E, hmm.nxt, pi, xs)


def load_traces(folder: str | Path) -> dict[str, np.ndarray]:
    """Load real traces: every ``*.npy`` file under ``folder`` holds one 1-D float array (one program)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory of .npy traces; got folder={folder}")
    out = {}
    for f in sorted(folder.glob("*.npy")):
        try:
            a = np.load(f, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise ValueError(f"trace {f} is not a readable .npy file (corrupt or truncated?): {e}") from None
        if a.ndim != 1:
            raise ValueError(f"trace {f.name} must be 1-D; got shape {a.shape}")
        if not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all():
            raise ValueError(f"trace {f} must hold finite numbers; got dtype {a.dtype}"
                             + (f" with {int((~np.isfinite(a)).sum())} NaN/inf" if np.issubdtype(a.dtype, np.number)
                                else ""))
        out[f.stem] = a.astype(np.float32)
    if not out:
        raise ValueError(f"folder {folder} holds no .npy traces (one 1-D array per program)")
    return out


def normalize(x: Any) -> np.ndarray:
    """Per-program normalisation (docs/tradeoff.md §4 step 1): zero mean, unit variance (float32)."""
    x = np.asarray(x, np.float64)
    sd = x.std()
    return ((x - x.mean()) / (sd if sd > 0 else 1.0)).astype(np.float32)


def split_programs(names: list[str], *, key: jax.Array, fractions=(0.7, 0.15, 0.15)) -> tuple[list, list, list]:
    """Split programs (not time) into train/validation/test with the given fractions (each gets >= 1)."""
    key = _validate.prng_key("key", key)
    n = len(names)
    if n < 3:
        raise ValueError(f"names must hold at least 3 programs to split by program; got {n}")
    perm = [names[i] for i in np.asarray(jax.random.permutation(key, n))]
    n_va = max(1, round(fractions[1] * n))
    n_te = max(1, round(fractions[2] * n))
    n_tr = n - n_va - n_te
    return perm[:n_tr], perm[n_tr:n_tr + n_va], perm[n_tr + n_va:]


def windows(x: Any, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Context windows x_{t−w+1:t} (shape (T−w, w)) and next-step targets x_{t+1} (shape (T−w,))."""
    x = np.asarray(x)
    w = _validate.positive_int("w", w)
    if x.shape[0] <= w:
        raise ValueError(f"x must be longer than the window w={w}; got length {x.shape[0]}")
    idx = np.arange(x.shape[0] - w)[:, None] + np.arange(w)[None, :]
    return x[idx], x[w:]
