"""PyTorch baseline of the EMT training recipe (emt.md §4), written the way the original code trains.

Model: ``nn.RNN(d, H, nonlinearity="tanh", bias=False, batch_first=True)`` + ``nn.Linear(H, d, bias=False)``,
h(0) = 0. Loop per step: fresh batch of the binary repeat-copy task (s = 8 steps of i.i.d. +-1 inputs, then
``horizon`` zero inputs; targets y(t) = u(t - 8k) in the output phase, 0 before), MSE over the output phase,
``backward``, ``clip_grad_norm_(params, clip)`` (Lightning's ``gradient_clip_val``), ``Adam(lr, weight_decay=l2)``
(coupled L2). Weights can be copied from / to the wavejax Elman layout (``W_uh``, ``W_hh``, ``W_hy``: the
mathematical orientation equals torch's ``weight_ih_l0``, ``weight_hh_l0``, ``weight``). ``TorchTrainer(device=...)``
draws its batches on the model's device (``"cpu"`` or ``"cuda"``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchElman(nn.Module):
    """Bias-free tanh Elman RNN with a bias-free linear readout (PyTorch default init)."""

    def __init__(self, d_in: int, hidden: int, d_out: int):
        super().__init__()
        self.rnn = nn.RNN(d_in, hidden, nonlinearity="tanh", bias=False, batch_first=True)
        self.readout = nn.Linear(hidden, d_out, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x (B, T, d_in) -> (B, T, d_out)
        hs, _ = self.rnn(x)
        return self.readout(hs)

    def load_wavejax(self, params: dict) -> TorchElman:
        """Copy wavejax Elman params (NumPy / JAX arrays) into this module."""
        with torch.no_grad():
            self.rnn.weight_ih_l0.copy_(torch.from_numpy(np.asarray(params["W_uh"], np.float32)))
            self.rnn.weight_hh_l0.copy_(torch.from_numpy(np.asarray(params["W_hh"], np.float32)))
            self.readout.weight.copy_(torch.from_numpy(np.asarray(params["W_hy"], np.float32)))
        return self

    def wavejax_params(self) -> dict[str, np.ndarray]:
        """The params in the wavejax Elman layout (NumPy float32)."""
        return {"W_uh": self.rnn.weight_ih_l0.detach().cpu().numpy().copy(),
                "W_hh": self.rnn.weight_hh_l0.detach().cpu().numpy().copy(),
                "W_hy": self.readout.weight.detach().cpu().numpy().copy()}


def repeat_copy_batch(gen: torch.Generator, *, s: int, d: int, horizon: int, batch: int, device: str = "cpu"):
    """(x, y, mask) of the repeat-copy task on ``device`` (``gen``'s): x, y (batch, s + horizon, d), mask
    (s + horizon,) bool."""
    u = torch.randint(0, 2, (batch, s, d), generator=gen, device=device).float() * 2 - 1
    x = torch.cat([u, torch.zeros(batch, horizon, d, device=device)], dim=1)
    reps = -(-horizon // s)
    y = torch.cat([torch.zeros_like(u), u.repeat(1, reps, 1)[:, :horizon]], dim=1)
    mask = torch.arange(s + horizon, device=device) >= s
    return x, y, mask


def masked_mse(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE over the output phase (mask over time), averaged over time, batch and dims."""
    return ((pred[:, mask] - y[:, mask]) ** 2).mean()


class TorchTrainer:
    """The training loop: ``step(x, y, mask)`` is one optimizer step; ``run(n)`` draws fresh batches."""

    def __init__(self, model: TorchElman, *, lr: float = 1e-3, l2: float = 0.0, clip: float = 1.0,
                 s: int = 8, horizon: int = 100, batch: int = 64, seed: int = 0, device: str = "cpu"):
        self.device = device
        self.model, self.clip, self.s, self.horizon, self.batch = model, clip, s, horizon, batch
        self.opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=l2)
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.d = model.rnn.input_size

    def step(self, x, y, mask) -> float:
        self.opt.zero_grad(set_to_none=True)
        loss = masked_mse(self.model(x), y, mask)
        loss.backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.opt.step()
        return loss.detach()

    def run(self, n: int) -> float:
        loss = None
        for _ in range(n):
            loss = self.step(*repeat_copy_batch(self.gen, s=self.s, d=self.d, horizon=self.horizon,
                                                batch=self.batch, device=self.device))
        return float(loss)
