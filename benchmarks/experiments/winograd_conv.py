"""Winograd F(m x m, 5 x 5) convolution vs ``lax.conv`` at the GAN's 28x28 shapes: a measured dead end (issue 20).

Run: ``.venv/bin/python benchmarks/experiments/winograd_conv.py [h] [m]`` (h = 64, m = 4 by default). Prints the
error against ``lax.conv``, the forward and forward + gradient times, and the time of each stage (input transform,
batched products, output transform). Results and conclusion: benchmarks/README.md ("What we tried that did not
help"). Not part of ``make bench``.

The 1-D algorithm, by Toom-Cook: a correlation y_i = sum_k d_{i+k} g_k (i < m, k < r) is the transpose of the
linear convolution of g with an m-vector, so with the a = m + r - 1 evaluation points (the last one infinity) and
their Vandermonde matrices V (a x a), G (a x r), A (a x m): y = A^T [(G g) * (V^-T d)]. In 2-D each 8 x 8 input tile
gives a 4 x 4 output tile: Y = A^T [sum_c (G g_c G^T) * (B^T d_c B)] A with B^T = V^-T.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

POINTS = {4: [0, 1, -1, Fraction(1, 2), Fraction(-1, 2), 2, -2], 2: [0, 1, -1, 2, -2]}
P = "highest"


def _vandermonde(points, n):
    rows = [[Fraction(p) ** k for k in range(n)] for p in points]
    return rows + [[Fraction(0)] * (n - 1) + [Fraction(1)]]  # the point at infinity


def _inverse(rows):
    """Exact inverse of a square matrix of Fractions (Gauss-Jordan)."""
    n = len(rows)
    aug = [list(r) + [Fraction(int(i == j)) for j in range(n)] for i, r in enumerate(rows)]
    for c in range(n):
        p = next(i for i in range(c, n) if aug[i][c] != 0)
        aug[c], aug[p] = aug[p], aug[c]
        aug[c] = [v / aug[c][c] for v in aug[c]]
        for i in range(n):
            if i != c and aug[i][c] != 0:
                f = aug[i][c]
                aug[i] = [vi - f * vc for vi, vc in zip(aug[i], aug[c])]
    return [r[n:] for r in aug]


def matrices(m, r=5):
    """float32 ``(A^T, G, B^T)`` of F(m, r): shapes (m, a), (a, r), (a, a)."""
    a = m + r - 1
    f = lambda x: jnp.asarray(np.array(x, dtype=np.float64), jnp.float32)  # noqa: E731
    vinv = np.array(_inverse(_vandermonde(POINTS[m], a)), dtype=object)
    return f(np.array(_vandermonde(POINTS[m], m), dtype=object).T), f(_vandermonde(POINTS[m], r)), f(vinv.T)


def tiles(x, m):
    """(B, H, W, C) -> (B, th, a, tw, a, C) overlapping a x a tiles at stride m of the SAME-padded input."""
    a = m + 4
    b, h, w, c = x.shape
    th, tw = -(-h // m), -(-w // m)
    xp = jnp.pad(x, ((0, 0), (2, 2 + th * m - h), (2, 2 + tw * m - w), (0, 0)))
    hb = xp.reshape(b, th + 1, m, tw * m + 4, c)
    rows = jnp.concatenate([hb[:, :-1], hb[:, 1:, : a - m]], axis=2)
    wb = rows.reshape(b, th, a, tw + 1, m, c)
    return jnp.concatenate([wb[:, :, :, :-1], wb[:, :, :, 1:, : a - m]], axis=4)


def in_transform(t, bt):
    return jnp.einsum("ai,bj,npiqjc->abnpqc", bt, bt, t, precision=P)


def products(v, u):
    return jnp.einsum("abnpqc,abco->abnpqo", v, u, precision=P)


def out_transform(mx, at):
    return jnp.einsum("ia,jb,abnpqo->npiqjo", at, at, mx, precision=P)


def wconv(x, w, m=4):
    """5x5 SAME stride-1 convolution (NHWC, HWIO) by Winograd F(m x m, 5 x 5)."""
    at, g, bt = matrices(m)
    b, h, wd, _ = x.shape
    u = jnp.einsum("ai,bj,ijco->abco", g, g, w, precision=P)
    y = out_transform(products(in_transform(tiles(x, m), bt), u), at)
    return y.reshape(b, y.shape[1] * m, y.shape[3] * m, -1)[:, :h, :wd]


def dconv(x, w):
    return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"), precision=P)


def bench(f, *args, n=15):
    """(median, best) milliseconds of ``n`` calls after two warm-ups."""
    jax.block_until_ready(f(*args))
    jax.block_until_ready(f(*args))
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(f(*args))
        ts.append(time.perf_counter() - t)
    return round(float(np.median(ts)) * 1e3, 2), round(min(ts) * 1e3, 2)


def main(h=64, m=4):
    k0, k1 = jax.random.split(jax.random.key(0))
    x = jax.random.normal(k0, (64, 28, 28, h))
    w = 0.02 * jax.random.normal(k1, (5, 5, h, h))
    fd, fw = jax.jit(dconv), jax.jit(lambda x, w: wconv(x, w, m))
    ref = np.asarray(fd(x, w))
    print("max abs error", float(np.abs(np.asarray(fw(x, w)) - ref).max()), "of outputs up to", float(abs(ref).max()))
    print("forward ms (median, best): lax.conv", bench(fd, x, w), "winograd", bench(fw, x, w))
    grad = lambda f: jax.jit(jax.grad(lambda x, w: jnp.sum(jnp.sin(f(x, w))), argnums=(0, 1)))  # noqa: E731
    gd, gw = grad(dconv), grad(lambda x, w: wconv(x, w, m))
    rel = [float(np.abs(p - q).max() / np.abs(p).max()) for p, q in zip(gd(x, w), gw(x, w))]
    print("gradient relative errors", rel)
    print("forward + gradients ms: lax.conv", bench(gd, x, w), "winograd", bench(gw, x, w))
    at, g, bt = matrices(m)
    t = tiles(x, m)
    v = in_transform(t, bt)
    u = jnp.einsum("ai,bj,ijco->abco", g, g, w, precision=P)
    print("stages ms: input transform", bench(jax.jit(in_transform), t, bt), "products",
          bench(jax.jit(products), v, u), "output transform", bench(jax.jit(out_transform), products(v, u), at))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
