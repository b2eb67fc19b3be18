"""Article intake: `extract` finds every figure, `missing_figures` finds what a file leaves out,
and `analysis extract` refuses bad input with a clear message."""

from __future__ import annotations

import datetime as dt
import time
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.cli import cli
from analysis.errors import SourceError
from analysis.figures.bounds import QUALIFIERS
from analysis.figures.source import load_source, parse_source
from analysis.intake import article as intake
from analysis.intake.article import missing_figures, read_article
from analysis.intake.extract import Found, extract

HERE = Path(__file__).parent
ARTICLES = HERE / "articles"
ROOT = HERE.parent
SEED = ROOT.parent / "shared" / "seed" / "000_5c024600ca51cab3.txt"
SEED_SOURCE = ROOT / "data" / "sources" / "kursk-incursion-2025.yaml"
#: The one quantity of the seed article that is not a figure of its own (see docs/intake.md).
SEED_IGNORE = ('\nignore:\n  - {value: 1, unit: year, reason: "\'nearly a year after\' dates the '
               'statement; carried by the readings of as_of"}\n')


def _article_paths() -> list[Path]:
    return sorted(p for p in ARTICLES.iterdir()
                  if p.suffix in (".txt", ".md", ".html") and not p.name.startswith("."))


def _exact(value):
    """YAML numbers as exact Fractions (7.5 -> 15/2), dates as they are."""
    if isinstance(value, bool) or isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        return Fraction(str(value))
    if isinstance(value, list):
        return [_exact(v) for v in value]
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    return value


def _expected(article: Path) -> list[dict]:
    path = article.with_name(article.stem + ".expected.yaml")
    return [_exact(item) for item in yaml.safe_load(path.read_text("utf-8"))["figures"]]


def _seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"seed article not found at {SEED} (it lives outside the repository)")
    return read_article(SEED)


def _one(text: str) -> Found:
    found = extract(text)
    assert len(found) == 1, [f.record() for f in found]
    return found[0]


# --- the test set ---------------------------------------------------------------------


def test_the_test_set_has_at_least_ten_articles_each_with_its_expected_extraction():
    articles = _article_paths()
    assert len(articles) >= 10
    assert {p.suffix for p in articles} == {".txt", ".md", ".html"}
    for p in articles:
        assert p.with_name(p.stem + ".expected.yaml").exists(), p


@pytest.mark.parametrize("article", _article_paths(), ids=lambda p: p.name)
def test_extract_finds_exactly_the_expected_figures_of_each_test_article(article):
    expected = _expected(article)
    found = extract(read_article(article))
    flags = [(e.pop("conversion_wrong", False), e.pop("year_guessed", False)) for e in expected]
    assert [f.record() for f in found] == expected
    for f, (conversion_wrong, year_guessed) in zip(found, flags, strict=True):
        assert ("does not match" in (f.note or "")) == conversion_wrong, f.record()
        assert ("is not printed" in (f.note or "")) == year_guessed, f.record()


@pytest.mark.parametrize("article", _article_paths(), ids=lambda p: p.name)
def test_extract_takes_under_a_second_per_article(article):
    text = read_article(article)
    start = time.perf_counter()
    extract(text)
    assert time.perf_counter() - start < 1.0


# --- numbers, units, qualifiers ------------------------------------------------------


@pytest.mark.parametrize("text, value, unit, qualifier", [
    ("They held 1,000 km² there.", 1000, "km²", None),
    ("They held 1 000 sq km there.", 1000, "km²", None),
    ("It covers 2.5 square miles.", Fraction(5, 2), "mi²", None),
    ("It covers 40 sq mi now.", 40, "mi²", None),
    ("It covers 40 sq miles now.", 40, "mi²", None),
    ("The plot is 12 hectares.", 12, "ha", None),
    ("The road is 30 km long.", 30, "km", None),
    ("The road is 30 miles long.", 30, "mi", None),
    ("Over 1.2 million people fled.", 1_200_000, "people", "over"),
    ("Eleven thousand soldiers came.", 11_000, "troops", None),
    ("a three-month span", 3, "month", None),
    ("a 90-day pause", 90, "day", None),
    ("Fees rose 4 per cent.", 4, "percent", None),
    ("It cost €3.2bn in all.", 3_200_000_000, "EUR", None),
    ("It cost US$40 million in all.", 40_000_000, "USD", None),
    ("It cost 40 million dollars in all.", 40_000_000, "USD", None),
    ("Approximately 90 workers struck.", 90, "people", "approximately"),
    ("An estimated 70,000 Russian troops moved.", 70_000, "troops", "an estimated"),
    ("More than 5 civilians died.", 5, "people", "more than"),
    ("No more than 5 civilians died.", 5, "people", "no more than"),
    ("Up to 300 marines landed.", 300, "troops", "up to"),
    ("At least 12 were killed.", 12, "people", "at least"),
    ("It lasted over two years.", 2, "year", "over"),
])
def test_a_quantity_is_found_with_its_value_unit_and_qualifier(text, value, unit, qualifier):
    f = _one(text)
    assert (f.value, f.unit, f.qualifier) == (Fraction(value), unit, qualifier)
    assert f.qualifier is None or f.qualifier in QUALIFIERS


