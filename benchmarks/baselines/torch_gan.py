"""PyTorch version of the weight-shared GAN's outer step, written for ``benchmarks/bench_gan.py``.

Same architecture as ``wavejax.gan._models`` (NCHW inside; TF/Flax SAME padding reproduced with explicit F.pad;
the critic flattens in NHWC order so weights copied from Flax give the same outputs), the original +-1-label loss,
weight clipping before each critic update, TF1 RMSProp (ms_0 = 1, eps inside the sqrt) with ``torch._foreach``
ops, and the 2nd-conv kernel copied D -> G after the critic phase (G keeps it out of its optimiser). ``device``
(``"cpu"`` or ``"cuda"``) holds the modules, optimiser state, random generator and batches.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _same_pad(n: int, stride: int, k: int = 5) -> tuple[int, int]:
    out = math.ceil(n / stride)
    total = max((out - 1) * stride + k - n, 0)
    return total // 2, total - total // 2


class TorchGenerator(nn.Module):
    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.size = size
        self.lin = nn.Linear(100, size * size)
        self.lin_bn = nn.BatchNorm1d(size * size, eps=1e-5, momentum=0.1)
        chans = [(1, hidden), (hidden, hidden), (hidden, hidden), (hidden, hidden), (hidden, hidden)]
        self.convs = nn.ModuleList([nn.Conv2d(i, o, 5, padding=2) for i, o in chans])  # names g0 gshared g2 gt3 gt1
        self.bns = nn.ModuleList([nn.BatchNorm2d(o, eps=1e-5, momentum=0.1) for _, o in chans])
        self.out = nn.Conv2d(hidden, 1, 5, padding=2)

    def forward(self, z):
        x = F.leaky_relu(self.lin_bn(self.lin(z)), 0.2).reshape(z.shape[0], 1, self.size, self.size)
        for conv, bn in zip(self.convs, self.bns, strict=True):
            x = F.leaky_relu(bn(conv(x)), 0.2)
        return torch.sigmoid(self.out(x))


class TorchCritic(nn.Module):
    def __init__(self, hidden: int, size: int):
        super().__init__()
        chans = [(1, hidden), (hidden, hidden), (hidden, hidden // 2), (hidden // 2, hidden // 4)]
        self.convs = nn.ModuleList([nn.Conv2d(i, o, 5, stride=2) for i, o in chans])  # d0 dshared d2 d3
        self.bns = nn.ModuleList([nn.BatchNorm2d(o, eps=1e-5, momentum=0.1) for _, o in chans])
        sizes = [size]
        for _ in range(4):
            sizes.append(math.ceil(sizes[-1] / 2))
        self.pads = [_same_pad(s, 2) for s in sizes[:4]]
        self.lin = nn.Linear(sizes[4] * sizes[4] * (hidden // 4), 1)

    def forward(self, x):
        for conv, bn, (a, b) in zip(self.convs, self.bns, self.pads, strict=True):
            x = F.leaky_relu(bn(conv(F.pad(x, (a, b, a, b)))), 0.2)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC flatten order, as Flax
        return torch.tanh(self.lin(x))


def load_flax(g: TorchGenerator, d: TorchCritic, g_params: dict, d_params: dict) -> None:
    """Copy Flax params (HWIO kernels, (in, out) dense) into the torch modules."""
    def conv(m, p):
        m.weight.copy_(torch.from_numpy(np.asarray(p["kernel"]).transpose(3, 2, 0, 1).copy()))
        m.bias.copy_(torch.from_numpy(np.asarray(p["bias"])))

    def dense(m, p):
        m.weight.copy_(torch.from_numpy(np.asarray(p["kernel"]).T.copy()))
        m.bias.copy_(torch.from_numpy(np.asarray(p["bias"])))

    def bn(m, p):
        m.weight.copy_(torch.from_numpy(np.asarray(p["scale"])))
        m.bias.copy_(torch.from_numpy(np.asarray(p["bias"])))

    with torch.no_grad():
        dense(g.lin, g_params["g_lin"])
        bn(g.lin_bn, g_params["g_lin_bn"])
        for i, n in enumerate(("g0", "gshared", "g2", "gt3", "gt1")):
            conv(g.convs[i], g_params[n])
            bn(g.bns[i], g_params[n + "_bn"])
        conv(g.out, g_params["g3"])
        for i, n in enumerate(("d0", "dshared", "d2", "d3")):
            conv(d.convs[i], d_params[n])
            bn(d.bns[i], d_params[n + "_bn"])
        dense(d.lin, d_params["d_lin"])


def xent_pm1(x, y: float):
    return torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x.abs()))


class TF1RMSProp:
    """TF1 RMSProp: ms_0 = 1; ms <- 0.9 ms + 0.1 g^2; p <- p - lr g / sqrt(ms + 1e-10)."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        self.lr = lr
        self.ms = [torch.ones_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads):
        torch._foreach_mul_(self.ms, 0.9)
        torch._foreach_addcmul_(self.ms, grads, grads, value=0.1)
        den = torch._foreach_sqrt(torch._foreach_add(self.ms, 1e-10))
        torch._foreach_addcdiv_(self.params, grads, den, value=-self.lr)


class TorchSharedGAN:
    """Generator, critic, both optimisers and the outer step (5 critic updates, copy, 1 generator update)."""

    def __init__(self, hidden: int, size: int, batch: int, *, lr: float = 5e-5, clip: float = 0.01,
                 n_critic: int = 5, sharing: bool = True, device: str = "cpu"):
        self.device = device
        self.G, self.D = TorchGenerator(hidden, size).to(device), TorchCritic(hidden, size).to(device)
        self.batch, self.clip, self.n_critic, self.sharing = batch, clip, n_critic, sharing
        self.d_params = list(self.D.parameters())
        shared = self.G.convs[1].weight
        self.g_params = [p for p in self.G.parameters() if not (sharing and p is shared)]
        self.opt_d, self.opt_g = TF1RMSProp(self.d_params, lr), TF1RMSProp(self.g_params, lr)
        self.gen = torch.Generator(device=device).manual_seed(0)

    def outer_step(self, data: torch.Tensor) -> tuple[float, float]:
        for _ in range(self.n_critic):
            with torch.no_grad():
                torch._foreach_clamp_min_(self.d_params, -self.clip)
                torch._foreach_clamp_max_(self.d_params, self.clip)
                idx = torch.randint(0, data.shape[0], (self.batch,), generator=self.gen, device=self.device)
                z = torch.rand(self.batch, 100, generator=self.gen, device=self.device) * 2 - 1
                fake = self.G(z)
            real = data[idx]
            d_loss = xent_pm1(self.D(real), 1.0).mean() + xent_pm1(self.D(fake), -1.0).mean()
            grads = torch.autograd.grad(d_loss, self.d_params)
            self.opt_d.step(grads)
        if self.sharing:
            with torch.no_grad():
                self.G.convs[1].weight.copy_(self.D.convs[1].weight)
        z = torch.rand(self.batch, 100, generator=self.gen, device=self.device) * 2 - 1
        g_loss = xent_pm1(self.D(self.G(z)), 1.0).mean()
        grads = torch.autograd.grad(g_loss, self.g_params)
        self.opt_g.step(grads)
        return d_loss.item(), g_loss.item()
