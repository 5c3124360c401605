"""Run folders that cannot silently mix, poison or lose results (issue 14 §1, §4, §9, §10; acceptance 2, 3).

Cheap on purpose: the engine is driven with a two-member counting chunk (no compile), interruptions are raised
in-process from a callback, and the CLI checks stop before any training. One EMT command runs end to end.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from helpers import ScaleOnly

from wavejax import _cli, io, loop, runs
from wavejax.report import Result, row


class Stop(KeyboardInterrupt):  # what Ctrl-C raises: also stops `reproduce` (which records Exceptions)
    pass


def _chunk(state, aux, start, mesh):  # two members counting up by aux, 3 steps per chunk
    vals = state["x"][:, None] + aux[:, None] * jnp.arange(1, 4)[None, :]
    return {"x": vals[:, -1], "step": state["step"] + 3}, {"x": vals, "sq": vals ** 2}


def _run(out, *, stop_at=None, config=None, overwrite=False, total=12, ckpt_every=6, log_every=3):
    def cb(step, _):
        if step == stop_at:
            raise Stop(step)

    st = {"x": jnp.zeros(2, jnp.float32), "step": jnp.zeros(2, jnp.int32)}
    sched = loop.Schedule(total=total, log_every=log_every, ckpt_every=ckpt_every, callback=cb)
    return loop.run_chunks(_chunk, st, sched, aux=jnp.array([1.0, 10.0], jnp.float32), out=out,
                           layout=loop.Layout(step_of=lambda s: s["step"]), config=config, overwrite=overwrite)


def _interrupted(out, stop_at, **kw):
    with pytest.raises(Stop):
        _run(out, stop_at=stop_at, **kw)
    return _run(out, **kw)


# ----------------------------------------------------------------------------------- §4: resume keeps history
@pytest.mark.parametrize("stop_at", [9, 3])  # 9: after the step-6 checkpoint; 3: before any checkpoint
def test_resume_restores_history_and_metrics_bitwise(tmp_path, stop_at):
    ref = _run(tmp_path / "ref")
    res = _interrupted(tmp_path / "run", stop_at)
    for k in ref.history:  # before issue 14: NaN before the resume point
        np.testing.assert_array_equal(res.history[k], ref.history[k])
    np.testing.assert_array_equal(res.state["x"], ref.state["x"])
    got = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert got == (tmp_path / "ref" / "metrics.jsonl").read_text()  # no duplicate line (the GAN case: stop at 3)
    assert [r["step"] for r in io.read_jsonl(tmp_path / "run" / "metrics.jsonl")] == [3, 6, 9, 12]
    assert sorted(p.name for p in (tmp_path / "run" / "history").iterdir()) == ["step_000000006.npz",
                                                                                 "step_000000012.npz"]


def test_rerun_without_checkpoints_starts_metrics_afresh(tmp_path):
    _run(tmp_path, ckpt_every=0)
    _run(tmp_path, ckpt_every=0)  # before: the second run appended its lines to the first run's
    assert [r["step"] for r in io.read_jsonl(tmp_path / "metrics.jsonl")] == [3, 6, 9, 12]


# ------------------------------------------------------------------------------ §1: the engine's run record
def test_engine_refuses_another_config_and_overwrite_starts_afresh(tmp_path):
    a = {"lr": 0.001, "task": {"name": "repeat_copy", "ids": [1, 2]}}
    with pytest.raises(Stop):
        _run(tmp_path, stop_at=9, config=a)
    rec = io.read_json(tmp_path / runs.RECORD)
    assert rec["owners"] == {"engine": {"config": a, "hash": io.config_hash(a)}}
    assert rec["created"]["folders"] == ["history", "ckpt"] and rec["created"]["trees"] == ["ckpt/6"]
    assert rec["created"]["files"] == ["metrics.jsonl", "history/step_000000006.npz"]
    b = {"lr": 0.005, "task": {"name": "compose_copy", "ids": [1, 2]}}
    with pytest.raises(runs.ConfigMismatch) as info:
        _run(tmp_path, config=b)
    msg = str(info.value)
    assert "lr: 0.001 -> 0.005" in msg and 'task.name: "repeat_copy" -> "compose_copy"' in msg
    assert "ids" not in msg and str(tmp_path) in msg and "overwrite" in msg
    assert io.latest_step(tmp_path / "ckpt") == 6  # nothing touched
    with pytest.raises(Stop):  # a fresh run: the old checkpoints, history and metrics are gone
        _run(tmp_path, config=b, overwrite=True, stop_at=3)
    assert not (tmp_path / "ckpt").exists() and not (tmp_path / "history").exists()
    assert [r["step"] for r in io.read_jsonl(tmp_path / "metrics.jsonl")] == [3]
    assert io.read_json(tmp_path / runs.RECORD)["owners"]["engine"]["config"] == b
    res = _run(tmp_path, config=b)  # the same config resumes
    np.testing.assert_array_equal(res.history["x"], _run(tmp_path / "ref").history["x"])


def test_engine_refuses_checkpoints_without_a_record(tmp_path):
    with pytest.raises(Stop):
        _run(tmp_path, stop_at=9)
    (tmp_path / runs.RECORD).unlink()  # a folder of an older wavejax (or another tool): run state, no record
    with pytest.raises(runs.ConfigMismatch, match="holds ckpt, history, metrics.jsonl, which wavejax did not "
                       "write") as info:
        _run(tmp_path, config={"lr": 1.0})
    assert "overwrite" not in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(runs.ConfigMismatch, match="which wavejax did not write"):  # --overwrite removes nothing
        _run(tmp_path, config={"lr": 1.0}, overwrite=True)
    assert io.latest_step(tmp_path / "ckpt") == 6


def test_a_record_without_run_state_is_replaced(tmp_path):
    # a command that failed before writing anything leaves only its record: another config may use the folder
    runs.claim(tmp_path, {"lr": 1.0})
    assert runs.claim(tmp_path, {"lr": 2.0})["config"] == {"lr": 2.0}
    with runs.run_folder(tmp_path, {"lr": 2.0}, owner="cli"):
        io.atomic_write_json(tmp_path / "results.json", {})
    with pytest.raises(runs.ConfigMismatch, match="lr: 2.0 -> 3.0"):
        runs.claim(tmp_path, {"lr": 3.0})
    long = {"p": "/a/very/long/folder/name/" * 4 + "run_1"}
    d = runs.config_diff(long, {"p": long["p"][:-1] + "2"})[0]  # long paths keep their (differing) tails
    assert d.startswith('p: "...') and 'name/run_1" -> "...' in d and d.endswith('name/run_2"')


def test_config_diff_lists_dotted_fields():
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": True}
    new = {"a": 1, "b": {"c": [1, 3], "d": "x"}, "new": None}
    assert runs.config_diff(old, new) == ["b.c: [1, 2] -> [1, 3]", "gone: true -> (absent)",
                                          "new: (absent) -> null"]


# --------------------------------------------------------------------------------- acceptance 3: the CLI
@dataclasses.dataclass(frozen=True, kw_only=True)
class _Inner:
    lr: float = 1e-3


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Cfg:
    """A toy command."""

    n: int = 3
    inner: _Inner = _Inner()


def _toy(cfg, out):
    io.append_jsonl(out / "metrics.jsonl", {"n": cfg.n})
    (out / "ckpt").mkdir(exist_ok=True)
    return Result(rows=[row("n", "-", cfg.n)])


def test_cli_refuses_another_config_names_fields_and_overwrites(tmp_path, capsys):
    cmds = {"go": (_Cfg, _toy)}
    out = str(tmp_path / "o")
    _cli.run_subcommands("wavejax toy", cmds, ["go", "--out", out])
    rec = io.read_json(tmp_path / "o" / runs.RECORD)["owners"]["cli"]
    assert rec["config"] == {"command": "wavejax toy go", "config": {"n": 3, "inner": {"lr": 1e-3}}}
    assert rec["hash"] == io.config_hash(rec["config"])
    _cli.run_subcommands("wavejax toy", cmds, ["go", "--out", out])  # same config: accepted (resumes)
    with pytest.raises(SystemExit) as info:
        _cli.run_subcommands("wavejax toy", cmds, ["go", "--n", "7", "--inner.lr", "0.5", "--out", out])
    assert info.value.code not in (0, None)  # a message: exit status 1
    assert "n: 3 -> 7" in str(info.value.code) and "inner.lr: 0.001 -> 0.5" in str(info.value.code)
    assert len(io.read_jsonl(tmp_path / "o" / "metrics.jsonl")) == 2  # the refused run did nothing
    _cli.run_subcommands("wavejax toy", cmds, ["go", "--n", "7", "--out", out, "--overwrite"])
    assert io.read_jsonl(tmp_path / "o" / "metrics.jsonl") == [{"n": 7}]  # the old run's metrics are gone
    assert io.read_json(tmp_path / "o" / "results.json")["config"]["n"] == 7


@pytest.mark.parametrize("model, first, argv, field", [
    ("emt", [], ["train", "--task", "compose_copy", "--train.lr", "0.005"], "config.train.lr: 0.001 -> 0.005"),
    ("gan", ["--preset", "quick"], ["train", "--preset", "quick", "--loss", "wgan"],
     'config.loss: "wgan_gp" -> "wgan"'),
    ("tradeoff", ["--preset", "quick"], ["sweep", "--preset", "quick", "--widths", "1", "2"],
     "config.widths: [1, 2, 4, 8, 16] -> [1, 2]"),
])
def test_model_clis_refuse_another_config_before_any_work(tmp_path, model, first, argv, field):
    """Issue 14 §1: a second command with another config into the same --out exits non-zero, naming the fields
    (checked before any training: the folder's record stands for the first run)."""
    import importlib

    mod = importlib.import_module(f"wavejax.{model}._cli")
    cls, _ = mod.commands()[argv[0]]
    cfg = _cli.parse_command(cls, first, prog=f"wavejax {model} {argv[0]}")[0]
    with runs.run_folder(tmp_path, _cli._record(f"wavejax {model} {argv[0]}", cfg), owner="cli"):
        io.append_jsonl(tmp_path / "metrics.jsonl", {"step": 100})  # the first run's output
    with pytest.raises(SystemExit) as info:
        mod.main([*argv, "--out", str(tmp_path)])
    assert field in str(info.value.code) and str(tmp_path) in str(info.value.code)
    assert sorted(p.name for p in tmp_path.iterdir()) == [runs._runfolder.LOCK, "metrics.jsonl", runs.RECORD]


# --------------------------------------------------------------------------- §9: checkpoints that name the problem
def _two_checkpoints(d):
    io.save_checkpoint(d, 2, {"a": jnp.arange(3, dtype=jnp.float32), "b": jnp.zeros((2, 2), jnp.int32)})
    io.save_checkpoint(d, 4, {"a": jnp.arange(3, dtype=jnp.float32) + 1, "b": jnp.ones((2, 2), jnp.int32)})


def test_restore_rejects_shape_dtype_and_structure_mismatches(tmp_path):
    _two_checkpoints(tmp_path)
    good = {"a": jnp.zeros(3, jnp.float32), "b": jnp.zeros((2, 2), jnp.int32)}
    assert io.restore_checkpoint(tmp_path, good)[0] == 4
    for like, what in [({**good, "a": jnp.zeros(4, jnp.float32)}, r"a: shape \(3,\) in the checkpoint, \(4,\) in"),
                       ({**good, "a": jnp.zeros(3, jnp.int32)}, "a: dtype float32 in the checkpoint, int32"),
                       ({"a": good["a"], "c": good["b"]}, "c: missing in the checkpoint; b: in the checkpoint")]:
        with pytest.raises(ValueError, match=what) as info:  # before: cast silently / orbax traceback
            io.restore_checkpoint(tmp_path, like)
        assert str(tmp_path / "4") in str(info.value) and "\n" not in str(info.value)


def _truncate(step_dir, pattern):
    for p in step_dir.rglob(pattern):
        if p.is_file() and p.stat().st_size > 1:
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


@pytest.mark.parametrize("pattern", ["_METADATA", "*"])  # the tree metadata, or every file (array data too)
def test_truncated_latest_checkpoint_falls_back_with_a_warning(tmp_path, pattern):
    _two_checkpoints(tmp_path)
    _truncate(tmp_path / "4", pattern)
    like = {"a": jnp.zeros(3, jnp.float32), "b": jnp.zeros((2, 2), jnp.int32)}
    with pytest.warns(RuntimeWarning, match=rf"checkpoint {tmp_path}/4 is unreadable .*falling back to step 2"):
        step, tree = io.restore_checkpoint(tmp_path, like)
    assert step == 2 and np.array_equal(tree["a"], np.arange(3.0))
    _truncate(tmp_path / "2", pattern)
    with warnings.catch_warnings(), pytest.raises(ValueError, match=f"{tmp_path}: no readable checkpoint"):
        warnings.simplefilter("ignore")
        io.restore_checkpoint(tmp_path, like)


# ------------------------------------------------------------------------------------ §10: files and hashes
def test_config_hash_of_callables_is_stable_across_processes():
    # before: repr with a memory address, a new hash in every process; now module.qualname
    assert io.to_jsonable({"f": np.mean}) == {"f": "numpy.mean"}
    assert io.config_hash({"f": np.mean, "n": 1}) == "e4bb07fa8ede"  # a fixed value: the same in every process


def test_atomic_write_json_rejects_non_json_values_naming_the_key(tmp_path):
    p = tmp_path / "r.json"
    with pytest.raises(TypeError, match=r"config\.train\.opt: builtins\.object is not JSON"):
        io.atomic_write_json(p, {"config": {"train": {"opt": object()}}})
    with pytest.raises(TypeError, match=r"rows\[1\]"):
        io.atomic_write_json(p, {"rows": [1, object()]})
    assert not p.exists()  # before: the repr was written
    io.atomic_write_json(p, {"d": _Cfg(), "a": np.arange(2), "p": tmp_path, "dt": np.dtype("float32"),
                             "s": frozenset({2, 1})})
    assert io.read_json(p) == {"d": {"n": 3, "inner": {"lr": 1e-3}}, "a": [0, 1], "p": str(tmp_path),
                               "dt": "float32", "s": [1, 2]}


def test_corrupt_files_raise_errors_naming_the_path(tmp_path):
    from wavejax.emt._training import load_run
    from wavejax.gan import read_idx

    bad = tmp_path / "r.json"
    bad.write_text('{"a": ')
    with pytest.raises(ValueError, match=f"{bad} is not valid JSON"):
        io.read_json(bad)
    npz = tmp_path / "run.npz"
    np.savez(npz, history=np.arange(1000.0))
    npz.write_bytes(npz.read_bytes()[:300])
    with pytest.raises(ValueError, match=f"{npz} is not a readable .npz"):
        io.load_npz(npz)
    (tmp_path / "members.json").write_text("[]")
    with pytest.raises(ValueError, match=str(npz)):
        load_run(tmp_path)
    gz = tmp_path / "x-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\x05hello")[:12])
    with pytest.raises(ValueError, match=f"path {gz} is corrupt or truncated"):
        read_idx(gz)
    from wavejax.tradeoff._tasks import load_traces

    (tmp_path / "tr").mkdir()
    np.save(tmp_path / "tr" / "p0.npy", np.arange(100.0))
    (tmp_path / "tr" / "p0.npy").write_bytes((tmp_path / "tr" / "p0.npy").read_bytes()[:140])
    with pytest.raises(ValueError, match=f"trace {tmp_path / 'tr' / 'p0.npy'} is not a readable"):
        load_traces(tmp_path / "tr")


