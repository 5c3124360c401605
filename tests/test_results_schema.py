"""Issue #11 acceptance 2 and 4 across the five model CLIs: every command's ``--help`` lists every field of its
config (nested ones as ``--train.lr``), ``--preset full`` parses for every command, and one command of each CLI writes
a ``results.json`` that validates against the one schema of :mod:`wavejax.report._results`."""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from wavejax._cli import parse_command
from wavejax.cli import MODEL_CLIS, main
from wavejax.report._experiment import presets
from wavejax.report._results import SCHEMA, validate_results

COMMANDS = [(model, name, cls) for model, mod in MODEL_CLIS.items()
            for name, (cls, _) in importlib.import_module(mod).commands().items()]
IDS = [f"{m}-{n}" for m, n, _ in COMMANDS]


def _flags(cls: type, prefix: str = "") -> list[str]:
    """tyro's flag for every leaf field of a (nested) config dataclass."""
    out = []
    for f in dataclasses.fields(cls):
        name = prefix + f.name.replace("_", "-")
        if dataclasses.is_dataclass(f.type) or (isinstance(f.type, str) and _nested(cls, f)):
            out += _flags(_nested(cls, f), name + ".")
        else:
            out.append("--" + name)
    return out


def _nested(cls: type, f: dataclasses.Field):
    import typing

    t = typing.get_type_hints(cls)[f.name]
    return t if dataclasses.is_dataclass(t) else None


def _required_args(cls: type) -> list[str]:
    args = []
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            args += ["--" + f.name.replace("_", "-"), "x"]
    return args


@pytest.mark.parametrize("model, name, cls", COMMANDS, ids=IDS)
def test_help_lists_every_field(model, name, cls, capsys):
    with pytest.raises(SystemExit) as e:
        main([model, name, "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    missing = [f for f in _flags(cls) + ["--out"] if f not in text]
    assert not missing, f"wavejax {model} {name} --help lacks {missing}"


@pytest.mark.parametrize("model, name, cls", COMMANDS, ids=IDS)
def test_preset_full_parses(model, name, cls):
    assert "full" in presets(cls), f"{cls.__name__} has no full() preset"
    cfg, out = parse_command(cls, ["--preset", "full", *_required_args(cls), "--out", "o"], prog=f"{model} {name}")
    full = cls.full()
    changed = {f.name for f in dataclasses.fields(cls) if getattr(cfg, f.name) != getattr(full, f.name)}
    assert changed <= {f.name for f in dataclasses.fields(cls) if "--" + f.name.replace("_", "-")
                       in _required_args(cls)} and out == Path("o")


def _check(out: Path, command: str) -> dict:
    d = json.loads((out / "results.json").read_text())
    validate_results(d)
    assert d["schema"] == SCHEMA and d["command"] == command
    for fig in d["figures"]:
        assert (out / fig).stat().st_size > 1000, fig  # a real PNG, not an empty file
    return d


def test_five_clis_write_the_one_schema(tmp_path):
    main(["wave", "rollout", "--horizon", "8", "--batch", "2", "--out", str(tmp_path / "wave")])
    d = _check(tmp_path / "wave", "wavejax wave rollout")
    assert d["config"]["horizon"] == 8 and d["metrics"]["sign_accuracy"] == 1.0
    main(["gsemm", "retrieve", "--n-features", "40", "--n-memories", "4", "--t1", "60", "--solver.solver",
          "euler_scan", "--out", str(tmp_path / "gsemm")])
    d = _check(tmp_path / "gsemm", "wavejax gsemm retrieve")
    assert d["metrics"]["sequence"][:3] == [0, 1, 2]
    main(["emt", "train", "--hidden", "16", "--train.steps", "20", "--batch", "4", "--train.ckpt-every", "0",
          "--test-batches", "1", "--out", str(tmp_path / "emt")])
    d = _check(tmp_path / "emt", "wavejax emt train")
    assert d["config"]["train"]["steps"] == 20 and len(d["metrics"]["test_accuracy"]) == 1
    assert d["figures"] == ["training.png"]  # issue 14 item 10: emt train wrote no figure
    main(["tradeoff", "sweep", "--task", "hmm", "--families", "elman", "--widths", "2", "--seeds", "1", "--bits",
          "32", "--sparsities", "0.0", "--steps", "20", "--length", "200", "--out", str(tmp_path / "tradeoff")])
    d = _check(tmp_path / "tradeoff", "wavejax tradeoff sweep")
    assert d["config"]["widths"] == [2] and d["figures"] == ["points.png"]  # issue 14 item 10: no figure before
    k = jax.random.split(jax.random.key(0), 3)
    for nm, kk in zip(("g", "d", "i"), k, strict=True):
        np.save(tmp_path / f"{nm}.npy", np.asarray(0.02 * jax.random.normal(kk, (5, 5, 4, 4))))
    main(["gan", "similarity", "--g-kernel", str(tmp_path / "g.npy"), "--d-kernel", str(tmp_path / "d.npy"),
          "--d-independent", str(tmp_path / "i.npy"), "--out", str(tmp_path / "gan")])
    assert _check(tmp_path / "gan", "wavejax gan similarity")["figures"] == ["best_match_hist.png"]
