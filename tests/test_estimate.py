"""Qualifiers become bounds by the policy of docs/architecture.md; arithmetic is exact."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.figures.bounds import (
    INF,
    QUALIFIERS,
    bounds_for,
    half_unit,
    norm,
    qualifier_family,
    to_float,
)


@pytest.mark.parametrize("written, expected", [
    (90, Fraction(5)),                    # last significant digit is the tens: ±5
    (11000, Fraction(500)),               # "11,000": thousands, ±500
    (70000, Fraction(5000)),              # "70,000": ten-thousands, ±5,000
    ("11,000", Fraction(500)),            # commas as printed
    (386, Fraction(1, 2)),                # units digit: ±0.5
    (35, Fraction(1, 2)),
    (Decimal("2.50"), Fraction(1, 200)),  # 2.50 keeps its hundredths: ±0.005
    ("2.5", Fraction(1, 20)),             # 2.5: tenths, ±0.05
    (Decimal("0.09"), Fraction(1, 200)),  # hundredths
    (Decimal("1E+3"), Fraction(500)),     # 1 x 10³: thousands
    (Fraction(1, 4), Fraction(1, 200)),   # 0.25: hundredths
    (0, Fraction(1, 2)),                  # zero: taken as a whole number, ±0.5
    (1850, Fraction(5)),                  # "roughly 1,850 ha": ±5
    (2500000, Fraction(50000)),           # 2,500,000: hundred-thousands, ±50,000
])
def test_half_unit(written, expected):
    assert half_unit(written) == expected


@pytest.mark.parametrize("wording, family", [
    (None, "exact"), ("exactly", "exact"),
    ("approximately", "approx"), ("about", "approx"), ("around", "approx"),
    ("roughly", "approx"), ("some", "approx"), ("an estimated", "approx"),
    ("over", "lower"), ("more than", "lower"), ("at least", "lower"),
    ("nearly", "nearly"), ("almost", "nearly"), ("just under", "nearly"),
    ("up to", "upper"), ("at most", "upper"), ("under", "upper"), ("fewer than", "upper"),
    ("less than", "upper"),
    ("  More   THAN ", "lower"),  # case and spacing as printed do not matter
])
def test_qualifier_families_follow_the_policy_table(wording, family):
    assert qualifier_family(wording) == family


def test_unknown_qualifier_is_a_key_error():
    with pytest.raises(KeyError):
        qualifier_family("give or take")


@pytest.mark.parametrize("value, qualifier, low, high", [
    # "approximately 90 km²": 90 ± 5 (policy: approx -> ± half unit)
    (90, "approximately", 85, 95),
    # "around 11,000 troops": 11,000 ± 500
    (11000, "around", 10500, 11500),
    # "an estimated 70,000": 70,000 ± 5,000
    (70000, "an estimated", 65000, 75000),
    # "over 1,000 km²": [1000, no upper bound)
    (1000, "over", 1000, INF),
    # "more than 12,000 people": [12000, no upper bound)
    (12000, "more than", 12000, INF),
    # "nearly 40 km": [40 - 5, 40]
    (40, "nearly", 35, 40),
    # "almost 9,000": [9000 - 500, 9000]
    (9000, "almost", 8500, 9000),
    # "up to $2.5 million": [0, 2,500,000]
    (2500000, "up to", 0, 2500000),
    # no qualifier: exactly the value
    (3, None, 3, 3),
])
def test_bounds_by_the_default_policy(value, qualifier, low, high):
    assert bounds_for(Fraction(value), qualifier) == (low, high)


def test_written_digits_set_the_half_unit():
    # "about 2.50": 2.50 ± 0.005, not 2.5 ± 0.05
    assert bounds_for(Fraction("2.5"), "about", written=Decimal("2.50")) == (
        Fraction("2.495"), Fraction("2.505"))
    assert bounds_for(Fraction("2.5"), "about", written=Decimal("2.5")) == (
        Fraction("2.45"), Fraction("2.55"))


@pytest.mark.parametrize("qualifier", sorted(QUALIFIERS))
def test_exact_policy_makes_every_qualifier_exact(qualifier):
    assert bounds_for(Fraction(90), qualifier, policy="exact") == (90, 90)


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown qualifier policy 'loose'"):
        bounds_for(Fraction(1), "about", policy="loose")


def test_to_float_and_norm():
    assert to_float(None) is None and to_float(INF) is None and to_float(-INF) is None
    assert to_float(Fraction(9, 100)) == 0.09
    # 85 / inf is 0.0 as a float; norm brings it back to an exact Fraction
    assert norm(Fraction(85) / INF) == 0 and isinstance(norm(Fraction(85) / INF), Fraction)
    assert norm(INF) == INF
    with pytest.raises(ArithmeticError, match="undefined"):
        norm(INF - INF)


# --- properties -------------------------------------------------------------------

written_numbers = st.one_of(
    st.integers(min_value=1, max_value=10**9).map(Decimal),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1000000"), places=3,
                allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(written_numbers, st.sampled_from(sorted(QUALIFIERS) + [None]),
       st.sampled_from(["default", "exact"]))
def test_point_lies_within_its_bounds(written, qualifier, policy):
    value = Fraction(written)
    low, high = bounds_for(value, qualifier, policy=policy, written=written)
    assert low <= value <= high
    assert low >= 0  # the policy never takes a positive figure below zero


@settings(max_examples=200, deadline=None)
@given(written_numbers, st.sampled_from(sorted(QUALIFIERS)))
def test_shape_of_the_bounds_per_family(written, qualifier):
    value = Fraction(written)
    h = half_unit(written)
    low, high = bounds_for(value, qualifier, written=written)
    family = QUALIFIERS[qualifier]
    expected = {
        "exact": (value, value), "approx": (value - h, value + h), "lower": (value, INF),
        "nearly": (value - h, value), "upper": (0, value),
    }[family]
    assert (low, high) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**6).filter(lambda n: n % 10),
       st.integers(min_value=0, max_value=12))
def test_half_unit_of_whole_numbers(n, zeros):
    # n ends in a non-zero digit; n followed by `zeros` zeros has its last significant
    # digit in the 10**zeros place, so half a unit is 10**zeros / 2
    assert half_unit(n * 10**zeros) == Fraction(10**zeros, 2)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=8))
def test_half_unit_of_decimals_counts_written_places(digits, places):
    # a number written with `places` decimals: half a unit is 10**-places / 2, even if
    # the last written digit is a zero (2.50)
    written = Decimal(digits).scaleb(-places)
    assert half_unit(written) == Fraction(1, 2 * 10**places)


@settings(max_examples=200, deadline=None)
@given(written_numbers)
def test_value_is_a_whole_number_of_units(written):
    # the value as written is a whole multiple of its last significant digit's unit
    unit = 2 * half_unit(written)
    assert (Fraction(written) / unit).denominator == 1
    assert not math.isinf(unit) and unit > 0