def test_read_jsonl_drops_torn_lines_but_names_corruption(tmp_path):
    p = tmp_path / "m.jsonl"
    io.append_jsonl(p, {"step": 1})
    with open(p, "a") as f:
        f.write('{"step": 2, "loss": [0.5, 0.')  # a kill mid-write
    io.append_jsonl(p, {"step": 2})  # the resumed run starts a fresh line
    with open(p, "a") as f:
        f.write('{"key": "tor')
    assert io.read_jsonl(p) == [{"step": 1}, {"step": 2}]
    for junk in ("this is not json", '{"step": 1} trailing', '{"step": 1, "x": [1 2]}'):
        p.write_text(f'{{"step": 1}}\n{junk}\n{{"step": 2}}\n')
        with pytest.raises(ValueError, match=f"{p}:2: not a JSON record"):
            io.read_jsonl(p)


def test_code_version_names_package_and_sources():
    from wavejax import __version__

    v = runs.code_version()
    assert v.startswith(__version__ + "+") and len(v.split("+")[1]) == 12 and v == runs.code_version()
    json.dumps(v)


# ------------------------------------------------------------------ acceptance 2: kill-and-rerun, end to end
def _strip(rec):
    """A results.json record without what legitimately differs between runs (timings, cache flags, versions)."""
    if isinstance(rec, dict):
        return {k: _strip(v) for k, v in rec.items() if k not in ("timings", "seconds", "cached", "elapsed_s")}
    return [_strip(v) for v in rec] if isinstance(rec, list) else rec


