"""The PDF body's rules, applied in Python to pandoc's document (reports.pdfbody)."""

from __future__ import annotations

import pytest

from analysis.errors import RenderError
from analysis.reports import pdfbody
from analysis.reports.pdfbody import Body, breakable, stringify, walk, words


def _typst(*parts) -> str:
    body = Body()
    for part in parts:
        if isinstance(part, str):
            body.markdown(part)
        else:
            body.blocks(part)
    return body.typst()


def test_words_are_text_and_long_runs_get_break_points():
    assert words(" a  *b*\tc ") == [{"t": "Str", "c": "a"}, {"t": "Space"},
                                    {"t": "Str", "c": "*b*"}, {"t": "Space"},
                                    {"t": "Str", "c": "c"}]
    assert words("90\u00a0km²") == [{"t": "Str", "c": "90\u00a0km²"}]  # no break at NBSP
    assert breakable("x" * 40) == "x" * 40
    # 45 letters: a break after the 20th and the 40th, none at the end
    assert breakable("x" * 45) == "x" * 20 + "\u200b" + "x" * 20 + "\u200b" + "x" * 5
    assert breakable("x" * 60).count("\u200b") == 2


def test_walk_splices_replacements_in_place():
    doc = [{"t": "Para", "c": [{"t": "Str", "c": "a"}, {"t": "RawInline", "c": ["html", "<b>"]},
                               {"t": "Str", "c": "b"}]}]

    def rule(node):
        if node["t"] == "RawInline":
            return []
        if node["t"] == "Str" and node["c"] == "b":
            return [{"t": "Str", "c": "b1"}, {"t": "Space"}, {"t": "Str", "c": "b2"}]
        return [node]

    out = walk(doc, rule)
    assert stringify(out) == "ab1 b2"


@pytest.mark.parametrize(("text", "kind"), [
    ("1,000", True), ("8.69%", True), ("\u22125.4", True), ("-3", True), ("1e5", True),
    ("nan", None), ("", None), ("-", None), ("over 1,000", False), ("12 km²", False),
    ("inf", None), ("infinity", False),
    # where a first Python version disagreed with the Lua filter's number_kind (run under
    # `pandoc lua` by a reviewer): Lua's tonumber takes spaces around a number and hex
    # floats, and only ASCII digits; Lua's %s is ASCII whitespace, not NBSP
    ("5 %", True), ("\u00a012", False), ("\u0661\u0662", False), ("\uff11", False),
    ("0x1p4", True), ("0x.8", True),
])
def test_a_number_is_what_the_old_filter_called_one(text, kind):
    assert pdfbody._number_kind(text) is kind


def test_markdown_raw_blocks_and_foreign_images_are_dropped_links_to_nowhere_unlinked():
    out = _typst("# Top\n\n```{=typst}\n#panic(\"ran\")\n```\n\n"
                 "![a remote chart](https://example.com/x.png) and "
                 "[to the top](#top), [to nowhere](#nowhere).\n\n<b>raw</b> html")
    assert "panic" not in out and "example.com" not in out and "<b>" not in out
    assert "#emph[a remote chart]" in out  # the image became its alt text
    assert "#link(<top>)" in out and "nowhere>" not in out and "to nowhere" in out


def test_a_chart_is_a_typst_figure_with_escaped_alt_text_and_caption():
    out = _typst(pdfbody.figure_blocks("fig-1.svg", 'Alt "quoted" \\ and\nnewline',
                                       "Caption with #hash and *stars*"))
    assert out.startswith('#figure(image("fig-1.svg", alt: "Alt \\"quoted\\" \\\\ and newline"),'
                          " caption: [Caption with \\#hash and \\*stars\\*])")
    # with no caption, the alt text stays (pandoc's writer would drop it: review of 01bf523)
    no_caption = _typst(pdfbody.figure_blocks("fig-2.svg", 'Alt "x"', None))
    assert no_caption.strip() == '#box(image("fig-2.svg", alt: "Alt \\"x\\""))'


def test_html_output_figures_and_tables_follow_the_same_rules():
    body = Body()
    body.html('<figure><img src="fig-3.svg" alt="A chart"><figcaption>Its caption'
              '</figcaption></figure><table><tr><th>figure</th><th>value</th></tr>'
              '<tr><td><span class="cell-label">figure</span>held</td><td>90</td></tr>'
              '</table><iframe src="file:///etc/passwd"></iframe>')
    out = body.typst()
    assert '#figure(image("fig-3.svg", alt: "A chart"), caption: [Its caption])' in out
    assert "align: (left,right,)" in out and "#block(breakable: false)[" in out
    assert "cell-label" not in out and "[figure], [value]" in out and "[held]" in out
    assert "iframe" not in out and "file:" not in out


