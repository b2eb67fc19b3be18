"""A reader's table as data (analysis.outputs.TABLE_MIME): its shape is checked, both
renderers build the table from it, and every string in it stays text."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output
from pypdf import PdfReader

from analysis import outputs
from analysis.notebook.report import table_data, table_html
from analysis.reports import render
from analysis.reports.render import html_report, pdf_report

GOOD = {"caption": "Ground held", "columns": ["Figure", "Value"],
        "rows": [["held", "90 km²"], ["captured", "over 1,000 km²"]]}


def _nb(*outputs_data, cells=()):
    cell = new_code_cell("pass", outputs=[new_output("display_data", data=d)
                                          for d in outputs_data])
    return new_notebook(cells=[*cells, cell])


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _typst(nb) -> str:
    """The Typst body pandoc writes for a notebook (the step before typst compiles)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        return render.typst_body(nb, Path(d), with_code=False)


# --- the shape --------------------------------------------------------------------------


def test_a_good_table_reads_back_as_itself():
    assert outputs.read_table(GOOD) == GOOD
    assert outputs.read_table({**GOOD, "rows": []}) == {**GOOD, "rows": []}
    no_caption = {k: v for k, v in GOOD.items() if k != "caption"}
    assert outputs.read_table(no_caption) == {**GOOD, "caption": ""}


@pytest.mark.parametrize("bad", [
    None, "a table", ["Figure", "Value"],
    {**GOOD, "script": "x"},                                   # an unknown key
    {**GOOD, "caption": 3},
    {**GOOD, "columns": []},
    {**GOOD, "columns": ["Figure", 2]},
    {**GOOD, "rows": [["held"]]},                              # a short row
    {**GOOD, "rows": [["held", "90", "extra"]]},               # a long row
    {**GOOD, "rows": [["held", 90]]},                          # a number, not text
    {**GOOD, "rows": [["held", {"t": "RawInline"}]]},
    {**GOOD, "rows": "held"},
    {**GOOD, "columns": ["c"] * (outputs.MAX_COLUMNS + 1),
     "rows": [["v"] * (outputs.MAX_COLUMNS + 1)]},
    {**GOOD, "rows": [["a", "b"]] * (outputs.MAX_ROWS + 1)},
    {**GOOD, "rows": [["a", "b" * (outputs.MAX_CELL + 1)]]},
])
def test_anything_else_is_not_a_table(bad):
    assert outputs.read_table(bad) is None


def test_a_frame_becomes_data_with_typographic_quotes_and_the_same_html():
    frame = pd.DataFrame({"Figure": ["Syrsky's statement"], "Value": ['"about" 90']})
    frame.attrs["caption"] = "The article's figures"
    data = table_data(frame)
    assert data == {"caption": "The article\u2019s figures", "columns": ["Figure", "Value"],
                    "rows": [["Syrsky\u2019s statement", "\u201cabout\u201d 90"]]}
    assert outputs.read_table(data) == data
    assert table_html(frame) == outputs.table_html(data)


def test_show_displays_html_for_jupyterlab_and_the_data(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append((a, k)))
    from analysis.notebook.report import show

    frame = pd.DataFrame({"Figure": ["held"], "Value": ["90 km²"]})
    show(frame)
    (bundle,), kwargs = shown[0]
    assert kwargs == {"raw": True}
    assert bundle[outputs.TABLE_MIME] == table_data(frame)
    assert bundle["text/html"] == table_html(frame)
    assert bundle["text/plain"] == "Table: figures"


# --- both renderers build the table from the data ------------------------------------------


def test_the_page_and_the_pdf_show_the_data_not_a_different_html():
    """The HTML beside the data is what JupyterLab shows; the reports use the data, so the
    page and the PDF cannot disagree with each other."""
    nb = _nb({"text/html": "<p>stale HTML</p>", outputs.TABLE_MIME: GOOD, "text/plain": "t"})
    page = html_report(nb)
    assert outputs.table_html(GOOD) in page and "stale HTML" not in page
    text = _pdf_text(pdf_report(nb))
    assert "Ground held" in text and "over 1,000 km²" in text and "stale HTML" not in text


def test_a_data_table_gives_the_same_typst_as_its_html():
    """The table built from the data is the very table pandoc reads from the HTML
    (caption, header row, row headers, numbers aligned right), to the character."""
    table = {"caption": "Deaths", "columns": ["Figure", "Value", "Bounds"],
             "rows": [["killed", "1,000", "no upper bound"], ["share", "8.69%", "0% to 100%"],
                      ["sent", "11,000", "10,500 to 11,500"]]}
    from_data = _typst(_nb({outputs.TABLE_MIME: table, "text/plain": "t"}))
    from_html = _typst(_nb({"text/html": outputs.table_html(table), "text/plain": "t"}))
    assert from_data == from_html
    assert "align: (left,right,left,)" in from_data
    assert "caption: [Deaths]" in from_data


def test_a_wrong_shape_falls_back_to_the_html():
    ragged = {**GOOD, "rows": [["held"]]}
    nb = _nb({"text/html": "<p>the HTML version</p>", outputs.TABLE_MIME: ragged,
              "text/plain": "t"})
    assert "the HTML version" in html_report(nb)
    assert "the HTML version" in _pdf_text(pdf_report(nb))
    markdown = _nb({outputs.TABLE_MIME: ragged, "text/markdown": "**the Markdown version**",
                    "text/plain": "t"})
    assert "<strong>the Markdown version</strong>" in html_report(markdown)
    assert "the Markdown version" in _pdf_text(pdf_report(markdown))
    only_text = _nb({outputs.TABLE_MIME: ragged, "text/plain": "<the plain version>"})
    assert "&lt;the plain version&gt;" in html_report(only_text)
    assert "<the plain version>" in _pdf_text(pdf_report(only_text))


# --- hostile strings stay text ----------------------------------------------------------------

HOSTILE = ['<script>alert(1)</script>', '#panic("typst ran")', '*not bold* $x^2$',
           '] #read("/etc/passwd") [', '```{=typst}', '{"t":"RawBlock"}', '\\', '"']


def test_hostile_cells_are_text_on_the_page_and_in_the_pdf():
    table = {"caption": '#panic("caption ran") <b>', "columns": ["Figure", "Value"],
             "rows": [[h, h] for h in HOSTILE]}
    nb = _nb({outputs.TABLE_MIME: table, "text/plain": "t"})
    page = html_report(nb)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page
    text = _pdf_text(pdf_report(nb))  # typst would fail on #panic or #read if it ran
    flat = text.replace("\n", " ")
    for h in ('#panic("typst ran")', "*not bold* $x^2$", "<script>alert(1)</script>",
              '#panic("caption ran") <b>'):
        assert h in flat


def test_a_long_unbroken_word_in_a_data_table_wraps_in_the_pdf():
    word = "".join(chr(ord("a") + i % 26) for i in range(3000))
    nb = _nb({outputs.TABLE_MIME: {"caption": "", "columns": ["Figure", "Value"],
                                   "rows": [[word, "90"]]}, "text/plain": "t"})
    lines = [line for page in PdfReader(io.BytesIO(pdf_report(nb))).pages
             for line in page.extract_text().splitlines()]
    assert max(len(line.replace("\u200b", "")) for line in lines) < 200
    assert word in "".join(lines).replace("\u200b", "").replace(" ", "")


