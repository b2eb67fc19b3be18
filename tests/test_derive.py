"""Derived figures: hand-worked values and bounds for the seed, the safe formula language,
and properties of corner bounds."""

import datetime as dt
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import AnalysisError, FormulaError, SourceError
from analysis.figures.bounds import INF, QUALIFIERS
from analysis.figures.derive import evaluate, parse_formula, run_check
from analysis.figures.source import Derived, Figure, Source, SourceMeta, load_source, parse_source

MI2 = Fraction("2.589988110336")  # km² in one mi², exactly (1609.344 m)²
MONTH_DAYS = Fraction("30.4375")  # pint's month: a Julian year (365.25 days) / 12 = 487/16


@pytest.fixture(scope="module")
def seed(seed_source_path):
    return load_source(seed_source_path)


@pytest.fixture(scope="module")
def figures(seed):
    return evaluate(seed)


def bounds(r):
    return r.value, r.low, r.high


# --- the seed's derived figures, worked out by hand ------------------------------------


def test_stated_bounds(figures):
    # approximately 90 -> ±5; over 1000 -> [1000, inf); an estimated 70,000 -> ±5,000;
    # around 11,000 -> ±500; over 1,000 killed -> [1000, inf) capped by at_most nk_troops
    # at its high, 11,500
    assert bounds(figures["held_area"]) == (90, 85, 95)
    assert bounds(figures["captured_area"]) == (1000, 1000, INF)
    assert bounds(figures["russian_troops"]) == (70000, 65000, 75000)
    assert bounds(figures["nk_troops"]) == (11000, 10500, 11500)
    assert bounds(figures["nk_killed"]) == (1000, 1000, 11500)
    assert bounds(figures["nk_deaths_span"]) == (3, 3, 3)
    # autumn 2024: 1 Sep to 30 Nov, point the middle day (90 days apart -> +45 = 16 Oct)
    assert bounds(figures["nk_deployment"]) == (dt.date(2024, 10, 16), dt.date(2024, 9, 1),
                                                dt.date(2024, 11, 30))
    assert figures["as_of"].value == dt.date(2025, 6, 22)  # default reading: reported


def test_held_area_mi2(figures):
    # 90 km² / 2.589988110336 km²/mi² = 34.7491942688... mi²; ±5 km² -> 85/M .. 95/M
    assert bounds(figures["held_area_mi2"]) == (90 / MI2, 85 / MI2, 95 / MI2)
    assert float(figures["held_area_mi2"].value) == pytest.approx(34.7491942688, abs=1e-9)


def test_captured_area_mi2(figures):
    # 1000 / 2.589988110336 = 386.1021585424... mi², at least that, no upper bound
    assert bounds(figures["captured_area_mi2"]) == (1000 / MI2, 1000 / MI2, INF)
    assert float(figures["captured_area_mi2"].value) == pytest.approx(386.1021585424, abs=1e-9)


def test_area_lost_km2(figures):
    # 1000 - 90 = 910; lowest: 1000 captured - 95 held = 905; captured is unbounded above
    assert bounds(figures["area_lost_km2"]) == (910, 905, INF)


def test_share_held(figures):
    # 90 / 1000 = 0.09; high = 95/1000 per policy (approx 90 -> ±5, over 1000 -> [1000, inf));
    # low = 85 / inf = 0
    assert bounds(figures["share_held"]) == (Fraction(9, 100), 0, Fraction(19, 200))


def test_share_lost(figures):
    # (1000 - 90) / 1000 = 0.91; low = (1000 - 95) / 1000 = 0.905; high: the limit as
    # captured grows without bound is 1 (also the share domain's cap)
    r = figures["share_lost"]
    assert (r.value, r.low) == (Fraction(91, 100), Fraction(181, 200))
    assert r.high == 1


def test_nk_killed_share(figures):
    # 1000 / 11000 = 1/11; low = 1000 / 11500 = 2/23; high: 11500 / 10500 > 1, capped to 1
    # by domain: share
    assert bounds(figures["nk_killed_share"]) == (Fraction(1, 11), Fraction(2, 23), 1)


