"""Figures for people: numbers rounded only here, bounds in words, tables.

Everything upstream is exact; this is the one place that rounds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from fractions import Fraction

from analysis.figures.derive import Result

UNIT_LABELS = {"dimensionless": "", "percent": "%", "day": "days", "week": "weeks",
               "month": "months", "year": "years", "troops / month": "troops a month",
               "troops / day": "troops a day", "km² / month": "km² a month",
               "mi² / month": "mi² a month"}


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isinf(x))


def number(x, *, percent: bool = False, digits: int | None = None) -> str:
    """A number as a reader wants it: 11,000; 34.7; 0.091 -> '9.1%' when percent."""
    if isinstance(x, dt.date):
        return x.strftime("%-d %B %Y")
    if not _finite(x):
        return "unbounded"
    v = float(Fraction(x) * 100) if percent else float(x)
    if digits is None and percent:
        digits = 1
    if digits is None:
        a = abs(v)
        if a == 0 or a >= 100 or float(v).is_integer():
            digits = 0
        elif a >= 10:
            digits = 1
        elif a >= 1:
            digits = 2
        else:
            digits = 3
    text = f"{v:,.{digits}f}"
    return text + ("%" if percent else "")


def unit_label(unit: str) -> str:
    return UNIT_LABELS.get(unit, unit)


def with_unit(x, r: Result, digits: int | None = None) -> str:
    pct = r.format == "percent"
    text = number(x, percent=pct, digits=digits)
    label = "" if pct else unit_label(r.unit)
    if label == "%":
        return text + label  # 14%, not 14 %
    return f"{text} {label}".strip()


def value_text(r: Result) -> str:
    if r.is_date:
        if r.low != r.high and r.kind == "stated":
            return f"between {number(r.low)} and {number(r.high)}"
        return number(r.value)
    return with_unit(r.value, r)


def bounds_text(r: Result) -> str:
    """The bounds in words: '85 km² to 95 km²', 'at least 1,000 km² (no upper bound)',
    'at most 9.5%' (a share whose lower bound is zero), 'exact'."""
    lo, hi = r.low, r.high
    if r.is_date:
        if lo == hi:
            return "exact date"
        if r.kind == "stated":
            return f"a range; computed figures use its middle day, {number(r.value)}"
        return f"{number(lo)} to {number(hi)}"
    lo_ok = _finite(lo)
    hi_ok = _finite(hi)
    if lo_ok and hi_ok and lo == hi:
        if r.readings:
            return "exact, given " + ", ".join(f"the '{name}' reading of {fid}"
                                               for fid, name in r.readings.items())
        return "exact"
    if lo_ok and hi_ok and lo == 0 and r.value != 0:
        return f"at most {with_unit(hi, r)}"
    if lo_ok and hi_ok and r.format == "percent" and hi == 1 and r.value != 1:
        return f"at least {with_unit(lo, r)}"
    if lo_ok and hi_ok:
        digits = _digits_apart(lo, hi, r.format == "percent")
        return f"{with_unit(lo, r, digits)} to {with_unit(hi, r, digits)}"
    if lo_ok:
        return f"at least {with_unit(lo, r)} (no upper bound)"
    if hi_ok:
        return f"at most {with_unit(hi, r)}"
    return "unbounded"


def _digits_apart(lo, hi, percent: bool) -> int | None:
    """Enough decimals that two different bounds do not print alike ('2.495 to 2.505',
    not '2.50 to 2.50'); None keeps the usual rounding."""
    if number(lo, percent=percent) != number(hi, percent=percent):
        return None
    for digits in range(1, 10):
        if number(lo, percent=percent, digits=digits) != number(hi, percent=percent,
                                                                 digits=digits):
            return digits
    return None


def wording_text(r: Result) -> str:
    """How the article put it: its qualifier, or which reading of an ambiguous figure."""
    if r.reading:
        return f"reading '{r.reading}'" + (f": {r.note}" if r.note else "")
    return r.qualifier or ""


def table_rows(figures: Mapping[str, Result], ids=None) -> list[dict]:
    """One row a figure, ready for a DataFrame or a text table."""
    rows = []
    for r in figures.values():
        if ids is not None and r.id not in ids:
            continue
        rows.append({
            "id": r.id,
            "figure": r.description,
            "value": value_text(r),
            "bounds": bounds_text(r),
            "wording": wording_text(r) if r.kind == "stated" else "derived",
            "source": (r.attributed_to or "") if r.kind == "stated" else r.formula,
        })
    return rows


def text_table(rows: list[dict], columns: list[str]) -> str:
    """A plain fixed-width table for terminals (no colour, safe to pipe)."""
    widths = {c: max(len(c), *(len(str(row.get(c, ""))) for row in rows)) if rows else len(c)
              for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns),
             "  ".join("-" * widths[c] for c in columns)]
    for row in rows:
        lines.append("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns).rstrip())
    return "\n".join(lines)
