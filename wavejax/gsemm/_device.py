"""GSEMM's float64 default on a TPU backend: refused with an error that names the setting (issue 19).

XLA:TPU emulates float64 and cannot rewrite the float64<->int64 ``bitcast_convert`` ops of equinox's ``nextafter``
inside Diffrax's adaptive step (400 of them in one Tsit5 solve; diffrax#366), so a float64 GSEMM solve is not
expected to compile there. ``dtype=jnp.float32`` traces the solve with 64-bit mode off (no float64 value in the
module) and agrees with float64 on the committed cases as measured in docs/gpu-tpu.md.
"""

from __future__ import annotations

import jax
import numpy as np


def refuse_f64_on_tpu(dtype: np.dtype, name: str = "dtype") -> np.dtype:
    """Return ``dtype``; raise a ValueError naming ``name`` for float64 on a TPU default backend."""
    if np.dtype(dtype) == np.float64 and jax.default_backend() == "tpu":
        raise ValueError(f"{name}=float64 is not supported on TPU (XLA:TPU cannot compile Diffrax's float64 step "
                         f"control, diffrax#366): pass {name}=jnp.float32 (agreement with float64: docs/gpu-tpu.md)")
    return dtype
