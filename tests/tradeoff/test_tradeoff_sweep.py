"""The resumable sweep end to end on the HMM task (issue 5 acceptance 1, 5, 6, 7; issue 7 acceptance 4).

One module-scoped sweep (Elman, widths 4 and 16, 2 seeds, b ∈ {2, 4, 8, 32}) is killed after its first group and
resumed; the finished points then serve the frontier checks.
"""

import json

import numpy as np
import pytest
from helpers import run_multidevice

from wavejax import io
from wavejax.tradeoff import SweepConfig, analyze, compression_shift, load_points, run_sweep
from wavejax.tradeoff._analysis import usable_points

CFG = SweepConfig(task="hmm", length=2048, n_programs=8, families=("elman",), widths=(4, 16), seeds=2,
                  bits=(2, 4, 8, 32), sparsities=(0.0,), steps=1000, batch=32, window=32, burn=4, lr=1e-2)


class Killed(Exception):
    pass


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")

    def kill(gkey):
        raise Killed(gkey)

    with pytest.raises(Killed) as info:
        run_sweep(CFG, out, on_group=kill)
    first = info.value.args[0]
    before = (out / "points.jsonl").read_bytes()
    # a SIGKILL during a write leaves a torn line: it must be skipped and never break the resume
    with open(out / "points.jsonl", "a") as f:
        f.write('{"key": "torn')
    res = run_sweep(CFG, out)
    return {"out": out, "first": first, "before": before, "res": res, "points": load_points(out)}


def test_killed_sweep_resumes_without_recomputing_or_losing(sweep):
    """Acceptance 7: the finished group is skipped, its points are kept verbatim, nothing is duplicated."""
    res, pts = sweep["res"], sweep["points"]
    assert res["skipped"] == [sweep["first"]] and len(res["trained"]) == 1
    assert (sweep["out"] / "points.jsonl").read_bytes().startswith(sweep["before"][:-1])
    keys = [p["key"] for p in io.read_jsonl(sweep["out"] / "points.jsonl")]
    assert len(keys) == len(set(keys))  # no point written twice
    n_trained = len(CFG.widths) * CFG.seeds * len(CFG.bits) * len(CFG.sparsities)
    assert sum(p["group"] != "trivial" for p in pts) == n_trained
    again = run_sweep(CFG, sweep["out"])
    assert again["trained"] == [] and len(again["skipped"]) == 2 and again["n_points"] == len(pts)
    groups = [r["group"] for r in io.read_jsonl(sweep["out"] / "curves.jsonl")]
    assert len(groups) == len(set(groups)) == 2  # a rerun never duplicates a training curve


def test_sweep_refuses_another_config_in_its_folder(sweep):
    """Issue 14 §1: another config into a sweep folder would mix its points into the frontier: refused, naming
    the differing fields (before any work), unless overwrite=True."""
    import dataclasses

    from wavejax.runs import ConfigMismatch

    other = dataclasses.replace(CFG, lr=5e-3, widths=(4,))
    with pytest.raises(ConfigMismatch, match=r"widths: \[4, 16\] -> \[4\]; lr: 0.01 -> 0.005"):
        run_sweep(other, sweep["out"])
    assert io.read_json(sweep["out"] / "wavejax-run.json")["owners"]["sweep"]["config"]["lr"] == CFG.lr


def test_hmm_best_frontier_loss_is_the_entropy_rate(sweep):
    """Acceptance 5: best frontier loss within 3 % of the exact entropy rate; trivial anchors at the high-loss end."""
    task = sweep["res"]["task"]
    pts = usable_points(sweep["points"])
    best = min(p["loss"] for p in pts)
    assert abs(best / task.floor - 1) <= 0.03, (best, task.floor)
    trivial = [p["loss"] for p in pts if p["group"] == "trivial"]
    assert min(trivial) > best and max(trivial) >= np.median([p["loss"] for p in pts])


def test_compression_moves_the_front_left(sweep):
    """Acceptance 6: at every loss both fronts reach, compressed cost <= raw N·32 cost, and strictly wherever the
    raw front is a trained model (> 1000 bits; tiny n-gram tables may be stored as they are). At the very best
    loss only the b = 32 model itself qualifies (LZMA/zstd gain a few %); elsewhere quantisation gains > 2x."""
    shift = compression_shift(sweep["points"])
    assert shift["eps"] and shift["left_everywhere"]
    raw, comp = np.array(shift["raw"]), np.array(shift["compressed"])
    big = raw > 1000
    assert np.any(big) and np.all(comp[big] < raw[big])
    assert np.all(2 * comp[big][1:] < raw[big][1:])  # eps sorted ascending: [0] is the best loss


def test_point_costs_follow_the_architecture_and_the_serialisation(sweep):
    """Every trained point against independent formulas: N = H² + 2H·d for the bias-free Elman (d = 3 symbols);
    raw N·32 and N·b; the serialised ("stored") size is 32·N at b = 32 (float32 leaves only) and 32 bits per leaf
    scale (3 leaves) + 8 or 16 bits per code otherwise; trained float32
    weights barely compress (C >= 85 % of N·32 at b = 32); 8-bit quantisation changes the loss by < 1 %."""
    pts = [p for p in sweep["points"] if p["group"] != "trivial"]
    assert len(pts) == 2 * 2 * 4
    by = {(p["width"], p["seed"], p["bits"]): p for p in pts}
    for (w, s, b), p in by.items():
        N = w * w + 2 * w * 3
        assert p["n_params"] == N and p["raw_bits"] == 32 * N and p["raw_bits_b"] == b * N
        assert p["sizes"]["raw"] == (32 * N if b == 32 else 32 * 3 + (8 if b <= 8 else 16) * N)
        if b == 32:
            assert 0.85 * 32 * N <= p["cost_bits"] <= 32 * N
        if b == 8:  # 8-bit quantisation of a trained Elman changes the loss by well under 1 %
            assert abs(p["loss"] / by[(w, s, 32)]["loss"] - 1) < 0.01


