"""What readers see of a figure: the presentation rule (docs/presentation.md), escaping,
tables, charts.

Values come from the seed source file (data/sources/kursk-incursion-2025.yaml); every
expected string is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

from analysis.errors import AnalysisError
from analysis.figures.bounds import significant_digits
from analysis.figures.derive import evaluate
from analysis.figures.source import load_source, parse_source
from analysis.notebook import plots
from analysis.notebook.present import (
    bounds_text,
    compact_text,
    format_number,
    formula_words,
    number,
    round_to,
    step_for,
    value_text,
)
from analysis.notebook.report import Report, choose, md, table_html, unit_groups

MI2 = Fraction("2.589988110336")  # km² in one international square mile, exactly


@pytest.fixture(scope="module")
def figures(seed_source_path):
    return evaluate(load_source(seed_source_path))


@pytest.fixture(scope="module")
def km2(seed_source_path):
    return Report.load(seed_source_path, area_unit="km2")


@pytest.fixture(scope="module")
def mi2(seed_source_path):
    return Report.load(seed_source_path, area_unit="mi2")


# --- the rule: outward rounding at each precision ------------------------------------


@pytest.mark.parametrize(("x", "step", "how", "expected"), [
    (Fraction("12.28"), Fraction(1, 10), "down", Fraction("12.2")),  # not 12.3: inward
    (Fraction("15.03"), Fraction(1, 10), "up", Fraction("15.1")),  # not 15.0: inward
    (Fraction("8.696"), Fraction(1, 100), "down", Fraction("8.69")),  # not 8.70
    (Fraction("10.95"), Fraction(1, 10), "down", Fraction("10.9")),  # not 11.0
    (Fraction(905), Fraction(1), "down", Fraction(905)),  # already on the step: unchanged
    (Fraction("905.5"), Fraction(1), "up", Fraction(906)),
    (Fraction(11501), Fraction(100), "up", Fraction(11600)),
    (Fraction(11500), Fraction(100), "up", Fraction(11500)),
    (Fraction(-25, 10), Fraction(1), "down", Fraction(-3)),  # down is towards −∞
    (Fraction(-25, 10), Fraction(1), "nearest", Fraction(-3)),  # halves away from zero
])
def test_bounds_round_outward_at_each_precision(x, step, how, expected):
    assert round_to(x, step, how) == expected


@pytest.mark.parametrize(("written", "digits"), [
    ("90", 1), ("11000", 2), ("70000", 1), ("1000", 1), ("386", 3), ("2.50", 3),
    ("0.05", 1), ("35", 2),
])
def test_significant_digits_as_written(written, digits):
    # trailing zeros of a whole number do not count, as in the qualifier policy
    assert significant_digits(written) == digits


def test_steps_keep_the_significant_digits():
    assert step_for(Fraction(905), 2) == 10
    assert step_for(Fraction("13.58"), 2) == 1
    assert step_for(Fraction("0.0912"), 2) == Fraction(1, 1000)


def test_values_show_only_the_digits_their_inputs_support(figures):
    # 70,000 / 11,000 = 6.3636...: "an estimated 70,000" has one significant digit, so the
    # ratio shows two (the floor), 6.4, not 6.36
    assert value_text(figures["russian_per_nk"]) == "6.4"
    # its bounds, one digit finer and outward: 65,000 / 11,500 = 5.652 -> 5.65;
    # 75,000 / 10,500 = 7.1428... -> 7.15
    assert bounds_text(figures["russian_per_nk"]) == "5.65 to 7.15"
    # 11,000 / 81,000 = 13.58%: two digits, 14%; bounds 10,500 / 85,500 = 12.28% down to
    # 12.2% and 11,500 / 76,500 = 15.03% up to 15.1%
    assert value_text(figures["nk_share_of_reinforcements"]) == "14%"
    assert bounds_text(figures["nk_share_of_reinforcements"]) == "12.2% to 15.1%"
    # 81,000 troops, bounds 75,500 to 86,500 exactly (steps of 100 hold them)
    assert bounds_text(figures["total_reinforcements"]) == "75,500 to 86,500 troops"


def test_stated_figures_keep_the_articles_word_and_bounds(figures):
    assert value_text(figures["held_area"]) == "approximately 90 km²"
    assert bounds_text(figures["held_area"]) == "85 to 95 km²"  # about 90: ±5
    assert value_text(figures["captured_area"]) == "over 1,000 km²"
    assert bounds_text(figures["captured_area"]) == "no upper bound stated"
    assert value_text(figures["nk_deaths_span"]) == "3 months"
    assert bounds_text(figures["nk_deaths_span"]) == "exact"


# --- one-sided figures: worded by the known side, never "about" ------------------------


def test_one_sided_figures_say_which_side(figures):
    # 95 / 1,000 = 9.5% exactly: the printed bound is the bound, so "at most"
    assert value_text(figures["share_held"]) == "at most 9.5%"
    # 1,000 − 95 = 905 exactly: "at least"
    assert value_text(figures["area_lost_km2"]) == "at least 905 km²"
    # 1,000 / 11,500 = 8.6956...%, rounded down to 8.69%: strictly more, so "more than"
    assert value_text(figures["nk_killed_share"]) == "more than 8.69%"
    # 1,000 / (3 × 30.4375 days) = 10.951... a day, down to 10.9: "more than"
    assert value_text(figures["nk_killed_per_day"]) == "more than 10.9 deaths a day"
    assert compact_text(figures["captured_area"]) == "1,000+ km²"
    for r in figures.values():
        assert "about" not in value_text(r) or r.qualifier == "about"


# --- caps: shown as caps, not findings --------------------------------------------------


def test_a_cap_reads_as_a_cap(figures):
    # deaths are capped only by the soldiers sent, "around 11,000": at most 11,500
    assert value_text(figures["nk_killed"]) == "over 1,000 deaths"
    assert figures["nk_killed"].capped == {"high": "nk_troops"}
    assert bounds_text(figures["nk_killed"], figures) == (
        "no upper bound stated; at most all 11,500 soldiers")
    # the share's 100% is its domain; nothing in the article bounds it
    assert figures["nk_killed_share"].capped == {"high": "domain"}
    assert bounds_text(figures["nk_killed_share"], figures) == (
        "no upper bound stated; at most 100% by definition")
    # 11,500 / 3 months = 3,833.3... up to 3,834, a cap inherited from the deaths' cap
    assert figures["nk_killed_per_month"].capped == {"high": "nk_troops"}
    assert bounds_text(figures["nk_killed_per_month"], figures) == (
        "no upper bound stated; at most 3,834 deaths a month, a cap set by all 11,500 soldiers")
    # a bound from the article itself is not a cap: 90 / 1,000 has no capped side
    assert figures["share_held"].capped == {}
    assert figures["share_lost"].capped == {}  # (1,000 − 0) / ∞ -> 100% is a true limit


# --- typography ------------------------------------------------------------------------


def test_typography():
    assert format_number(Fraction(-5, 2), Fraction(1, 10)) == "\u22122.5"  # true minus
    assert format_number(Fraction(1234567), Fraction(1)) == "1,234,567"
    assert number(Fraction(11000)) == "11,000"
    assert number(Fraction(9, 100), percent=True) == "9%"
    assert number(Fraction(1, 3)) == "0.333"
    assert number(math.inf) == "unbounded"


def test_readings_are_named_in_typographic_quotes_without_figure_ids(figures):
    text = bounds_text(figures["days_elapsed"])
    assert text == "exact, given the \u201creported\u201d reading"
    assert "as_of" not in text and "'" not in text


def test_dates_read_as_dates(figures):
    assert value_text(figures["launch"]) == "6 August 2024"
    assert value_text(figures["nk_deployment"]) == "between 1 September 2024 and 30 November 2024"


# --- the display unit is a report setting ------------------------------------------------


def test_area_unit_converts_every_area_and_every_area_rate(mi2):
    held = mi2.shown("held_area")
    assert held.unit == "mi²" and held.value == 90 / MI2  # exact, not a float
    # 90 / 2.589988 = 34.749 -> two digits, 35; 85 / 2.589988 = 32.8187 down to 32.8,
    # 95 / 2.589988 = 36.6797 up to 36.7
    assert mi2.value("held_area") == "approximately 35 mi²"
    assert mi2.bounds("held_area") == "32\\.8 to 36\\.7 mi²"
    # the article printed this figure in km²: shown beside it as printed, not recomputed
    assert mi2.printed("held_area") == "approximately 90 km², as printed"
    # (1,000 − 95) km² / 320 days = 86.084 km² a month = 33.237 mi² a month, down to 33.2
    assert mi2.shown("area_lost_per_month").unit == "mi² / month"
    assert mi2.value("area_lost_per_month") == "more than 33\\.2 mi² a month"
    with pytest.raises(AnalysisError, match="area_unit must be one of km2, mi2"):
        Report.load("data/sources/kursk-incursion-2025.yaml", area_unit="acres")


def test_the_other_unit_is_the_articles_as_printed(km2):
    assert km2.value_beside("held_area") == "approximately 90 km² (around 35 mi², as printed)"
    assert km2.value_beside("captured_area") == "over 1,000 km² (386 mi², as printed)"
    assert km2.printed("share_held") == ""  # computed: nothing printed


def test_unit_variant_figures_left_the_source_file(figures):
    assert "area_lost_mi2" not in figures and "area_lost_per_month_mi2" not in figures


# --- reader text: no code ----------------------------------------------------------------


def test_formulas_in_words():
    names = {"a": "ground still held", "b": "ground captured", "c": "the time"}
    assert formula_words("a / b", names) == "ground still held divided by ground captured"
    assert formula_words("(b - a) / c", names) == (
        "the difference between ground captured and ground still held divided by the time")
    assert formula_words('days_between(a, b) <= quantity(366, "day")', names) == (
        "the time from ground still held to ground captured is at most 366 days")


def test_tables_carry_the_qualifier_and_no_formula(km2):
    frame = km2.table(["held_area", "captured_area", "share_held", "nk_killed"], caption="X")
    assert list(frame.columns) == ["Figure", "Value", "Bounds", "Source"]
    assert list(frame["Value"]) == ["approximately 90 km² (around 35 mi², as printed)",
                                    "over 1,000 km² (386 mi², as printed)", "at most 9.5%",
                                    "over 1,000 deaths"]
    text = frame.to_string()
    assert "held_area" not in text and "/" not in text


def test_method_and_audit_tables_name_no_figure_id(km2):
    for fid in km2.figures:
        km2[fid]
    text = km2.method_table().to_string() + km2.audit_table().to_string()
    ids = [fid for fid in km2.figures if "_" in fid and re.search(rf"\b{fid}\b", text)]
    assert ids == [] and "<=" not in text
    assert len(km2.audit_table()) == len(km2.findings) == 8


def test_table_html_has_caption_row_headers_and_escapes():
    import pandas as pd

    frame = pd.DataFrame([{"Figure": "<b>x</b>", "Value": "1 & 2"}])
    frame.attrs["caption"] = "Caption <i>"
    out = table_html(frame)
    assert "<caption>Caption &lt;i&gt;</caption>" in out
    assert '<th scope="row">&lt;b&gt;x&lt;/b&gt;</th>' in out
    assert '<th scope="col">Value</th>' in out and "1 &amp; 2" in out


def test_report_remembers_which_figures_it_used(seed_source_path, tmp_path):
    import json

    rep = Report.load(seed_source_path, area_unit="mi2")
    rep.value("share_held")
    rep.bounds("held_area")
    out = tmp_path / "figures.json"
    rep.save_figures(str(out), {"area_unit": "mi2"}, summary="One line.")
    data = json.loads(out.read_text())
    assert [f["id"] for f in data["figures"]] == ["held_area", "share_held"]  # source order
    assert data["figures"][0]["unit"] == "mi²"  # as the report shows it
    assert data["parameters"] == {"area_unit": "mi2"} and data["summary"] == "One line."
    with pytest.raises(AnalysisError, match="needs a figure 'no_such'"):
        rep["no_such"]


def test_md_escapes_markup_so_it_shows_as_typed():
    assert md("<script>alert(1)</script>") == "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"
    assert md("*bold* _it_ [link](x) # h") == "\\*bold\\* \\_it\\_ \\[link\\]\\(x\\) \\# h"


def test_choose_rejects_an_unknown_word():
    assert choose("area_unit", "km2", ["km2", "mi2"]) == "km2"
    with pytest.raises(AnalysisError, match=r"area_unit='acres': choose one of 'km2', 'mi2'"):
        choose("area_unit", "acres", ["km2", "mi2"])


def test_narrow_bounds_on_decimals_print_apart():
    # "about 2.50 mi²": three digits; half a unit of the last is 0.005, so 2.495 to 2.505,
    # shown one digit finer than the value: never "2.50 to 2.50"
    src = parse_source("source: {id: t, title: T}\nfigures:\n"
                       "  - {id: a, value: 2.50, unit: sq mi, qualifier: about, "
                       "description: x, attributed_to: y}\n", "t.yaml")
    assert bounds_text(evaluate(src)["a"]) == "2.495 to 2.505 mi²"


# --- charts --------------------------------------------------------------------------------


def test_chart_scales_to_its_column_and_alt_text_reads_every_value(km2):
    rows = km2.chart_rows(["captured_area", "held_area"])
    fig, alt = plots.range_chart(rows, title="Ground", labels=["Captured", "Held"])
    svg = plots.svg(fig)
    root = re.search(r"<svg\b[^>]*>", svg).group(0)
    assert "viewBox" in root and " width=" not in root and " height=" not in root
    assert "Captured" in svg  # svg.fonttype none keeps text as text
    assert "Arial, sans-serif" in svg  # a browser without DejaVu Sans falls back
    assert alt == ("Chart of 2 ranges, Ground. Captured: over 1,000 km², no upper bound "
                   "stated; Held: approximately 90 km², 85 to 95 km².")
    caption = plots.caption_for(rows, "Ground captured and held")
    assert caption.startswith("Ground captured and held. ") and "arrow" in caption


def test_chart_is_cropped_to_its_ink_as_a_tight_savefig_would(km2):
    # plots.svg draws once and sets the viewBox to the ink's box plus PAD_IN; the size
    # must be what matplotlib's own bbox_inches="tight" (two draws) gives the same chart.
    import io

    import matplotlib.pyplot as plt

    def chart():
        return plots.range_chart(km2.chart_rows(["captured_area", "held_area"]),
                                 title="Ground captured and still held, a title long "
                                       "enough to wrap", labels=["Captured", "Held"])[0]

    box = re.search(r'viewBox="([^"]*)"', plots.svg(chart())).group(1).split()
    buf = io.StringIO()
    fig = chart()
    with plt.rc_context(plots.STYLE):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=plots.PAD_IN)
    plt.close(fig)
    tight = re.search(r'viewBox="([^"]*)"', buf.getvalue()).group(1).split()
    assert [float(v) for v in box[2:]] == pytest.approx([float(v) for v in tight[2:]],
                                                        abs=0.01)


def _texts(fig) -> dict:
    """A range chart's texts by what they say (it draws on its figure, with no Axes)."""
    from matplotlib.text import Text

    return {t.get_text(): t for t in fig.artists if isinstance(t, Text)}


