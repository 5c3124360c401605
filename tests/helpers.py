"""Tolerances and helpers shared by the tests. Every tolerance states its origin."""

import os
import subprocess
import sys
import textwrap

F64_ATOL = 1e-10  # float64: eps 2.2e-16 x ~1e3 steps x O(10) ops per step, with a wide margin
F32_RTOL = 2e-5  # float32: eps 1.2e-7 x ~100 ops, plus margin
ATTN_ATOL = 1e-6  # attention boundary vs independent decoder (issue 2 acceptance; float64 reaches ~1e-15)


class ScaleOnly:
    """A config class for test experiments whose config is the scale name itself (``quick()`` is "quick")."""

    @classmethod
    def quick(cls) -> str:
        return "quick"

    @classmethod
    def full(cls) -> str:
        return "full"


def run_multidevice(code: str, n_devices: int = 4, timeout: int = 600) -> str:
    """Run ``code`` in a fresh Python process with ``n_devices`` forced CPU devices; return its stdout.

    The subprocess must print what the test asserts on; a non-zero exit fails with its stderr.
    """
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={n_devices}"
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"multi-device subprocess failed:\n{proc.stderr[-4000:]}")
    return proc.stdout


def fake_torch(gpu: bool = False) -> type:
    """A stand-in for the ``torch`` module with only ``torch.cuda.is_available()`` (``gpu``) and
    ``torch.cuda.get_device_name(i)`` ("NVIDIA H100 #i"), for the benchmarks' device-label helpers."""

    class cuda:
        @staticmethod
        def is_available() -> bool:
            return gpu

        @staticmethod
        def get_device_name(i: int) -> str:
            return f"NVIDIA H100 #{i}"

    return type("FakeTorch", (), {"cuda": cuda})
