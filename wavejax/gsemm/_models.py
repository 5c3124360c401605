"""GSEMM vector fields and energies as pure functions (docs/gsemm.md §2.2–2.6).

Symbols (docs/gsemm.md §2.1): feature state v (N,), hidden state h (K,), delay state v_d (N,), memories Xi (N, K)
(column mu is xi^mu), transitions Phi (K, K) with Phi[mu, nu] = strength of mu -> nu. Indices are 0-based:
the spec's memory 1 is column 0.

General GSEMM with convex Lagrangians L_f, L_h and activations sigma_f = grad L_f, sigma_h = grad L_h:

    h          = sqrt(a_s) Xi^T sigma_f(v) + c a_c Phi^T Xi^T sigma_d(v_d)     (T_h -> 0: h algebraic)
    T_f dv/dt  = sqrt(a_s) Xi sigma_h(h) - v + I(t)
    T_d dv_d/dt = b_d sigma_f(v) - v_d
    E(v; v_d)  = [v.sigma_f(v) - L_f(v)] + [h.sigma_h(h) - L_h(h)] - sqrt(a_s) sigma_f(v)^T Xi sigma_h(h)
                 - c a_c sigma_d(v_d)^T Xi Phi sigma_h(h)

sigma_d is the identity in LISEM, DSEM and polynomial DSEM; ``EXPSM`` (the EDEN_cpp ``ExpSM`` class that hosts
the authors' online learning rule) is DSEM with sigma_d = tanh in the delayed drive of h and, as
``ExpSM::update``, a_s unsplit: h = a_s Xi^T v + ..., T_f dv/dt = Xi sigma_h(h) - v + I (equal to DSEM's split
only at a_s = 1; its energy scales the hidden part by 1 / a_s so that the fast flow still descends it).

Diffrax form: every :class:`Model` is itself the vector field ``f(t, y, args)`` with ``y = (v, v_d)`` and
``args = (Params, current)``, so ``diffrax.ODETerm(DSEM)`` is the GSEMM ODE; ``current`` is None, an (N,) input
I or a piecewise-constant ``(edges (P+1,), patterns (P, N))`` (see :func:`piecewise_current`).

c = 1 except for LISEM, which keeps the authors' parameterisation (§2.4: its a_c equals sqrt(a_s) times the
a_c of §2.2), so c = 1/sqrt(a_s) there. The three models are instances built from pluggable
:class:`Lagrangian` objects: LISEM (tanh features, linear hidden), DSEM (linear features, softmax hidden) and
polynomial DSEM (linear features, normalised rectified-power hidden; §2.6, form UNCONFIRMED).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from wavejax.precision import require_dtype

__all__ = ["Lagrangian", "Model", "Params", "MODELS", "make_params", "hidden_input",
           "vector_field", "vector_field_h", "energy_params", "overlap_fn", "LISEM", "DSEM",
           "DSEM_POLY", "EXPSM"]

_EPS = 1e-30  # keeps the power-Lagrangian norm differentiable at h_+ = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lagrangian:
    """A convex neuron Lagrangian L(x) and its activation sigma = grad L (hashable: a static jit argument).

    kinds: ``identity`` L = |x|^2/2; ``tanh`` L = (1/g) sum log cosh(g x); ``softmax`` L = (1/g) logsumexp(g x);
    ``power`` L = ||x_+||_n (the l_n norm of the rectified input, degree n; sigma = x_+^{n-1}/||x_+||_n^{n-1},
    a normalised rectified power: the dense-memory separation (h_nu/h_mu)^{n-1} with bounded output).
    """

    kind: str  # identity | tanh | softmax | power
    degree: int = 4  # n of the power Lagrangian (ignored by the other kinds)

    def L(self, x: Float[Array, " n"], gamma: Float[Array, ""]) -> Float[Array, ""]:
        """The Lagrangian L(x) (a scalar)."""
        if self.kind == "identity":
            return 0.5 * jnp.sum(x * x)
        if self.kind == "tanh":
            gx = gamma * x
            return jnp.sum(jnp.logaddexp(gx, -gx) - jnp.log(2.0)) / gamma
        if self.kind == "softmax":
            return jax.nn.logsumexp(gamma * x) / gamma
        if self.kind == "power":
            xp = jnp.maximum(x, 0.0)
            return (jnp.sum(xp**self.degree) + _EPS) ** (1.0 / self.degree)
        raise ValueError(f"unknown Lagrangian kind={self.kind!r}")

    def sigma(self, x: Float[Array, " n"], gamma: Float[Array, ""]) -> Float[Array, " n"]:
        """The activation sigma(x) = grad L(x), same shape as x."""
        if self.kind == "identity":
            return x
        if self.kind == "tanh":
            return jnp.tanh(gamma * x)
        if self.kind == "softmax":
            return jax.nn.softmax(gamma * x)
        if self.kind == "power":
            xp = jnp.maximum(x, 0.0)
            s = jnp.sum(xp**self.degree) + _EPS
            return xp ** (self.degree - 1) * s ** (1.0 / self.degree - 1.0)
        raise ValueError(f"unknown Lagrangian kind={self.kind!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Model:
    """A GSEMM instance: feature and hidden Lagrangians plus the a_c convention (see module docstring)."""

    name: str  # lisem | dsem | dsem_poly | expsm
    feature: Lagrangian  # L_f, sigma_f
    hidden: Lagrangian  # L_h, sigma_h
    cross_over_sqrt_alpha_s: bool = False  # LISEM: h's cross term is (a_c/sqrt(a_s)) Phi^T Xi^T v_d
    delay: Lagrangian = Lagrangian(kind="identity")  # sigma_d applied to v_d in h's cross term (ExpSM: tanh)
    unsplit_alpha_s: bool = False  # ExpSM (C++ update): h gets a_s Xi^T sigma_f(v) and the drive Xi sigma_h(h)

    def __call__(self, t, y, args):
        """The vector field in Diffrax form: ``(dv/dt, dv_d/dt) = f(t, (v, v_d), (Params, current))``.

        ``current`` is None, an (N,) array, or ``(edges, patterns)`` evaluated at ``t`` by
        :func:`piecewise_current`. Equations: :func:`vector_field`.
        """
        p, current = args
        return vector_field(self, p, y[0], y[1], piecewise_current(current, t))


LISEM = Model(name="lisem", feature=Lagrangian(kind="tanh"), hidden=Lagrangian(kind="identity"),
              cross_over_sqrt_alpha_s=True)
DSEM = Model(name="dsem", feature=Lagrangian(kind="identity"), hidden=Lagrangian(kind="softmax"))
DSEM_POLY = Model(name="dsem_poly", feature=Lagrangian(kind="identity"), hidden=Lagrangian(kind="power", degree=4))
EXPSM = Model(name="expsm", feature=Lagrangian(kind="identity"), hidden=Lagrangian(kind="softmax"),
              delay=Lagrangian(kind="tanh"), unsplit_alpha_s=True)
MODELS = {"lisem": LISEM, "dsem": DSEM, "dsem_poly": DSEM_POLY, "expsm": EXPSM}


def get_model(model: str | Model) -> Model:
    """Return the :class:`Model` for a name in ``MODELS`` (or the model itself)."""
    if isinstance(model, Model):
        return model
    if model not in MODELS:
        raise ValueError(f"unknown model={model!r}; expected one of {tuple(MODELS)}")
    return MODELS[model]


class Params(NamedTuple):
    """Network arrays and scalars (every leaf is an array, so a batch of them is a leading vmap axis).

    xi: memories Xi, shape (N, K). phi: transitions Phi, shape (K, K). Scalars (shape ()): alpha_s, alpha_c,
    beta_d, t_f, t_d, t_h (0: algebraic hidden layer), gamma.
    """

    xi: Float[Array, "N K"]
    phi: Float[Array, "K K"]
    alpha_s: Float[Array, ""]
    alpha_c: Float[Array, ""]
    beta_d: Float[Array, ""]
    t_f: Float[Array, ""]
    t_d: Float[Array, ""]
    t_h: Float[Array, ""]
    gamma: Float[Array, ""]


def make_params(xi, phi, *, alpha_s, alpha_c, beta_d=1.0, t_f=1.0, t_d=20.0, t_h=0.0, gamma=1.0,
                dtype=jnp.float64) -> Params:
    """Pack arrays and scalars into :class:`Params` of one ``dtype`` (float64 needs 64-bit mode:
    ``wavejax.precision.enable_x64()``)."""
    dtype = require_dtype(dtype)
    c = lambda x: jnp.asarray(x, dtype=dtype)  # noqa: E731
    return Params(c(xi), c(phi), c(alpha_s), c(alpha_c), c(beta_d), c(t_f), c(t_d), c(t_h), c(gamma))


def _cross(model: Model, p: Params) -> Float[Array, ""]:
    return p.alpha_c / jnp.sqrt(p.alpha_s) if model.cross_over_sqrt_alpha_s else p.alpha_c


def _sym_h(model: Model, p: Params) -> Float[Array, ""]:
    """a_s's factor on h's symmetric term: sqrt(a_s) (§2.2), a_s for ExpSM (EDEN_cpp ``ExpSM::update``)."""
    return p.alpha_s if model.unsplit_alpha_s else jnp.sqrt(p.alpha_s)


def _sym_drive(model: Model, p: Params) -> Float[Array, ""]:
    """a_s's factor on the drive Xi sigma_h(h): sqrt(a_s) (§2.2), 1 for ExpSM (EDEN_cpp ``ExpSM::update``)."""
    return jnp.ones_like(p.alpha_s) if model.unsplit_alpha_s else jnp.sqrt(p.alpha_s)