def test_percent_axis_shows_percent_and_stops_at_100(km2):
    import matplotlib.pyplot as plt

    fig, _ = plots.range_chart(km2.chart_rows(["share_lost"]), title="Lost", percent=True)
    # 90.5% to 100%: the axis would run to 112% at the usual margin; a share stops at 100,
    # so the 100% tick sits on the plot area's right edge (figure.subplot.right)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = _texts(fig)["100%"].get_window_extent(renderer)
    assert (box.x0 + box.x1) / 2 == pytest.approx(fig.subplotpars.right * fig.bbox.width)
    svg = plots.svg(fig)
    # the texts with a percent sign, as drawn: the row's value (share_lost, 90.5% worded
    # "91%"), then the ticks, MaxNLocator's round steps on 0..100 (nbins 5)
    labels = re.findall(r">([^<>]*%)</text>", svg)
    assert labels == ["91%", "0%", "20%", "40%", "60%", "80%", "100%"], labels
    plt.close(fig)


def test_chart_axis_is_where_matplotlibs_own_would_be(km2):
    # plots.range_chart draws on its figure with no Axes (creating one was a fifth of a
    # chart's CPU) and _x_axis draws the ticks, their labels and the unit label itself.
    # They must be the ticks and words matplotlib's own axis shows for the same limits,
    # at the same places.
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, _ = plots.range_chart(km2.chart_rows(["captured_area", "held_area"]), title="G")
    assert fig.axes == []
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _texts(fig)
    # limits 0 to 1,350 (1,000 x 1.35 for the open bound): steps of 500
    ticks = {k: texts[k].get_window_extent(renderer) for k in ("0", "500", "1,000")}
    unit = texts["km²"].get_window_extent(renderer)
    # the same limits on a matplotlib Axes of the same figure size, its own axis drawn
    with plt.rc_context(plots.STYLE):
        ref, ax = plt.subplots(figsize=fig.get_size_inches())
    ax.set_xlim(0, 1350)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: plots.tick_text(v)))
    ax.set_xlabel("km²")
    ref.canvas.draw()
    own = {t.get_text(): t.get_window_extent(ref.canvas.get_renderer())
           for t in ax.get_xticklabels() if 0 <= t.get_position()[0] <= 1350}
    assert list(own) == list(ticks) == ["0", "500", "1,000"]
    for k, box in ticks.items():
        assert box.bounds == pytest.approx(own[k].bounds, abs=0.01), k
    assert unit.bounds == pytest.approx(ax.xaxis.label.get_window_extent().bounds, abs=0.01)
    plt.close(fig)
    plt.close(ref)


