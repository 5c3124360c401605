"""The benchmark runner's merge, table and README logic, and the scaling fit (issue 7; nothing is timed here)."""

import json
import math
import re
import sys
from pathlib import Path

import pytest
from helpers import fake_torch

from wavejax import _bench

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _row(case, t_jax, t_base, target=None):
    return {"case": case, "wavejax_s": t_jax, "baseline": "numpy loop", "baseline_s": t_base,
            "ratio": t_base / t_jax, "ratio_best": 1.1 * t_base / t_jax, "target": target}


def _bench_result(*rows, scaling=None):
    return {"benchmark": "x", "machine": {"jax": "0.0"}, "rows": list(rows), "scaling": scaling}


MACHINE = {"cpu": "Test CPU", "cpu_count": 2, "platform": "cpu", "device": "cpu", "jax": "9.9", "jaxlib": "9.9",
           "date": "2026-01-01 00:00:00"}


def test_merge_keeps_old_replaces_rerun_and_tracks_failures():
    prev = {"benchmarks": {"bench_a": {"v": 1}, "bench_b": {"v": 1}}, "failures": {"bench_b": "exit code 1",
                                                                               "bench_c": "exit code 2"}}
    merged = _bench.merge_results(prev, {"bench_b": {"v": 2}}, {"bench_a": "exit code 3"}, MACHINE)
    assert merged["benchmarks"] == {"bench_a": {"v": 1}, "bench_b": {"v": 2}}  # a kept (stale), b replaced
    assert merged["failures"] == {"bench_a": "exit code 3", "bench_c": "exit code 2"}  # b's old failure cleared
    assert merged["machine"] == MACHINE
    assert _bench.merge_results(None, {}, {}, MACHINE) == {"machine": MACHINE, "benchmarks": {}, "failures": {}}


def test_table_lists_rows_targets_scaling_and_failures():
    merged = _bench.merge_results(None, {
        "bench_wave": _bench_result(_row("B=1", 0.001, 0.02, target=15.0), _row("B=16", 0.001, 0.005, target=15.0),
                                    _row("ref", 0.002, 0.004), {**_row("detail", 1.0, 1.0), "table": False},
                                    scaling={"x": "batch B", "exponents": {"wavejax": 0.52}, "figure": "w.png"}),
    }, {"bench_gsemm": "exit code 1"}, MACHINE)
    table = _bench.bench_table(merged)
    lines = table.splitlines()
    assert lines[0].startswith("| benchmark | case |") and len(lines[0].split("|")) == len(lines[1].split("|"))
    body = [ln for ln in lines if ln.startswith("| wave |")]
    assert len(body) == 3
    assert "20.0x" in body[0] and ">= 15x ✓" in body[0]
    assert "5.0x" in body[1] and ">= 15x ✗" in body[1]
    assert body[2].rstrip().endswith("| — |")
    assert "detail" not in table  # rows marked "table": False stay in the JSON
    assert "wavejax 0.52" in table and "benchmarks/results/w.png" in table
    assert "Test CPU (2 cores" in table and "jax 9.9" in table
    assert "bench_gsemm (exit code 1)" in table
    assert "Fraction of the machine's peak" not in table  # no row has a FLOP count


def test_table_gives_both_sides_fraction_of_peak():
    """A row with a FLOP count gets a line below the table: wavejax's rate over the peak, against a target when the
    row has one, and the baseline's rate on the same FLOPs."""
    peak_row = {**_row("28x28 h=64", 2.0, 1.6, target=1.5), "gflop": 300.0, "peak_gflop_per_s": 200.0,
                "fraction_of_peak": 300.0 / 2.0 / 200.0, "peak_target": 0.5}
    table = _bench.bench_table(_bench.merge_results(None, {"bench_gan": _bench_result(peak_row)}, {}, MACHINE))
    line = next(ln for ln in table.splitlines() if ln.startswith("- gan 28x28 h=64"))
    assert "300.0 GFLOP per call; wavejax 150 GFLOP/s = **75%** of 200 GFLOP/s (target >= 50% ✓)" in line
    assert line.endswith("numpy loop 94%")  # 300 GFLOP in 1.6 s is 187.5 GFLOP/s


