"""Contradictory command-line flags (issue 22 item 4): a flag given twice is refused instead of the last one winning.

``--x`` and ``--no-x`` are the same flag; ``--x=v`` and ``--x v`` are the same flag. Values of a multi-value flag
(``--widths 1 2 4``) are one flag. Everything after ``--`` is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence


def _flag_name(token: str) -> str | None:
    if not token.startswith("--") or token == "--" or len(token) < 3 or token[2].isdigit():
        return None  # not a flag (a value, possibly a negative number)
    name = token[2:].split("=", 1)[0].replace("_", "-")
    return name.removeprefix("no-")


def reject_repeated(argv: Sequence[str], *, prog: str) -> None:
    """Raise ``SystemExit`` with one line naming the flag when ``argv`` gives a flag more than once."""
    seen: dict[str, str] = {}
    for token in argv:
        if token == "--":
            break
        name = _flag_name(token)
        if name is None:
            continue
        if name in seen:
            raise SystemExit(f"{prog}: error: --{name} given twice ({seen[name]} and {token}); flags contradict "
                             "each other: give each flag once")
        seen[name] = token