def test_no_row_label_runs_into_its_value(km2):
    # every chart the source report draws (one a unit group): each row's label wraps so
    # that its last line, the one beside the value, ends before the value starts. At a
    # fixed 34-character wrap "... from the launch to the statement" ran under "86+ km²
    # a month" (and a row of the troops chart the same). Measured as drawn in the SVG the
    # reader gets (the draw plots.svg makes), not in a PNG: Agg hints glyphs wider.
    from matplotlib.text import Text

    checked = []
    for label, results in unit_groups(km2):
        fig, _ = plots.range_chart(results, title=label, percent=label == "percent")
        texts = [t for t in fig.artists if isinstance(t, Text)]
        rows = []
        for r in results:
            value = next(t for t in texts if t.get_ha() == "right" and t.get_text()
                         == plots._no_math(plots.compact_text(r)))
            row = next(t for t in texts if t.get_ha() == "left" and t.get_position()[1]
                       == value.get_position()[1])
            last = Text(*row.get_position(), row.get_text().split("\n")[-1], ha="left",
                        va="bottom", fontsize=row.get_fontsize(),
                        transform=row.get_transform(), figure=fig)
            rows.append((r.id, last, value))

        def measure(event, rows=rows, label=label):
            for fid, last, value in rows:
                end = last.get_window_extent(event.renderer).x1
                start = value.get_window_extent(event.renderer).x0
                assert end < start, (label, fid, last.get_text(), value.get_text())
                checked.append(fid)

        fig.canvas.mpl_connect("draw_event", measure)
        plots.svg(fig)
    # every figure of the seed source but its 4 dates (launch, nk_deployment,
    # nk_deaths_report, as_of), which are not charted as ranges
    assert len(checked) == len(km2.figures) - 4 == 22