def test_a_pandoc_that_cannot_run_or_fails_is_a_render_error(monkeypatch):
    monkeypatch.setattr(pdfbody, "PANDOC_ARGS", ["--no-such-option"])
    with pytest.raises(RenderError, match="pandoc could not read the report's markdown: .*"
                                          "no-such-option"):
        _typst("text")
    monkeypatch.setattr(pdfbody, "_pandoc_path", lambda: "/nonexistent/pandoc")
    with pytest.raises(RenderError, match="pandoc could not run"):
        _typst("text")


def test_only_typst_the_rules_write_is_left_raw():
    """Rule 1, on pandoc's document: raw HTML and raw Typst from markdown are gone (pandoc's
    writer would drop the HTML by itself, but would copy the Typst into the PDF)."""
    doc = pdfbody._document("a <b>raw</b> b\n\n```{=typst}\n#panic()\n```\n\n"
                            "<div>block</div>\n\n*x*.y", pdfbody.PANDOC_FORMAT, "read")
    raw = []
    pdfbody._visit(walk(doc["blocks"], pdfbody._rule), lambda n: raw.append(n["c"]) if
                   n["t"] in ("RawBlock", "RawInline") else None)
    assert raw == [["typst", "\\."]]  # the escaped dot after *x*


def test_a_placeholder_from_another_body_is_not_filled():
    """Outputs sit behind placeholders holding a random token: a markdown cell cannot
    name one, even knowing a key another render used."""
    first = Body()
    first.blocks(pdfbody.code_block("SECRET OUTPUT"))
    key = next(iter(first.outputs))
    second = Body()
    second.blocks(pdfbody.code_block("mine"))
    second.markdown(f"```{{={Body.FORMAT}}}\n{key}\n```")
    assert "SECRET" not in second.typst() and "mine" in second.typst()
    assert key.split("-")[0] != next(iter(second.outputs)).split("-")[0]


# --- hostile notebooks: each case ran Typst code or failed the report before it was fixed ----


def _pdf_text(nb) -> str:
    import io

    from pypdf import PdfReader

    from analysis.reports.render import pdf_report

    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_report(nb))).pages)


def _md_nb(text, output=None):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cells = [new_markdown_cell(text)]
    if output is not None:
        cells.append(new_code_cell("pass", outputs=[new_output("display_data", data=output)]))
    return new_notebook(cells=cells)


@pytest.mark.parametrize("markdown", [
    "*x*.at(panic(1))", "**x**.at(panic(1))", "~~x~~.at(panic(1))",
    "[x](https://example.com).at(panic(1))", "`` a`b ``.at(panic(1))",
])
def test_a_dot_after_emphasis_or_a_link_is_text_not_a_method_call(markdown):
    """Review of 01bf523 (the Lua filter had it too): pandoc writes *x* as `#emph[x]`, and
    Typst read a "." right after it as a method call, so `.at(panic(1))` ran."""
    assert ".at(panic(1))" in _pdf_text(_md_nb(markdown))


def test_a_dot_after_emphasis_in_an_html_output_is_text():
    text = _pdf_text(_md_nb("Before.", {"text/html": "<em>x</em>.at(panic(2))",
                                        "text/plain": "x"}))
    assert "x.at(panic(2))" in text


def test_a_code_block_language_cannot_carry_code():
    """Review of 01bf523: a fence's language is written after ``` unescaped, so
    ~~~ x```#str(calc.pow(7,7))``` ran the code (the PDF showed 823543)."""
    text = _pdf_text(_md_nb("~~~ x```#str(calc.pow(7,7))```\nplain code\n~~~",
                            {"text/html": '<pre class="x```#panic(3)```"><code>y</code></pre>',
                             "text/plain": "y"}))
    assert "823543" not in text and "plain code" in text and "y" in text


def test_code_cells_keep_their_language_in_the_analysts_pdf():
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from nbformat.v4 import new_code_cell, new_notebook

    from analysis.reports.render import typst_body

    with TemporaryDirectory() as d:
        out = typst_body(new_notebook(cells=[new_code_cell("x = 1")]), Path(d), with_code=True)
    assert out.startswith("```python\nx = 1\n```")


def test_an_image_name_with_a_non_ascii_digit_is_its_alt_text():
    """Review of 01bf523: `\\d` took U+0663 for a digit, kept the image, and Typst failed on
    the missing file; only the names render.py writes (ASCII fig-N.ext) are kept."""
    assert "the alt" in _pdf_text(_md_nb("![the alt](fig-\u0663.png)"))


