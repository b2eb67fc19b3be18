"""The self-audit: printed conversions and sanity relations, with verdict and tolerance."""

from fractions import Fraction

import pytest

from analysis.figures.audit import CONSISTENT, INCONSISTENT, WITHIN_BOUNDS, audit, audit_conversions
from analysis.figures.derive import evaluate
from analysis.figures.source import load_source, parse_source

HEAD = "source:\n  id: t\n  title: T\nfigures:\n"


def area(value, qualifier, printed_value, printed_unit="sq mi", printed_qualifier=None):
    q = f"    qualifier: {qualifier}\n" if qualifier else ""
    pq = f"        qualifier: {printed_qualifier}\n" if printed_qualifier else ""
    return (HEAD + f"  - id: a\n    value: {value}\n    unit: sq km\n{q}    description: ground\n"
            f"    attributed_to: y\n    printed:\n      - value: {printed_value}\n"
            f"        unit: {printed_unit}\n{pq}")


def findings_of(text, **kw):
    return audit(evaluate(parse_source(text, "t.yaml"), **kw))


def by_id(findings):
    return {f.id: f for f in findings}


def test_seed_conversions_are_consistent(seed_source_path):
    found = by_id(audit(evaluate(load_source(seed_source_path))))
    held = found["held_area"]
    # 90 km² = 34.749 mi², within 35 ± 0.5
    assert held.verdict == CONSISTENT and held.kind == "conversion"
    assert "34.749 mi²" in held.computed
    assert held.tolerance.startswith("±0.5 mi²")
    # 1000 km² = 386.102 mi², within 386 ± 0.5
    assert found["captured_area"].verdict == CONSISTENT
    assert "386.102 mi²" in found["captured_area"].computed


def test_seed_checks_hold(seed_source_path):
    findings = audit(evaluate(load_source(seed_source_path)))
    assert all(f.ok for f in findings)
    found = by_id(findings)
    for cid in ("held_within_captured", "launch_before_deployment",
                "deployment_before_deaths_report", "deaths_report_before_statement",
                "statement_within_a_year", "nk_killed_at_most_nk_troops"):
        assert found[cid].verdict == CONSISTENT, cid
        assert found[cid].kind == "check"
    assert found["held_within_captured"].computed == ("holds at the stated values and across "
                                                       "all bounds")


def test_planted_error_is_flagged():
    # "90 sq km (56 sq miles)": 90 km² = 34.749 mi², bounds (±5 km²) 32.82 .. 36.68 mi²,
    # nowhere near 56 ± 0.5
    [f] = audit_conversions(evaluate(parse_source(area(90, "approximately", 56), "t.yaml")))
    assert f.verdict == INCONSISTENT and not f.ok
    assert f.stated == "90 km² printed as 56 mi²"
    assert f.computed == "34.749 mi² (bounds 32.819 to 36.68)"


def test_consistent_only_within_bounds():
    # about 90 km² printed as 36 sq mi: 34.749 is outside 36 ± 0.5, but the stated bounds
    # reach up to 95 km² = 36.68 mi², inside [35.5, 36.5]
    [f] = audit_conversions(evaluate(parse_source(area(90, "about", 36), "t.yaml")))
    assert f.verdict == WITHIN_BOUNDS and f.ok
    # the same without a qualifier: exact 90 km², so 36 is simply wrong
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 36), "t.yaml")))
    assert f.verdict == INCONSISTENT


def test_tolerance_follows_the_printed_digits():
    # 18.5 km² = 7.1429 mi²: "7.1" (±0.05) fits, "7.2" (±0.05) does not, "7" (±0.5) fits
    for printed, verdict in (("7.1", CONSISTENT), ("7.2", INCONSISTENT), ("7", CONSISTENT)):
        [f] = audit_conversions(evaluate(parse_source(area("18.5", None, printed), "t.yaml")))
        assert f.verdict == verdict, printed
    [f] = audit_conversions(evaluate(parse_source(area("18.5", None, "7.1"), "t.yaml")))
    assert f.tolerance.startswith("±0.05 mi²")


