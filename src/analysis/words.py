"""How the project words a count in what it prints: "1 source", "3 sources", never
"1 source(s)". Imports nothing from the rooms, so every room may use it."""

from __future__ import annotations


def counted(n: int, one: str, many: str | None = None) -> str:
    """``n`` and the noun in the number ``n`` takes ("1 figure", "0 figures", "2
    quantities" with ``many="quantities"``); the plural is ``one + "s"`` unless given."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