def test_a_conversion_in_parentheses_is_paired_with_its_quantity_not_reported_alone():
    f = _one("They hold approximately 90 square kilometers (around 35 square miles) now.")
    assert (f.value, f.unit, f.qualifier) == (90, "km²", "approximately")
    assert [(p.value, p.unit, p.qualifier) for p in f.printed] == [(35, "mi²", "around")]
    assert f.evidence == "approximately 90 square kilometers (around 35 square miles)"
    assert f.note is None


def test_a_printed_conversion_that_is_wrong_is_noted_for_review():
    f = _one("They hold 100 km² (100 sq mi).")
    assert f.note == "the printed 100 mi² does not match: 100 km² is 38.6 mi²"


def test_the_span_points_at_the_words_the_figure_came_from():
    text = "Then over 1,000 km² fell."
    f = _one(text)
    assert text[f.span[0]:f.span[1]] == "over 1,000 km²"


@pytest.mark.parametrize("text", [
    "The 47th Brigade flew F-16 jets.", "They met at 10:30 and left.", "One of the two sides.",
    "A COVID-19 era rule.", "It came in 3rd place.", "We walk once a year.",
])
def test_names_times_ordinals_and_loose_number_words_are_not_figures(text):
    assert extract(text) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=10**9), st.sampled_from(["troops", "civilians"]))
def test_any_whole_number_with_separators_is_read_exactly(n, noun):
    f = _one(f"Officials said {n:,} {noun} were there.")
    assert f.value == n
    assert f.unit == ("troops" if noun == "troops" else "people")


# --- dates ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, record", [
    ("It began on 6 August 2024.", {"kind": "date", "value": dt.date(2024, 8, 6)}),
    ("It began on August 6, 2024.", {"kind": "date", "value": dt.date(2024, 8, 6)}),
    ("It began on 2024-08-06.", {"kind": "date", "value": dt.date(2024, 8, 6)}),
    ("It began in August 2024.",
     {"kind": "date", "low": dt.date(2024, 8, 1), "high": dt.date(2024, 8, 31)}),
    ("They came during the fall of 2024.",
     {"kind": "date", "low": dt.date(2024, 9, 1), "high": dt.date(2024, 11, 30)}),
    ("It ended in autumn 2023.",
     {"kind": "date", "low": dt.date(2023, 9, 1), "high": dt.date(2023, 11, 30)}),
    ("He spoke on Sunday.", {"kind": "date", "weekday": "Sunday"}),
])
def test_a_date_is_found_as_a_day_or_a_range(text, record):
    assert _one(text).record() == record


def test_a_month_without_its_year_takes_the_year_the_story_implies_and_is_marked():
    found = extract("Troops came in the fall of 2024. They told the BBC in January.")
    assert found[1].record() == {"kind": "date", "low": dt.date(2025, 1, 1),
                                 "high": dt.date(2025, 1, 31)}
    assert "year 2025 is not printed" in found[1].note


def test_a_month_without_any_year_in_the_article_is_left_open_and_marked():
    f = _one("They told the BBC in January.")
    assert (f.value, f.low, f.high) == (None, None, None)
    assert "does not give its year" in f.note


def test_the_year_inside_a_date_is_not_reported_as_a_count():
    found = extract("Seized during the August 2024 incursion, on 6 August 2024.")
    assert [f.kind for f in found] == ["date", "date"]
    assert not any(f.value == 2024 for f in found)


def test_a_year_alone_is_a_date_range_but_a_number_of_soldiers_is_a_count():
    assert _one("Since 2014 they fought.").record() == {
        "kind": "date", "low": dt.date(2014, 1, 1), "high": dt.date(2014, 12, 31)}
    assert _one("They sent 2000 soldiers.").record() == {"value": 2000, "unit": "troops"}