def test_row_labels_wrap_in_the_fewest_even_lines():
    # 43 characters do not fit one row (about 40 fit its 245.5 pt at 10.5 pt); two lines
    # do, and the even split beats "... no longer / held"
    assert plots._wrap_beside("Share of the captured ground no longer held", "91%") == (
        "Share of the captured\nground no longer held")
    assert plots._wrap_beside("Ground still held, in square miles", "35 mi²") == (
        "Ground still held, in square miles")
    # a word too long for any line stands alone rather than looping or vanishing
    long = "x" * 80
    assert plots._wrap_beside(f"a {long} b", "1") == f"a\n{long}\nb"
    assert plots._wrap_beside("", "1") == ""


def test_a_label_in_a_script_the_chart_font_lacks_still_charts(figures):
    # DejaVu Sans has no CJK, Thai or Devanagari; FreeType refuses to load such a glyph,
    # and measuring one for the wrap crashed the chart. A place name in its own script
    # must chart, counted about an em a character, as a reader's fallback font sets it.
    import warnings

    label = "Ground held near 中文地名 and เมืองไทย, the rest in words the font has"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib warns of the missing glyphs
        fig, alt = plots.range_chart([figures["held_area"]], title="Held", labels=[label])
        svg = plots.svg(fig)
    assert "中文地名" in svg and label in alt
    assert plots._text_width("中文") == 2 * plots.ROW_FONT_PT


