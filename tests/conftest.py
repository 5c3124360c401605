"""Test configuration shared by the whole suite (as in Diffrax/Equinox).

* float64 is enabled: theory checks compare to 1e-10; library code is explicit about float32 where it trains.
* ``jax_numpy_rank_promotion="raise"``: our cores are unbatched, implicit broadcasting is a bug.
* ``key`` fixture: a fresh PRNG key per test.
"""

import os

os.environ.setdefault("WAVEJAX_PROGRESS", "0")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


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
