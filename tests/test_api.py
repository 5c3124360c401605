"""Every public name of every wavejax package exists and has a docstring (Optax's coverage check)."""

import importlib
import inspect

import pytest

PACKAGES = ["wavejax", "wavejax.report", "wavejax.wave", "wavejax.rnn", "wavejax.emt", "wavejax.gsemm",
            "wavejax.tradeoff", "wavejax.gan"]


def _load(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):
            return None
        raise


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_documented(name):
    mod = _load(name)
    if mod is None:  # package not built yet: nothing public to check
        return
    assert hasattr(mod, "__all__"), f"{name} must define __all__"
    for sym in mod.__all__:
        assert hasattr(mod, sym), f"{name}.{sym} is listed in __all__ but missing"
        obj = getattr(mod, sym)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert obj.__doc__ and obj.__doc__.strip(), f"{name}.{sym} has no docstring"


def test_core_packages_present():
    for name in ["wavejax", "wavejax.report"]:
        assert _load(name) is not None
