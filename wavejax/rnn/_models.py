"""Sequence models for the training engine (docs/emt.md §4, §8; docs/wave.md §3.2, §4).

Every model is a Flax module mapping inputs ``x`` of shape ``(B, T, d_in)`` to outputs ``(B, T, d_out)``; time
is a ``lax.scan`` (time-major inside), h(0) = 0. Weights use the mathematical orientation ``h' = W_hh h`` so that
analysis code reads ``params["W_hh"]`` directly:

* :class:`Elman`: h(t) = tanh(W_hh h(t-1) + W_uh u(t)), y(t) = W_hy h(t); no biases; every weight drawn from
  the symmetric PyTorch default U(-1/sqrt(H), 1/sqrt(H)) (``nn.initializers.uniform`` is one-sided, hence
  :func:`sym_uniform`). Its time loop is :func:`elman_recurrence` (custom reverse pass: the weight gradient is
  one product after the loop).
* :class:`LinearRNN`: the same without tanh (the linear circuit RNN of docs/emt.md §2.3).
* :class:`LSTM`: a bias-free LSTM (the form emt-tools linearizes), gates i, f, g, o, readout W_hy.
* :class:`WaveRNN`: the wave-RNN cell of Keller et al. (docs/wave.md §4): h' = ReLU(u * h + V x + b), ``*`` a
  circular 1-D convolution over n units per channel with a c x c x 3 kernel initialised as a shifted Dirac (an
  exact circular shift per channel), V initialised "solo" (input j -> one unit of channel j mod c; here the
  last unit, the wave then travels toward unit 0: the spec's orientation mirrored).

``model.apply({"params": p}, x, return_hidden=True)`` also returns the hidden states, shape ``(B, T, H)``.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from wavejax import _validate

__all__ = ["sym_uniform", "elman_recurrence", "Elman", "LinearRNN", "LSTM", "WaveRNN"]


def sym_uniform(scale: float):
    """Initializer U(-scale, scale) (PyTorch's RNN / Linear default with scale = 1/sqrt(fan)); ``scale`` > 0."""
    _validate.positive("scale", scale)

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -scale, scale)

    return init


def _scan_time(cell, h0, xin):
    """Run ``h = cell(h, x_t)`` over axis 1 of ``xin`` (B, T, ...); returns hidden states (B, T, ...)."""

    def body(h, x_t):
        h = cell(h, x_t)
        return h, h

    _, hs = jax.lax.scan(body, h0, jnp.swapaxes(xin, 0, 1))
    return jnp.swapaxes(hs, 0, 1)


def _act(linear):
    return (lambda a: a) if linear else jnp.tanh


def _recur_scan(W_hh, z_tm, linear, unroll):
    """Plain time-major scan (T, B, H) -> (T, B, H); differentiable in both modes (``fused_grad=False``)."""
    act, W_t = _act(linear), jnp.transpose(W_hh)

    def body(h, z_t):
        h = act(h @ W_t + z_t)
        return h, h

    return jax.lax.scan(body, jnp.zeros(z_tm.shape[1:], z_tm.dtype), z_tm, unroll=unroll)[1]


def _recur_fwd(W_hh, z, linear, unroll):
    """Batch-major loop: z (B, T, H) -> hs (B, T, H), step t reads z[:, t] and writes hs[:, t] in place.

    No (T, B, H) copies: the input and output products stay in their natural (B, T, .) layout, also under
    ``vmap`` (a time-major scan of a vmapped member axis costs two large transposes per step of training).
    """
    act, W_t = _act(linear), jnp.transpose(W_hh)  # W_hh^T once, outside the loop
    B, T, H = z.shape

    def body(t, carry):
        h, hs = carry
        h = act(h @ W_t + jax.lax.dynamic_index_in_dim(z, t, 1, keepdims=False))
        return h, jax.lax.dynamic_update_index_in_dim(hs, h, t, 1)

    return jax.lax.fori_loop(0, T, body, (jnp.zeros((B, H), z.dtype), jnp.zeros_like(z)), unroll=unroll)[1]


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def elman_recurrence(W_hh: Float[Array, "H H"], z: Float[Array, "B T H"], linear: bool = False,
                     unroll: int = 1) -> Float[Array, "B T H"]:
    """Hidden states h(t) = act(W_hh h(t-1) + z(t)), h(-1) = 0, batch-major, with a fused reverse pass.

    Forward: a loop over t of one (B, H) x (H, H) product each. Reverse (custom VJP): with the cotangents
    dh(t) of the outputs, a reverse loop computes only

        da(t) = (dh(t) + W_hh^T da(t+1)) * act'(t),    act'(t) = 1 - h(t)^2 (tanh) or 1 (linear)

    (one (B, H) x (H, H) product per step), then dW_hh = sum_t da(t)^T h(t-1) is ONE (H, T B) x (T B, H)
    product after the loop and dz = da. Autodiff of the scan instead accumulates dW_hh inside the loop (a second
    small product and an H x H add per step); this form does a third less sequential work and runs the weight
    gradient at large-matmul speed. Same maths, float32 rounding differs (~1e-7 relative). Reverse mode only:
    ``jax.jvp`` / ``jax.jacfwd`` need ``Elman(..., fused_grad=False)``.

    Args:
      W_hh: recurrent matrix (H, H).
      z: input drive W_uh u(t), batch-major (B, T, H).
      linear: identity activation instead of tanh.
      unroll: unroll factor of both time loops.

    Returns:
      h(t) for t = 0..T-1, shape (B, T, H).
    """
    return _recur_fwd(W_hh, z, linear, unroll)


