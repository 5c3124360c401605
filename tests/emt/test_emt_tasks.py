"""Task decoding and the generator (emt.md §3, §7.1-7.2; issue 3 acceptance 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import CURRICULUM, EMTConfig, curriculum_batch_fn
from wavejax.tasks import NAMED_TASKS, decode_task, lag_matrices, parse_task_id, task_batch, task_table

C = 9241421688590303745  # 0x8040201008040201

# The spec's decoding tables are checked once, in tests/wave/test_wave_tasks.py (one independent test copy); here
# the EMT-side reading: task_table reads F back consistently with the lag matrices, for every named task.


@pytest.mark.parametrize("name", list(NAMED_TASKS))
def test_emt_task_table_agrees_with_lag_matrices(name):
    F = decode_task(NAMED_TASKS[name])
    assert F.shape == (64, 8)
    phi = lag_matrices(F)
    for j, (sign, lag, src) in enumerate(task_table(F, 8, 8)):
        assert phi[lag - 1][j, src] == sign and np.count_nonzero(phi[:, j, :]) == 1


def test_emt_decode_specific_slots():
    assert np.array_equal(decode_task((255, 0, 0))[:8], np.eye(8))  # F[j, j] = 1: y(t) = y(t-8)
    F = decode_task((C, 0, 0))
    assert [int(np.flatnonzero(F[:, j])[0]) for j in range(8)] == [9 * j for j in range(8)]
    assert set(NAMED_TASKS.values()) == {(255, 0, 0), (C, 0, 0), (C, 262676, 189), (C, 38637, 145)}


@pytest.mark.parametrize("bad, match", [
    ((255, 0), "3-integer"), ((255, 0, 0, 0), "3-integer"), ((254, 0, 0), r"task_id\[0\]=254 must set exactly d=8"),
    ((-1, 0, 0), r"task_id\[0\] must be >= 0"), ((255, 0, 256), r"task_id\[2\]=256 has sign bits"),
    ((255.0, 0, 0), r"task_id\[0\] must be an integer"), ((True, 0, 0), r"task_id\[0\] must be an integer"),
    ((1 << 64, 0, 0), r"task_id\[0\]=\d+ has bits beyond"), ((255, 56, 0), r"task_id\[1\]=56: base-8 digit 7"),
    ((255, 8 * 8 * 8 * 8 * 7, 0), r"task_id\[1\]=28672: base-8 digit 7 at position 4"),
    ("nope", "unknown task_id 'nope'"), ("1,2", "3-integer"),
])
def test_emt_malformed_ids_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_task_id(bad)
    with pytest.raises(ValueError, match=match):
        EMTConfig(task=bad)  # the EMT config checks its task with the one parser


def test_parse_task_id_strings():
    assert parse_task_id("repeat_copy") == (255, 0, 0)
    assert parse_task_id(f"{C}, 262676, 189") == (C, 262676, 189)
    assert parse_task_id("0xff,0,0") == (255, 0, 0)
    with pytest.raises(ValueError, match="comma"):
        parse_task_id("a,b,c")


def _reference_targets(F, u, horizon):
    """Direct window recursion y(t) = F^T vec(w(t)) in NumPy (independent of the jitted generator)."""
    s, d = u.shape
    hist = list(u)
    for _ in range(horizon):
        w = np.concatenate(hist[-s:])
        hist.append(F.T @ w)
    return np.stack(hist[s:])


@pytest.mark.parametrize("name", list(NAMED_TASKS))
def test_emt_generator(name, key):
    F = decode_task(NAMED_TASKS[name])
    x, y, mask = task_batch(key, lag_matrices(F), horizon=30, batch=5, dtype=jnp.float64)
    x, y, mask = np.asarray(x), np.asarray(y), np.asarray(mask)
    assert x.shape == y.shape == (5, 38, 8) and mask.shape == (38,)
    assert set(np.unique(x[:, :8])) == {-1.0, 1.0} and (x[:, 8:] == 0).all() and (y[:, :8] == 0).all()
    assert np.array_equal(mask, np.arange(38) >= 8)
    for b in range(5):
        assert np.array_equal(y[b, 8:], _reference_targets(F, x[b, :8], 30))
    if name == "repeat_copy":
        k = np.arange(30)
        assert np.array_equal(y[:, 8 + k], x[:, k % 8])


def test_emt_curriculum_batch_fn(key):
    phi = lag_matrices(decode_task("compose_copy"))
    fn = curriculum_batch_fn(phi, batch=4)
    shapes = set()
    for level, hz in enumerate(CURRICULUM):
        x, y, mask = jax.jit(fn)(key, jnp.int32(level))  # traced level: one program for all levels
        shapes.add(x.shape)
        assert np.array_equal(np.asarray(mask), (np.arange(108) >= 8) & (np.arange(108) < 8 + hz))
    assert shapes == {(4, 108, 8)}
    # the swept-task form gives the same batch as the closed-over one
    x2, y2, _ = curriculum_batch_fn(None, batch=4)(key, 2, jnp.asarray(phi, jnp.float32))
    x1, y1, _ = fn(key, 2)
    assert np.array_equal(np.asarray(x1), np.asarray(x2)) and np.array_equal(np.asarray(y1), np.asarray(y2))


def test_emt_generator_validation(key):
    F = decode_task((255, 0, 0))
    with pytest.raises(ValueError, match="phi"):
        task_batch(key, lag_matrices(F)[:, :-1], horizon=10, batch=2)
    with pytest.raises(ValueError, match="horizon must be"):
        task_batch(key, lag_matrices(F), horizon=0, batch=2)
    with pytest.raises(ValueError, match="batch must be"):
        task_batch(key, lag_matrices(F), horizon=3, batch=0)
    with pytest.raises(ValueError, match="horizons"):
        curriculum_batch_fn(None, batch=2, horizons=(20, 10))
    with pytest.raises(ValueError, match="batch"):
        curriculum_batch_fn(None, batch=0)