def test_torn_line_is_cut_off_before_the_next_record(sweep):
    """The line torn by the simulated kill is cut off by the resumed run's first append (io.append_jsonl), so a
    torn line can only ever be the last one: every line is a whole record (issue 22 §6)."""
    lines = (sweep["out"] / "points.jsonl").read_text().splitlines()
    assert '{"key": "torn' not in lines
    assert all(json.loads(line)["key"] for line in lines)
    assert len(io.read_jsonl(sweep["out"] / "points.jsonl")) == len(lines)


def test_analysis_runs_and_is_deterministic(sweep):
    import jax

    task = json.loads((sweep["out"] / "task.json").read_text())
    a = analyze(sweep["points"], task, key=jax.random.key(0), n_boot=20)
    b = analyze(sweep["points"], task, key=jax.random.key(0), n_boot=20)
    assert json.dumps(io.to_jsonable(a), sort_keys=True) == json.dumps(io.to_jsonable(b), sort_keys=True)
    assert a["front"] and a["mdl"]["cost_bits"] >= 0 and a["best"]["rel_gap"] is not None
    assert "loss" in a["phases"] and set(a["bootstrap"]["lo"]) >= {"tau1", "alpha", "mdl_cost_bits"}


SHARDED = """
import json, sys, tempfile
from wavejax.tradeoff import SweepConfig, run_sweep, load_points
import jax
cfg = SweepConfig(task="hmm", length=400, n_programs=5, families=("elman",), widths=(3,), seeds=4, bits=(3, 32),
                  sparsities=(0.0, 0.5), steps=100, batch=8, window=16, burn=2)
with tempfile.TemporaryDirectory() as d:
    run_sweep(cfg, d)
    pts = load_points(d)
print(json.dumps({"n_devices": jax.device_count(), "points": [(p["key"], p["loss"], p["cost_bits"]) for p in pts]}))
"""


def test_sharded_sweep_equals_single_device():
    """Issue 7 acceptance 4: 4 forced host devices (members and the evaluation axis sharded: 4 seeds x 2 b x 2 s
    = 16 ladder points, padded to 32 = 4 devices x one evaluation block) give bit-identical points to one device
    (16 points = two blocks)."""
    one = json.loads(run_multidevice(SHARDED, n_devices=1).strip().splitlines()[-1])
    four = json.loads(run_multidevice(SHARDED, n_devices=4).strip().splitlines()[-1])
    assert one["n_devices"] == 1 and four["n_devices"] == 4
    assert len(one["points"]) == len(four["points"]) > 16
    for a, b in zip(one["points"], four["points"], strict=True):
        assert a == b  # key, loss and cost, exactly


def test_bad_sweep_configs():
    with pytest.raises(ValueError, match="task"):
        SweepConfig(task="nope")
    with pytest.raises(ValueError, match="families"):
        SweepConfig(families=("gru",))
    with pytest.raises(ValueError, match="bits"):
        SweepConfig(bits=(7, 33))
    with pytest.raises(ValueError, match="burn"):
        SweepConfig(window=8, burn=8)
    with pytest.raises(ValueError, match="multiples"):
        SweepConfig(steps=150)


KILLABLE = """
import sys
from wavejax.tradeoff import SweepConfig, run_sweep
cfg = SweepConfig(task="hmm", length=400, n_programs=5, families=("elman",), widths=(2, 3, 4), seeds=2, bits=(4, 32),
                  sparsities=(0.0,), steps=100, batch=8, window=16, burn=2)
run_sweep(cfg, sys.argv[1])
"""


@pytest.mark.slow
def test_sigkilled_sweep_resumes(tmp_path):
    """Acceptance 7 with a real SIGKILL: kill the sweep process as soon as its first group is on disk, resume it
    in a new process, and check that no finished point was recomputed, lost or duplicated."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sw"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "WAVEJAX_PROGRESS": "0"}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, str(out)], env=env)
    path = out / "points.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:  # trivial anchors (4) + one group (2 seeds x 2 b) = 8 records
        if path.exists() and len(path.read_text().splitlines()) >= 8:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]
    subprocess.run([sys.executable, "-c", KILLABLE, str(out)], env=env, check=True)
    after = load_points(out)
    keys = [r["key"] for r in io.read_jsonl(path)]
    assert len(keys) == len(set(keys)) == 4 + 3 * 2 * 2
    old = {r["key"]: r for r in before}
    for r in after:
        if r["key"] in old:
            assert r == old[r["key"]]  # kept verbatim, not recomputed
    # issue 14 acceptance 2: the killed-and-resumed sweep holds exactly the points and curves of an uninterrupted one
    subprocess.run([sys.executable, "-c", KILLABLE, str(tmp_path / "ref")], env=env, check=True)
    ref = {r["key"]: r for r in load_points(tmp_path / "ref")}
    assert {r["key"]: r for r in after} == ref
    curves = [{r["group"]: r for r in io.read_jsonl(d / "curves.jsonl")} for d in (out, tmp_path / "ref")]
    assert curves[0] == curves[1] and len(io.read_jsonl(out / "curves.jsonl")) == 3  # one line per group
