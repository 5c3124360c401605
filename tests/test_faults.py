"""Faults around run folders (issue 22 §1, §3, §5, §6): a run owns only what it wrote, one writer per folder,
one-line errors, corrupt files named by path and line.

Cheap on purpose: the engine is driven with the two-member counting chunk of tests/test_run_folders.py; the
CLI checks run the quickest command (``wave rollout --preset quick``, ~10 s) or a toy command in-process.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys
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
    sched = loop.Schedule(total=total, log_every=3, ckpt_every=6, callback=callback)
    return loop.run_chunks(_chunk, st, sched, aux=jnp.array([1.0, 10.0], jnp.float32), out=out,
                           layout=loop.Layout(step_of=lambda s: s["step"]), config=config, overwrite=overwrite)


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


# --------------------------------------------------------------------------------- §3: one writer per folder
_HOLDER = """
import sys, time
from wavejax import runs
with runs.run_folder(sys.argv[1], {"n": 3}, owner="cli"):
    print("locked", flush=True)
    time.sleep(120)
"""


def _hold(out: Path) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, str(out)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_second_writer_is_refused_in_one_line_and_a_killed_holders_lock_is_recovered(tmp_path):
    out = tmp_path / "o"
    holder = _hold(out)
    try:
        with pytest.raises(SystemExit) as info:
            _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _toy)}, ["go", "--out", str(out)])
        msg = str(info.value.code)
        assert msg.startswith(f"wavejax toy go: {out} is in use by another wavejax run (pid {holder.pid} on ")
        assert "\n" not in msg and "-c" in msg  # the holder's command line
        with pytest.raises(runs.FolderInUse, match=f"pid {holder.pid}"):  # the engine too, before any work
            _run(out)
        assert not (out / "metrics.jsonl").exists()
    finally:
        holder.kill()  # SIGKILL: no cleanup; the kernel drops its flock
        holder.wait(timeout=30)
    _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _toy)}, ["go", "--out", str(out)])
    assert io.read_jsonl(out / "metrics.jsonl") == [{"n": 3}]


def test_nested_owners_share_the_lock(tmp_path):
    """A CLI command and the engine it drives open one folder in one process: one lock, one record."""
    def fn(cfg, out):
        res = _run(out, config={"inner": 1})
        return Result(rows=[row("x", "-", float(res.history["x"][0, -1]))])

    _cli.run_subcommands("wavejax toy", {"go": (_Cfg, fn)}, ["go", "--out", str(tmp_path)])
    rec = io.read_json(tmp_path / runs.RECORD)
    assert sorted(rec["owners"]) == ["cli", "engine"]
    assert sorted(rec["created"]["files"]) == ["history/step_000000006.npz", "history/step_000000012.npz",
                                               "metrics.jsonl", "results.json"]


# ------------------------------------------------------------------- §3: metrics rebuilt from the history
@pytest.mark.parametrize("damage", ["cut", "duplicates", "past", "corrupt-middle"])
def test_resume_rebuilds_metrics_from_the_checkpointed_history(tmp_path, damage):
    ref = _run(tmp_path / "ref")
    want = (tmp_path / "ref" / "metrics.jsonl").read_text()

    def stop(step, _):
        if step == 9:
            raise _Stop

    with pytest.raises(_Stop):
        _run(tmp_path / "run", callback=stop)  # checkpoint at 6, metrics at 3, 6, 9
    m = tmp_path / "run" / "metrics.jsonl"
    lines = m.read_text().splitlines(keepends=True)
    m.write_text({"cut": lines[0] + lines[1][:7],
                  "duplicates": lines[0] + lines[0] + lines[1] + lines[1] + lines[2] + lines[2],
                  "past": "".join(lines) + lines[2],
                  "corrupt-middle": lines[0] + "garbage\n" + lines[2]}[damage])
    res = _run(tmp_path / "run")
    assert m.read_text() == want
    np.testing.assert_array_equal(res.history["x"], ref.history["x"])


# ------------------------------------------------------------------------ §6: corrupt records are errors
def test_a_torn_line_in_the_middle_of_a_jsonl_is_an_error_naming_file_and_line(tmp_path):
    p = tmp_path / "points.jsonl"
    p.write_text('{"key": "a"}\n{"key": "b", "loss": 0.' + "\n" + '{"key": "c"}\n')
    with pytest.raises(ValueError, match=f"^{p}:2: not a JSON record") as info:
        io.read_jsonl(p)
    assert "\n" not in str(info.value)
    p.write_text('{"key": "a"}\n{"key": "b", "lo')  # a kill mid-write: the torn last line is dropped ...
    assert io.read_jsonl(p) == [{"key": "a"}]
    io.append_jsonl(p, {"key": "c"})  # ... and cut off by the next append, so it never ends up in the middle
    assert p.read_text() == '{"key": "a"}\n{"key": "c"}\n'
    p.write_text('{"key": "a"}\n{"key": "b"}')  # a whole last record without its newline is kept
    io.append_jsonl(p, {"key": "c"})
    assert [r["key"] for r in io.read_jsonl(p)] == ["a", "b", "c"]


def test_tradeoff_frontier_names_a_corrupt_points_line(tmp_path):
    out = tmp_path / "sw"
    out.mkdir()
    pt = {"key": "k", "group": "trivial"}
    (out / "points.jsonl").write_text(json.dumps(pt) + "\n" + '{"key": "torn", "loss": 1.' + "\n"
                                      + json.dumps(pt) + "\n")
    r = _cli_run(["tradeoff", "frontier", "--sweep", str(out), "--out", str(tmp_path / "f")], timeout=120)
    assert r.returncode not in (0, None)
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and f"{out / 'points.jsonl'}:2" in err[0], r.stderr[-2000:]


# --------------------------------------------------------------------------------------- §5: one-line errors
def _failing(exc):
    def fn(cfg, out):
        io.append_jsonl(out / "metrics.jsonl", {"n": cfg.n})
        raise exc
    return {"go": (_Cfg, fn)}


@pytest.mark.parametrize("exc, cause, resume", [
    (KeyboardInterrupt(), "interrupted", True),
    (OSError(errno.ENOSPC, "No space left on device", "FILE"), "FILE: no space left on the device (disk full)",
     True),
    (PermissionError(errno.EACCES, "Permission denied", "FILE"), "FILE: permission denied", False),
    (ValueError("FILE:3: not a JSON record (corrupt file?)"), "error: FILE:3: not a JSON record", False),
])
def test_interrupts_and_io_failures_are_one_line(tmp_path, monkeypatch, exc, cause, resume):
    out = tmp_path / "o"
    if isinstance(exc, OSError):
        exc.filename = str(out / "metrics.jsonl")
    elif isinstance(exc, ValueError):
        exc = ValueError(str(exc).replace("FILE", str(out / "m.jsonl")))
    monkeypatch.delenv("WAVEJAX_DEBUG", raising=False)
    with pytest.raises(SystemExit) as info:
        _cli.run_subcommands("wavejax toy", _failing(exc), ["go", "--out", str(out)])
    msg = str(info.value.code)
    assert info.value.code not in (0, None) and "\n" not in msg
    assert msg.startswith("wavejax toy go: ") and cause.replace("FILE", str(out / "m.jsonl" if "JSON" in cause
                                                                            else out / "metrics.jsonl")) in msg
    assert ("rerun the same command to resume" in msg) == resume and (str(out) in msg)
    monkeypatch.setenv("WAVEJAX_DEBUG", "1")  # the debug switch: the exception itself, with its traceback
    with pytest.raises(type(exc)):
        _cli.run_subcommands("wavejax toy", _failing(exc), ["go", "--out", str(out)])


def test_out_that_is_a_file_or_under_a_file_is_one_line(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("mine")
    for out in (f, f / "sub"):
        r = _cli_run(["wave", "rollout", "--preset", "quick", "--out", str(out)], timeout=120)
        err = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(err) == 1, r.stderr[-2000:]
        assert err[0] == f"wavejax wave rollout: {out}: not a folder" or \
            err[0].startswith(f"wavejax wave rollout: {f}") and "not a folder" in err[0], err
    assert f.read_text() == "mine"


def test_unwritable_out_is_one_line(tmp_path):
    """A folder the process may not write: a 0500 folder, or for root (who writes there anyway) a path under /sys."""
    if os.geteuid() == 0:
        out, cause = Path("/sys/wavejax-test-unwritable/run"), "operation not permitted"
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        out, cause = tmp_path / "ro" / "run", "permission denied"
    r = _cli_run(["wave", "rollout", "--preset", "quick", "--out", str(out)], timeout=120)
    err = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(err) == 1 and str(out.parent) in err[0] and cause in err[0], r.stderr[-2000:]


def test_save_checkpoint_checks_leaves_before_orbax_starts(tmp_path):
    """Before: orbax raised from its thread, and a caller that caught the error never saw the interpreter exit."""
    code = ("import jax.numpy as jnp\nfrom wavejax import io\n"
            "try:\n    io.save_checkpoint(r'%s', 1, {'a': jnp.zeros(2), 'b': {'c': 'text'}})\n"
            "except TypeError as e:\n    print(e)\n") % (tmp_path / "ck")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "tree['b']['c']: a checkpoint holds arrays and numbers only; got builtins.str"
    assert not (tmp_path / "ck").exists()


def test_overwrite_cleans_nested_run_folders_by_their_own_records(tmp_path):
    """A sweep's groups are run folders of their own inside the sweep's folder: ``overwrite`` of the outer run
    removes what each group wrote (checkpoints included) and keeps a user's file inside a group."""
    with runs.run_folder(tmp_path, {"sweep": 1}, owner="sweep"):
        _run(tmp_path / "groups" / "g1", config={"lr": 1})
        io.append_jsonl(tmp_path / "points.jsonl", {"key": "k"})
    assert io.read_json(tmp_path / runs.RECORD)["created"]["folders"] == ["groups", "groups/g1"]
    (tmp_path / "notes.txt").write_text("mine")
    with runs.run_folder(tmp_path, {"sweep": 2}, owner="sweep", overwrite=True):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [runs._runfolder.LOCK, "notes.txt", runs.RECORD]
    with runs.run_folder(tmp_path, {"sweep": 3}, owner="sweep"):
        _run(tmp_path / "groups" / "g1", config={"lr": 1})
    (tmp_path / "groups" / "g1" / "mine.txt").write_text("mine")
    with runs.run_folder(tmp_path, {"sweep": 4}, owner="sweep", overwrite=True):
        pass
    assert [p.name for p in (tmp_path / "groups").rglob("*")] == ["g1", "mine.txt"]


def test_history_pruning_deletes_only_recorded_files(tmp_path):
    """The engine prunes the histories of dropped checkpoints by the record, not by the file-name pattern: a user's
    ``history/step_*.npz`` stays, and a pruned file leaves the record (a later user file of that name is safe)."""
    _run(tmp_path, total=12)  # checkpoints (and histories) at 6 and 12
    mine = tmp_path / "history" / "step_000000001.npz"  # a user's file inside the folder wavejax created
    mine.write_bytes(b"a user's array")
    _run(tmp_path, total=24)  # resumes: checkpoints at 18 and 24; orbax keeps the last 2, so 6 and 12 are pruned
    assert io.checkpoint_steps(tmp_path / "ckpt") == [18, 24]
    assert mine.read_bytes() == b"a user's array"
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == [
        "step_000000001.npz", "step_000000018.npz", "step_000000024.npz"]
    rec = io.read_json(tmp_path / runs.RECORD)
    assert sorted(f for f in rec["created"]["files"] if f.startswith("history/")) == [
        "history/step_000000018.npz", "history/step_000000024.npz"]
