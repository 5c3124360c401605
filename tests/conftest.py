"""Test configuration shared by the whole suite (as in Diffrax/Equinox).

* float64 is enabled: theory checks compare to 1e-10; library code is explicit about float32 where it trains.
* ``jax_numpy_rank_promotion="raise"``: our cores are unbatched, implicit broadcasting is a bug.
* ``key`` fixture: a fresh PRNG key per test.
* The longest test files are collected first (``SLOW_FIRST``), so that ``make test``'s two xdist workers
  (``--dist loadfile --no-loadscope-reorder``) never start a long file last while the other worker idles.
"""

import os
from pathlib import Path

os.environ.setdefault("WAVEJAX_PROGRESS", "0")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

TESTS = Path(__file__).resolve().parent
# Test files by time, longest first (--durations, 2 cores at load ~5, 2026-12-07: 210 s down to 77 s); the rest
# keep pytest's order after them. Only the order changes: each file still runs whole in one process.
SLOW_FIRST = ("test_multiprocess.py", "test_notebooks.py", "gan/test_gan_train.py", "emt/test_emt_training.py",
              "tradeoff/test_tradeoff_pack.py", "rnn/test_rnn_train.py", "wave/test_wave_lattice.py",
              "rnn/test_rnn_evaluate.py", "tradeoff/test_tradeoff_cli.py", "tradeoff/test_tradeoff_sweep.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def slow_first(item):
        path = Path(item.path)
        return rank.get(path.relative_to(TESTS).as_posix(), len(rank)) if path.is_relative_to(TESTS) else len(rank)

    items.sort(key=slow_first)  # stable: within a file and among the other files the order is pytest's


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def getkey():
    """A callable returning a new key on each call (deterministic per test)."""
    state = {"k": jax.random.key(1234)}

    def _next():
        state["k"], sub = jax.random.split(state["k"])
        return sub

    return _next
