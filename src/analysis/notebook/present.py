"""How a number is shown to a reader: the one presentation rule (docs/presentation.md).

Everything upstream is exact; this is the one place that rounds, and every number a
reader sees (report text, tables, captions, chart labels, `analysis figures`) goes
through it:

1. **Digits.** A value shows the significant digits its stated inputs support
   (`Result.digits`, the fewest among them), never fewer than two; a figure whose
   inputs are all exact shows three (a whole number in full).
2. **Bounds round outward**, the lower one down and the upper one up, one digit finer
   than the value, so the printed range always holds the true one.
3. **A one-sided figure is worded by its known side**: "more than 905 km²", "at most
   9.5%", "1,000+", never "about". "At least"/"at most" when the printed number is the
   bound itself, "more than"/"under" when rounding moved it outward.
4. **A cap is not a finding**: a side bounded only by a domain ("a share is at most
   100%") or an `at_most` cap reads "no upper bound stated; at most ...".
5. **Typography**: thousands separated by commas, a true minus sign, typographic
   quotes, no nested parentheses.
"""

from __future__ import annotations

import ast
import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

from analysis.figures.bounds import qualifier_family
from analysis.figures.derive import Result
from analysis.figures.units import is_headcount

MINUS = "\u2212"
UNIT_LABELS = {"dimensionless": "", "percent": "%", "day": "days", "week": "weeks",
               "month": "months", "year": "years"}
_PER = {"day": "a day", "week": "a week", "month": "a month", "year": "a year"}


def quoted(text: str) -> str:
    """Typographic double quotes around a phrase."""
    return f"\u201c{text}\u201d"


# --- the rule: digits, steps, outward rounding ---------------------------------------


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isinf(x))


def _exponent(x: Fraction) -> int:
    """The power of ten of x's leading digit: 905 -> 2, 0.0912 -> -2 (exact)."""
    x = abs(x)
    e = math.floor(math.log10(x.numerator) - math.log10(x.denominator))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def step_for(x, sig: int) -> Fraction:
    """The rounding step that keeps `sig` significant digits of x: (905, 2) -> 10."""
    x = Fraction(x)
    if x == 0:
        return Fraction(1, 10 ** (sig - 1))
    return Fraction(10) ** (_exponent(x) - sig + 1)


def round_to(x, step: Fraction, how: str = "nearest") -> Fraction:
    """x rounded to a multiple of step: "down", "up" or "nearest" (halves away from 0)."""
    q = Fraction(x) / step
    if how == "down":
        n = math.floor(q)
    elif how == "up":
        n = math.ceil(q)
    else:
        n = math.floor(abs(q) + Fraction(1, 2)) * (1 if q >= 0 else -1)
    return n * step


def _decimals(step: Fraction) -> int:
    return max(0, -_exponent(step))


def digits_for(r: Result) -> int | None:
    """Significant digits a figure's value is shown with (None: a whole number in full)."""
    if r.digits is not None:
        return max(2, r.digits)
    return None


def _display(x, r: Result) -> Fraction:
    return Fraction(x) * 100 if r.format == "percent" else Fraction(x)


def value_step(r: Result) -> Fraction:
    """The step a figure's point value is rounded to, in display units (percent for a share)."""
    v = _display(r.value, r)
    sig = digits_for(r)
    if sig is None:
        if v.denominator == 1:
            return Fraction(1)
        sig = 3
    step = step_for(v, sig)
    if v != 0 and abs(round_to(v, step)) >= Fraction(10) ** (_exponent(v) + 1):
        step *= 10  # 9.96 at two digits is 10, not 10.0
    return step


def bound_step(r: Result) -> Fraction:
    """Bounds are rounded one digit finer than the value (never finer than needed)."""
    return value_step(r) / 10


def format_number(x, step: Fraction) -> str:
    """A multiple of `step` as text: thousands separated, a true minus sign."""
    x = Fraction(x)
    places = _decimals(step)
    exact = Decimal(x.numerator) / Decimal(x.denominator)
    text = f"{abs(exact):,.{places}f}"
    return (MINUS + text) if x < 0 else text


def _trim(texts: list[str]) -> list[str]:
    """Drop trailing decimal zeros shared by every number of a group (9.50 -> 9.5;
    '12.20 to 15.10' -> '12.2 to 15.1'); a value is not changed by it."""
    if not all("." in t for t in texts):
        return texts
    while all(t.endswith("0") for t in texts):
        texts = [t[:-1] for t in texts]
    return [t[:-1] if t.endswith(".") else t for t in texts]


def number(x, *, percent: bool = False, digits: int | None = None) -> str:
    """A plain number as a reader wants it (no bounds involved): 11,000; 34.7; 9.1%.

    `digits` significant digits (default: three, a whole number in full); a date reads
    '6 August 2024'."""
    if isinstance(x, dt.date):
        return x.strftime("%-d %B %Y")
    if not _finite(x):
        return "unbounded"
    v = Fraction(x) * 100 if percent else Fraction(x)
    if digits is None and v.denominator == 1:
        step = Fraction(1)
    else:
        step = step_for(v, digits or 3)
    return format_number(round_to(v, step), step) + ("%" if percent else "")


