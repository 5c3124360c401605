"""The "315" probe of the wave spec (§5.5): a +-1 bitmap spelling 315 over 7 time steps x dims 2-6."""

from __future__ import annotations

import numpy as np

__all__ = ["probe_315"]

_GLYPHS = ["###.#.###",
           "..#.#.#..",
           "###.#.###",
           "..#.#...#",
           "###.#.###"]


def probe_315(d: int = 8) -> np.ndarray:
    """Input sequence of shape (7, d): column t is time, the glyph rows sit on dims 2..6; +1 ink, -1 background.

    The 9-column glyph "3 1 5" is squeezed to 7 time steps by dropping the two blank separator columns.
    """
    if d < 7:
        raise ValueError(f"d must be >= 7 to hold the 5-row glyph on dims 2..6; got d={d}")
    cols = [c for c in range(9) if c not in (3, 5)]
    x = -np.ones((7, d))
    for r, line in enumerate(_GLYPHS):
        for t, c in enumerate(cols):
            x[t, 2 + r] = 1.0 if line[c] == "#" else -1.0
    return x