def test_a_lone_surrogate_in_table_data_is_replaced_not_a_crash():
    from analysis import outputs

    text = _pdf_text(_md_nb("Before.", {outputs.TABLE_MIME: {
        "caption": "", "columns": ["a"], "rows": [["x\ud800y"]]}, "text/plain": "t"}))
    assert "x\ufffdy" in text


def test_markdown_nested_too_deeply_is_a_render_error():
    from analysis.reports.render import pdf_report

    with pytest.raises(RenderError, match="nested too deeply"):
        pdf_report(_md_nb(">" * 600 + " x"))


def test_stringify_writes_curly_quotes_as_pandoc_does():
    quoted = {"t": "Quoted", "c": [{"t": "DoubleQuote"}, [{"t": "Str", "c": "a"}]]}
    assert stringify([quoted]) == "\u201ca\u201d"


def test_a_broken_chart_or_image_is_a_note_in_the_pdf():
    text = _pdf_text(_md_nb("Before.", {"image/svg+xml": "<svg><script>x</script",
                                        "text/plain": "chart"}))
    assert "[chart could not be displayed]" in text
    text = _pdf_text(_md_nb("Before.", {"image/png": "not base64!", "text/plain": "image"}))
    assert "[image could not be displayed]" in text


# --- a reader's table, written as Typst here rather than by pandoc ---------------------

# Words whose escaping differs one from another in pandoc's Typst writer (smart quotes on):
# markup characters, shorthands (NBSP, dashes, "...", curly apostrophe), "//", a leading
# ";" or "(", long runs, a lone surrogate, and text that tries to leave its cell.
TABLE_WORDS = [
    "plain", "a b  c", "90\u00a0km²", "[x]", "#x", "<a>", "@ref", "$5", "a\\b", "`x`",
    "_x_", "*x*", "~x", "-5%", "a // b", "http://x.org", ";x", ".x", ".", "(x)", "a (x)",
    "it's", "it\u2019s", '"q"', "\u201creportedly\u201d", "x" * 45, "\u22123", "a--b",
    "a\u2013b\u2014c", "...", "", "  ", "x\ud800y", "#emph[x].at(panic(1))", "]#panic(1)[",
    "\\", "a\tb\nc", "1,000", "14%", "NaN", "0x1F", "$x$", "<!-- -->", "a.b", "3.5",
    "x:y", "a/b", "1.5 km", "over 1,000 km\u00b2", "a - b", "x = y", "-", "+", "=", "1.",
]
# A first word that starts a list item, a numbered item, a heading or a term: pandoc
# leaves it bare in a cell, and Typst made a list of `[- x]`.
MARKER_WORDS = ["- x", "+ y", "= h", "== h", "/ t: d", "1. x", "12. x"]


def _pandoc_table_typst(table) -> str:
    """The oracle: the same table as pandoc's own Typst writer writes it, from the table
    node this module built before it wrote tables itself (a header row, every string as
    words, numeric columns right-aligned, the wrapper that keeps a short table whole)."""
    def cell(text):
        return [["", [], []], {"t": "AlignDefault"}, 1, 1,
                [{"t": "Plain", "c": words(text)}]]

    columns, rows = table["columns"], table["rows"]
    node = {"t": "Table", "c": [
        ["", ["figures"], []],
        [None, [{"t": "Plain", "c": words(table["caption"])}] if table["caption"] else []],
        [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}] for _ in columns],
        [["", [], []], [[["", [], []], [cell(c) for c in columns]]]],
        [[["", [], []], 1, [], [[["", [], []], [cell(v) for v in row]] for row in rows]]],
        [["", [], []], []]]}
    return _typst("Before.", pdfbody._table(node), "After.")


@pytest.mark.parametrize("text", TABLE_WORDS)
def test_a_table_is_the_typst_pandoc_would_write(text):
    """table_blocks writes what pandoc 3's Typst writer wrote for the same table, byte for
    byte, so a report's PDF is unchanged (checked on every table of the project's four
    reports and the benchmark's grid when this was written, 2026-11-27)."""
    table = {"caption": f"Caption {text}", "columns": ["Figure", text or "empty"],
             "rows": [[text, "1"], ["x", text], [f"y {text}", "2.5"]]}
    assert _typst("Before.", pdfbody.table_blocks(table), "After.") == _pandoc_table_typst(table)