def test_update_readme_between_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    assert not _bench.update_readme_table(readme, "TABLE")  # no README: printed, nothing written
    assert "TABLE" in capsys.readouterr().out and not readme.exists()
    readme.write_text("intro\n")
    assert not _bench.update_readme_table(readme, "TABLE")  # no markers: printed, file untouched
    assert readme.read_text() == "intro\n"
    readme.write_text(f"intro\n{_bench.START}\nold table\n{_bench.END}\noutro\n")
    assert _bench.update_readme_table(readme, "| new |")
    assert readme.read_text() == f"intro\n{_bench.START}\n| new |\n{_bench.END}\noutro\n"
    assert _bench.update_readme_table(readme, "| new |")  # idempotent
    assert readme.read_text() == f"intro\n{_bench.START}\n| new |\n{_bench.END}\noutro\n"


FAKE_SCRIPT = """
import json, pathlib, sys
quick = "--quick" in sys.argv
out = pathlib.Path(sys.argv[sys.argv.index("--out") + 1])
row = {row!r}
row["quick"] = quick
out.mkdir(parents=True, exist_ok=True)
(out / "bench_fake.json").write_text(json.dumps({{"benchmark": "bench_fake", "rows": [row]}}))
print("fake: 30.0x")
"""


def _fake_repo(root):
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "benchmarks" / "bench_fake.py").write_text(FAKE_SCRIPT.format(row=_row("B=1", 0.001, 0.03, target=15.0)))
    (root / "benchmarks" / "bench_broken.py").write_text("raise SystemExit(3)\n")
    (root / "benchmarks" / "bench_silent.py").write_text("print('no json')\n")
    (root / "README.md").write_text(f"# x\n{_bench.START}\n{_bench.END}\n")


def test_run_benchmarks_end_to_end_with_fake_scripts(tmp_path, monkeypatch):
    """Runs fake bench scripts (no timing): merged JSON per machine, failures recorded, README rewritten only by a
    full --update-readme run from the repository root."""
    _fake_repo(tmp_path)
    res = tmp_path / "benchmarks" / "results"
    # results written earlier by running a script directly: merged when measured on this machine
    here = _bench.machine_info()
    same = {k: here[k] for k in ("cpu_count", "platform", "device")}
    (res / "bench_direct.json").write_text(json.dumps({"machine": same, "rows": [_row("d", 1.0, 2.0)]}))
    (res / "bench_elsewhere.json").write_text(json.dumps({"machine": {**same, "cpu_count": 999}, "rows": []}))
    monkeypatch.setenv("WAVEJAX_MACHINE", "Test Box")
    monkeypatch.chdir(tmp_path)
    merged = _bench.run_benchmarks(tmp_path, update_readme=True)
    assert set(merged["benchmarks"]) == {"bench_fake", "bench_direct"}
    assert merged["benchmarks"]["bench_fake"]["rows"][0]["quick"] is False
    assert merged["failures"] == {"bench_broken": "exit code 3", "bench_silent": "wrote no bench_silent.json"}
    stored = json.loads((res / "test-box.json").read_text())
    assert stored["machine"]["cpu_count"] >= 1 and stored["machine"]["jax"] and stored["machine"]["device"]
    readme = (tmp_path / "README.md").read_text()
    assert "| fake | B=1 |" in readme and "30.0x" in readme and ">= 15x ✓" in readme
    # --only reruns one benchmark and keeps the other results; the table can be regenerated without running
    (tmp_path / "README.md").write_text(f"{_bench.START}\n{_bench.END}\n")
    table = _bench.regenerate_table(tmp_path)
    assert "| fake | B=1 |" in table and "| fake | B=1 |" in (tmp_path / "README.md").read_text()
    with pytest.raises(ValueError, match="only"):
        _bench.run_benchmarks(tmp_path, only=("nothing",))


def _snapshot(root):
    return {p: p.read_bytes() for p in [root / "README.md", *sorted((root / "benchmarks" / "results").iterdir())]}