def test_printed_in_another_dimension_is_inconsistent():
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 35, "km"), "t.yaml")))
    assert f.verdict == INCONSISTENT and "is not a unit of" in f.computed


def test_open_bounds_reach_a_printed_value():
    # "over 1,000 km²" printed as 420 sq mi: 386.1 is not 420 ± 5 (trailing zero: tens) but
    # the open upper bound reaches it
    [f] = audit_conversions(evaluate(parse_source(area(1000, "over", 420), "t.yaml")))
    assert f.verdict == WITHIN_BOUNDS
    assert "no upper bound" in f.computed


def test_exact_policy_narrows_within_bounds_to_inconsistent():
    # with every figure exact, "about 90 km² ~ 36 sq mi" loses its bounds
    [f] = audit_conversions(evaluate(parse_source(area(90, "about", 36), "t.yaml"),
                                     policy="exact"))
    assert f.verdict == INCONSISTENT


def _with_check(assert_expr, a="90", qa="about", b="100", qb="about"):
    return (HEAD + f"  - id: a\n    value: {a}\n    unit: km²\n    qualifier: {qa}\n"
            "    description: x\n    attributed_to: y\n"
            f"  - id: b\n    value: {b}\n    unit: km²\n    qualifier: {qb}\n"
            "    description: x\n    attributed_to: y\n"
            f"checks:\n  - id: c\n    assert: {assert_expr}\n    description: rel\n")


def test_check_verdicts():
    # a about 90 [85, 95]; b "about 100" -> ±50 [50, 150]: a <= b holds at the point, fails
    # at the corner a = 95, b = 50
    [f] = findings_of(_with_check("a <= b"))
    assert (f.verdict, f.computed) == (WITHIN_BOUNDS, "holds at the stated values, but not "
                                                      "across all bounds")
    [f] = findings_of(_with_check("a >= b"))
    assert (f.verdict, f.computed) == (INCONSISTENT, "fails at the stated values")
    # with b "exactly"-ish (no qualifier), 95 <= 100 at every corner
    [f] = findings_of(_with_check("a <= b", qb="exactly"))
    assert f.verdict == CONSISTENT
    [f] = findings_of(_with_check("a < b", qa="exactly", b=90, qb="exactly"))
    assert f.verdict == INCONSISTENT


def test_at_most_relation_that_fails_at_the_stated_values():
    text = (HEAD + "  - id: dead\n    value: 2000\n    unit: troops\n    at_most: sent\n"
            "    description: x\n    attributed_to: y\n"
            "  - id: sent\n    value: 1500\n    unit: troops\n    description: x\n"
            "    attributed_to: y\n")
    found = by_id(findings_of(text))
    assert found["dead_at_most_sent"].verdict == INCONSISTENT


def test_second_source_has_exactly_its_planted_error(repo_root):
    findings = audit(evaluate(load_source(repo_root / "data/sources/harbour-flooding-2023.yaml")))
    bad = [f for f in findings if not f.ok]
    assert [f.id for f in bad] == ["flooded_area"]
    # 1850 ha = 18.5 km² = 7.1429 mi², printed as "about 11"
    assert "7.143 mi²" in bad[0].computed
    found = by_id(findings)
    assert found["farmland_flooded"].verdict == CONSISTENT  # 640 ha = 2.471 mi² ~ 2.5
    assert found["levee_length"].verdict == CONSISTENT  # 40 km = 24.855 mi ~ 25


def test_findings_serialise():
    [f] = audit_conversions(evaluate(parse_source(area(90, "about", 35), "t.yaml")))
    assert set(f.to_json()) == {"id", "kind", "verdict", "description", "stated", "computed",
                                "tolerance"}


@pytest.mark.parametrize("printed", ["35", "34.7", "34.75"])
def test_consistent_roundings_of_ninety(printed):
    # 90 / 2.589988110336 = 34.7491942688...: rounds to 35, 34.7 and 34.75
    [f] = audit_conversions(evaluate(parse_source(area(90, None, printed), "t.yaml")))
    assert f.verdict == CONSISTENT
    assert Fraction(printed) - Fraction(90) / Fraction("2.589988110336") < Fraction(1, 2)