def test_nk_killed_per_month(figures):
    # 1000 killed / 3 months; high 11500 / 3 (deaths capped by the 11,500 deployed)
    assert bounds(figures["nk_killed_per_month"]) == (Fraction(1000, 3), Fraction(1000, 3),
                                                      Fraction(11500, 3))


def test_nk_killed_per_day(figures):
    # 3 months = 3 x 30.4375 = 91.3125 days = 1461/16; 1000 / 91.3125 = 16000/1461
    # = 10.9514...; high 11500 x 16 / 1461 = 184000/1461
    assert 3 * MONTH_DAYS == Fraction(1461, 16)
    assert bounds(figures["nk_killed_per_day"]) == (Fraction(16000, 1461), Fraction(16000, 1461),
                                                    Fraction(184000, 1461))


def test_nk_share_of_reinforcements(figures):
    # n / (r + n) = 11000 / 81000 = 11/81; bounds are NOT naive interval arithmetic:
    # low = 10500 / (75000 + 10500) = 7/57, high = 11500 / (65000 + 11500) = 23/153
    assert bounds(figures["nk_share_of_reinforcements"]) == (
        Fraction(11, 81), Fraction(10500, 75000 + 10500), Fraction(11500, 65000 + 11500))
    # naive interval arithmetic would give 10500 / (75000 + 11500), a lower low
    assert figures["nk_share_of_reinforcements"].low > Fraction(10500, 75000 + 11500)


def test_nk_share_if_included(figures):
    # n / r = 11000 / 70000 = 11/70; low 10500/75000 = 0.14; high 11500/65000 = 23/130
    assert bounds(figures["nk_share_if_included"]) == (Fraction(11, 70), Fraction(7, 50),
                                                       Fraction(23, 130))


def test_russian_per_nk(figures):
    # r / n = 70000 / 11000 = 70/11; low 65000/11500 = 130/23; high 75000/10500 = 50/7
    assert bounds(figures["russian_per_nk"]) == (Fraction(70, 11), Fraction(130, 23),
                                                 Fraction(50, 7))
    # (r - n) / n: 59/11, low (65000 - 11500)/11500 = 107/23, high (75000 - 10500)/10500 = 43/7
    assert bounds(figures["russian_per_nk_if_included"]) == (
        Fraction(59, 11), Fraction(107, 23), Fraction(43, 7))


def test_months_elapsed(figures):
    # 6 Aug 2024 -> 22 Jun 2025 = 365 - (8 + 31 + 6) = 320 days; 320 / 30.4375 = 5120/487
    # = 10.5133... months (pint's month = Julian year / 12)
    assert bounds(figures["days_elapsed"]) == (320, 320, 320)
    assert bounds(figures["months_elapsed"]) == (Fraction(5120, 487),) * 3


def test_area_lost_per_month(figures):
    # 910 km² / 320 days x 30.4375 days/month = 86.556640625 km²/month;
    # low 905 / 320 x 30.4375 = 86.0810546875; no upper bound (captured is "over")
    r = figures["area_lost_per_month"]
    assert (r.value, r.low, r.high) == (Fraction(910, 320) * MONTH_DAYS,
                                        Fraction(905, 320) * MONTH_DAYS, INF)
    assert r.value == Fraction("86.556640625") and r.low == Fraction("86.0810546875")


def test_inputs_and_formula_are_recorded(figures):
    r = figures["nk_share_of_reinforcements"]
    assert r.kind == "derived" and r.formula == "nk_troops / (russian_troops + nk_troops)"
    assert r.inputs == ["nk_troops", "russian_troops"]
    assert figures["area_lost_per_month"].inputs == ["captured_area", "held_area", "launch",
                                                     "as_of"]