def test_bench_quick_or_elsewhere_never_touches_readme_or_committed_results(tmp_path, monkeypatch, capsys):
    """Issue 14 item 3: `cd $(mktemp -d) && wavejax bench --only wave --quick` rewrote README.md and
    benchmarks/results/ of the checkout. Now it writes runs/bench-<timestamp>/ in the working directory; only a full
    --update-readme run from the repository root records numbers there."""
    from wavejax.cli import main

    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    _fake_repo(repo)
    (repo / "benchmarks" / "results" / "bench_fake.json").write_text('{"committed": true}')
    elsewhere.mkdir()
    before = _snapshot(repo)
    monkeypatch.setenv("WAVEJAX_MACHINE", "Test Box")
    monkeypatch.chdir(elsewhere)
    main(["bench", "--only", "fake", "--quick", "--root", str(repo)])
    assert _snapshot(repo) == before  # the checkout is untouched
    (out,) = (elsewhere / "runs").glob("bench-*")
    assert json.loads((out / "bench_fake.json").read_text())["rows"][0]["quick"] is True
    assert "| fake | B=1 |" in (out / "table.md").read_text() and (out / "test-box.json").exists()
    assert "README.md and benchmarks/results/ untouched" in capsys.readouterr().out
    for argv, match in [(["--quick", "--update-readme"], "cannot be combined with quick"),
                        (["--update-readme"], "must run from the repository root"),
                        (["--out", str(repo / "benchmarks" / "results")], "committed")]:
        with pytest.raises(SystemExit, match=match):
            main(["bench", "--only", "fake", "--root", str(repo), *argv])
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit, match="cannot be combined with quick"):
        main(["bench", "--only", "fake", "--quick", "--update-readme"])
    assert _snapshot(repo) == before
    # the benchmark scripts themselves refuse --quick into the committed folder and default to runs/bench-*
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH_DIR))
    monkeypatch.setattr(_common, "RESULTS", _common.RESULTS)  # restored after the test
    p = _common.bench_parser("bench_x", "", "")
    with pytest.raises(SystemExit, match="never go into the committed"):
        p.parse_args(["--quick", "--out", str(_common.COMMITTED)])
    a = p.parse_args(["--quick"])
    assert a.out.parent == repo / "runs" and a.out.name.startswith("bench-") and _common.RESULTS == a.out
    assert not a.out.exists()  # created on first write only (worker subprocesses parse too)


def test_fit_exponent_and_scaling_plot(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH_DIR))
    sizes = [1, 4, 16, 64, 256]
    assert _common.fit_exponent(sizes, [3e-3 * x**0.5 for x in sizes]) == pytest.approx(0.5, abs=1e-12)
    assert _common.fit_exponent(sizes, [2.0 * x for x in sizes]) == pytest.approx(1.0, abs=1e-12)
    assert math.isnan(_common.fit_exponent([8], [1.0]))
    monkeypatch.setattr(_common, "RESULTS", tmp_path)
    rec = _common.scaling_plot("bench_t", sizes, {"a": [1e-3 * x for x in sizes], "b": [1e-3] * 4 + [float("nan")]},
                               xlabel="batch B")
    assert rec["exponents"]["a"] == pytest.approx(1.0) and rec["exponents"]["b"] == pytest.approx(0.0, abs=1e-12)
    assert rec["figure"] == "bench_t_scaling.png" and (tmp_path / "bench_t_scaling.png").stat().st_size > 1000
    json.dumps(rec)  # storable in the benchmark's JSON


def _bench_sources():
    """Every benchmark module that writes rows: ``bench_*.py`` and the 28x28 GAN rows (``_gan28.py``)."""
    return sorted([*BENCH_DIR.glob("bench_*.py"), BENCH_DIR / "_gan28.py"])


def _calls(tree, names):
    import ast

    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, "id", getattr(n.func, "attr", None)) in names]


