"""The multi-process plumbing that needs no second JAX process: launcher, environment detection, one writer."""

import io
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import distributed
from wavejax import io as wio
from wavejax.launch import LaunchConfig, free_port, launch, process_env


def test_process_env_sets_the_coordinator_and_replaces_the_device_count():
    env = process_env(LaunchConfig(processes=3, devices_per_process=2), 1, 4321,
                      {"XLA_FLAGS": "--xla_foo=1 --xla_force_host_platform_device_count=8", "PATH": "/bin"})
    assert (env["WAVEJAX_COORDINATOR"], env["WAVEJAX_NUM_PROCESSES"], env["WAVEJAX_PROCESS_ID"]) == \
        ("127.0.0.1:4321", "3", "1")
    assert env["XLA_FLAGS"].split() == ["--xla_foo=1", "--xla_force_host_platform_device_count=2"]
    assert "JAX_PLATFORMS" not in env and env["PATH"] == "/bin"  # the platform JAX finds (issue 19)
    assert 0 < free_port() < 65536


def test_launch_uses_the_platform_it_finds_unless_cpu():
    """Without --cpu the launcher leaves JAX_PLATFORMS alone (a GPU/TPU host keeps its accelerator); --cpu sets it."""
    import tyro

    base = {"PATH": "/bin"}
    parsed = tyro.cli(LaunchConfig, args=[])
    assert parsed.cpu is False and "JAX_PLATFORMS" not in process_env(parsed, 0, 1, base)
    assert process_env(parsed, 0, 1, {**base, "JAX_PLATFORMS": "cuda"})["JAX_PLATFORMS"] == "cuda"
    forced = tyro.cli(LaunchConfig, args=["--cpu"])
    assert forced.cpu is True and process_env(forced, 0, 1, base)["JAX_PLATFORMS"] == "cpu"


def test_launch_prefixes_output_and_returns_the_first_failure():
    code = ("import os, sys; i = int(os.environ['WAVEJAX_PROCESS_ID']); "
            "print('hello', i, os.environ['WAVEJAX_NUM_PROCESSES']); sys.exit(3 if i == 1 else 0)")
    sink = io.StringIO()
    status = launch([sys.executable, "-c", code], LaunchConfig(processes=2, grace_s=5.0), sink=sink, timeout_s=60)
    out = sink.getvalue()
    assert status == 3
    assert "[p0] hello 0 2" in out and "[p1] hello 1 2" in out and "process 1 exited with status 3" in out
    sink = io.StringIO()
    assert launch([sys.executable, "-c", "import time; time.sleep(30)"], LaunchConfig(processes=2), sink=sink,
                  timeout_s=1) == 124  # bounded: every process is killed at the timeout
    with pytest.raises(ValueError, match="processes"):
        LaunchConfig(processes=0)


def test_wanted_reads_the_launcher_slurm_and_opt_in_variables(monkeypatch):
    for k in ("WAVEJAX_COORDINATOR", "WAVEJAX_DISTRIBUTED", "SLURM_JOB_ID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS"):
        monkeypatch.delenv(k, raising=False)
    assert not distributed.wanted()
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    monkeypatch.setenv("SLURM_NTASKS", "1")
    assert not distributed.wanted()  # a one-task SLURM job is a single process
    monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "4")
    assert distributed.wanted()
    monkeypatch.delenv("SLURM_JOB_ID")
    monkeypatch.setenv("WAVEJAX_COORDINATOR", "127.0.0.1:1")
    assert distributed.wanted()
    with pytest.raises(ValueError, match="process_id"):
        distributed.initialize("127.0.0.1:1", 2, 5)


def test_one_process_reads_and_writes_as_before(tmp_path, monkeypatch):
    tree = {"a": jnp.arange(3.0), "b": np.ones(2, np.int32)}
    host = distributed.to_host(tree)
    assert isinstance(host["a"], np.ndarray) and host["a"].tolist() == [0.0, 1.0, 2.0]
    assert distributed.to_global(tree) is tree and distributed.to_local(tree) is tree
    assert distributed.process_count() == 1 and distributed.is_main_process()
    monkeypatch.setattr(distributed, "is_main_process", lambda: False)  # as process 1 of a multi-process run
    wio.atomic_write_json(tmp_path / "r.json", {"x": 1})
    wio.append_jsonl(tmp_path / "m.jsonl", {"x": 1})
    assert not any(tmp_path.iterdir())  # only process 0 writes