def test_emt_cli_killed_and_rerun_equals_uninterrupted(tmp_path, monkeypatch):
    import importlib

    from wavejax.emt._cli import main

    rtrain = importlib.import_module("wavejax.rnn._train")  # the module (wavejax.rnn.train is the function)
    real = rtrain.run_chunks
    args = ["train", "--hidden", "16", "--batch", "8", "--curriculum", "3", "5", "--test-horizon", "8",
            "--test-batches", "1", "--train.steps", "40", "--train.chunk", "10", "--train.log-every", "10",
            "--train.ckpt-every", "20"]
    main([*args, "--out", str(tmp_path / "ref")])

    def killed(chunk, state, schedule, **kw):
        def die(step, _):
            if step == 30:  # after the step-20 checkpoint and the step-30 log line
                raise KeyboardInterrupt
        return real(chunk, state, dataclasses.replace(schedule, callback=die), **kw)

    monkeypatch.setattr(rtrain, "run_chunks", killed)
    with pytest.raises(SystemExit, match="emt train: interrupted; rerun the same command to resume"):
        main([*args, "--out", str(tmp_path / "run")])  # Ctrl-C: one line (issue 22 §5)
    monkeypatch.setattr(rtrain, "run_chunks", real)
    main([*args, "--out", str(tmp_path / "run")])  # the same command again: resumes at step 20
    ref, run = io.load_npz(tmp_path / "ref" / "run.npz"), io.load_npz(tmp_path / "run" / "run.npz")
    assert ref.keys() == run.keys() and "history/level" in run
    for k in ref:  # history included: before issue 14 it was NaN before step 20
        np.testing.assert_array_equal(run[k], ref[k], err_msg=k)
    logs = [_strip(io.read_jsonl(tmp_path / d / "metrics.jsonl")) for d in ("ref", "run")]
    assert logs[0] == logs[1] and [r["step"] for r in logs[1]] == [10, 20, 30, 40]
    res = [json.dumps(_strip(io.read_json(tmp_path / d / "results.json"))) for d in ("ref", "run")]
    assert res[0].replace(str(tmp_path / "ref"), str(tmp_path / "run")) == res[1]  # the notes name the folder