def test_every_bench_row_records_its_baseline_device():
    """Issue 19 item 4: each result row says where its baseline ran (``baseline_device``), passed explicitly at
    every ``ratio_row`` / ``row`` call (a wrapper passing ``**kw`` through excepted) and in every hand-built row dict
    (a dict with a ``"baseline"`` key)."""
    import ast

    seen = 0
    for path in _bench_sources():
        tree = ast.parse(path.read_text())
        for call in _calls(tree, {"ratio_row", "row"}):
            seen += 1
            passthrough = any(k.arg is None and getattr(k.value, "id", "") == "kw" for k in call.keywords)
            assert passthrough or "baseline_device" in {k.arg for k in call.keywords}, f"{path.name}:{call.lineno}"
        for d in (n for n in ast.walk(tree) if isinstance(n, ast.Dict)):
            keys = {k.value for k in d.keys if isinstance(k, ast.Constant)}
            assert "baseline" not in keys or "baseline_device" in keys, f"{path.name}:{d.lineno}"
    assert seen >= 25  # the walk found the row calls (wave, gsemm, tradeoff, gan, gan28, train)


def test_torch_baselines_go_through_torch_device_and_sync():
    """Every benchmark with a PyTorch baseline builds it on ``torch_device`` (each baseline object gets
    ``device=``) and waits for queued CUDA work (``torch_sync``) in its timed calls."""
    import ast

    torch_benches = [p for p in _bench_sources() if "baselines.torch_" in p.read_text()
                     or "import torch" in p.read_text()]
    assert {p.name for p in torch_benches} >= {"bench_wave.py", "bench_gan.py", "_gan28.py", "bench_train.py"}
    for path in torch_benches:
        tree = ast.parse(path.read_text())
        called = {getattr(c.func, "id", getattr(c.func, "attr", None)) for c in _calls(tree, {"torch_device",
                                                                                            "torch_sync",
                                                                                            "torch_side",
                                                                                            "torch_runner"})}
        assert called & {"torch_device", "torch_side"}, path.name  # bench_gan builds through _gan28.torch_side
        for call in _calls(tree, {"TorchSharedGAN", "TorchTrainer"}):
            assert "device" in {k.arg for k in call.keywords}, f"{path.name}:{call.lineno}"
        if "torch_side" not in called:
            assert "torch_sync" in called, path.name


def test_device_labels(monkeypatch):
    sys.path.insert(0, str(BENCH_DIR))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH_DIR))

    assert _common.torch_device_label(fake_torch()) == "cpu" and _common.torch_device_label(None) == "cpu"
    assert _common.torch_device_label(fake_torch(gpu=True)) == "cuda:NVIDIA H100 #0"
    import jax

    assert _common.jax_device_label() == ("cpu" if jax.default_backend() == "cpu"
                                          else f"{jax.default_backend()}:{jax.devices()[0].device_kind}")
    assert _common.on_device() == (jax.default_backend() in ("gpu", "tpu"))


def _import_bench(name):
    """Import a benchmark module without letting its ``pin_threads`` keep this test process on fewer CPUs."""
    import importlib
    import os

    aff = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    sys.path.insert(0, str(BENCH_DIR))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCH_DIR))
        if aff is not None:
            os.sched_setaffinity(0, aff)


def test_torch_baselines_run_on_torch_device(monkeypatch):
    """With PyTorch installed (the ``bench`` extra): the GAN and training baselines are built through
    ``torch_device`` (patched here to count its calls) and their timed calls run."""
    torch = pytest.importorskip("torch")
    import numpy as np

    gan28, train = _import_bench("_gan28"), _import_bench("bench_train")
    calls = []
    for mod in (gan28, train):
        monkeypatch.setattr(mod, "torch_device", lambda t: calls.append(t) or "cpu")
    x = np.random.default_rng(0).uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    tg, tdata, step = gan28.torch_side(8, 8, 4, x)
    d_loss, g_loss = step()
    assert tg.device == "cpu" and tdata.device.type == "cpu" and np.isfinite(d_loss) and np.isfinite(g_loss)
    assert np.isfinite(train.torch_runner(2, 1, batch=4)())
    assert calls == [torch, torch]