def test_article_reading_of_the_statement_date(seed):
    # "on Sunday, nearly a year after": 8 Jun .. 3 Aug 2025, point 6 Jul (the middle).
    # 6 Aug 2024 -> 8 Jun 2025 = 365 - 59 = 306 days; -> 3 Aug 2025 = 362; -> 6 Jul = 334
    f = evaluate(seed, readings={"as_of": "article"})
    assert f.readings == {"as_of": "article"}
    assert bounds(f["as_of"]) == (dt.date(2025, 7, 6), dt.date(2025, 6, 8), dt.date(2025, 8, 3))
    assert bounds(f["days_elapsed"]) == (334, 306, 362)
    assert bounds(f["months_elapsed"]) == (334 / MONTH_DAYS, 306 / MONTH_DAYS, 362 / MONTH_DAYS)


def test_exact_policy_collapses_every_bound(seed):
    f = evaluate(seed, policy="exact")
    for r in f.values():
        assert r.low == r.value == r.high, r.id
    # the point values do not move
    assert f["share_held"].value == Fraction(9, 100)


def test_unknown_policy_and_reading(seed):
    with pytest.raises(AnalysisError, match="unknown qualifier policy 'loose'"):
        evaluate(seed, policy="loose")
    with pytest.raises(AnalysisError, match="has no reading 'guess'; choose one of article, "
                       "reported"):
        evaluate(seed, readings={"as_of": "guess"})
    with pytest.raises(AnalysisError, match="no figure 'held_area' with readings"):
        evaluate(seed, readings={"held_area": "x"})


# --- the formula language --------------------------------------------------------------


@pytest.mark.parametrize("formula", [
    "a", "a + b * (c - d) / 2", "-a", "+a", "2.5 * a", "days_between(launch, as_of)",
    'quantity(366, "day")', "min(a, b)", "max(a, b, c)", "a / (b + a)",
])
def test_allowed_formulas(formula):
    parse_formula(formula)


