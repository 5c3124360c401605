"""The shared CLI runner (wavejax._cli), the results schema and the precision switch."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from wavejax import _cli
from wavejax.precision import require_dtype, x64_scope
from wavejax.report import Result, row
from wavejax.report._results import SCHEMA, result_from_record, results_record, validate_results


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Inner:
    lr: float = 1e-3  # learning rate


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Cfg:
    """A toy command."""

    n: int = 3  # a size
    name: str = "a"  # a label
    inner: _Inner = _Inner()  # a nested config

    @classmethod
    def quick(cls) -> _Cfg:
        return cls(n=5)

    @classmethod
    def full(cls) -> _Cfg:
        return cls(n=500, inner=_Inner(lr=0.5))


def _fn(cfg: _Cfg, out: Path) -> Result:
    return Result(rows=[row("n squared", str(cfg.n ** 2), float(cfg.n ** 2), True)], metrics={"n": cfg.n,
                                                                                            "arr": np.arange(2)})


def test_preset_seeds_defaults_and_flags_override(tmp_path):
    cfg, out = _cli.parse_command(_Cfg, ["--preset", "full", "--n", "7", "--out", str(tmp_path)], prog="t")
    assert cfg == _Cfg(n=7, inner=_Inner(lr=0.5)) and out == tmp_path
    cfg, _ = _cli.parse_command(_Cfg, ["--preset=quick", "--inner.lr", "0.25"], prog="t")
    assert cfg == _Cfg(n=5, inner=_Inner(lr=0.25))
    with pytest.raises(SystemExit, match="--preset must be one of quick, full; got 'huge'"):
        _cli.parse_command(_Cfg, ["--preset", "huge"], prog="t")


def test_help_lists_every_field(capsys):
    with pytest.raises(SystemExit):
        _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _fn)}, ["go", "--help"])
    text = capsys.readouterr().out
    for flag in ("--n", "--name", "--inner.lr", "--out", "--preset"):
        assert flag in text


def test_runner_writes_the_one_schema(tmp_path):
    res = _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _fn)}, ["go", "--n", "4", "--out", str(tmp_path)])
    d = json.loads((tmp_path / "results.json").read_text())
    validate_results(d)
    assert d["schema"] == SCHEMA and d["command"] == "wavejax toy go"
    assert d["config"] == {"n": 4, "name": "a", "inner": {"lr": 1e-3}}
    assert d["metrics"] == {"n": 4, "arr": [0, 1]}
    assert d["claims"] == [{"quantity": "n squared", "reference": "16", "measured": 16.0, "holds": True, "note": ""}]
    assert result_from_record(d).rows == res.rows


@pytest.mark.parametrize("bad, msg", [
    ({"schema": "other"}, "schema must be"),
    ({"claims": [{"quantity": "q", "reference": "r", "measured": 1, "holds": "yes", "note": ""}]}, "holds must be"),
    ({"claims": [{"quantity": "q"}]}, r"claims\[0\] needs"),
    ({"timings": {}}, "timings.seconds"),
    ({"figures": [1]}, "figures must be"),
])
def test_validate_results_names_the_bad_key(bad, msg):
    d = results_record(Result(rows=[row("q", "1", 1.0)]), command="c") | bad
    with pytest.raises(ValueError, match=msg):
        validate_results(d)
    d = results_record(Result(rows=[]), command="c")
    del d["metrics"]
    with pytest.raises(ValueError, match="missing key 'metrics'"):
        validate_results(d)


def test_require_dtype_names_the_argument():
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="precision=float64 needs JAX's 64-bit mode"):
            require_dtype(np.float64, "precision")
        with x64_scope():
            assert require_dtype(np.float64) == np.float64
    with pytest.raises(TypeError, match="dtype must be a NumPy/JAX dtype"):
        require_dtype("not-a-dtype")


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Required:
    """A command with a required field."""

    run: Path  # a folder to read
    k: int = 1  # a count


def test_required_fields_stay_required(tmp_path, capsys):
    cfg, _ = _cli.parse_command(_Required, ["--run", str(tmp_path)], prog="t")
    assert cfg == _Required(run=tmp_path)
    with pytest.raises(SystemExit):
        _cli.parse_command(_Required, [], prog="t")
    with pytest.raises(SystemExit):
        _cli.run_subcommands("wavejax toy", {"go": (_Cfg, _fn), "read": (_Required, _fn)}, ["--help"])
    assert "read" in capsys.readouterr().out
