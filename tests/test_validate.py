"""The shared argument checks raise the right error type naming the argument."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wavejax import _validate as v


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError),
                                     ("4", TypeError)])
def test_positive_int(bad, exc):
    with pytest.raises(exc, match="num_steps"):
        v.positive_int("num_steps", bad)
    assert v.positive_int("num_steps", np.int64(4)) == 4


def test_positive_and_nonneg():
    with pytest.raises(ValueError, match="tau"):
        v.positive("tau", -1.0)
    with pytest.raises(ValueError, match="tau"):
        v.positive("tau", float("nan"))
    with pytest.raises(ValueError, match="gain"):
        v.nonneg("gain", -0.1)
    assert v.nonneg("gain", 0.0) == 0.0


def test_shape_and_finite_and_one_of():
    with pytest.raises(ValueError, match=r"H0 must have shape \(4, \?\)"):
        v.shape("H0", np.zeros((3, 2)), (4, None))
    v.shape("H0", np.zeros((4, 2)), (4, None))
    with pytest.raises(ValueError, match="xs must be finite; 1 entries"):
        v.finite("xs", np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="input_mode"):
        v.one_of("input_mode", "bogus", ("add", "overwrite"))
    with pytest.raises(TypeError, match="xs"):
        v.array("xs", np.array(["a"]))
    with pytest.raises(ValueError, match="xi"):
        v.pm_one("xi", np.array([1.0, 0.5]))


def test_value_checks_skip_tracers():
    @jax.jit
    def f(x):
        v.finite("x", x)
        v.pm_one("x", x)
        v.shape("x", x, (2,))
        return x * 2

    np.testing.assert_array_equal(f(jnp.array([1.0, -1.0])), [2.0, -2.0])
