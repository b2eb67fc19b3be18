"""The article's self-audit: its own printed conversions and sanity relations, re-checked.

A printed conversion ("90 km² (around 35 sq mi)") is *consistent* when the exact
conversion of the stated value rounds to the printed number (it lies within half
a unit of the printed number's last significant digit), *consistent within
bounds* when only the stated figure's bounds reach the printed number's
rounding interval, and *inconsistent* otherwise (e.g. 90 km² printed as 56 sq mi).
A check ("held_area <= captured_area") holds at the stated values, and is
*certain* when it holds at every corner of the inputs' bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from analysis.figures.bounds import INF, half_unit
from analysis.figures.derive import Figures, run_check
from analysis.figures.source import Check
from analysis.figures.units import convert, dimensionality

CONSISTENT = "consistent"
WITHIN_BOUNDS = "consistent within bounds"
INCONSISTENT = "inconsistent"


@dataclass
class Finding:
    """One line of the audit."""

    id: str  # figure or check id
    kind: str  # "conversion" | "check"
    verdict: str  # CONSISTENT | WITHIN_BOUNDS | INCONSISTENT
    description: str
    stated: str  # what was checked, for people
    computed: str
    tolerance: str

    @property
    def ok(self) -> bool:
        return self.verdict != INCONSISTENT

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _num(x: Fraction, digits: int = 3) -> str:
    if x == INF:
        return "no upper bound"
    if x == -INF:
        return "no lower bound"
    return f"{float(x):,.{digits}f}".rstrip("0").rstrip(".")


def audit_conversions(figures: Figures) -> list[Finding]:
    out = []
    for fig in figures.source.figures:
        res = figures[fig.id]
        for p in fig.printed:
            label = f"{_num(res.value)} {res.unit} printed as " + (
                f"{p.qualifier} " if p.qualifier else "") + f"{p.written} {p.unit}"
            if dimensionality(p.unit) != dimensionality(res.unit):
                out.append(Finding(fig.id, "conversion", INCONSISTENT, fig.description, label,
                                   f"{p.unit} is not a unit of {res.unit}", "none"))
                continue
            exact = convert(res.value, res.unit, p.unit)
            h = half_unit(p.written)
            lo_p, hi_p = p.value - h, p.value + h
            lo = convert(res.low, res.unit, p.unit) if res.low != -INF else -INF
            hi = convert(res.high, res.unit, p.unit) if res.high != INF else INF
            if lo_p <= exact <= hi_p:
                verdict = CONSISTENT
            elif lo <= hi_p and hi >= lo_p:
                verdict = WITHIN_BOUNDS
            else:
                verdict = INCONSISTENT
            computed = f"{_num(exact)} {p.unit} (bounds {_num(lo)} to {_num(hi)})"
            out.append(Finding(fig.id, "conversion", verdict, fig.description, label, computed,
                               f"±{_num(h)} {p.unit}, half a unit of the printed number's last "
                               "significant digit"))
    return out


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
                           "exact comparison"))
    return out


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def audit(figures: Figures) -> list[Finding]:
    """Every finding of the self-audit: conversions, then checks."""
    return audit_conversions(figures) + audit_checks(figures)