@pytest.mark.parametrize("formula, problem", [
    ("a.__class__", "attribute access (x.y) is not allowed"),
    ('open("x")', "the function 'open' is not allowed; allowed: days_between, quantity, min, "
                  "max"),
    ('__import__("os")', "the function '__import__' is not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("(lambda: 1)()", "calling lambda is not allowed"),
    ("a[0]", "indexing (x[...]) is not allowed"),
    ("a ** 2", "powers (**) is not allowed"),
    ("a // 2", "floor division (//) is not allowed"),
    ("a % 2", "modulo (%) is not allowed"),
    ("a and b", "and/or is not allowed"),
    ("a if b else c", "if/else is not allowed"),
    ("[a, b]", "lists is not allowed"),
    ("__builtins__", "the name '__builtins__' is not allowed"),
    ("a < b", "comparisons are only allowed in checks"),
    ("min(a, key=b)", "keyword arguments are not allowed"),
    ('"text"', "text is only allowed as a unit"),
    ("True", "the constant True is not allowed"),
    ("a.b()", "calling attribute access (x.y) is not allowed"),
    ("quantity(a, 'day')", 'quantity takes a number and a unit'),
    ("days_between(a)", "days_between takes two dates"),
    ("min()", "min needs arguments"),
    ("a +", "is not a formula"),
])
def test_forbidden_formulas(formula, problem):
    with pytest.raises(FormulaError) as err:
        parse_formula(formula)
    assert problem in str(err.value)


def test_comparisons_only_at_the_top_of_a_check():
    parse_formula("a <= b", allow_compare=True)
    with pytest.raises(FormulaError, match="comparisons are only allowed in checks"):
        parse_formula("(a <= b) + 1", allow_compare=True)


HEAD = "source:\n  id: t\n  title: T\nfigures:\n"


def fig(fid, value, unit, qualifier=None):
    q = f"    qualifier: {qualifier}\n" if qualifier else ""
    return (f"  - id: {fid}\n    value: {value}\n    unit: {unit}\n{q}"
            f"    description: x\n    attributed_to: y\n")


def der(did, formula, unit=None, extra=""):
    u = f"    unit: {unit}\n" if unit else ""
    return f"  - id: {did}\n    formula: '{formula}'\n{u}    description: z\n{extra}"


def run(figs: str, derived: str):
    return evaluate(parse_source(HEAD + figs + "derived:\n" + derived, "t.yaml"))


def source_error(figs, derived) -> SourceError:
    with pytest.raises(SourceError) as err:
        run(figs, derived)
    return err.value


def test_adding_an_area_to_a_headcount_is_refused():
    err = source_error(fig("a", 1, "km²") + fig("b", 1, "troops"), der("s", "a + b", "km²"))
    assert (err.figure, err.field) == ("s", "formula")
    assert "cannot add or subtract an area and a headcount" in str(err)


def test_the_unit_must_fit_the_formula():
    err = source_error(fig("a", 1, "km²"), der("s", "a", "troops"))
    assert (err.figure, err.field) == ("s", "unit")
    assert "the formula gives an area, but the unit 'troops' is a headcount" in str(err)
    err = source_error(fig("a", 1, "km²"), der("s", "a * 2"))
    assert "Add a 'unit:'" in str(err)


def test_a_derived_figure_cannot_be_a_date():
    d = "  - id: d\n    kind: date\n    value: 2024-01-01\n    description: x\n" \
        "    attributed_to: y\n"
    err = source_error(d, der("s", "d"))
    assert "cannot be a date" in str(err) and "days_between" in str(err)
    err = source_error(d, der("s", "d + 1"))
    assert "dates can only be used in days_between" in str(err)


def test_min_max_and_quantity():
    f = run(fig("a", 90, "km²", "about") + fig("b", 40, "mi²"),
            der("lo", "min(a, b)", "km²") + der("hi", "max(a, b)", "km²")
            + der("q", 'a / quantity(10, "sq km")'))
    # b = 40 mi² = 103.599... km² > a in [85, 95]
    assert (f["lo"].value, f["lo"].low, f["lo"].high) == (90, 85, 95)
    assert f["hi"].value == 40 * MI2
    assert (f["q"].value, f["q"].low, f["q"].high) == (9, Fraction(17, 2), Fraction(19, 2))


def test_domains_cap_the_bounds():
    # about 90 -> [85, 95]; about 94 -> [93.5, 94.5]
    figs = fig("a", 90, "km²", "about") + fig("b", 94, "km²", "about")
    f = run(figs, der("s", "a / b", "dimensionless", "    domain: share\n")
            + der("p", "a / b", "percent", "    domain: share\n")
            + der("d", "a - b", "km²", "    domain: nonnegative\n")
            + der("c", "a", "km²", "    domain: [0, 92]\n"))
    # a / b = 90/94 = 45/47; low 85/94.5 = 170/189; high 95/93.5 > 1, capped to 1 (share)
    assert (f["s"].value, f["s"].low, f["s"].high) == (Fraction(45, 47), Fraction(170, 189), 1)
    assert f["s"].warnings == []
    # in percent the share domain is still stated as a fraction: [0, 1] = [0 %, 100 %]
    assert (f["p"].value, f["p"].low, f["p"].high) == (Fraction(4500, 47), Fraction(17000, 189),
                                                       100)
    # a - b = -4, corners 85 - 94.5 = -9.5 .. 95 - 93.5 = 1.5; nonnegative lifts the low to 0,
    # but the point stays inside its bounds (low = -4) and a warning says so
    assert (f["d"].value, f["d"].low, f["d"].high) == (-4, -4, Fraction(3, 2))
    assert f["d"].warnings == ["point value lies below its domain (0)"]
    # [0, 92] is in the figure's own unit, km²
    assert (f["c"].low, f["c"].high) == (85, 92)


def test_at_most_caps_an_open_figure():
    figs = fig("dead", 1000, "troops", "over") + "    at_most: sent\n"
    figs += fig("sent", 11000, "troops", "around")
    f = evaluate(parse_source(HEAD + figs, "t.yaml"))
    # over 1000 -> [1000, inf), capped by sent's high: around 11,000 -> 11,500
    assert (f["dead"].low, f["dead"].high) == (1000, 11500)


def test_non_monotone_formula_is_widened_by_the_grid():
    # a (10 - a) with a in [4.5, 5.5]: both corners give 4.5 x 5.5 = 24.75, the true
    # maximum is 25 at a = 5, found by the interior grid
    f = run(fig("a", 5, "dimensionless", "about"), der("b", "a * (10 - a)"))
    assert (f["b"].low, f["b"].high) == (Fraction(99, 4), 25)


def test_non_monotone_formula_warns():
    f = run(fig("a", 5, "dimensionless", "about"), der("b", "a * (10 - a)"))
    assert any("monoton" in w for w in f["b"].warnings)


def test_division_by_zero_at_the_stated_values():
    err = source_error(fig("a", 1, "km²") + fig("b", 0, "km²"), der("s", "a / b"))
    assert (err.figure, err.field) == ("s", "formula")
    assert "cannot be evaluated at the stated values: division by zero" in str(err)


def test_division_by_a_zero_bound_is_unbounded():
    # "up to 10": [0, 10]; 5 / b at b = 0 grows without limit
    f = run(fig("a", 5, "km²") + fig("b", 10, "km²", "up to"), der("s", "a / b"))
    assert (f["s"].value, f["s"].low, f["s"].high) == (Fraction(1, 2), Fraction(1, 2), INF)


def test_number_reading_with_low_and_high_only():
    src = parse_source(HEAD + "  - id: a\n    unit: km²\n    description: x\n"
                       "    attributed_to: y\n    readings:\n      r:\n        low: 80\n"
                       "        high: 100\n", "t.yaml")
    f = evaluate(src)
    assert (f["a"].value, f["a"].low, f["a"].high) == (90, 80, 100)


def test_check_dividing_by_zero_is_a_source_error():
    src = parse_source(HEAD + fig("a", 0, "dimensionless")
                       + "checks:\n  - id: c\n    assert: 1 / a <= 2\n    description: z\n",
                       "t.yaml")
    f = evaluate(src)
    with pytest.raises(SourceError, match=r"check 'c'|figure 'c'") as info:
        run_check(f, src.checks[0])
    assert "cannot be evaluated at the stated values: division by zero" in str(info.value)


# --- properties: corner bounds of monotone formulas ------------------------------------

MONOTONE = {
    # formula: the same in Python, over Fractions; each is monotone in each input
    "a + b": lambda a, b: a + b,
    "a - b": lambda a, b: a - b,
    "a * b": lambda a, b: a * b,
    "a / b": lambda a, b: a / b,
    "a / (a + b)": lambda a, b: a / (a + b),
    "(a - b) / a": lambda a, b: (a - b) / a,
    "a * b / (a + b)": lambda a, b: a * b / (a + b),
}

written_numbers = st.one_of(
    st.integers(min_value=1, max_value=10**6).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2,
                allow_nan=False, allow_infinity=False),
)
qualifiers = st.sampled_from(sorted(QUALIFIERS) + [None])
unit_interval = st.fractions(min_value=0, max_value=1, max_denominator=1000)