def _recur_vjp_fwd(W_hh, z, linear, unroll):
    hs = _recur_fwd(W_hh, z, linear, unroll)
    return hs, (W_hh, hs)


def _recur_vjp_bwd(linear, unroll, res, dhs):
    W_hh, hs = res
    B, T, H = hs.shape

    def body(i, carry):  # c = W_hh^T da(t+1), as a row-vector product da(t+1) @ W_hh
        t = T - 1 - i
        c, da_all = carry
        dh = jax.lax.dynamic_index_in_dim(dhs, t, 1, keepdims=False) + c
        h = jax.lax.dynamic_index_in_dim(hs, t, 1, keepdims=False)
        da = dh if linear else dh * (1.0 - h * h)
        return da @ W_hh, jax.lax.dynamic_update_index_in_dim(da_all, da, t, 1)

    da = jax.lax.fori_loop(0, T, body, (jnp.zeros((B, H), hs.dtype), jnp.zeros_like(hs)), unroll=unroll)[1]
    dW = jnp.einsum("bti,btj->ij", da[:, 1:], hs[:, :-1])  # h(-1) = 0: the t = 0 term vanishes
    # cotangents carry their primals' dtypes (float32 weights driven by float64 inputs under 64-bit mode)
    return dW.astype(W_hh.dtype), da


elman_recurrence.defvjp(_recur_vjp_fwd, _recur_vjp_bwd)


class Elman(nn.Module):
    """Bias-free Elman RNN (docs/emt.md §2.2): h(t) = act(W_hh h(t-1) + W_uh u(t)), y(t) = W_hy h(t), h(0) = 0.

    Parameters: ``W_uh`` (H, d_in), ``W_hh`` (H, H), ``W_hy`` (d_out, H), all U(-1/sqrt(H), 1/sqrt(H)).
    At H = 128, d = 8: 8*128 + 128*128 + 128*8 = 18,432 parameters (docs/emt.md §4). The input drive W_uh u(t) of
    all steps is one product before the time loop; the loop is :func:`elman_recurrence` (fused reverse pass)
    unless ``fused_grad=False`` (plain autodiff of the scan, needed for forward-mode ``jax.jacfwd``).

    Examples:
      >>> m = Elman(hidden=16, d_out=3)
      >>> p = m.init(jax.random.key(0), jnp.zeros((2, 5, 4), jnp.float32))["params"]
      >>> m.apply({"params": p}, jnp.ones((2, 5, 4), jnp.float32)).shape
      (2, 5, 3)
    """

    hidden: int  # H, number of hidden units
    d_out: int  # readout dimension
    linear: bool = False  # True: identity activation (linear RNN)
    fused_grad: bool = True  # custom VJP of the time loop (reverse mode only); False: autodiff of the scan
    unroll: int = 1  # lax.scan unroll factor of the time loop

    def __post_init__(self):
        _validate.positive_int_fields(self, "hidden", "d_out")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Float[Array, "B T d_in"], return_hidden: bool = False):
        H = self.hidden
        init = sym_uniform(1.0 / H**0.5)
        W_uh = self.param("W_uh", init, (H, x.shape[-1]))
        W_hh = self.param("W_hh", init, (H, H))
        W_hy = self.param("W_hy", init, (self.d_out, H))
        if self.fused_grad:
            hs = elman_recurrence(W_hh, jnp.einsum("btd,hd->bth", x, W_uh), self.linear, self.unroll)
        else:  # time-major scan; transpose the small (B, T, d) input, not the (T, B, H) states
            z = jnp.einsum("tbd,hd->tbh", jnp.swapaxes(x, 0, 1), W_uh)
            hs = jnp.swapaxes(_recur_scan(W_hh, z, self.linear, self.unroll), 0, 1)
        y = jnp.einsum("bth,oh->bto", hs, W_hy)
        return (y, hs) if return_hidden else y