# --- units and nouns -------------------------------------------------------------------


def unit_label(unit: str, noun: str | None = None) -> str:
    """A unit as a reader reads it: 'months', 'km² a month', 'deaths a month'."""
    if unit in UNIT_LABELS:
        return UNIT_LABELS[unit]
    num, sep, den = unit.partition(" / ")
    if noun and is_headcount(num):
        num = noun
    if sep and den in _PER:
        return f"{num} {_PER[den]}"
    return f"{num}{sep}{den}"


def group_unit_label(unit: str, results) -> str:
    """The unit of a group of figures (a chart's axis): named by their noun when they all
    count the same thing ("deaths a month"), else by the unit itself."""
    nouns = {r.noun for r in results}
    return unit_label(unit, nouns.pop() if len(nouns) == 1 else None)


def label_of(r: Result) -> str:
    return "%" if r.format == "percent" else unit_label(r.unit, r.noun)


def _attach(text: str, label: str) -> str:
    if label == "%":
        return text + "%"  # 14%, not 14 %
    return f"{text} {label}".strip()


def with_unit(x, r: Result, step: Fraction | None = None, how: str = "nearest") -> str:
    """One number of a figure with its unit, rounded to `step` (default: the value's)."""
    step = step or value_step(r)
    return _attach(format_number(round_to(_display(x, r), step), step), label_of(r))


# --- shape: which sides are known ------------------------------------------------------


def shape(r: Result) -> str:
    """'exact', 'range', 'lower' (no upper bound stated, or only a cap), 'upper', 'none'."""
    lo, hi = r.low, r.high
    lo_ok = _finite(lo) and "low" not in r.capped
    hi_ok = _finite(hi) and "high" not in r.capped
    if lo_ok and hi_ok and lo == hi:
        return "exact"
    if lo_ok and hi_ok and lo == 0 and r.value != 0:
        return "upper"  # nothing below zero was ever in question
    if lo_ok and hi_ok:
        return "range"
    if lo_ok:
        return "lower"
    if hi_ok:
        return "upper"
    return "none"


def _bound(x, r: Result, how: str) -> tuple[str, bool]:
    """A bound rounded outward at the bound step, and whether rounding moved it."""
    step = bound_step(r)
    exact = _display(x, r)
    shown = round_to(exact, step, how)
    return _trim([format_number(shown, step)])[0], shown != exact


def lower_text(r: Result, word: str | None = None) -> str:
    """'at least 905 km²' / 'more than 8.69%' (rounded down, so a true lower bound)."""
    text, moved = _bound(r.low, r, "down")
    word = word or ("more than" if moved else "at least")
    return f"{word} {_attach(text, label_of(r))}"


def upper_text(r: Result, word: str | None = None) -> str:
    """'at most 9.5%' / 'under 36.7 mi²' (rounded up, so a true upper bound)."""
    text, moved = _bound(r.high, r, "up")
    word = word or ("under" if moved else "at most")
    return f"{word} {_attach(text, label_of(r))}"


def range_text(r: Result) -> str:
    """'12.2% to 15.1%': both bounds outward, with the same decimals."""
    step = bound_step(r)
    lo = round_to(_display(r.low, r), step, "down")
    hi = round_to(_display(r.high, r), step, "up")
    a, b = _trim([format_number(lo, step), format_number(hi, step)])
    a, b = ("0" if lo == 0 else a), ("0" if hi == 0 else b)  # zero needs no decimals
    label = label_of(r)
    if label == "%":
        return f"{a}% to {b}%"
    return _attach(f"{a} to {b}", label)  # the unit once: '85 to 95 km²'


# --- what a reader sees ------------------------------------------------------------------


def value_text(r: Result) -> str:
    """The value with its qualifier: 'about 90 km²', 'over 1,000 deaths', '14%',
    'more than 905 km²', 'at most 9.5%'."""
    if r.is_date:
        if r.low != r.high and r.kind == "stated":
            return f"between {number(r.low)} and {number(r.high)}"
        return number(r.value)
    kind = shape(r)
    if r.kind == "stated" and r.qualifier:
        family = qualifier_family(r.qualifier)
        word = r.qualifier
        if family == "lower":
            return lower_text(r, word)
        if family in ("upper", "nearly"):
            return upper_text(r, word)
        return f"{word} {with_unit(r.value, r)}"
    if kind == "lower":
        return lower_text(r)
    if kind == "upper":
        return upper_text(r)
    return with_unit(r.value, r)


