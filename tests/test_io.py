"""Atomic writes, JSONL logs, config hashes and orbax checkpoints."""

import dataclasses
import json
import math

import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import io


def test_atomic_json_roundtrip_converts_arrays_and_nan(tmp_path):
    p = io.atomic_write_json(tmp_path / "a" / "r.json", {"x": jnp.arange(3), "y": np.float32(1.5), "z": math.nan,
                                                         "c": np.array([1 + 2j])})
    d = json.loads(p.read_text())
    assert d == {"x": [0, 1, 2], "y": 1.5, "z": None, "c": {"real": [1.0], "imag": [2.0]}}
    assert [f.name for f in p.parent.iterdir()] == ["r.json"]  # no temp file left behind


def test_jsonl_ignores_torn_last_line(tmp_path):
    p = tmp_path / "m.jsonl"
    io.append_jsonl(p, {"step": 1})
    io.append_jsonl(p, {"step": 2})
    with open(p, "a") as f:
        f.write('{"step": 3, "lo')  # a kill in the middle of a write
    assert [r["step"] for r in io.read_jsonl(p)] == [1, 2]
    assert io.read_jsonl(tmp_path / "missing.jsonl") == []


def test_config_hash_is_stable_and_sensitive():
    @dataclasses.dataclass(frozen=True)
    class C:
        a: int = 1
        b: tuple = (1, 2)

    assert io.config_hash(C()) == io.config_hash(C())
    assert io.config_hash(C()) != io.config_hash(C(a=2))


def test_checkpoint_roundtrip_and_latest(tmp_path):
    tree = {"w": jnp.arange(6.0).reshape(2, 3), "step": jnp.array(7)}
    assert io.restore_checkpoint(tmp_path / "ck", tree) is None
    io.save_checkpoint(tmp_path / "ck", 10, tree)
    io.save_checkpoint(tmp_path / "ck", 20, {"w": tree["w"] + 1, "step": jnp.array(8)})
    assert io.latest_step(tmp_path / "ck") == 20
    step, got = io.restore_checkpoint(tmp_path / "ck", tree)
    assert step == 20
    np.testing.assert_array_equal(got["w"], tree["w"] + 1)


def test_read_json_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        io.read_json(tmp_path / "nope.json")


def test_append_after_torn_line_keeps_the_new_record(tmp_path):
    from wavejax.io import append_jsonl, read_jsonl

    p = tmp_path / "log.jsonl"
    append_jsonl(p, {"a": 1})
    with open(p, "a") as f:
        f.write('{"b": 2')  # a kill mid-write
    append_jsonl(p, {"c": 3})
    assert read_jsonl(p) == [{"a": 1}, {"c": 3}]


def test_atomic_writes_get_plain_file_permissions(tmp_path):
    """Results are readable like any file the user writes (0666 minus the umask), not 0600 like the temp file."""
    import os
    import stat

    from wavejax._atomic import _UMASK

    p = io.atomic_write_json(tmp_path / "r.json", {"a": 1})
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~_UMASK