def _delayed(model: Model, p: Params, v_d):
    return v_d if model.delay.kind == "identity" else model.delay.sigma(v_d, jnp.ones((), v_d.dtype))


def hidden_input(model: Model, p: Params, v: Float[Array, " N"], v_d: Float[Array, " N"]) -> Float[Array, " K"]:
    """Algebraic hidden state h = sqrt(a_s) Xi^T sigma_f(v) + c a_c Phi^T Xi^T sigma_d(v_d) (§2.2, T_h -> 0), (K,)."""
    sf = model.feature.sigma(v, p.gamma)
    return _sym_h(model, p) * (p.xi.T @ sf) + _cross(model, p) * (p.phi.T @ (p.xi.T @ _delayed(model, p, v_d)))


def piecewise_current(current, t):
    """I(t): None -> None; an (N,) array -> itself; ``(edges (P+1,), patterns (P, N))`` -> patterns[i] on
    [edges[i], edges[i+1]), 0 outside."""
    if current is None or not isinstance(current, tuple):
        return current
    edges, pats = current
    idx = jnp.searchsorted(edges, t, side="right") - 1
    inside = (idx >= 0) & (idx < pats.shape[0])
    return jnp.where(inside, pats[jnp.clip(idx, 0, pats.shape[0] - 1)], 0.0)


