"""The matmul precision policy: which precision each model's claims need (issue 19; docs/gpu-tpu.md).

JAX's default float32 matmul precision is full float32 on CPU, but bfloat16 passes on TPU and TF32 on NVIDIA GPUs
from Ampere on. Every claim wavejax states was measured on CPU, so every model traces its matmuls at
``"highest"`` (true float32 on TPU: 6 bf16 passes; no TF32 on GPU) unless its config says otherwise. The engine
(EMT, tradeoff, :func:`wavejax.rnn.train`) and the GAN take it from a config field ``matmul_precision``; GSEMM
(float64 claims, tolerances down to 1e-12) and the wave lattice (exact identities) always use ``"highest"``.
On CPU the setting changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import jax

MatmulPrecision = Literal["default", "high", "highest"]
PRECISIONS = ("default", "high", "highest")

POLICY: dict[str, MatmulPrecision] = {
    "wave": "highest",  # exact lattice identities and Theorem 3.1 to 1e-10 (fixed)
    "emt": "highest",  # spectral error 5.5e-4 rad, sharded == unsharded bits (TrainConfig.matmul_precision)
    "gsemm": "highest",  # float64 claims, transition times on a 0.5 grid (fixed)
    "tradeoff": "highest",  # fronts and fits of the committed CPU runs (TrainConfig.matmul_precision)
    "gan": "highest",  # committed CPU statistics (GANConfig.matmul_precision)
}


def check_precision(name: str, value: str) -> str:
    """``value`` if it is one of :data:`PRECISIONS`; a ValueError naming ``name`` otherwise."""
    if value not in PRECISIONS:
        raise ValueError(f"{name} must be one of {PRECISIONS}; got {name}={value!r}")
    return value


@contextlib.contextmanager
def matmul_precision(value: str) -> Iterator[None]:
    """Trace the block's float32 matmuls at ``value`` (``jax.default_matmul_precision``; "default": unchanged)."""
    if value == "default":
        yield
        return
    with jax.default_matmul_precision(value):
        yield