def test_reproduce_killed_and_rerun_equals_uninterrupted(tmp_path, monkeypatch):
    import importlib

    from wavejax.report import Experiment

    rep = importlib.import_module("wavejax.report._reproduce")  # the module (the package exports the function)

    state, calls = {"stop": None}, []

    def train(scale, out):  # checkpoints in its cache folder, as the real trainers
        calls.append(scale)
        res = _run(out, stop_at=state["stop"])
        return Result(rows=[row("sum", "-", float(res.history["x"].sum()))], metrics={"history": res.history})

    exp = Experiment(name="k.t", section="S", title="t", run=train, config=ScaleOnly)
    monkeypatch.setattr(rep, "discover", lambda: ([exp], {}))
    rep.reproduce(tmp_path / "ref")
    assert (tmp_path / "ref" / "cache").is_dir()  # the default cache is inside out (before: ./runs/cache)
    state["stop"] = 9
    with pytest.raises(Stop):
        rep.reproduce(tmp_path / "run")
    state["stop"] = None
    rep.reproduce(tmp_path / "run")
    for f in ("results.json", "k.t/results.json"):
        assert _strip(io.read_json(tmp_path / "run" / f)) == _strip(io.read_json(tmp_path / "ref" / f)), f
    assert (tmp_path / "run" / "k.t" / "metrics.jsonl").read_text() == \
        (tmp_path / "ref" / "k.t" / "metrics.jsonl").read_text()
    n = len(calls)
    rep.reproduce(tmp_path / "run")
    assert len(calls) == n  # cached
    monkeypatch.setattr(rep, "code_version", lambda: "0.0.0+edited")
    rep.reproduce(tmp_path / "run")
    assert len(calls) == n + 1  # an edit of the sources invalidates the cache entry
    with pytest.raises(runs.ConfigMismatch, match='scale: "quick" -> "full"'):
        rep.reproduce(tmp_path / "run", scale="full")
    from wavejax.cli import main

    with pytest.raises(SystemExit) as info:  # the command line: a non-zero exit naming the field
        main(["reproduce", "--full", "--out", str(tmp_path / "run")])
    assert 'scale: "quick" -> "full"' in str(info.value.code) and len(calls) == n + 1