@pytest.mark.parametrize("text, value, unit, qualifier", [
    ("nearly a year after the start", 1, "year", "nearly"),
    ("over a three-month span", 3, "month", None),
    ("two weeks later", 2, "week", None),
    ("a month later", 1, "month", None),
])
def test_relative_times_are_duration_figures(text, value, unit, qualifier):
    f = _one(text)
    assert (f.kind, f.value, f.unit, f.qualifier) == ("duration", value, unit, qualifier)


# --- markup ---------------------------------------------------------------------------


def test_html_markup_scripts_styles_and_comments_are_dropped(tmp_path):
    page = tmp_path / "a.html"
    page.write_text("<html><head><style>p{width:12px}</style><script>x=99;</script></head>"
                    "<body><!-- 77 --><p width='640'>Some 40&nbsp;km<sup>2</sup> fell.</p>"
                    "<img src='https://example.org/2024/1.png'></body></html>", "utf-8")
    text = read_article(page)
    assert "99" not in text and "77" not in text and "640" not in text
    assert [f.record() for f in extract(text)] == [
        {"value": 40, "unit": "km²", "qualifier": "some"}]


def test_markdown_links_keep_their_words_and_lose_their_urls(tmp_path):
    page = tmp_path / "a.md"
    page.write_text("# Report\n\nSee [the **2024** report](https://x.org/2019/05/06) "
                    "on *12 km²*.\n", "utf-8")
    assert [f.record() for f in extract(read_article(page))] == [
        {"kind": "date", "low": dt.date(2024, 1, 1), "high": dt.date(2024, 12, 31)},
        {"value": 12, "unit": "km²"}]


# --- the seed article ------------------------------------------------------------------

SEED_FIGURES = [
    {"value": 90, "unit": "km²", "qualifier": "approximately",
     "printed": [{"value": 35, "unit": "mi²", "qualifier": "around"}]},
    {"value": 1000, "unit": "km²", "qualifier": "over",
     "printed": [{"value": 386, "unit": "mi²"}]},
    {"value": 70000, "unit": "troops", "qualifier": "an estimated"},
    {"value": 11000, "unit": "troops", "qualifier": "around"},
    {"value": 1000, "unit": "troops", "qualifier": "over"},
    {"value": 3, "unit": "month"},
    {"kind": "date", "value": dt.date(2024, 8, 6)},
    {"kind": "date", "low": dt.date(2024, 9, 1), "high": dt.date(2024, 11, 30)},
    {"kind": "date", "low": dt.date(2025, 1, 1), "high": dt.date(2025, 1, 31)},
    {"kind": "date", "weekday": "Sunday"},
    {"value": 1, "unit": "year", "qualifier": "nearly"},
]


@pytest.mark.parametrize("figure", SEED_FIGURES, ids=lambda r: str(r.get("value") or r))
def test_extract_finds_every_figure_of_the_hand_written_seed_source(figure):
    records = [f.record() for f in extract(_seed_text())]
    assert _exact(figure) in records


def test_extract_finds_every_stated_figure_of_the_seed_source_file_by_value_and_unit():
    records = [f.record() for f in extract(_seed_text())]
    for fig in load_source(SEED_SOURCE).figures:
        if fig.kind == "date":
            continue  # as_of has readings, not a printed date: the Sunday above
        want = {"value": fig.value, "unit": fig.unit}
        if fig.qualifier:
            want["qualifier"] = fig.qualifier
        if fig.printed:
            want["printed"] = [{"value": p.value, "unit": p.unit,
                                **({"qualifier": p.qualifier} if p.qualifier else {})}
                               for p in fig.printed]
        assert want in records, fig.id


def test_the_seed_year_2024_is_never_a_count():
    assert not any(f.kind != "date" and f.value == 2024 for f in extract(_seed_text()))


def test_missing_figures_reports_nothing_for_the_seed_with_its_ignore_entry():
    text = SEED_SOURCE.read_text("utf-8")
    if "ignore:" not in text:
        text += SEED_IGNORE
    source = parse_source(text, str(SEED_SOURCE))
    assert missing_figures(source, _seed_text()) == []


def test_the_seed_source_file_as_it_stands_misses_at_most_the_relative_year():
    missing = missing_figures(load_source(SEED_SOURCE), _seed_text())
    assert [f.evidence for f in missing] in ([], ["nearly a year"])


# --- missing_figures with stand-in sources ---------------------------------------------


