"""Task decoding and the generator (emt.md §3, §7.1-7.2; issue 3 acceptance 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.emt import CURRICULUM, TASKS, curriculum_batch_fn, decode_task, make_batch, task_id, task_table
from wavejax.emt.training import task_of
from wavejax.wave import binary_vb_task as wave_binary_vb_task

C = 9241421688590303745  # 0x8040201008040201

# emt.md §3 table, "j <- (sign, lag, src)" (dims 0-based), typed in from the spec text
SPEC = {
    (255, 0, 0): [(1, 8, j) for j in range(8)],
    (C, 0, 0): [(1, 8 - j, j) for j in range(8)],
    (C, 262676, 189): [(-1, 4, 4), (1, 5, 3), (-1, 6, 2), (-1, 8, 0), (-1, 7, 1), (-1, 3, 5), (1, 1, 7), (-1, 2, 6)],
    (C, 38637, 145): [(-1, 3, 5), (1, 2, 6), (1, 8, 0), (1, 7, 1), (-1, 6, 2), (1, 5, 3), (1, 4, 4), (-1, 1, 7)],
}


@pytest.mark.parametrize("tid", list(SPEC))
def test_emt_decode_matches_spec_tables(tid):
    F = decode_task(tid)
    assert F.shape == (64, 8)
    assert (np.count_nonzero(F, axis=0) == 1).all() and set(np.unique(F)) <= {-1.0, 0.0, 1.0}
    assert task_table(F, 8, 8) == SPEC[tid]
    # one implementation with wave: the lag matrices are F read per lag
    phi = wave_binary_vb_task(tid)
    for j, (sign, lag, src) in enumerate(SPEC[tid]):
        assert phi[lag - 1][j, src] == sign and np.count_nonzero(phi[:, j, :]) == 1


def test_emt_decode_specific_slots():
    assert np.array_equal(decode_task((255, 0, 0))[:8], np.eye(8))  # F[j, j] = 1: y(t) = y(t-8)
    F = decode_task((C, 0, 0))
    assert [int(np.flatnonzero(F[:, j])[0]) for j in range(8)] == [9 * j for j in range(8)]
    assert set(TASKS.values()) == set(SPEC)


@pytest.mark.parametrize("bad", [(255, 0), (255, 0, 0, 0), (254, 0, 0), (-1, 0, 0), (255, 0, 256), (255.0, 0, 0),
                                 (True, 0, 0), (1 << 64, 0, 0), (255, 56, 0), (255, 8 * 8 * 8 * 8 * 7, 0), "nope",
                                 "1,2"])
def test_emt_malformed_ids_raise(bad):
    with pytest.raises(ValueError):
        task_of(bad) if isinstance(bad, str) else task_id(bad)


def test_emt_task_of_strings():
    assert task_of("repeat_copy") == (255, 0, 0)
    assert task_of(f"{C}, 262676, 189") == (C, 262676, 189)
    assert task_of("0xff,0,0") == (255, 0, 0)
    with pytest.raises(ValueError, match="comma"):
        task_of("a,b,c")


def _reference_targets(F, u, horizon):
    """Direct window recursion y(t) = F^T vec(w(t)) in NumPy (independent of the jitted generator)."""
    s, d = u.shape
    hist = list(u)
    for _ in range(horizon):
        w = np.concatenate(hist[-s:])
        hist.append(F.T @ w)
    return np.stack(hist[s:])


@pytest.mark.parametrize("name", list(TASKS))
def test_emt_generator(name, key):
    F = decode_task(TASKS[name])
    x, y, mask = make_batch(key, F, 8, 30, 5, dtype=jnp.float64)
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
    phi = wave_binary_vb_task("compose_copy")
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
    with pytest.raises(ValueError, match="F"):
        make_batch(key, F[:-1], 8, 10, 2)
    with pytest.raises(ValueError, match="horizon"):
        make_batch(key, F, 8, 0, 2)
    with pytest.raises(ValueError, match="horizons"):
        curriculum_batch_fn(None, batch=2, horizons=(20, 10))
    with pytest.raises(ValueError, match="batch"):
        curriculum_batch_fn(None, batch=0)
