"""Faults around run folders (issue 22 §1, §3, §5, §6): a run owns only what it wrote, one writer per folder,
one-line errors, corrupt files named by path and line.

Cheap on purpose: the engine is driven with the two-member counting chunk of tests/test_run_folders.py; the
CLI checks run the quickest command (``wave rollout --preset quick``, ~10 s) or a toy command in-process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import _cli, io, loop, runs
from wavejax.report import Result, row

WAVEJAX = [sys.executable, "-m", "wavejax.cli"]


def _chunk(state, aux, start, mesh):  # two members counting up by aux, 3 steps per chunk
    vals = state["x"][:, None] + aux[:, None] * jnp.arange(1, 4)[None, :]
    return {"x": vals[:, -1], "step": state["step"] + 3}, {"x": vals}


def _run(out, *, config=None, overwrite=False, total=12, callback=None):
    st = {"x": jnp.zeros(2, jnp.float32), "step": jnp.zeros(2, jnp.int32)}
    return loop.run_chunks(_chunk, st, aux=jnp.array([1.0, 10.0], jnp.float32), total=total, log_every=3,
                           ckpt_every=6, out=out, step_of=lambda s: s["step"], config=config, overwrite=overwrite,
                           callback=callback)


class _Stop(KeyboardInterrupt):
    pass


def _user_files(d: Path) -> dict[str, str]:
    files = {"samples/cat.png": "a cat", "history/2024.txt": "a diary", "report.md": "# mine", "task.json": "{}"}
    for rel, text in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    return files


def _cli_run(args, timeout=180, **kw):
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    return subprocess.run([*WAVEJAX, *args], capture_output=True, text=True, timeout=timeout, env=env, **kw)


# ------------------------------------------------------------------ §1: a run folder owns only what it wrote
def test_cli_overwrite_keeps_every_user_file(tmp_path):
    """The issue's scenario: before, all four user files were deleted by ``--overwrite``."""
    files = _user_files(tmp_path)
    for _ in range(2):  # the first run records its files; the second removes them (only them) and runs afresh
        r = _cli_run(["wave", "rollout", "--preset", "quick", "--out", str(tmp_path), "--overwrite"])
        assert r.returncode == 0, r.stderr[-2000:]
        for rel, text in files.items():
            assert (tmp_path / rel).read_text() == text, rel
    rec = io.read_json(tmp_path / runs.RECORD)
    assert rec["owners"]["cli"]["config"]["command"] == "wavejax wave rollout"
    assert sorted(rec["created"]["files"]) == ["error_vs_time.png", "results.json"]


def test_engine_overwrite_removes_only_recorded_entries(tmp_path):
    _run(tmp_path, config={"lr": 1})
    assert io.checkpoint_steps(tmp_path / "ckpt") == [6, 12]
    (tmp_path / "history" / "notes.txt").write_text("mine")  # a user's file inside a folder wavejax created
    (tmp_path / "ckpt" / "README").write_text("mine too")
    (tmp_path / "keep.txt").write_text("and this")
    res = _run(tmp_path, config={"lr": 2}, overwrite=True, total=6)
    assert res.history["x"].shape == (2, 6)
    assert (tmp_path / "history" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "ckpt" / "README").read_text() == "mine too"
    assert (tmp_path / "keep.txt").read_text() == "and this"
    assert io.checkpoint_steps(tmp_path / "ckpt") == [6]  # the old steps 6 and 12 were removed, 6 rewritten
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["notes.txt", "step_000000006.npz"]
    assert [r["step"] for r in io.read_jsonl(tmp_path / "metrics.jsonl")] == [3, 6]


def test_overwrite_removes_recorded_folders_only_when_empty(tmp_path):
    _run(tmp_path, config={"lr": 1})

    def stop(step, _):
        raise _Stop

    with pytest.raises(_Stop):  # stopped at step 3, before its first checkpoint: ckpt/ and history/ went whole
        _run(tmp_path, config={"lr": 2}, overwrite=True, callback=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == [runs._runfolder.LOCK, "metrics.jsonl", runs.RECORD]


def test_mismatch_with_user_files_does_not_recommend_overwrite(tmp_path):
    _run(tmp_path, config={"lr": 1})
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(runs.ConfigMismatch) as info:
        _run(tmp_path, config={"lr": 2})
    msg = str(info.value)
    assert "lr: 1 -> 2" in msg and "notes.txt" in msg and "overwrite" not in msg and "\n" not in msg


def test_writing_over_a_file_wavejax_did_not_write_is_refused(tmp_path):
    (tmp_path / "results.json").write_text('{"mine": 1}')
    with pytest.raises(runs.ConfigMismatch, match="holds results.json, which wavejax did not write"):
        with runs.run_folder(tmp_path, {"a": 1}, owner="cli", state=("results.json",)):
            pass
    with runs.run_folder(tmp_path, {"a": 1}, owner="cli"):
        with pytest.raises(FileExistsError, match=f"{tmp_path / 'results.json'} exists but wavejax did not"):
            io.atomic_write_json(tmp_path / "results.json", {})
    assert io.read_json(tmp_path / "results.json") == {"mine": 1}


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Cfg:
    """A toy command."""

    n: int = 3


def _toy(cfg, out):
    io.append_jsonl(out / "metrics.jsonl", {"n": cfg.n})
    return Result(rows=[row("n", "-", cfg.n)])


@pytest.mark.parametrize("argv", [["--out", ""], ["--out="], ["--out", " "]])
def test_empty_out_is_refused(tmp_path, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _toy)}, ["go", *argv])
    msg = str(info.value.code)
    assert "--out must name an output folder" in msg and "\n" not in msg
    assert list(tmp_path.iterdir()) == []  # nothing written into the working directory


def test_empty_out_is_refused_by_the_api(tmp_path, monkeypatch):
    from wavejax.report import reproduce
    from wavejax.tradeoff import SweepConfig, run_sweep

    monkeypatch.chdir(tmp_path)
    for call in (lambda: _run(""), lambda: run_sweep(SweepConfig.quick(), ""), lambda: reproduce(""),
                 lambda: runs.claim("", {})):
        with pytest.raises(ValueError, match=r"out must name an output folder; got out=''"):
            call()
    assert list(tmp_path.iterdir()) == []
