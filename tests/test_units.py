"""Units: the exact factors of the one pint registry, and the spellings articles use."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import UnknownUnit
from analysis.figures.units import (
    ALIASES,
    convert,
    describe_dimension,
    dimensionality,
    is_headcount,
    parse_unit,
    to_base_factor,
)

# 1 international mile = 1609.344 m exactly, so 1 mi² = 1609.344² m² = 2,589,988.110336 m²
# = 2.589988110336 km² exactly.
MI2_IN_KM2 = Fraction("2.589988110336")


def test_international_mile_is_exact():
    # definition of the international mile (1959): 1609.344 m
    assert to_base_factor("mi") == Fraction("1609.344")
    assert to_base_factor("km") == 1000


def test_square_mile_in_square_kilometres_is_exact():
    # 1609.344² = 2589988.110336 (m²), / 10^6 m² per km²
    assert to_base_factor("mi²") / to_base_factor("km²") == MI2_IN_KM2
    assert convert(Fraction(1), "mi²", "km²") == MI2_IN_KM2


def test_hectare_and_square_metre():
    # 1 ha = 100 m x 100 m = 10,000 m²; 1 km² = 100 ha
    assert to_base_factor("ha") == 10_000
    assert to_base_factor("m²") == 1
    assert convert(Fraction(1850), "ha", "km²") == Fraction("18.5")


def test_ninety_square_kilometres_in_square_miles():
    # 90 km² / 2.589988110336 km²/mi² = 34.7491942688... mi² (the seed prints "around 35")
    got = convert(Fraction(90), "km²", "mi²")
    assert got == Fraction(90) / MI2_IN_KM2
    assert float(got) == pytest.approx(34.74919426882, rel=1e-12)


def test_time_units_are_pints_julian_units():
    # pint: day = 86,400 s; week = 7 days; year = Julian year of 365.25 days;
    # month = year / 12 = 30.4375 days = 2,629,800 s
    assert to_base_factor("day") == 86_400
    assert to_base_factor("week") == 7 * 86_400
    assert to_base_factor("year") == Fraction("365.25") * 86_400
    assert to_base_factor("month") == Fraction("30.4375") * 86_400 == 2_629_800


def test_percent_is_a_hundredth():
    assert to_base_factor("percent") == Fraction(1, 100)
    assert dimensionality("percent") == dimensionality("dimensionless")


@pytest.mark.parametrize("spelling", [
    "km²", "km2", "km^2", "km**2", "sq km", "sq. km", "sqkm", "square km",
    "square kilometer", "square kilometers", "square kilometre", "Square  Kilometres",
])
def test_square_kilometre_spellings(spelling):
    assert parse_unit(spelling) == "km²"


@pytest.mark.parametrize("spelling", [
    "mi²", "mi2", "mi^2", "sq mi", "sq. mi", "sq miles", "square mile", "square miles",
    "SQ MI",
])
def test_square_mile_spellings(spelling):
    assert parse_unit(spelling) == "mi²"


@pytest.mark.parametrize("spelling, canonical", [
    ("hectares", "ha"), ("kilometres", "km"), ("miles", "mi"), ("soldiers", "troops"),
    ("personnel", "troops"), ("civilians", "people"), ("%", "percent"), ("per cent", "percent"),
    ("$", "USD"), ("usd", "USD"), ("€", "EUR"), ("months", "month"), ("days", "day"),
    ("troops/month", "troops / month"), ("USD / ha", "USD / ha"),
    ("km² / month", "km² / month"),
])
def test_other_spellings(spelling, canonical):
    assert parse_unit(spelling) == canonical


@pytest.mark.parametrize("bad", ["parsecs", "", "   ", "km/day/hour", "/day", "troops/"])
def test_unknown_unit_lists_the_known_ones(bad):
    with pytest.raises(UnknownUnit) as err:
        parse_unit(bad)
    message = str(err.value)
    assert "unknown unit" in message
    # says what to use instead
    assert "km²" in message and "troops" in message


def test_every_alias_maps_to_a_convertible_unit():
    for spelling, canonical in ALIASES.items():
        assert parse_unit(spelling) == canonical
        assert to_base_factor(canonical) > 0


def test_conversion_between_dimensions_is_refused():
    with pytest.raises(ValueError, match="different dimensions"):
        convert(Fraction(1), "km²", "km")
    # currencies do not convert without a dated exchange rate
    with pytest.raises(ValueError, match="different dimensions"):
        convert(Fraction(1), "USD", "EUR")


def test_headcounts():
    # troops and people are one dimension: troops / people is a pure number
    assert convert(Fraction(5), "troops", "people") == 5
    assert dimensionality("troops / people") == dimensionality("dimensionless")
    assert is_headcount("troops") and is_headcount("people") and not is_headcount("km²")


def test_describe_dimension_in_words():
    assert describe_dimension(dimensionality("km²")) == "an area"
    assert describe_dimension(dimensionality("troops")) == "a headcount"
    assert describe_dimension(dimensionality("troops / month")) == "a headcount per time"
    assert describe_dimension("date") == "a date"


# --- properties -------------------------------------------------------------------

positive_fractions = st.fractions(min_value=Fraction(1, 10**6), max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(positive_fractions)
def test_km2_mi2_round_trip_is_exact(x):
    assert convert(convert(x, "km²", "mi²"), "mi²", "km²") == x
    assert convert(convert(x, "mi²", "km²"), "km²", "mi²") == x


@settings(max_examples=200, deadline=None)
@given(positive_fractions, st.sampled_from(["km²", "mi²", "ha", "m²"]),
       st.sampled_from(["km²", "mi²", "ha", "m²"]))
def test_area_round_trip_and_scale(x, a, b):
    # exact round trip, and the factor is the ratio of the base factors
    there = convert(x, a, b)
    assert convert(there, b, a) == x
    assert there == x * to_base_factor(a) / to_base_factor(b)


@settings(max_examples=100, deadline=None)
@given(positive_fractions, positive_fractions)
def test_conversion_is_linear(x, y):
    assert convert(x + y, "km²", "mi²") == convert(x, "km²", "mi²") + convert(y, "km²", "mi²")


def test_the_registry_reads_pints_parsed_definitions_from_its_disk_cache(monkeypatch):
    # pint's own cache of its parsed definition files (about 0.3 s a process); a cache
    # that cannot be used is only a lost saving, never a failure
    import pint

    from analysis.figures import units

    assert units.ureg.cache_folder is not None
    calls = []
    real = pint.UnitRegistry

    def registry(*args, **kwargs):
        calls.append(kwargs.get("cache_folder"))
        if "cache_folder" in kwargs:
            raise PermissionError("cache folder not writable")
        return real(*args, **kwargs)

    monkeypatch.setattr(pint, "UnitRegistry", registry)
    fallback = units._registry()
    assert calls == [":auto:", None] and fallback.cache_folder is None
    # 1 mi² is exactly 2.589988110336 km² (1 mi = 1609.344 m, by definition)
    assert fallback.Quantity(Fraction(1), "mi**2").to("km**2").magnitude == Fraction(
        "2.589988110336")