class LinearRNN(Elman):
    """:class:`Elman` without the nonlinearity: h(t) = W_hh h(t-1) + W_uh u(t) (docs/emt.md §2.3 circuit RNN)."""

    linear: bool = True


class LSTM(nn.Module):
    """Bias-free LSTM, PyTorch gate order (i, f, g, o) and init U(-1/sqrt(H), 1/sqrt(H)); readout W_hy.

    Parameters ``W_ih`` (4H, d_in), ``W_hh`` (4H, H), ``W_hy`` (d_out, H). Hidden states returned are h(t).
    """

    hidden: int  # H
    d_out: int  # readout dimension

    def __post_init__(self):
        _validate.positive_int_fields(self, "hidden", "d_out")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Float[Array, "B T d_in"], return_hidden: bool = False):
        H = self.hidden
        init = sym_uniform(1.0 / H**0.5)
        W_ih = self.param("W_ih", init, (4 * H, x.shape[-1]))
        W_hh = self.param("W_hh", init, (4 * H, H))
        W_hy = self.param("W_hy", init, (self.d_out, H))
        xin = x @ W_ih.T

        def cell(hc, z):
            h, c = hc[..., :H], hc[..., H:]
            gates = z + h @ W_hh.T
            i, f, g, o = (gates[..., k * H:(k + 1) * H] for k in range(4))
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return jnp.concatenate([h, c], axis=-1)

        hcs = _scan_time(cell, jnp.zeros((x.shape[0], 2 * H), xin.dtype), xin)
        hs = hcs[..., :H]
        y = hs @ W_hy.T
        return (y, hs) if return_hidden else y


def _shift_dirac(c: int):
    def init(key, shape, dtype=jnp.float32):
        del key
        # u[c_out, c_in, k] multiplies h[c_in, i + k - 1]; k = 2 reads unit i+1: the wave moves toward unit 0
        return jnp.zeros(shape, dtype).at[jnp.arange(c), jnp.arange(c), 2].set(1.0)

    return init


class WaveRNN(nn.Module):
    """Wave-RNN cell (Keller et al. 2024; docs/wave.md §4): h'[c, i] = ReLU(sum_{c', k} u[c, c', k] h[c', i+k-1]
    + V x).

    The hidden state has c channels x n units (H = c*n, flattened channel-major); the convolution is
    circular in
    i. With the "fwd" init u[c, c, 2] = 1 each channel is an exact circular shift (unit i+1 -> unit i) and V's
    "solo" init writes input j into the last unit of channel j mod c, so an input travels toward unit 0.
    Parameters ``u`` (c, c, 3), ``V`` (H, d_in), ``b`` (H,), ``W_hy`` (d_out, H).
    """

    channels: int  # c
    units: int  # n, units per channel (the substrate length)
    d_out: int  # readout dimension

    def __post_init__(self):
        _validate.positive_int_fields(self, "channels", "units", "d_out")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Float[Array, "B T d_in"], return_hidden: bool = False):
        c, n = self.channels, self.units
        H, d_in = c * n, x.shape[-1]
        u = self.param("u", _shift_dirac(c), (c, c, 3))
        solo = jnp.zeros((c, n, d_in), jnp.float32).at[jnp.arange(d_in) % c, n - 1, jnp.arange(d_in)].set(1.0)
        V = self.param("V", lambda key, shape: solo.reshape(shape), (H, d_in))
        b = self.param("b", nn.initializers.zeros, (H,))
        W_hy = self.param("W_hy", sym_uniform(1.0 / H**0.5), (self.d_out, H))
        xin = x @ V.T + b[None, None, :]

        def cell(h, z):
            hc = h.reshape(h.shape[0], c, n)
            # [..., i, k] = h[i+k-1]
            taps = jnp.stack([jnp.roll(hc, 1 - k, axis=-1) for k in range(3)], axis=-1)
            conv = jnp.einsum("xyk,byik->bxi", u, taps).reshape(h.shape)
            return jax.nn.relu(conv + z)

        hs = _scan_time(cell, jnp.zeros((x.shape[0], H), xin.dtype), xin)
        y = hs @ W_hy.T
        return (y, hs) if return_hidden else y
