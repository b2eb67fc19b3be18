"""Loading source files: the seed's figures as written, and validation with located errors."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from analysis.errors import SourceError
from analysis.figures.source import load_source, parse_source

HEAD = """\
source:
  id: test-article
  title: A test article
figures:
"""

FIGURE = """\
  - id: a
    value: 90
    unit: km²
    description: some ground
    attributed_to: someone
"""


def parse(body: str, path="t.yaml"):
    return parse_source(HEAD + body, path)


def error_of(body: str) -> SourceError:
    with pytest.raises(SourceError) as err:
        parse(body)
    return err.value


# --- the seed --------------------------------------------------------------------

SEED_FIGURES = ["held_area", "captured_area", "russian_troops", "nk_troops", "nk_killed",
                "nk_deaths_span", "launch", "nk_deployment", "nk_deaths_report", "as_of"]
ISSUE_DERIVED = ["held_area_mi2", "captured_area_mi2", "area_lost_km2", "share_held",
                 "share_lost", "nk_killed_share", "nk_killed_per_month", "nk_killed_per_day",
                 "nk_share_of_reinforcements", "nk_share_if_included", "russian_per_nk",
                 "months_elapsed", "area_lost_per_month"]


def test_seed_has_every_figure_and_every_derived_id_of_the_issue(seed_source_path):
    source = load_source(seed_source_path)
    assert [f.id for f in source.figures] == SEED_FIGURES
    assert set(ISSUE_DERIVED) <= {d.id for d in source.derived}
    assert source.meta.id == "kursk-incursion-2025"
    assert source.meta.covers == (dt.date(2024, 8, 6), dt.date(2025, 8, 3))
    # the 22 June reading is recorded as a note
    assert any("22 June 2025" in note for note in source.meta.notes)


def test_seed_figures_as_written(seed_source_path):
    source = load_source(seed_source_path)
    held = source.figure("held_area")
    assert (held.value, held.unit, held.qualifier, held.date) == (90, "km²", "approximately",
                                                                   "as_of")
    # the line of '- id: held_area' in the file (1-based)
    lines = seed_source_path.read_text(encoding="utf-8").splitlines()
    assert held.kind == "quantity" and lines[held.line - 1].strip() == "- id: held_area"
    [printed] = held.printed
    # "around 35 sq mi" as the article prints it
    assert (printed.value, printed.unit, printed.qualifier) == (35, "mi²", "around")
    nk = source.figure("nk_killed")
    assert nk.kind == "count" and nk.at_most == "nk_troops" and nk.qualifier == "over"
    deployment = source.figure("nk_deployment")
    assert (deployment.low, deployment.high) == (dt.date(2024, 9, 1), dt.date(2024, 11, 30))
    as_of = source.figure("as_of")
    assert list(as_of.readings) == ["article", "reported"]
    assert as_of.default_reading == "reported"
    assert as_of.readings["reported"].value == dt.date(2025, 6, 22)
    assert (as_of.readings["article"].low, as_of.readings["article"].high) == (
        dt.date(2025, 6, 8), dt.date(2025, 8, 3))
    share = source.figure("share_held")
    assert (share.formula, share.domain, share.format) == (
        "held_area / captured_area", (0, 1), "percent")


def test_second_source_loads(repo_root):
    source = load_source(repo_root / "tests/data/harbour-flooding-2023.yaml")
    assert any("INVENTED FOR TESTING" in n for n in source.meta.notes)
    assert source.meta.publisher is None
    assert source.figure("flooded_area").unit == "ha"
    assert source.figure("flooded_pct").unit == "percent"
    assert source.figure("damage").qualifier == "up to"
    [ignored] = source.ignore
    assert (ignored.value, ignored.unit) == (3, "m")


# --- numbers as written ------------------------------------------------------------


def test_decimals_keep_their_written_digits():
    fig = parse(FIGURE.replace("value: 90", "value: 2.50")).figures[0]
    assert fig.value == Fraction(5, 2) and str(fig.written) == "2.50"


def test_quoted_thousands_separators():
    fig = parse(FIGURE.replace("value: 90", 'value: "1,000"')).figures[0]
    assert fig.value == 1000 and fig.written == Decimal(1000)


def test_qualifier_is_normalised():
    fig = parse(FIGURE + "    qualifier: '  More  than'\n").figures[0]
    assert fig.qualifier == "more than"


def test_unit_spelling_is_canonicalised():
    fig = parse(FIGURE.replace("unit: km²", "unit: square kilometres")).figures[0]
    assert fig.unit == "km²"


def test_headcount_unit_makes_a_count():
    fig = parse(FIGURE.replace("unit: km²", "unit: soldiers")).figures[0]
    assert (fig.kind, fig.unit) == ("count", "troops")


# --- validation beyond the issue's list (those are in test_cli.py) ---------------------


def test_a_count_must_be_whole():
    err = error_of(FIGURE.replace("unit: km²", "unit: troops").replace("90", "90.5"))
    assert (err.figure, err.field, err.line) == ("a", "value", 6)
    assert "whole number" in str(err)


def test_unknown_field_suggests_the_right_one():
    err = error_of(FIGURE + "    qualifer: about\n")
    assert (err.figure, err.field, err.line) == ("a", "qualifer", 10)
    assert "Did you mean 'qualifier'?" in str(err)


def test_unknown_section():
    with pytest.raises(SourceError) as info:
        parse_source(HEAD + FIGURE + "derive:\n  - id: x\n", "t.yaml")
    err = info.value
    parse_error_text = str(err)
    assert err.line == 10 and "unknown section 'derive'" in parse_error_text
    assert "Did you mean 'derived'?" in parse_error_text


def test_a_date_range_needs_both_ends():
    err = error_of("  - id: d\n    kind: date\n    low: 2024-09-01\n"
                   "    description: x\n    attributed_to: y\n")
    assert (err.figure, err.field) == ("d", "value")
    assert "or both 'low' and 'high'" in str(err)


def test_low_after_high():
    err = error_of("  - id: d\n    kind: date\n    low: 2024-09-30\n    high: 2024-09-01\n"
                   "    description: x\n    attributed_to: y\n")
    assert (err.figure, err.field, err.line) == ("d", "low", 7)
    assert "Order them low <= value <= high" in str(err)


def test_default_reading_must_exist():
    err = error_of("  - id: d\n    kind: date\n    description: x\n    attributed_to: y\n"
                   "    readings:\n      one:\n        value: 2024-01-01\n"
                   "    default_reading: two\n")
    assert (err.figure, err.field) == ("d", "default_reading")


def test_date_must_name_a_date_figure():
    err = error_of(FIGURE + "    date: nowhere\n")
    assert (err.figure, err.field, err.line) == ("a", "date", 5)


def test_at_most_must_name_a_stated_figure():
    err = error_of(FIGURE + "    at_most: b\n")
    assert (err.figure, err.field) == ("a", "at_most")


def test_unknown_domain_and_format():
    derived = "derived:\n  - id: s\n    formula: a / a\n    description: x\n"
    err = error_of(FIGURE + derived + "    domain: shares\n")
    assert (err.figure, err.field) == ("s", "domain") and "Did you mean 'share'?" in str(err)
    err = error_of(FIGURE + derived + "    format: percentage\n")
    assert (err.figure, err.field) == ("s", "format")


def test_domain_as_a_pair():
    derived = "derived:\n  - id: s\n    formula: a\n    unit: km²\n    description: x\n"
    assert parse(FIGURE + derived + "    domain: [0, null]\n").derived[0].domain == (0, None)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("\n")
    with pytest.raises(SourceError, match="is empty"):
        load_source(path)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(SourceError, match="is a folder"):
        load_source(tmp_path)


def test_low_and_high_of_a_number_figure_are_used():
    fig = parse(FIGURE + "    low: 80\n    high: 100\n").figures[0]
    assert (fig.low, fig.high) == (80, 100)


# --- the worked example of docs/data-format.md ---------------------------------------


def test_worked_example_in_the_docs_loads_and_gives_the_hand_values(repo_root, tmp_path):
    import re

    from analysis.figures.audit import CONSISTENT, audit
    from analysis.figures.derive import evaluate

    doc = (repo_root / "docs" / "data-format.md").read_text(encoding="utf-8")
    example = doc[doc.index("## A worked example"):]
    text = re.search(r"```yaml\n(.*?)```", example, re.S).group(1)
    path = tmp_path / "corran-wildfire-2023.yaml"
    path.write_text(text, encoding="utf-8")
    f = evaluate(load_source(path))
    # about 4,200 ha -> ±50; 42 km² / 2.589988110336 km²/mi²; 8 days from 2 to 10 August
    assert (f["burned_area"].low, f["burned_area"].high) == (4150, 4250)
    assert f["burned_area_mi2"].value == Fraction(42) / Fraction("2.589988110336")
    assert (f["burned_per_day"].value, f["burned_per_day"].low, f["burned_per_day"].high) == (
        525, Fraction(4150, 8), Fraction(4250, 8))
    assert f["damage_per_hectare"].high == Fraction(8_000_000, 4150)
    assert f["homes_lost"].low == 25 and f["damage"].low == 0
    assert [x.verdict for x in audit(f)] == [CONSISTENT, CONSISTENT]


# --- small bugs in the messages ---------------------------------------------------------


def test_malformed_yaml_names_the_line_where_the_problem_starts():
    err = error_of(FIGURE.replace("unit: km²", 'unit: "km²'))
    # the unclosed quote is on line 7 ('    unit: "km²'); the file has 9 lines
    assert err.line == 7


def test_source_files_are_parsed_by_libyaml_with_the_same_result_and_limits(repo_root):
    # libyaml scans a source file in C (analysis.files.limited_safe_loader); the composer
    # that checks the limits, and the constructors, stay the project's own
    import yaml

    from analysis import files
    from analysis.figures import source as src

    assert "CParser" in [c.__name__ for c in src._Loader.__mro__]
    text = (repo_root / "data/sources/kursk-incursion-2025.yaml").read_text(encoding="utf-8")
    slow = files._python_twin(src._Loader)
    assert src.load_yaml(text, "k.yaml") == yaml.load(text, Loader=slow)  # noqa: S506
    for body, problem in (("a: &x [1]\nb: *x\n", "alias"), ("a: " + "[" * 60 + "]" * 60,
                                                             "levels deep")):
        with pytest.raises(SourceError, match=problem):
            src.load_yaml(body, "t.yaml")


def test_a_yaml_error_keeps_pyyamls_words_where_libyamls_say_less():
    # libyaml: "found character that cannot start any token"; PyYAML names the tab
    err = error_of(FIGURE.replace("    unit: km²", "\tunit: km²"))
    assert "found character '\\t' that cannot start any token" in str(err)
    assert err.line == 7
    err = error_of(FIGURE.replace("unit: km²", 'unit: "\\q"'))
    assert "unknown escape character 'q'" in str(err)


def test_suggestion_is_not_followed_by_a_stray_full_stop():
    err = error_of(FIGURE + "    qualifer: about\n")
    assert "Did you mean 'qualifier'?." not in str(err)
    assert str(err).endswith("Did you mean 'qualifier'?")


# --- bounds that contradict themselves (found in review) ------------------------------


def test_a_value_outside_its_own_bounds_is_rejected():
    err = error_of(FIGURE.replace("    value: 90\n", "    value: 10\n    low: 20\n    high: 30\n"))
    assert (err.figure, err.field) == ("a", "low")
    assert "low (20) is above value (10)" in str(err)


def test_a_qualifier_beside_explicit_bounds_is_rejected():
    err = error_of(FIGURE + "    low: 80\n    high: 95\n    qualifier: over\n")
    assert (err.figure, err.field) == ("a", "qualifier")
    assert "both a qualifier ('over') and explicit low/high bounds" in str(err)


def test_a_reading_with_its_bounds_reversed_is_rejected():
    body = FIGURE.replace("    value: 90\n", "") + (
        "    readings:\n      r:\n        low: 7\n        high: 3\n")
    err = error_of(body)
    assert err.figure == "a" and "reading 'r': low (7) is above high (3)" in str(err)


def test_format_percent_needs_a_dimensionless_unit():
    # a share in unit percent is already 14, not 0.14: showing it as a percentage would
    # multiply it by 100 a second time
    derived = ("derived:\n  - id: s\n    formula: a / a\n    description: x\n"
               "    unit: percent\n    format: percent\n")
    err = error_of(FIGURE + derived)
    assert (err.figure, err.field) == ("s", "format")


def test_a_number_given_as_a_range_has_its_middle_as_the_point():
    # "between 80 and 100 km²": bounds as printed, point (80 + 100) / 2 = 90
    from analysis.figures.derive import evaluate

    src = parse(FIGURE.replace("    value: 90\n", "    low: 80\n    high: 100\n"))
    r = evaluate(src)["a"]
    assert (r.value, r.low, r.high) == (90, 80, 100)
    err = error_of(FIGURE.replace("    value: 90\n", "    low: 80\n"))
    assert (err.figure, err.field) == ("a", "value")
