"""The one unit registry, and the spellings of units that articles use.

Magnitudes are exact: the registry parses its definitions as Fractions, so the
international mile is exactly 1609.344 m and 1 mi² is exactly 2.589988110336 km².
Units are shown by our own canonical names (km², mi², troops, ...) rather than by
pint's formatter, which cannot format Fraction exponents.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import cache

import pint

from analysis.errors import UnknownUnit

ureg = pint.UnitRegistry(non_int_type=Fraction)
# Headcounts are a dimension of their own, so troops / troops is a pure number
# and troops / month is a rate, while troops + km² is an error.
ureg.define("troop = [headcount] = troops")
ureg.define("person = troop = people")
# Currencies are not convertible into each other without a dated exchange rate.
ureg.define("USD = [currency_usd]")
ureg.define("EUR = [currency_eur]")
ureg.define("GBP = [currency_gbp]")

#: canonical name -> pint expression. Months and years are pint's: a year is the
#: Julian year of 365.25 days, a month a twelfth of it (30.4375 days).
CANONICAL: dict[str, str] = {
    "km²": "kilometer ** 2",
    "mi²": "mile ** 2",
    "m²": "meter ** 2",
    "ha": "hectare",
    "km": "kilometer",
    "mi": "mile",
    "m": "meter",
    "troops": "troop",
    "people": "person",
    "dimensionless": "dimensionless",
    "percent": "percent",
    "hour": "hour",
    "day": "day",
    "week": "week",
    "month": "month",
    "year": "year",
    "USD": "USD",
    "EUR": "EUR",
    "GBP": "GBP",
}

_AREA_KM = ["km²", "km2", "km^2", "km**2", "sq km", "sq. km", "sq.km", "sqkm", "square km",
            "square kilometer", "square kilometers", "square kilometre", "square kilometres"]
_AREA_MI = ["mi²", "mi2", "mi^2", "mi**2", "sq mi", "sq. mi", "sq.mi", "sq mile", "sq miles",
            "square mi", "square mile", "square miles"]
_AREA_M = ["m²", "m2", "m^2", "sq m", "square meter", "square meters", "square metre",
           "square metres"]

ALIASES: dict[str, str] = {
    **{a: "km²" for a in _AREA_KM},
    **{a: "mi²" for a in _AREA_MI},
    **{a: "m²" for a in _AREA_M},
    "ha": "ha", "hectare": "ha", "hectares": "ha",
    "km": "km", "kilometer": "km", "kilometers": "km", "kilometre": "km", "kilometres": "km",
    "mi": "mi", "mile": "mi", "miles": "mi",
    "m": "m", "meter": "m", "meters": "m", "metre": "m", "metres": "m",
    "troops": "troops", "troop": "troops", "soldiers": "troops", "soldier": "troops",
    "personnel": "troops", "fighters": "troops",
    "people": "people", "person": "people", "persons": "people", "civilians": "people",
    "workers": "people",
    "dimensionless": "dimensionless", "1": "dimensionless", "ratio": "dimensionless",
    "percent": "percent", "per cent": "percent", "%": "percent", "pct": "percent",
    "hour": "hour", "hours": "hour", "h": "hour", "hrs": "hour",
    "day": "day", "days": "day", "d": "day",
    "week": "week", "weeks": "week",
    "month": "month", "months": "month",
    "year": "year", "years": "year",
    "usd": "USD", "$": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD",
    "eur": "EUR", "€": "EUR", "euro": "EUR", "euros": "EUR",
    "gbp": "GBP", "£": "GBP", "pound": "GBP", "pounds": "GBP",
}


def _unknown(text: str) -> UnknownUnit:
    return UnknownUnit(text, tuple(sorted(set(ALIASES.values()))))


def _one(text: str) -> str:
    key = re.sub(r"\s+", " ", text.strip()).lower()
    if key in ALIASES:
        return ALIASES[key]
    # Canonical names keep their case (USD), so look them up as written too.
    if text.strip() in CANONICAL:
        return text.strip()
    raise _unknown(text)


@cache
def parse_unit(text: str) -> str:
    """Canonical name of a unit as an article or a source file spells it.

    >>> parse_unit("square kilometers"), parse_unit("sq mi"), parse_unit("troops/month")
    ('km²', 'mi²', 'troops / month')
    """
    if not isinstance(text, str) or not text.strip():
        raise _unknown(str(text))
    parts = [p for p in text.split("/")]
    if len(parts) == 1:
        return _one(parts[0])
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return f"{_one(parts[0])} / {_one(parts[1])}"
    raise _unknown(text)


def _pint_expr(canonical: str) -> str:
    if " / " in canonical:
        num, den = canonical.split(" / ")
        return f"({CANONICAL[num]}) / ({CANONICAL[den]})"
    return CANONICAL[canonical]


@cache
def to_base_factor(canonical: str) -> Fraction:
    """Exact factor that turns a magnitude in this unit into SI base units."""
    q = ureg.Quantity(Fraction(1), _pint_expr(canonical)).to_base_units()
    return Fraction(q.magnitude)


@cache
def dimensionality(canonical: str):
    """pint's dimensionality of a canonical unit (comparable with ==)."""
    return ureg.Quantity(Fraction(1), _pint_expr(canonical)).dimensionality


def convert(magnitude: Fraction, src: str, dst: str) -> Fraction:
    """Exact conversion between two canonical units of the same dimension."""
    if dimensionality(src) != dimensionality(dst):
        raise ValueError(f"cannot convert {src} to {dst}: different dimensions")
    return magnitude * to_base_factor(src) / to_base_factor(dst)


def is_headcount(canonical: str) -> bool:
    return canonical in ("troops", "people")


def describe_dimension(dim) -> str:
    """Words for a dimensionality ('an area', 'a headcount per time'), for error messages.

    pint's own formatter cannot print the Fraction exponents this registry uses.
    """
    if dim == "date":
        return "a date"
    named = {name: dimensionality(unit) for name, unit in (
        ("a pure number", "dimensionless"), ("an area", "km²"), ("a length", "km"),
        ("a headcount", "troops"), ("a time", "day"), ("an amount of USD", "USD"),
        ("an amount of EUR", "EUR"), ("an amount of GBP", "GBP"))}
    for name, d in named.items():
        if d == dim:
            return name
    for num_name, num in named.items():
        for den_name, den in named.items():
            if num / den == dim and den != dimensionality("dimensionless"):
                return f"{num_name} per {den_name.split(' ', 1)[1]}"
    parts = [f"{k}^{int(v) if Fraction(v).denominator == 1 else v}" for k, v in dim.items()]
    return " ".join(parts)
