"""The self-audit: printed conversions and sanity relations, with verdict and tolerance."""

from fractions import Fraction

import pytest

from analysis.errors import SourceError
from analysis.figures.audit import (
    CONSISTENT,
    INCONSISTENT,
    WITH_ROUNDING,
    WITHIN_BOUNDS,
    audit,
    audit_conversions,
)
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
    assert held.message == ("The article prints approximately 90 km² as 35 mi²; 90 km² is "
                            "34.7 mi², which rounds to 35.")
    assert found["captured_area"].message == ("The article prints over 1,000 km² as 386 mi²; "
                                              "1,000 km² is 386.1 mi², which rounds to 386.")


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
    # "90 sq km (56 sq miles)": 90 km² = 34.749 mi²; the digits of 90 (±5 km², 85..95 km²)
    # reach 32.819..36.68 mi², nowhere near 56 ± 0.5. 56 / 34.749 = 1.61: 61% too high
    [f] = audit_conversions(evaluate(parse_source(area(90, "approximately", 56), "t.yaml")))
    assert f.verdict == INCONSISTENT and not f.ok
    assert f.stated == "approximately 90 km² printed as 56 mi²"
    # 85 / 2.589988110336 = 32.8187... rounds down to 32.818 and 95 / 2.589988... =
    # 36.6797... up to 36.68: bounds round outward, never inward
    assert f.computed == "34.749 mi² (32.818 to 36.68 for the stated number's digits)"
    assert "90 km² is 34.7 mi², so 56 is 61% too high" in f.message


def test_consistent_with_rounding_of_the_stated_number():
    # about 90 km² printed as 36 sq mi: 34.749 is outside 36 ± 0.5 = [35.5, 36.5], but a
    # number written 90 may be 95, and 95 km² = 36.68 mi², which reaches [35.5, 36.5].
    # 36 / 34.749 = 1.036: 3.6% too high
    [f] = audit_conversions(evaluate(parse_source(area(90, "about", 36), "t.yaml")))
    assert f.verdict == WITH_ROUNDING and f.ok
    assert f.message == ("The article prints about 90 km² as 36 mi²; 90 km² is 34.7 mi², so "
                         "36 is 3.6% too high, but a number written 90 covers 85 to 95 km², "
                         "which is 32.8 to 36.7 mi², and that reaches 36.")
    # the verdict comes from the digits, not the qualifier: no qualifier, same verdict
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 36), "t.yaml")))
    assert f.verdict == WITH_ROUNDING
    # 37: 37 - 0.5 = 36.5 is below 36.68, still reached; 38: 37.5 > 36.68, not
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 37), "t.yaml")))
    assert f.verdict == WITH_ROUNDING
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 38), "t.yaml")))
    assert f.verdict == INCONSISTENT


def test_tolerance_follows_the_printed_digits():
    # 18.5 km² = 7.1429 mi² (digits of 18.5: ±0.05 km² = ±0.0193 mi²):
    # "7.1" (±0.05) fits; "7.2" (±0.05): 7.15 - 7.1429 = 0.0071 <= 0.0193, so with rounding;
    # "7.3": 7.25 - 7.1429 = 0.107 > 0.0193, inconsistent; "7" (±0.5) fits
    for printed, verdict in (("7.1", CONSISTENT), ("7.2", WITH_ROUNDING), ("7.3", INCONSISTENT),
                             ("7", CONSISTENT)):
        [f] = audit_conversions(evaluate(parse_source(area("18.5", None, printed), "t.yaml")))
        assert f.verdict == verdict, printed
    [f] = audit_conversions(evaluate(parse_source(area("18.5", None, "7.1"), "t.yaml")))
    assert f.tolerance.startswith("±0.05 mi²")


def test_printed_in_another_dimension_is_inconsistent():
    [f] = audit_conversions(evaluate(parse_source(area(90, None, 35, "km"), "t.yaml")))
    assert f.verdict == INCONSISTENT and "is not a unit of" in f.computed
    assert f.message == ("The article prints 90 km² as 35 km, but km is a length and km² is an "
                         "area: a conversion cannot change what is measured.")


def test_an_open_qualifier_does_not_excuse_a_wrong_conversion():
    # the example: "more than 2,000 sq km (1,250 sq miles)". 2,000 km² =
    # 2000 / 2.589988110336 = 772.2 mi²; 1,250 / 772.2 = 1.619: 62% too high. The digits of
    # 2,000 (±500 km²) reach 1,500..2,500 km² = 579.2..965.3 mi²; 1,250 ± 5 is beyond that.
    # Before, "more than" (no upper bound) let it pass as consistent within bounds.
    [f] = audit_conversions(evaluate(parse_source(area(2000, "more than", 1250), "t.yaml")))
    assert f.verdict == INCONSISTENT
    assert f.message == ("The article prints more than 2,000 km² as 1,250 mi²; 2,000 km² is "
                         "772.2 mi², so 1,250 is 62% too high. Rounding cannot explain it: a "
                         "number written 2,000 covers 1,500 to 2,500 km², which is 579.1 to "
                         "965.3 mi².")  # 579.15 and 965.25 mi², rounded outward
    # the same for "up to" and "at least", and under the exact policy
    for q in ("up to", "at least"):
        [f] = audit_conversions(evaluate(parse_source(area(2000, q, 1250), "t.yaml")))
        assert f.verdict == INCONSISTENT, q
    [f] = audit_conversions(evaluate(parse_source(area(2000, "more than", 1250), "t.yaml"),
                                     policy="exact"))
    assert f.verdict == INCONSISTENT
    # and a right conversion beside an open qualifier stays consistent: 772.2 rounds to 772
    [f] = audit_conversions(evaluate(parse_source(area(2000, "more than", 772), "t.yaml")))
    assert f.verdict == CONSISTENT