def _source(formula, inputs):
    figures = [Figure(id=name, kind="quantity", description="x", attributed_to="y",
                      unit="dimensionless", value=Fraction(w), written=w, qualifier=q)
               for name, (w, q) in inputs.items()]
    derived = [Derived(id="f", formula=formula, description="z", unit="dimensionless")]
    return Source(path="<test>", meta=SourceMeta(id="t", title="t"), figures=figures,
                  derived=derived, checks=[])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(MONOTONE)), written_numbers, qualifiers, written_numbers,
       qualifiers, st.lists(st.tuples(unit_interval, unit_interval), min_size=1, max_size=5))
def test_derived_bounds_contain_corners_and_interior(formula, wa, qa, wb, qb, interior):
    py = MONOTONE[formula]
    f = evaluate(_source(formula, {"a": (wa, qa), "b": (wb, qb)}))
    r, a, b = f["f"], f["a"], f["b"]
    assert r.low <= r.value <= r.high
    assert r.value == py(a.value, b.value)
    corners = []
    for x, y in itertools.product((a.low, a.high), (b.low, b.high)):
        if INF in (x, y):
            continue
        try:
            corners.append(py(x, y))
        except ZeroDivisionError:
            continue
    for v in corners:
        assert r.low <= v <= r.high
    if len(corners) == 4:
        # every corner is finite: the bounds are exactly the extreme corners (monotone)
        assert (r.low, r.high) == (min(corners), max(corners))
    for s, t in interior:
        # an interior point; an open side is explored up to ten times the low end
        x = a.low + s * ((a.high if a.high != INF else 10 * a.low + 1) - a.low)
        y = b.low + t * ((b.high if b.high != INF else 10 * b.low + 1) - b.low)
        try:
            v = py(x, y)
        except ZeroDivisionError:
            continue
        assert r.low <= v <= r.high