def test_a_rows_value_stands_on_its_labels_last_line(km2):
    # the bold value and the last line of its own label share a baseline in the SVG: set
    # by their bottom edges, a wrapped label's last line stood a point above its value.
    # A row's texts come in order: its label's lines, then its value.
    rows = km2.chart_rows(["held_area", "captured_area", "area_lost_km2"])
    svg = plots.svg(plots.range_chart(rows, title="Ground")[0])
    texts = re.findall(r'<text style="([^"]*)"[^>]*?(?:translate\([\d.]+ |y=")([\d.]+)'
                       r'[^>]*>([^<]*)<', svg)
    values = [k for k, (style, _, _) in enumerate(texts) if "font-weight: 700" in style]
    assert [texts[k][2] for k in values][:3] == ["90 km²", "1,000+ km²", "905+ km²"]
    for k in values[:3]:
        label_lines = [t for t in texts[:k] if "font-weight" not in t[0]]
        assert len(label_lines) >= 2  # the first two labels wrap
        assert float(texts[k][1]) == float(texts[k - 1][1]), (texts[k - 1], texts[k])


def test_chart_refuses_to_mix_units(figures):
    with pytest.raises(ValueError, match="one chart, one unit"):
        plots.range_chart([figures["held_area"], figures["nk_troops"]], title="x")


def test_unit_groups_put_each_unit_in_its_own_chart(km2):
    groups = dict(unit_groups(km2))
    assert {r.id for r in groups["percent"]} >= {"share_held", "nk_killed_share"}
    assert all(r.unit == "km²" for r in groups["km²"])
    assert "date" not in groups


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
    rep = Report.load(repo_root / "tests" / "data" / "harbour-flooding-2023.yaml")
    # 1,850 ha = 7.143 mi², printed "about 11": 54% too high (tests/test_audit.py)
    summary = rep.audit_summary()
    assert summary.startswith("**9 of 10 checks are consistent.** Inconsistent: Land under "
                              "water at the height of the flood.")
    assert "1,850 ha is 7\\.1 mi², so 11 is 54% too high\\." in summary
