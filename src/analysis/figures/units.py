"""The one unit registry, and the spellings of units that source files use.

Both come from the vocabulary file (figures/vocabulary.yaml).

Magnitudes are exact: the registry parses its definitions as Fractions, so the
international mile is exactly 1609.344 m and 1 mi² is exactly 2.589988110336 km².
Units are shown by our own canonical names (km², mi², troops, ...) rather than by
pint's formatter, which cannot format Fraction exponents.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import pint

from analysis.errors import UnknownUnit
from analysis.figures.vocabulary import load_vocabulary, normalise

_VOCABULARY = load_vocabulary()


def _registry() -> pint.UnitRegistry:
    """pint's registry, its definition files parsed once per machine, not per process.

    Parsing pint's definitions costs about 0.5 s of CPU: every kernel template, CLI
    command and notebook paid it. pint's disk cache (`cache_folder`, in this user's
    cache folder: ~/.cache/pint) keeps the parsed result keyed by the files' contents,
    so a new pint or definition file is parsed afresh. It is pickled, so it is only
    read from a folder of this user's; if it cannot be used (not writable, a file
    half-written by a process starting at the same moment) the definitions are
    parsed as before."""
    try:
        return pint.UnitRegistry(non_int_type=Fraction, cache_folder=":auto:")
    except Exception:  # the cache is only a saving
        return pint.UnitRegistry(non_int_type=Fraction)


ureg = _registry()
for _definition in _VOCABULARY.definitions:  # headcounts, currencies (vocabulary.yaml)
    ureg.define(_definition)

#: canonical name -> pint expression (vocabulary.yaml, `units`)
CANONICAL: dict[str, str] = {name: unit.pint for name, unit in _VOCABULARY.units.items()}
#: spelling in a source file (lower-case, single-spaced) -> canonical name
ALIASES: dict[str, str] = _VOCABULARY.aliases


def _unknown(text: str) -> UnknownUnit:
    return UnknownUnit(text, tuple(sorted(set(ALIASES.values()))))


def _one(text: str) -> str:
    key = normalise(text)
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
        ("a headcount", "troops"), ("a time", "day"), ("a mass", "tonnes"),
        ("a volume", "litres"), ("an amount of USD", "USD"),
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
