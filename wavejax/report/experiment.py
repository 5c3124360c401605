"""The experiment protocol shared by every model and collected by ``wavejax reproduce``.

A model package lists its headline experiments in ``wavejax/<model>/experiments.py`` as
``EXPERIMENTS: list[Experiment]``. Each ``run(scale, outdir)`` returns a :class:`Result`; figures are written
into ``outdir`` (PNG) and named in ``Result.figures`` relative to it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

Scale = Literal["quick", "full"]

__all__ = ["Scale", "Row", "Result", "Experiment", "row", "holds_le", "holds_ge", "holds_close"]


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
    run: Callable[[Scale, Path], Result]
    version: int = 1  # bump to invalidate cached results when the experiment changes


def row(quantity: str, paper: str, measured: Any, holds: bool | None = None, note: str = "") -> Row:
    """Shorthand for :class:`Row`; NaN measurements never "hold"."""
    if isinstance(measured, float) and math.isnan(measured) and holds:
        holds = False
    return Row(quantity=quantity, paper=paper, measured=measured, holds=holds, note=note)


def holds_le(x: float, bound: float) -> bool:
    return bool(x <= bound) if math.isfinite(x) else False


def holds_ge(x: float, bound: float) -> bool:
    return bool(x >= bound) if math.isfinite(x) else False


def holds_close(x: float, ref: float, rtol: float) -> bool:
    return bool(abs(x - ref) <= rtol * abs(ref)) if math.isfinite(x) else False