@settings(max_examples=100, deadline=None)
@given(written_numbers, written_numbers, written_numbers)
def test_share_of_a_total_stays_in_its_domain(wn, wr, wk):
    # n / (r + n) with "around" inputs: tight corner bounds inside [0, 1]
    f = evaluate(_source("n / (r + n)", {"n": (wn, "around"), "r": (wr, "about"),
                                         "k": (wk, None)}))
    r, n, rr = f["f"], f["n"], f["r"]
    assert 0 <= r.low <= r.value <= r.high <= 1
    assert r.low == n.low / (rr.high + n.low) and r.high == n.high / (rr.low + n.high)


# --- limits at undefined corners (found in review) -----------------------------------


def _derived(*formulas):
    body = HEAD + fig("held", 90, "km²", "approximately") + fig("captured", 1000, "km²", "over")
    body += fig("a", 5, "km") + fig("c", 5, "km", "up to")
    body += "derived:\n" + "".join(
        f"  - id: {fid}\n    formula: {formula}\n    description: x\n" + (
            f"    unit: {unit}\n" if unit else "")
        for fid, formula, unit in formulas)
    return evaluate(parse_source(body, "t.yaml"))


def test_a_derived_figure_that_cancels_back_to_its_input_keeps_its_bounds():
    # held_again = captured - (captured - held) = held: exactly 85..95 km², although the
    # corners with captured unbounded are inf - inf; the limit is taken, exactly
    f = _derived(("lost", "captured - held", "km²"), ("held_again", "captured - lost", "km²"))
    assert (f["held_again"].low, f["held_again"].high) == (85, 95)
    assert isinstance(f["held_again"].low, Fraction)


def test_share_lost_upper_bound_is_exactly_one_in_the_limit():
    # (captured - held) / captured -> 1 as captured grows without bound
    f = _derived(("share_lost", "(captured - held) / captured", None))
    assert f["share_lost"].high == 1 and f["share_lost"].low == Fraction(905, 1000)


def test_a_ratio_that_vanishes_in_the_limit_has_lower_bound_zero_not_a_sample_value():
    f = _derived(("odd", "held / (captured - held) * captured / captured", None))
    assert f["odd"].low == 0  # held / (inf - held) -> 0, not 8.5e-29


@pytest.mark.parametrize(("formula", "low", "high"), [
    ("a / c", 1, INF),  # c in [0, 5]: 5/5 = 1 at most c, and no bound as c -> 0+
    ("a / (-c)", -INF, -1),  # the sign comes from the side c approaches 0 from
    ("-a / c", -INF, -1),
])
def test_a_denominator_reaching_zero_gives_an_unbounded_side_with_the_right_sign(formula, low,
                                                                                  high):
    f = _derived(("z", formula, None))
    assert (f["z"].low, f["z"].high) == (low, high)


@pytest.mark.parametrize("formula", ["1e999", "1e999 * held / held", 'quantity(1e999, "km")'])
def test_an_infinite_constant_is_rejected(formula):
    with pytest.raises(SourceError, match="is not finite"):
        _derived(("d", formula, "km²" if "held" in formula else None))


def test_a_formula_too_long_to_read_is_rejected_not_a_recursion_error():
    with pytest.raises(SourceError, match="longer than 1000 characters"):
        _derived(("d", "+".join(["a / a"] * 5000), None))


# --- where a bound's width comes from (width_from), worked out by hand -----------------


def _shares(*widths):
    total = sum(widths)
    return [float(w / total) for w in widths]