def compact_text(r: Result) -> str:
    """A short label for a chart: '1,000+ km²', 'up to 9.5%', '14%'."""
    kind = shape(r)
    if kind == "lower" and r.format != "percent":
        text, _ = _bound(r.low, r, "down")
        return _attach(text + "+", label_of(r))
    if kind == "lower":
        return lower_text(r)
    if kind == "upper":
        return upper_text(r, "up to")
    return with_unit(r.value, r)


def cap_text(r: Result, figures: Mapping[str, Result] | None = None) -> str:
    """What bounds a capped side: 'at most 100% by definition', 'at most all 11,500
    soldiers'; '' when no side is capped."""
    cap = r.capped.get("high")
    if not cap:
        return ""
    high, _ = _bound(r.high, r, "up")
    high = _attach(high, label_of(r))
    other = (figures or {}).get(cap) if cap != "domain" else None
    if cap == "domain":
        return f"at most {high} by definition"
    if other is not None and r.kind == "stated":
        return f"at most all {_attach(_bound(other.high, other, 'up')[0], label_of(other))}"
    if other is not None:
        shown = _attach(_bound(other.high, other, "up")[0], label_of(other))
        return f"at most {high}, a cap set by all {shown}"
    return f"at most {high}, a cap"


def bounds_text(r: Result, figures: Mapping[str, Result] | None = None) -> str:
    """The bounds in words: '85 km² to 95 km²', 'no upper bound stated', 'no upper bound
    stated; at most all 11,500 soldiers', 'exact'."""
    if r.is_date:
        if r.low == r.high:
            return "exact date"
        if r.kind == "stated":
            return f"a range; computed figures use its middle day, {number(r.value)}"
        return f"{number(r.low)} to {number(r.high)}"
    kind = shape(r)
    if kind == "exact":
        if r.readings:
            names = " and ".join(quoted(name) for name in r.readings.values())
            return f"exact, given the {names} reading" + ("s" if len(r.readings) > 1 else "")
        return "exact"
    if kind == "range":
        return range_text(r)
    if kind == "lower":
        cap = cap_text(r, figures)
        return "no upper bound stated" + (f"; {cap}" if cap else "")
    if kind == "upper":
        if _finite(r.low) and r.low == 0:
            return range_text(r)  # '0 to 9.5%': zero is the only floor there is
        return "no lower bound stated"
    return "no bounds stated"


def interval_text(r: Result, figures: Mapping[str, Result] | None = None) -> str:
    """Value and bounds in one phrase, for alt text and prose: '14%, 12.2% to 15.1%';
    'more than 905 km², no upper bound stated'."""
    kind = shape(r)
    if kind == "exact":
        return value_text(r)
    if kind == "range" and not r.is_date:
        return f"{value_text(r)}, {range_text(r)}"
    return f"{value_text(r)}, {bounds_text(r, figures)}"


def wording_text(r: Result) -> str:
    """How the article put it: its qualifier, or which reading of an ambiguous figure."""
    if r.reading:
        return f"reading {quoted(r.reading)}" + (f": {r.note}" if r.note else "")
    return r.qualifier or ""


# --- formulas in words -----------------------------------------------------------------

_OPS = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "divided by"}
_COMPARE = {ast.Lt: "is less than", ast.LtE: "is at most", ast.Gt: "is more than",
            ast.GtE: "is at least", ast.Eq: "equals"}


def formula_words(formula: str, names: Mapping[str, str]) -> str:
    """A formula for readers: 'held_area / captured_area' -> 'ground held divided by
    ground captured', with `names` giving each figure's words. No code survives."""
    def words(node, top=False) -> str:
        if isinstance(node, ast.Name):
            return names.get(node.id, node.id.replace("_", " "))
        if isinstance(node, ast.Constant):
            return number(Fraction(str(node.value)))
        if isinstance(node, ast.UnaryOp):
            return "minus " + words(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = words(node.left), words(node.right)
            if not top and isinstance(node.op, ast.Add):
                return f"the sum of {left} and {right}"  # no brackets, no nesting
            if not top and isinstance(node.op, ast.Sub):
                return f"the difference between {left} and {right}"
            return f"{left} {_OPS[type(node.op)]} {right}"
        if isinstance(node, ast.Call):
            name = node.func.id
            if name == "quantity":
                unit = node.args[1].value
                return f"{number(Fraction(str(node.args[0].value)))} {unit_label(unit)}"
            args = [words(a) for a in node.args]
            if name == "days_between":
                return f"the time from {args[0]} to {args[1]}"
            return f"the {'smaller' if name == 'min' else 'larger'} of " + " and ".join(args)
        if isinstance(node, ast.Compare):
            parts = [words(node.left)]
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts += [_COMPARE[type(op)], words(right)]
            return " ".join(parts)
        return ast.unparse(node)

    return words(ast.parse(formula, mode="eval").body, top=True)


# --- tables ------------------------------------------------------------------------------


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
            "bounds": bounds_text(r, figures),
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