def overlap_fn(model: Model):
    """The ONE overlap save function, in Diffrax's ``fn(t, y, args)`` form: (1/N) Xi^T sigma_f(v), shape (K,).

    ``y = (v, v_d)`` (or any tuple whose first leaf is v), ``args = (Params, current)``.
    """

    def fn(t, y, args):
        p = args[0]
        return model.feature.sigma(y[0], p.gamma) @ p.xi / p.xi.shape[0]

    return fn


def vector_field(model: Model, p: Params, v: Float[Array, " N"], v_d: Float[Array, " N"],
                 current: Float[Array, " N"] | None = None) -> tuple[Float[Array, " N"], Float[Array, " N"]]:
    """(dv/dt, dv_d/dt) of §2.2 with h algebraic; ``current`` is the input I(t), shape (N,) or None."""
    h = hidden_input(model, p, v, v_d)
    drive = _sym_drive(model, p) * (p.xi @ model.hidden.sigma(h, p.gamma)) - v
    if current is not None:
        drive = drive + current
    dv_d = (p.beta_d * model.feature.sigma(v, p.gamma) - v_d) / p.t_d
    return drive / p.t_f, dv_d


def vector_field_h(model: Model, p: Params, v, h, v_d, current=None):
    """(dv/dt, dh/dt, dv_d/dt) with explicit hidden dynamics T_h dh/dt = h_alg(v, v_d) - h (§2.2, T_h > 0).

    Stiff when T_h << T_f: integrate with an implicit solver (Kvaerno5). Shapes (N,), (K,), (N,).
    """
    drive = _sym_drive(model, p) * (p.xi @ model.hidden.sigma(h, p.gamma)) - v
    if current is not None:
        drive = drive + current
    dh = (hidden_input(model, p, v, v_d) - h) / p.t_h
    dv_d = (p.beta_d * model.feature.sigma(v, p.gamma) - v_d) / p.t_d
    return drive / p.t_f, dh, dv_d


def energy_params(model: Model, p: Params, v: Float[Array, " N"], v_d: Float[Array, " N"]) -> Float[Array, ""]:
    """E(v; v_d) of §2.3 with h at its algebraic value (a scalar).

    E = [v.sigma_f - L_f] + [h.sigma_h - L_h] - sqrt(a_s) sigma_f^T Xi sigma_h - c a_c v_d^T Xi Phi sigma_h.
    DSEM: E = |v|^2/2 - (1/g) logsumexp(g h). LISEM keeps the v-independent term -(c a_c)^2 |Phi^T Xi^T v_d|^2/2
    that the authors' code comments out (it does not change dE/dv).
    With v_d frozen, dE/dv = -T_f sigma_f'(v) * dv/dt, so the fast flow descends E (the GAMM limit a_c = 0 is
    a Lyapunov system). ExpSM (h's symmetric factor a = a_s, the drive's b = 1): the hidden part is scaled by b / a,
    which keeps that identity.
    """
    sf = model.feature.sigma(v, p.gamma)
    h = hidden_input(model, p, v, v_d)
    sh = model.hidden.sigma(h, p.gamma)
    e_f = jnp.dot(v, sf) - model.feature.L(v, p.gamma)
    e_h = jnp.dot(h, sh) - model.hidden.L(h, p.gamma)
    a, b = _sym_h(model, p), _sym_drive(model, p)
    inter = a * jnp.dot(sf, p.xi @ sh) + _cross(model, p) * jnp.dot(p.xi.T @ _delayed(model, p, v_d), p.phi @ sh)
    return e_f + (b / a) * (e_h - inter)  # b / a = 1 but for ExpSM's unsplit a_s (1 / a_s)
