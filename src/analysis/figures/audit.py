"""The article's self-audit: its own printed conversions and sanity relations, re-checked.

A printed conversion ("more than 2,000 sq km (1,250 sq miles)") converts the number
the article writes beside it, not the unknown true value: the reporter converted
2,000. So it is judged against that number as written, converted exactly, with a
tolerance taken from the precision of the two numbers as printed, never from the
qualifier's bounds:

- *consistent*: the exact conversion rounds to the printed number (it lies within
  half a unit of the printed number's last significant digit);
- *consistent with rounding*: it does not, but the stated number's own rounding
  (half a unit of its last significant digit, carried through the conversion)
  reaches the printed number's rounding interval ("about 90 km² (36 sq mi)": a 90
  may be 95, and 95 km² is 36.68 mi²);
- *inconsistent*: anything else, including a printed unit of another kind.

A check ("held_area <= captured_area") holds at the stated values, and is
*certain* when it holds at every corner of the inputs' bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from analysis.figures.bounds import INF, half_unit
from analysis.figures.derive import Figures, run_check
from analysis.figures.source import Check, Figure, Printed
from analysis.figures.units import convert, describe_dimension, dimensionality

CONSISTENT = "consistent"
WITH_ROUNDING = "consistent with rounding"
WITHIN_BOUNDS = "consistent within bounds"  # checks only: holds at the point, not at every corner
INCONSISTENT = "inconsistent"


@dataclass
class Finding:
    """One line of the audit."""

    id: str  # figure or check id
    kind: str  # "conversion" | "check"
    verdict: str  # CONSISTENT | WITH_ROUNDING | WITHIN_BOUNDS | INCONSISTENT
    description: str
    stated: str  # what was checked, for people
    computed: str
    tolerance: str
    message: str = ""  # the finding in a reporter's words

    @property
    def ok(self) -> bool:
        return self.verdict != INCONSISTENT

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _num(x: Fraction, digits: int = 3, how: str = "nearest") -> str:
    """A number for the audit's text; a bound rounds outward (how="down" or "up"), so the
    printed bounds never claim more than the figure's."""
    if x == INF:
        return "no upper bound"
    if x == -INF:
        return "no lower bound"
    if how != "nearest":
        scaled = Fraction(x) * 10**digits
        x = Fraction(math.floor(scaled) if how == "down" else math.ceil(scaled), 10**digits)
    return f"{float(x):,.{digits}f}".rstrip("0").rstrip(".")


def _decimals(written: Decimal) -> int:
    return max(0, -written.as_tuple().exponent)


def _percent(x: Fraction) -> str:
    """How far off, in words a reporter reads: 62%, 3.6%."""
    p = float(abs(x)) * 100
    return f"{p:.0f}%" if p >= 10 else f"{p:.1f}%"


def _as_written(fig: Figure, res) -> tuple[Fraction, str, Fraction]:
    """The stated number as the article writes it: (value, text, half its last digit).

    A figure given only as a range (low and high) is read as its middle, give or take
    half its width."""
    written = fig.written
    if written is None and fig.readings:
        written = fig.readings[fig.default_reading].written
    if written is not None:
        return Fraction(written), f"{written:,}", half_unit(written)
    low, high = fig.low, fig.high
    if fig.readings:
        r = fig.readings[fig.default_reading]
        low, high = r.low, r.high
    if low is None or high is None:  # pragma: no cover - load_source requires one of them
        return Fraction(res.value), _num(res.value), Fraction(0)
    return (low + high) / 2, f"{_num(low)} to {_num(high)}", (high - low) / 2