def test_a_long_table_and_numeric_columns_are_written_as_pandoc_would():
    table = {"caption": "", "columns": ["name", "count", "share", "note"],
             "rows": [[f"row {i}", f"{i:,}", f"{i / 3:.1f}%", "-" if i % 2 else "n/a"]
                      for i in range(pdfbody.SHORT_TABLE_ROWS + 6)]}
    typst = _typst("Before.", pdfbody.table_blocks(table), "After.")
    assert typst == _pandoc_table_typst(table)
    assert "align: (left,right,right,left,)" in typst
    assert "breakable: false" not in typst  # a long table may break across pages
    for caption in ("  ", "x"):  # a blank caption is an empty one, as pandoc had it
        short = {"caption": caption, "columns": ["a"], "rows": [["1"]]}
        assert _typst("Before.", pdfbody.table_blocks(short), "After.") == \
            _pandoc_table_typst(short)


def _structure(typst_source: str) -> dict[str, int]:
    """How many lists, numbered lists, term lists and headings Typst made of a source."""
    import json
    import tempfile
    from pathlib import Path

    import typst

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.typ"
        path.write_text("#set page(width: 12cm, height: auto)\n" + typst_source,
                        encoding="utf-8")
        return {kind: len(json.loads(typst.query(str(path), kind)))
                for kind in ("list", "enum", "terms", "heading")}


def _table_typst(*cells: str, caption: str = "") -> str:
    blocks = pdfbody.table_blocks({"caption": caption, "columns": ["first", "second"],
                                   "rows": [[cell, "then"] for cell in cells]})
    return "\n".join(b["c"][1] for b in blocks)


@pytest.mark.parametrize("text", MARKER_WORDS)
def test_a_cell_that_starts_like_a_list_is_text(text):
    from analysis import outputs

    pdf = _pdf_text(_md_nb("Before.", {outputs.TABLE_MIME: {
        "caption": "", "columns": ["first", "second"], "rows": [[text, "then"]]},
        "text/plain": "t"}))
    assert text in pdf  # as typed
    # no list, numbered list, term list or heading ("1. x" reads the same as an enum)
    assert _structure(_table_typst(text, caption=text)) == {
        "list": 0, "enum": 0, "terms": 0, "heading": 0}
    # and the one difference from pandoc: the marker alone is escaped
    out = pdfbody.markup(text)
    assert out.startswith("\\") and out[1:] == pdfbody.markup(f"x {text}")[2:]


@pytest.mark.parametrize("text", [
    "/\u2003t", "x\u2028/ t", "ok\u2028/ c", "x\u2028- y", "x\u2029= Head", "x\x85+ y",
    "-\u2003x", "=\u2003Head", "=\u2028x", "-\x85*", "1.\u3000x", "+\u202fy",
])
def test_a_unicode_line_break_or_space_cannot_start_a_list_or_fail_the_pdf(text):
    """Review of 76e4b13 (pandoc had it too): Typst ends a line at U+0085, U+2028 and
    U+2029 and takes any Unicode space after a marker, so "x\u2028/ t" started a term list
    and failed the whole PDF ("expected colon"), and "-\u2003x" was a bulleted list."""
    from analysis import outputs

    assert _structure(_table_typst(text, caption=text)) == {
        "list": 0, "enum": 0, "terms": 0, "heading": 0}
    pdf = _pdf_text(_md_nb(f"A markdown cell: {text}", {outputs.TABLE_MIME: {
        "caption": text, "columns": ["a", text], "rows": [[text, "1"]]}, "text/plain": "t"}))
    assert "A markdown cell" in pdf  # the report compiled


def test_a_table_cell_keeps_its_minus_sign_and_cannot_leave_its_cell():
    from analysis import outputs

    pdf = _pdf_text(_md_nb("Before.", {outputs.TABLE_MIME: {
        "caption": "]#panic(1)[", "columns": ["a", "b"],
        "rows": [["-5", "#emph[x].at(panic(2))"], ["]#panic(3)[", "@nowhere"]]},
        "text/plain": "t"}))
    # "-5" is Typst's minus sign as pandoc wrote it; escaping the "-" would print a hyphen
    assert "\u22125" in pdf
    for text in ("#emph[x].at(panic(2))", "]#panic(3)[", "@nowhere", "]#panic(1)["):
        assert text in pdf


def test_footnotes_and_alerts_read_as_the_html_page_shows_them():
    """The HTML page (nbconvert's mistune) and JupyterLab render no footnotes and no
    GitHub alerts; pandoc's gfm did, so the PDF moved a note to the page foot and turned
    "> [!NOTE]" into a box the page did not have. Both now show the text as typed."""
    from analysis.reports.render import html_report

    nb = _md_nb("A claim.[^1]\n\n[^1]: The note.\n\n> [!NOTE]\n> Careful.")
    pdf, html = _pdf_text(nb), html_report(nb)
    for text in ("A claim.[^1]", "[^1]: The note.", "[!NOTE]"):
        assert text in pdf and text in html