def _figure(value, unit, *, printed=(), kind="quantity", **kw):
    return SimpleNamespace(id="f", kind=kind, value=value, unit=unit, low=kw.get("low"),
                           high=kw.get("high"), qualifier=None, readings={},
                           printed=[SimpleNamespace(value=v, unit=u, qualifier=None)
                                    for v, u in printed])


def _source(*figures, ignore=()):
    return SimpleNamespace(figures=list(figures), ignore=[
        SimpleNamespace(value=v, unit=u, reason="r") for v, u in ignore])


ARTICLE = ("Over 1,000 km² (386 sq mi) fell, and 40 soldiers died in 2023. "
           "The war reached its third year on 6 August 2024.")


def test_missing_figures_lists_quantities_that_no_figure_holds():
    source = _source(_figure(Fraction(1000), "km²", printed=[(Fraction(386), "mi²")]))
    missing = missing_figures(source, ARTICLE)
    assert [f.evidence for f in missing] == ["40 soldiers", "2023", "6 August 2024"]
    assert missing[0].line == 1


def test_missing_figures_matches_by_value_and_unit_spelling_and_headcounts_alike():
    source = _source(
        _figure(Fraction(1000), "square kilometers", printed=[(Fraction(386), "sq mi")]),
        _figure(Fraction(40), "people"),
        _figure(None, "date", kind="date", low=dt.date(2023, 1, 1), high=dt.date(2023, 12, 31)),
        _figure(dt.date(2024, 8, 6), "date", kind="date"),
    )
    assert missing_figures(source, ARTICLE) == []


def test_a_printed_conversion_the_file_lacks_is_reported_on_its_own():
    source = _source(_figure(Fraction(1000), "km²"), _figure(Fraction(40), "troops"),
                     _figure(None, "date", kind="date", low=dt.date(2023, 1, 1),
                             high=dt.date(2023, 12, 31)),
                     _figure(dt.date(2024, 8, 6), "date", kind="date"))
    missing = missing_figures(source, ARTICLE)
    assert [(f.value, f.unit, f.evidence) for f in missing] == [(386, "mi²", "386 sq mi")]


def test_an_ignore_entry_accounts_for_a_quantity_left_out_on_purpose():
    source = _source(_figure(Fraction(1000), "km²", printed=[(Fraction(386), "mi²")]),
                     _figure(dt.date(2024, 8, 6), "date", kind="date"),
                     _figure(None, "date", kind="date", low=dt.date(2023, 1, 1),
                             high=dt.date(2023, 12, 31)),
                     ignore=[(40, "troops")])
    assert missing_figures(source, ARTICLE) == []


def test_format_missing_names_the_article_line_and_words():
    source = _source()
    lines = intake.format_missing("a.txt", missing_figures(source, "Some 40 soldiers\ndied."))
    assert lines == ['a.txt:1: 40 troops (some) "Some 40 soldiers" (suggested id: soldiers_40)']


# --- the command -------------------------------------------------------------------------


def _run(*args):
    return CliRunner().invoke(cli, ["extract", *map(str, args)])


def test_extract_prints_a_draft_source_file_with_every_figure_marked_for_review():
    result = _run(ARTICLES / "01_flood_area.txt")
    assert result.exit_code == 0, result.output
    draft = yaml.safe_load(result.output)
    figures = draft["figures"]
    assert [f["id"] for f in figures] == ["date_2023_03_14", "area_240_km2", "area_1500_ha",
                                          "residents_3400", "duration_2_week"]
    assert all(f["review"] is True for f in figures)
    assert all(f["description"].startswith("TODO describe: ") for f in figures)
    assert figures[1] == {
        "id": "area_240_km2",
        "description": "TODO describe: 240 km² (roughly), printed as 93 mi² (about)",
        "attributed_to": "TODO: who says so", "value": 240, "unit": "km²",
        "qualifier": "roughly", "printed": [{"value": 93, "unit": "mi²", "qualifier": "about"}],
        "review": True, "evidence": "roughly 240 square kilometres (about 93 sq mi)"}


def test_extract_writes_a_draft_that_loads_as_a_source_file(tmp_path):
    out = tmp_path / "draft.yaml"
    result = _run(ARTICLES / "04_casualties.txt", "-o", out)
    assert result.exit_code == 0, result.output
    assert "6 figures to review" in result.output
    source = load_source(out)
    assert [f.value for f in source.figures][:1] == [1_200_000]
    assert missing_figures(source, read_article(ARTICLES / "04_casualties.txt")) == []
    assert [p.name for p in tmp_path.iterdir()] == ["draft.yaml"]  # no temp file left


