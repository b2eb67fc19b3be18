"""What readers see of a figure: rounding, bounds in words, escaping, charts.

Values come from the seed source file (data/sources/kursk-incursion-2025.yaml); the
expected strings are worked out by hand in each test.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from analysis.errors import AnalysisError
from analysis.figures.derive import evaluate
from analysis.figures.source import load_source
from analysis.notebook import plots
from analysis.notebook.present import bounds_text, number, value_text
from analysis.notebook.report import Report, choose, md, unit_groups


@pytest.fixture(scope="module")
def figures(seed_source_path):
    return evaluate(load_source(seed_source_path))


@pytest.mark.parametrize(("x", "kwargs", "text"), [
    (Fraction(11000), {}, "11,000"),
    (Fraction(90) / Fraction("2.589988110336"), {}, "34.7"),  # 34.749... mi²
    (Fraction(9, 100), {"percent": True}, "9.0%"),
    (Fraction(11, 81), {"percent": True}, "13.6%"),  # 11,000 / 81,000 = 13.580...%
    (Fraction(320) / Fraction("30.4375"), {}, "10.5"),  # 10.513... months
    (Fraction(1, 3), {}, "0.333"),
    (math.inf, {}, "unbounded"),
])
def test_number_rounds_only_for_display(x, kwargs, text):
    assert number(x, **kwargs) == text


def test_bounds_follow_the_wording(figures):
    assert bounds_text(figures["held_area"]) == "85 km² to 95 km²"  # about 90: ±5
    assert bounds_text(figures["captured_area"]) == "at least 1,000 km² (no upper bound)"
    # 95 / 1000 at most; the lower bound 0 (85 / unbounded) goes without saying
    assert bounds_text(figures["share_held"]) == "at most 9.5%"
    # 1000 / 11500 at least; the cap of 100% (no more deaths than troops) goes unsaid
    assert bounds_text(figures["nk_killed_share"]) == "at least 8.7%"
    assert bounds_text(figures["nk_deaths_span"]) == "exact"
    assert bounds_text(figures["days_elapsed"]) == "exact, given the 'reported' reading of as_of"
    assert value_text(figures["launch"]) == "6 August 2024"
    # a season: shown as the range it is, not as its middle day
    assert value_text(figures["nk_deployment"]) == "between 1 September 2024 and 30 November 2024"
    assert bounds_text(figures["nk_deployment"]) == (
        "a range; computed figures use its middle day, 16 October 2024")


def test_md_escapes_markup_so_it_shows_as_typed():
    assert md("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert md("*bold* _it_ [link](x) # h") == "\\*bold\\* \\_it\\_ \\[link\\]\\(x\\) \\# h"


def test_choose_rejects_an_unknown_word():
    assert choose("area_unit", "km2", ["km2", "mi2"]) == "km2"
    with pytest.raises(AnalysisError, match=r"area_unit='acres': choose one of 'km2', 'mi2'"):
        choose("area_unit", "acres", ["km2", "mi2"])


def test_report_converts_areas_to_the_chosen_unit(seed_source_path):
    rep = Report.load(seed_source_path, area_unit="mi2")
    held = rep.area("held_area")
    assert held.unit == "mi²"
    assert held.value == Fraction(90) / Fraction("2.589988110336")  # exact, not a float
    assert rep.value("held_area_mi2") == "34\\.7 mi²"  # Markdown-escaped for the page
    with pytest.raises(AnalysisError, match="area_unit must be one of km2, mi2"):
        Report.load(seed_source_path, area_unit="acres")


def test_report_remembers_which_figures_it_used(seed_source_path, tmp_path):
    import json

    rep = Report.load(seed_source_path)
    rep.value("share_held")
    rep.bounds("nk_troops")
    out = tmp_path / "figures.json"
    rep.save_figures(str(out), {"area_unit": "km2"})
    data = json.loads(out.read_text())
    assert [f["id"] for f in data["figures"]] == ["nk_troops", "share_held"]  # source order
    assert data["parameters"] == {"area_unit": "km2"}
    with pytest.raises(AnalysisError, match="needs a figure 'no_such'"):
        rep["no_such"]


def test_tables_escape_nothing_twice_and_keep_every_row(seed_source_path):
    rep = Report.load(seed_source_path)
    frame = rep.table(["held_area", "share_held"])
    assert list(frame["Value"]) == ["90 km²", "9.0%"]
    assert list(frame["Wording / formula"]) == ["approximately", "held_area / captured_area"]
    assert len(rep.audit_table()) == len(rep.findings) == 8


def test_chart_is_svg_with_text_and_alt_text_names_every_value(figures):
    fig, alt = plots.range_chart([figures["captured_area"], figures["held_area"]],
                                 title="Ground", labels=["Captured", "Held"])
    svg = plots.svg(fig)
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    assert ">Captured<" in svg or "Captured" in svg  # svg.fonttype none keeps text as text
    assert alt == ("Ground. Captured: 1,000 km², bounds at least 1,000 km² (no upper bound); "
                   "Held: 90 km², bounds 85 km² to 95 km².")


def test_chart_refuses_to_mix_units(figures):
    with pytest.raises(ValueError, match="one chart, one unit"):
        plots.range_chart([figures["held_area"], figures["nk_troops"]], title="x")


def test_unit_groups_put_each_unit_in_its_own_chart(seed_source_path):
    groups = dict(unit_groups(Report.load(seed_source_path)))
    assert {r.id for r in groups["percent"]} >= {"share_held", "nk_killed_share"}
    assert all(r.unit == "km²" for r in groups["km²"])
    assert "date" not in groups


def test_narrow_bounds_on_decimals_print_apart():
    # "about 2.50 mi²": half a unit of the last digit is 0.005, so 2.495 to 2.505;
    # the usual two decimals would print "2.50 mi² to 2.50 mi²" and read as exact
    from analysis.figures.source import parse_source

    src = parse_source("source: {id: t, title: T}\nfigures:\n"
                       "  - {id: a, value: 2.50, unit: sq mi, qualifier: about, "
                       "description: x, attributed_to: y}\n", "t.yaml")
    assert bounds_text(evaluate(src)["a"]) == "2.495 mi² to 2.505 mi²"


def test_dollar_signs_in_a_label_stay_text_in_a_chart(figures):
    # matplotlib reads $...$ as math; "$5 and $10" must print as typed, and a malformed
    # pair must not break the chart
    fig, _ = plots.range_chart([figures["held_area"]], title="Costs $5 and $10",
                               labels=[r"between $\frac and $ now"])
    svg = plots.svg(fig)
    assert "$5 and $10" in svg and r"$\frac and $" in svg


# --- where a range comes from, in words -------------------------------------------------


def test_width_sentences_name_the_input_as_the_article_words_it(seed_source_path):
    rep = Report.load(seed_source_path)
    # n / (r + n): 61% of the width from the 70,000 (tests/test_derive.py works it out)
    assert rep.width_sentence("nk_share_of_reinforcements") == (
        "Most of this range (61%) comes from 'an estimated 70,000' (Russian troops sent as "
        "reinforcements to Kursk in response to the incursion); the rest from 'around 11,000' "
        "(North Korean troops reportedly sent to help Russian forces in Kursk).")
    # captured - held: "over 1,000" alone leaves it without an upper bound
    assert rep.width_sentence("area_lost_km2").startswith(
        "This range has no upper bound because of 'over 1,000'")
    # 99.1% is "over 99%", never a rounded 100%
    assert "Most of this range (over 99%) comes from 'over 1,000'" in rep.width_sentence(
        "nk_killed_share")
    # both inputs exact under the 'reported' reading
    assert rep.width_sentence("days_elapsed") == "Its inputs are exact, so it has no range."
    assert rep.width_sentence("held_area") == ""  # a stated figure


def test_width_notes_list_derived_figures_of_several_inputs_escaped(tmp_path):
    text = ("source:\n  id: t\n  title: T\nfigures:\n"
            "  - {id: a, value: 90, qualifier: about, unit: km², description: x, "
            "attributed_to: y}\n"
            "  - {id: b, value: 1000, qualifier: over, unit: km², "
            "description: '<b>ground</b> *taken*', attributed_to: y}\n"
            "derived:\n  - {id: s, formula: a / b, description: '<script>x</script>'}\n"
            "  - {id: m, formula: a, unit: mi², description: one input}\n")
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    notes = Report.load(path).width_notes(["a", "s", "m"])
    # only s: a is stated, m is a conversion of one input. s = a / b: 0.1 and 0.9 as share_held
    assert notes == ("- **&lt;script&gt;x&lt;/script&gt;:** Most of this range (90%) comes from "
                     "'over 1,000' (&lt;b&gt;ground&lt;/b&gt; \\*taken\\*); the rest from "
                     "'about 90' (x).")


def test_audit_summary_says_how_far_off_a_wrong_conversion_is(repo_root):
    rep = Report.load(repo_root / "data" / "sources" / "harbour-flooding-2023.yaml")
    # 1,850 ha = 7.143 mi², printed "about 11": 54% too high (tests/test_audit.py)
    summary = rep.audit_summary()
    assert summary.startswith("**9 of 10 checks are consistent.** Inconsistent: Land under "
                              "water at the height of the flood.")
    assert "1,850 ha is 7\\.1 mi², so 11 is 54% too high\\." in summary