def judge_conversion(fig: Figure, res, p: Printed) -> Finding:
    """One printed conversion judged as printed (see the module docstring)."""
    value, text, h_stated = _as_written(fig, res)
    unit, shown = res.unit, f"{p.written:,} {p.unit}"
    said = (f"{fig.qualifier} " if fig.qualifier else "") + f"{text} {unit}"
    label = f"{said} printed as " + (f"{p.qualifier} " if p.qualifier else "") + shown
    if dimensionality(p.unit) != dimensionality(unit):
        return Finding(
            fig.id, "conversion", INCONSISTENT, fig.description, label,
            f"{p.unit} is not a unit of {unit}", "none",
            f"The article prints {said} as {shown}, but {p.unit} is "
            f"{describe_dimension(dimensionality(p.unit))} and {unit} is "
            f"{describe_dimension(dimensionality(unit))}: a conversion cannot change what is "
            "measured.")
    exact = convert(value, unit, p.unit)
    h_printed = half_unit(p.written)
    lo, hi = convert(value - h_stated, unit, p.unit), convert(value + h_stated, unit, p.unit)
    reach = hi - exact  # the stated number's rounding, carried through the conversion
    off = abs(p.value - exact)
    digits = _decimals(p.written) + 1
    is_ = f"{text} {unit} is {_num(exact, digits)} {p.unit}"
    how = "too high" if p.value > exact else "too low"
    wide = digits  # enough digits that the two ends of the spread read as different numbers
    while wide < 6 and hi - lo < Fraction(10) ** (1 - wide):
        wide += 1
    spread = (f"a number written {text} covers {_num(value - h_stated)} to "
              f"{_num(value + h_stated)} {unit}, which is {_num(lo, wide, 'down')} to "
              f"{_num(hi, wide, 'up')} {p.unit}")
    if off <= h_printed:
        verdict = CONSISTENT
        message = f"The article prints {said} as {shown}; {is_}, which rounds to {p.written:,}."
    elif off <= h_printed + reach:
        verdict = WITH_ROUNDING
        message = (f"The article prints {said} as {shown}; {is_}, so {p.written:,} is "
                   f"{_percent((p.value - exact) / exact)} {how}, but {spread}, and that "
                   f"reaches {p.written:,}.")
    else:
        verdict = INCONSISTENT
        message = (f"The article prints {said} as {shown}; {is_}, so {p.written:,} is "
                   f"{_percent((p.value - exact) / exact)} {how}. Rounding cannot explain it: "
                   f"{spread}.")
    computed = (f"{_num(exact)} {p.unit} ({_num(lo, how='down')} to {_num(hi, how='up')} for "
                "the stated number's digits)")
    tolerance = (f"±{_num(h_printed)} {p.unit}, half a unit of the printed number's last "
                 f"significant digit, plus ±{_num(reach)} {p.unit} for the stated number's "
                 f"(±{_num(h_stated)} {unit})")
    return Finding(fig.id, "conversion", verdict, fig.description, label, computed, tolerance,
                   message)


def audit_conversions(figures: Figures) -> list[Finding]:
    return [judge_conversion(fig, figures[fig.id], p)
            for fig in figures.source.figures for p in fig.printed]


def audit_checks(figures: Figures) -> list[Finding]:
    source = figures.source
    todo = [(c, False) for c in source.checks]
    # at_most caps are relations the stated values must satisfy too; across the bounds
    # the cap itself enforces them, so only the stated values are checked
    described = {f.id: f.description for f in source.figures}
    todo += [(Check(id=f"{f.id}_at_most_{f.at_most}", expr=f"{f.id} <= {f.at_most}",
                    description=f"{f.description}: no more than "
                                f"{_lower_first(described[f.at_most])}", line=f.line), True)
             for f in source.figures if f.at_most]
    out = []
    for check, point_only in todo:
        r = run_check(figures, check, point_only=point_only)
        if not r.holds:
            verdict = INCONSISTENT
        elif r.certain:
            verdict = CONSISTENT
        else:
            verdict = WITHIN_BOUNDS
        computed = ("holds at the stated values" if r.holds else "fails at the stated values")
        if r.holds:
            computed += (" and across all bounds" if r.certain
                         else ", but not across all bounds")
        out.append(Finding(check.id, "check", verdict, check.description, check.expr, computed,
                           "exact comparison", f"{check.description}: {computed}."))
    return out


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def audit(figures: Figures) -> list[Finding]:
    """Every finding of the self-audit: conversions, then checks."""
    return audit_conversions(figures) + audit_checks(figures)
