"""The one place qualifiers become bounds, and exact arithmetic with unbounded sides.

Arithmetic is exact: magnitudes are Fractions. An unbounded side is +/-infinity
while computing (a float inf, which Python orders and combines with Fractions as
expected) and `None` when reported.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from analysis.figures.vocabulary import load_vocabulary, normalise

INF = math.inf

#: the report parameter `policy`: how to read qualifiers
POLICIES = ("default", "exact")


def __getattr__(name: str):
    # QUALIFIERS (wording as printed -> the family of bounds it implies; see the qualifier
    # policy in docs/architecture.md) is read from vocabulary.yaml on first use, so the CLI
    # starts without it and a mistake in the file is reported by the command that needs it.
    if name == "QUALIFIERS":
        return load_vocabulary().qualifiers
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def normalise_qualifier(text: str | None) -> str | None:
    """Lower-case, single-spaced wording; None for no qualifier."""
    if text is None:
        return None
    return normalise(text) or None


def qualifier_family(text: str | None) -> str:
    """'exact', 'approx', 'lower', 'nearly' or 'upper'; KeyError for unknown wording."""
    key = normalise_qualifier(text)
    if key is None:
        return "exact"
    return load_vocabulary().qualifiers[key]


def half_unit(value: Fraction | int | Decimal | str) -> Fraction:
    """Half a unit of the last significant digit of a number as written.

    90 -> 5, 11,000 -> 500, 70,000 -> 5,000, 2.50 -> 0.005, 386 -> 0.5.
    Trailing zeros of a whole number are taken as not significant.
    """
    dec = value if isinstance(value, Decimal) else _as_decimal(value)
    if dec == 0:
        return Fraction(1, 2)
    sign, digits, exponent = dec.as_tuple()
    if exponent >= 0:
        # whole number: count the trailing zeros of its digits
        trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        exponent += trailing
    return Fraction(1, 2) * Fraction(10) ** exponent


def significant_digits(value: Fraction | int | Decimal | str) -> int:
    """Significant digits of a number as written, by the rule of half_unit: trailing zeros
    of a whole number do not count. 90 -> 1, 11,000 -> 2, 2.50 -> 3, 386 -> 3."""
    dec = value if isinstance(value, Decimal) else _as_decimal(value)
    if dec == 0:
        return 1
    _, digits, exponent = dec.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if exponent >= 0:
        text = text.rstrip("0")
    return max(len(text), 1)


def _as_decimal(value) -> Decimal:
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return Decimal(value.numerator)
        return Decimal(value.numerator) / Decimal(value.denominator)
    return Decimal(str(value).replace(",", ""))


def bounds_for(value: Fraction, qualifier: str | None, *, policy: str = "default",
               written: Decimal | None = None) -> tuple[Fraction | float, Fraction | float]:
    """(low, high) around a stated value, by the qualifier policy.

    `written` is the number as printed (keeps its significant digits, e.g. 2.50).
    An unbounded side is returned as +/-inf.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown qualifier policy {policy!r}; use one of {', '.join(POLICIES)}")
    family = qualifier_family(qualifier)
    if policy == "exact" or family == "exact":
        return value, value
    h = half_unit(written if written is not None else value)
    # a stated figure is a size (never negative): "about 0" is 0 to 0.5, not -0.5 to 0.5
    floor = min(value, Fraction(0))
    if family == "approx":
        return max(value - h, floor), value + h
    if family == "lower":
        return value, INF
    if family == "nearly":
        return max(value - h, floor), value
    if family == "upper":
        return Fraction(0), value
    raise AssertionError(family)  # pragma: no cover - QUALIFIERS holds only these families


def norm(x):
    """Keep results exact: a finite float produced by an infinite operand
    (x / inf == 0.0) goes back to a Fraction; nan means the operation is undefined."""
    if isinstance(x, float):
        if math.isnan(x):
            raise ArithmeticError("undefined (infinity minus infinity, or zero times infinity)")
        if math.isinf(x):
            return x
        return Fraction(x)
    return x


def to_float(x) -> float | None:
    """JSON number for a bound: None where unbounded."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return None
    return float(x)