def test_extract_never_writes_over_an_existing_file_without_force(tmp_path):
    out = tmp_path / "kept.yaml"
    out.write_text("reviewed by hand\n", "utf-8")
    result = _run(ARTICLES / "04_casualties.txt", "-o", out)
    assert result.exit_code == 1
    assert result.output == (f"Error: {out}: the file already exists; nothing was written. "
                             "Pass --force to replace it, or choose another -o path.\n")
    assert out.read_text("utf-8") == "reviewed by hand\n"
    assert _run(ARTICLES / "04_casualties.txt", "-o", out, "--force").exit_code == 0
    assert out.read_text("utf-8").startswith("# Draft source file")


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty. Save the article's text into it, or name the right file."),
    (b"  \n\n\t\n", "the file is empty."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "this is a binary file (it holds NUL "
     "bytes), not an article. Save the article as plain text, Markdown or HTML"),
    ("Über 90 km² – “rund” 35 sq mi".encode("cp1252"), "the text is not UTF-8 (byte 0xDC on "
     "line 1 is not valid UTF-8); it looks like WINDOWS-1252. Convert it first: iconv -f "
     "WINDOWS-1252 -t UTF-8"),
    ("Il a pris 90 km² à l'été.".encode("latin-1"), "it looks like ISO-8859-1. Convert it "
     "first: iconv -f ISO-8859-1 -t UTF-8"),
    ("They held 90 km² of land.".encode("utf-16"), "the text is not UTF-8 (it holds NUL "
     "bytes); it looks like UTF-16. Convert it first: iconv -f UTF-16 -t UTF-8"),
    (b"Nothing here but words, and no numbers at all.", "no figures found (no number, date or "
     "quantity the extractor recognises)."),
])
def test_bad_input_is_refused_with_a_message_naming_the_file_and_exit_code_1(
        tmp_path, content, message):
    article = tmp_path / "article.txt"
    article.write_bytes(content)
    out = tmp_path / "out.yaml"
    result = _run(article, "-o", out)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {article}: ")
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_an_article_over_the_size_limit_is_refused_with_its_size_and_the_limit(tmp_path):
    article = tmp_path / "huge.txt"
    with article.open("wb") as fh:
        fh.truncate(intake.MAX_ARTICLE_BYTES + 1)  # sparse: nothing of it is read
    result = _run(article)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {article}: the file is 10,000,001 bytes, over the limit of 10,000,000 bytes "
        "(10 MB) for one article. Save just the article's text to its own file and extract "
        "from that.\n")


def test_a_missing_article_is_named(tmp_path):
    result = _run(tmp_path / "nope.txt")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {tmp_path / 'nope.txt'}: no such file.")


@pytest.mark.parametrize("article", _article_paths(), ids=lambda p: p.name)
def test_each_draft_loads_and_accounts_for_its_whole_article_or_names_the_open_date(
        tmp_path, article):
    text, found = intake.extract_file(article)
    draft = intake.draft_source(text, found, article)
    path = tmp_path / "draft.yaml"
    intake.write_atomic(path, intake.dump_draft(draft))
    open_dates = [f["id"] for f in draft["figures"]
                  if f.get("kind") == "date" and "value" not in f and "low" not in f]
    if open_dates:
        with pytest.raises(SourceError, match=f"figure '{open_dates[0]}', field 'value'"):
            load_source(path)
        return
    assert missing_figures(load_source(path), text) == []


def test_a_found_figure_turns_into_plain_json():
    f = _one("Around 11,000 troops arrived.")
    assert f.to_json() == {"line": 1, "evidence": "Around 11,000 troops", "kind": "count",
                           "unit": "troops", "qualifier": "around", "suggested_id": "troops_11000",
                           "note": None, "value": 11000}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("0123456789 ,.-()%$€£km²sqmiAugstJanury")
                                + [" over ", " nearly ", " troops", " 2024", "\n", " August ",
                                   "Sunday", " a year after", " sq mi"]), max_size=40))
def test_extract_never_fails_on_odd_text(pieces):
    text = "".join(pieces)
    for f in extract(text):
        assert 0 <= f.span[0] < f.span[1] <= len(text)


def test_extract_does_not_create_a_missing_output_folder(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("Officials said about 90 square kilometers were flooded.\n",
                       encoding="utf-8")
    target = tmp_path / "no_such_folder" / "draft.yaml"
    result = CliRunner().invoke(cli, ["extract", str(article), "-o", str(target)])
    assert result.exit_code == 1
    assert "the folder" in result.stderr and "does not exist; nothing was written" in result.stderr
    assert not target.parent.exists()
