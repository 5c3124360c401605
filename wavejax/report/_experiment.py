"""The experiment protocol shared by every model and collected by ``wavejax reproduce``.

A model package lists its headline experiments in ``wavejax/<model>/experiments.py`` as
``EXPERIMENTS: list[Experiment]``. Every experiment has one signature, ``run(cfg, out) -> Result``, where ``cfg`` is
an instance of the experiment's frozen config class (``Experiment.config``, with ``quick()`` / ``full()``
presets); figures are written into ``out`` (PNG) and named in ``Result.figures`` relative to it. The same config
class generates the experiment's CLI command, and :func:`wavejax.report._results.write_results` writes the one
``results.json`` schema for both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np

Scale = Literal["quick", "full"]

__all__ = ["Scale", "Row", "Result", "Experiment", "row", "holds_le", "holds_ge", "holds_close", "presets", "preset"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Row:
    """One line of a report table: quantity | paper / reference value | measured | holds?"""

    quantity: str  # what is measured, with units
    paper: str  # the paper's (or the spec's reference) value, as text
    measured: Any  # the measured value (number or text)
    holds: bool | None = None  # whether the claim holds at this scale (None: no claim to check)
    note: str = ""  # short remark (scale, caveat)


@dataclasses.dataclass(kw_only=True)
class Result:
    """What an experiment returns: table rows, figure file names, free-form metrics and notes."""

    rows: list[Row]
    figures: list[str] = dataclasses.field(default_factory=list)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Experiment:
    """A named headline experiment of one paper."""

    name: str  # unique, e.g. "wave.theorem31"
    section: str  # report section (one per paper), e.g. "Traveling-wave working memory"
    title: str  # one-line description
    run: Callable[[Any, Path], Result]  # run(cfg, out) with cfg an instance of `config`
    config: type  # frozen config class with quick()/full() classmethods
    version: int = 1  # bump to invalidate cached results when the experiment changes
    x64: bool = False  # run inside wavejax.precision.x64_scope() (float64 numerics)

    def make_config(self, scale: Scale) -> Any:
        """The config of this experiment at ``scale`` (``config.quick()`` or ``config.full()``)."""
        return preset(self.config, scale)


def presets(cls: type) -> tuple[str, ...]:
    """Names of the presets of a config class: ``cls.PRESETS`` if set, else those of quick/full it defines."""
    names = getattr(cls, "PRESETS", None)
    if names is None:
        names = tuple(n for n in ("quick", "full") if callable(getattr(cls, n, None)))
    return tuple(names)


def preset(cls: type, name: str) -> Any:
    """``cls.<name>()``, e.g. ``preset(EMTConfig, "full")``; a ``ValueError`` lists the presets on a bad name."""
    if name not in presets(cls):
        raise ValueError(f"preset must be one of {presets(cls)} for {cls.__name__}; got preset={name!r}")
    return getattr(cls, name)()


def row(quantity: str, paper: str, measured: Any, holds: bool | None = None, note: str = "") -> Row:
    """Shorthand for :class:`Row`; NaN measurements never "hold". ``holds`` is a bool (NumPy bools converted) or
    None."""
    if holds is not None:
        if not (isinstance(holds, bool | np.bool_) or (isinstance(holds, int | np.integer) and holds in (0, 1))):
            raise TypeError(f"holds must be a bool or None; got {holds!r} of type {type(holds).__name__}")
        holds = bool(holds)
    if isinstance(measured, float) and math.isnan(measured) and holds:
        holds = False
    return Row(quantity=quantity, paper=paper, measured=measured, holds=holds, note=note)


def holds_le(x: float, bound: float) -> bool:
    return bool(x <= bound) if math.isfinite(x) else False


def holds_ge(x: float, bound: float) -> bool:
    return bool(x >= bound) if math.isfinite(x) else False


def holds_close(x: float, ref: float, rtol: float) -> bool:
    return bool(abs(x - ref) <= rtol * abs(ref)) if math.isfinite(x) else False
