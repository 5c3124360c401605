"""Overlaps, decoding, dwell law and the docstring examples of wavejax.gsemm."""

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax.gsemm import cycle_memories, decode, dwell_prediction, dwell_stats, overlaps
from wavejax.gsemm._metrics import best_chain


def test_decode_smooths_and_collapses():
    """Argmax per sample, runs shorter than min_run dropped, equal runs collapsed; the issue's pair unpacks."""
    states = [0] * 20 + [1] * 3 + [0] * 5 + [2] * 30 + [1] * 15
    m = np.eye(3)[states] * np.linspace(0.5, 1.0, len(states))[:, None]
    ts = 0.5 * np.arange(len(states))
    seq, dwell = decode(ts, m, min_run=10)
    assert seq.tolist() == [0, 2, 1]  # the 3-sample blip of 1 is dropped, the two runs of 0 merge
    d = decode(ts, m, min_run=10)
    np.testing.assert_allclose(d.times, [0.0, 14.0, 29.0])
    np.testing.assert_allclose(dwell, [14.0, 15.0])
    assert d.peaks[1] == pytest.approx(m[57, 2])
    assert decode(ts, m, min_run=1).sequence.tolist() == [0, 1, 0, 2, 1]
    assert decode(ts, 0.1 * m, min_overlap=0.6).sequence.size == 0


def test_overlaps_and_dwell_law():
    xi, _ = cycle_memories(jax.random.key(0), 64, 5)
    m = overlaps(xi, xi.T)  # row mu: overlaps of xi^mu with every memory
    np.testing.assert_allclose(jnp.diag(m), 1.0)
    assert overlaps(xi, xi[:, 0]).shape == (5,)
    law = dwell_prediction(1.0, 2.0, 1.0, 20.0)  # r = 0.5
    assert law["r"] == 0.5
    assert law["D"] == pytest.approx(-20 * np.log(1 - np.sqrt(0.5)))
    assert law["D1"] == pytest.approx(-20 * np.log(0.5))
    assert dwell_prediction(1.0, 1 / 1.05, 1.0, 20.0)["D"] == np.inf  # static regime r >= 1
    st = dwell_stats(decode(np.arange(40.0), np.eye(3)[[0] * 10 + [1] * 10 + [2] * 12 + [0] * 8], min_run=1))
    assert st == {"first": 10.0, "mean": 11.0, "sd": 1.0, "n": 3}
    assert best_chain([0, 1, 2, 0, 1, 2, 0, 2], [0, 1, 2]) == 2


@pytest.mark.parametrize("mod", ["metrics", "simulate", "landscape"])
def test_docstring_examples(mod):
    m = importlib.import_module(f"wavejax.gsemm._{mod}")
    globs = dict(vars(m), jax=jax, jnp=jnp, cycle_memories=cycle_memories, decode=decode, overlaps=overlaps)
    res = doctest.testmod(m, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