def test_a_too_low_conversion_says_too_low():
    # 1,000 km² = 386.102 mi², printed 300: (386.102 - 300) / 386.102 = 22.3% too low;
    # digits of 1,000 (±500) reach 193.05..579.15 mi², so the rounding explains it
    [f] = audit_conversions(evaluate(parse_source(area(1000, None, 300), "t.yaml")))
    assert f.verdict == WITH_ROUNDING
    assert "so 300 is 22% too low" in f.message
    # 1,001 km² (±0.5) = 386.488 mi² (±0.19): 300 is 22% too low and now inconsistent
    [f] = audit_conversions(evaluate(parse_source(area(1001, None, 300), "t.yaml")))
    assert f.verdict == INCONSISTENT and "so 300 is 22% too low" in f.message


def test_check_strict_fails_on_the_wrong_conversion(tmp_path):
    from click.testing import CliRunner

    from analysis.cli import cli

    path = tmp_path / "wrong.yaml"
    path.write_text(area("2,000", "more than", "1,250"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "--strict", str(path)])
    assert result.exit_code == 1
    assert "INCONSISTENT" in result.output
    assert "2,000 km² is 772.2 mi², so 1,250 is 62% too high" in " ".join(result.output.split())
    assert CliRunner().invoke(cli, ["check", str(path)]).exit_code == 0  # a warning without it


def _printed_error(printed_yaml):
    text = (HEAD + "  - id: a\n    value: 90\n    unit: km²\n    description: x\n"
            "    attributed_to: y\n" + printed_yaml)
    with pytest.raises(SourceError) as err:
        parse_source(text, "bad.yaml")
    return str(err.value)


def test_bad_printed_conversions_name_file_line_and_figure():
    # HEAD is 4 lines; the figure starts on line 5, 'printed:' on line 10
    msg = _printed_error("    printed:\n      - value: 35\n        unit: furlongs squared\n")
    assert msg.startswith("bad.yaml, line 12: figure 'a', field 'printed.unit': unknown unit "
                          "'furlongs squared'")
    msg = _printed_error("    printed:\n      - unit: sq mi\n")
    assert msg.startswith("bad.yaml, line 11: figure 'a', field 'printed.value': a printed "
                          "conversion without a value")
    msg = _printed_error("    printed:\n      - value:\n        unit: sq mi\n")
    assert "a printed conversion without a value" in msg and "line 11" in msg
    msg = _printed_error("    printed:\n      - {value: 35, unit: sq mi}\n"
                         "      - {value: 34.7, unit: square miles}\n")
    assert msg.startswith("bad.yaml, line 12: figure 'a', field 'printed': the conversion into "
                          "mi² is printed twice (35 and 34.7 mi²)")
    msg = _printed_error("    printed: 35\n")
    assert msg.startswith("bad.yaml, line 10: figure 'a', field 'printed': 'printed' must be a "
                          "list")


def test_a_date_has_no_printed_conversion():
    text = (HEAD + "  - id: d\n    kind: date\n    value: 2024-08-06\n    description: x\n"
            "    attributed_to: y\n    printed:\n      - {value: 35, unit: sq mi}\n")
    with pytest.raises(SourceError, match="a date has no printed conversion"):
        parse_source(text, "bad.yaml")


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
    findings = audit(evaluate(load_source(repo_root / "tests/data/harbour-flooding-2023.yaml")))
    bad = [f for f in findings if not f.ok]
    assert [f.id for f in bad] == ["flooded_area"]
    # 1,850 ha = 18.5 km² = 18.5 / 2.589988110336 = 7.1429 mi², printed as "about 11":
    # 11 / 7.1429 = 1.540, 54% too high; the digits of 1,850 (±5 ha) reach 7.124..7.162 only
    assert "7.143 mi²" in bad[0].computed
    assert bad[0].message == ("The article prints roughly 1,850 ha as 11 mi²; 1,850 ha is 7.1 "
                              "mi², so 11 is 54% too high. Rounding cannot explain it: a number "
                              "written 1,850 covers 1,845 to 1,855 ha, which is 7.123 to 7.163 "
                              "mi².")  # 7.1237 and 7.1623 mi², rounded outward
    found = by_id(findings)
    # 640 ha = 6.4 km² = 2.4711 mi², within 2.5 ± 0.05
    assert found["farmland_flooded"].verdict == CONSISTENT
    # 40 km = 40 / 1.609344 = 24.855 mi, within 25 ± 0.5
    assert found["levee_length"].verdict == CONSISTENT


def test_findings_serialise():
    [f] = audit_conversions(evaluate(parse_source(area(90, "about", 35), "t.yaml")))
    assert set(f.to_json()) == {"id", "kind", "verdict", "description", "stated", "computed",
                                "tolerance", "message"}


@pytest.mark.parametrize("printed", ["35", "34.7", "34.75"])
def test_consistent_roundings_of_ninety(printed):
    # 90 / 2.589988110336 = 34.7491942688...: rounds to 35, 34.7 and 34.75
    [f] = audit_conversions(evaluate(parse_source(area(90, None, printed), "t.yaml")))
    assert f.verdict == CONSISTENT
    assert Fraction(printed) - Fraction(90) / Fraction("2.589988110336") < Fraction(1, 2)