_STEADY_MALLOC_PROBE = """
import ctypes, os, resource, statistics, sys, tempfile
sys.path.insert(0, sys.argv[1])
import _common
ok = _common.steady_malloc()
import jax, jax.numpy as jnp
f = jax.jit(lambda h, g: h @ g)  # a (1024, 8000) float32 output: 32.8 MB, allocated by an XLA worker thread
h, g = jnp.ones((1024, 64)), jnp.ones((64, 8000))
faults = []
for _ in range(40):
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    f(h, g).block_until_ready()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
path = os.path.join(tempfile.mkdtemp(), "malloc_info.xml")
fp = ctypes.c_void_p(libc.fopen(path.encode(), b"w"))
libc.malloc_info(0, fp)
libc.fclose(fp)
print(ok, open(path).read().count("<heap nr="), statistics.median(faults[10:]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt / malloc_info")
def test_steady_malloc_one_arena_and_no_page_faults_per_call():
    """Issue 20 item 5: a 32 MB XLA output allocated on a worker thread's own glibc arena got a fresh heap every call
    (~8,000 minor faults per call). After steady_malloc() every thread shares one arena and the block is reused."""
    import os
    import platform
    import subprocess

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    res = subprocess.run([sys.executable, "-c", _STEADY_MALLOC_PROBE, str(BENCH_DIR)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "JAX_PLATFORMS": "cpu"})
    assert res.returncode == 0, res.stderr[-2000:]
    ok, arenas, faults = res.stdout.split()[-3:]
    assert ok == "True"
    assert int(arenas) == 1  # without it: one arena per XLA thread (16 on the 2-core machine)
    assert float(faults) < 1000  # a fresh 32.8 MB block faults ~8,000 pages; a reused one none


def test_gan28_conv_flops_agree_with_xla_cost_analysis():
    """The hand count of an outer step's convolution FLOPs (``_gan28.conv_flops``) against XLA's count of the traced
    step: XLA counts the same convolutions plus elementwise work, and freezing ``gshared`` (``conv2``) removes
    exactly its filter gradient. The committed 28x28 rows' ``gflop`` (the fraction-of-peak numerator) agree too."""
    import jax
    import jax.numpy as jnp

    from wavejax.gan import GANConfig, create_states, outer_step

    gan28 = _import_bench("_gan28")
    # by hand: 28 at stride 2 (pad 1 before): 12 inner outputs see 5 taps, the first 4, the last 3 -> 67
    assert [gan28._valid_taps(n, s) for n, s in ((12, 1), (28, 1), (28, 2), (7, 2), (4, 2))] == [54, 134, 67, 16, 7]
    flops = {}
    for sharing in ("conv2", "none"):
        cfg = GANConfig(hidden=8, image_size=12, batch=8, sharing=sharing, data="digits", steps=2)
        sg, sd = create_states(jax.random.key(0), cfg)
        lowered = jax.jit(outer_step, static_argnames="cfg").lower(sg, sd, jax.random.key(0),
                                                                  jnp.zeros((16, 12, 12, 1)), cfg=cfg)
        flops[sharing] = lowered.cost_analysis()["flops"]
        hand = gan28.conv_flops(8, 8, 12, shared=sharing == "conv2")
        assert hand < flops[sharing] < 1.08 * hand, sharing  # + BatchNorm, activations, RMSProp: 6.5 % at h = 8
    gshared_filter_grad = 2 * 8 * 8 * 8 * 54**2  # 2 B h h T^2 at 12x12, stride 1
    assert flops["none"] - flops["conv2"] == pytest.approx(gshared_filter_grad, rel=0.01)  # + its RMSProp update
    rows = json.loads((BENCH_DIR / "results" / "bench_gan.json").read_text())["rows"]
    checked = 0
    for row in rows:
        if "gflop" in row:
            h, b = (int(v) for v in re.match(r"28x28 h=(\d+) B=(\d+)", row["case"]).groups())
            assert 1.0 < row["gflop"] * 1e9 / gan28.conv_flops(h, b) < 1.04, row["case"]
            checked += 1
    assert checked >= 2
