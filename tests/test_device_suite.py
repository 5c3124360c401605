"""Device-aware tools (issue 19): the device suite's CPU smoke run, ``wavejax bench --device-suite``, and the
benchmarks' accelerator detection (no CPU pinning on a GPU/TPU host, PyTorch baselines on CUDA when present)."""

import json
import math
import os
import sys
from pathlib import Path

import pytest
from helpers import fake_torch

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def test_device_suite_smoke_runs_every_part(tmp_path):
    """The suite at its tiny sizes on CPU: every part runs and records a positive, finite rate (the file is named
    by the machine, which names the accelerator's device kind on one)."""
    from wavejax._bench import machine_id
    from wavejax._device_suite import run_device_suite

    path = run_device_suite(tmp_path, quick=True)
    assert path.name == f"device-suite-{machine_id()}.json"
    rec = json.loads(path.read_text())
    assert rec["failures"] == {} and rec["scale"] == "smoke"
    res = rec["results"]
    rates = {"wave": "ticks_per_s", "emt_table1": "member_steps_per_s", "gsemm_batch": "trajectories_per_s",
             "gan": "steps_per_s"}
    assert set(res) == set(rates)
    for part, key in rates.items():
        assert res[part][key] > 0 and math.isfinite(res[part][key]), (part, res[part])
    assert res["gsemm_batch"]["successful"] == res["gsemm_batch"]["trajectories"] == 4
    assert rec["machine"]["platform"] == "cpu"


def test_bench_cli_dispatches_the_device_suite(tmp_path, monkeypatch, capsys):
    import wavejax._device_suite as ds
    from wavejax.cli import main

    calls = []
    monkeypatch.setattr(ds, "run_device_suite", lambda out, quick: calls.append((Path(out), quick)) or Path(out))
    main(["bench", "--device-suite", "--quick", "--out", str(tmp_path)])
    assert calls == [(tmp_path, True)]
    assert "device suite written" in capsys.readouterr().out


@pytest.fixture
def common(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    for var in ("JAX_PLATFORMS", "COLAB_TPU_ADDR", "TPU_NAME", "TPU_ACCELERATOR_TYPE"):
        monkeypatch.delenv(var, raising=False)
    import _common

    return _common


def test_accelerator_detection_and_no_pinning_on_a_device(common, monkeypatch):
    monkeypatch.setattr(common.os.path, "exists", lambda p: False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    assert common.accelerator() is None
    monkeypatch.setenv("COLAB_TPU_ADDR", "10.0.0.2:8470")
    assert common.accelerator() == "tpu"
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    assert common.accelerator() is None
    monkeypatch.delenv("JAX_PLATFORMS")
    monkeypatch.delenv("COLAB_TPU_ADDR")
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/nvidia-smi" if name == "nvidia-smi" else None)
    assert common.accelerator() == "gpu"

    def no_pin(*a):
        raise AssertionError("pinned on an accelerator host")

    monkeypatch.setattr(os, "sched_setaffinity", no_pin, raising=False)
    assert common.pin_threads(2) == (os.cpu_count() or 1)


def test_torch_device_is_cuda_only_when_torch_sees_a_gpu(common):
    assert common.torch_device(fake_torch()) == "cpu" and common.torch_device(None) == "cpu"
    assert common.torch_device(fake_torch(gpu=True)) == "cuda"
    assert sys.modules["_common"] is common