def test_width_from_nk_share_of_reinforcements(figures):
    # n / (r + n), n "around 11,000" in [10,500, 11,500], r "an estimated 70,000" in
    # [65,000, 75,000]. Vary n alone (r = 70,000): 10,500 / 80,500 = 3/23 = 0.130435 up to
    # 11,500 / 81,500 = 23/163 = 0.141104, a width of 23/163 - 3/23 = 40/3749 = 0.010670.
    # Vary r alone (n = 11,000): 11,000 / 86,000 = 0.127907 up to 11,000 / 76,000 = 0.144737,
    # a width of 11/76 - 11/86 = 55/3268 = 0.016830. Shares: n 0.388, r 0.612 -- most of
    # this range comes from the 70,000, not from "around 11,000"
    n, r = _shares(Fraction(40, 3749), Fraction(55, 3268))
    got = figures["nk_share_of_reinforcements"].width_from
    assert got == pytest.approx({"nk_troops": n, "russian_troops": r}, abs=1e-12)
    assert round(n, 3) == 0.388 and round(r, 3) == 0.612
    # no cap binds (a share within [0, 1]; no at_most on either input): the same uncapped
    assert figures["nk_share_of_reinforcements"].width_from_uncapped == pytest.approx(got)


def test_width_from_share_held(figures):
    # h / c, h "approximately 90" in [85, 95], c "over 1,000" in [1,000, no upper bound].
    # Vary h alone (c = 1,000): 0.085 to 0.095, width 0.01. Vary c alone (h = 90): 0.09 at
    # 1,000 down to 0 as c grows without bound, width 0.09. Shares 0.1 and 0.9
    assert figures["share_held"].width_from == pytest.approx(
        {"held_area": 0.1, "captured_area": 0.9}, abs=1e-12)


def test_width_from_nk_killed_share_capped_and_uncapped(figures):
    # k / n, k "over 1,000" capped by at_most nk_troops at 11,500: [1,000, 11,500]; n in
    # [10,500, 11,500]. Capped: vary k alone (n = 11,000): 1/11 up to 23/22, cut to 1 by
    # the share's domain: width 1 - 1/11 = 10/11. Vary n alone (k = 1,000): 1000/11500 =
    # 2/23 up to 1000/10500 = 2/21, width 2/21 - 2/23 = 4/483. Shares 0.991 and 0.009
    k, n = _shares(Fraction(10, 11), Fraction(4, 483))
    assert figures["nk_killed_share"].width_from == pytest.approx(
        {"nk_killed": k, "nk_troops": n}, abs=1e-12)
    # Uncapped: k in [1,000, no upper bound] makes the figure unbounded on its own, so it
    # takes the whole width and n's finite part counts as 0
    assert figures["nk_killed_share"].width_from_uncapped == {"nk_killed": 1.0,
                                                              "nk_troops": 0.0}


def test_width_from_sum_is_in_proportion_to_the_inputs_widths(figures):
    # r + n: widths 10,000 and 1,000 exactly (a sum is linear): 10/11 and 1/11
    assert figures["total_reinforcements"].width_from == pytest.approx(
        {"russian_troops": 10 / 11, "nk_troops": 1 / 11}, abs=1e-12)


def test_width_from_exact_inputs_and_readings(seed):
    # days_between(launch, as_of): both exact under the 'reported' reading: no width at all
    assert evaluate(seed)["days_elapsed"].width_from == {}
    # under the 'article' reading as_of is a range, launch exact: all of it from as_of
    article = evaluate(seed, readings={"as_of": "article"})["days_elapsed"]
    assert article.width_from == {"launch": 0.0, "as_of": 1.0}
    # a stated figure has none
    assert evaluate(seed)["held_area"].width_from is None


def test_width_from_in_the_json_contract(figures):
    obj = figures["share_held"].to_json()
    assert obj["width_from"] == pytest.approx({"held_area": 0.1, "captured_area": 0.9})
    assert obj["width_from_uncapped"] == pytest.approx(obj["width_from"])
    assert figures["held_area"].to_json()["width_from"] is None
