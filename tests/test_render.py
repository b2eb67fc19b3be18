"""Rendering an executed notebook as a self-contained HTML page and a Typst PDF."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from analysis.errors import RenderError
from analysis.reports import render
from analysis.reports.render import html_report, pdf_report

SCRIPT = "<script>alert(1)</script>"
ALT = "Bar chart: area held 90 km² against 1,000 km² captured"
TITLE = "Territory held: share of captured area"

CHART_CELL = f"""\
import matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib_inline.backend_inline import set_matplotlib_formats
set_matplotlib_formats("svg")
fig, ax = plt.subplots(figsize=(5, 2.5))
ax.bar(["held", "captured"], [90, 1000])
ax.set_title("Area (km²)")
display(fig, metadata={{"image/svg+xml": {{"alt": {ALT!r}}}}})
plt.close(fig)
"""

TABLE_CELL = f"""\
import pandas as pd
pd.DataFrame({{"figure": ["held_area", "captured_area", {SCRIPT!r}],
              "value": [90, 1000.5, 3], "unit": ["km²", "km²", "-"]}})
"""


def _kernel_notebook() -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_code_cell("area = 90", metadata={"tags": ["parameters"]}),
            new_code_cell("area = 95", metadata={"tags": ["injected-parameters"]}),
            new_markdown_cell(
                f"# {TITLE}\n\nThe article says *approximately* 90 km².\n\n{SCRIPT}\n\n"
                "See [the article](https://example.com/article).\n\n"
                '```{=typst}\n#panic("raw typst ran")\n```\n'
            ),
            new_code_cell(
                "import sys\nprint('kept stdout')\nprint('noisy stderr', file=sys.stderr)"
            ),
            new_code_cell(TABLE_CELL),
            new_code_cell(CHART_CELL),
            new_code_cell("held_share = 1 / 0"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    """A notebook run on a real kernel: stdout, stderr, a DataFrame, an SVG chart, an error."""
    nb = _kernel_notebook()
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    nb.metadata["analysis"] = {
        "title": TITLE,
        "source": {
            "title": "Seed article",
            "publisher": "Example News",
            "url": "https://news.example/seed",
        },
        "parameters": {"area": 95, "policy": "default"},
        "built": "2025-03-04T05:06:07+00:00",
        "report": "territory",
    }
    return nb


@pytest.fixture(scope="module")
def page(executed) -> str:
    return html_report(executed)


@pytest.fixture(scope="module")
def pdf(executed) -> bytes:
    return pdf_report(executed)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


class _Elements(HTMLParser):
    """Start tags (with attributes) and text of an HTML page, as a browser would parse it."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


# ---------------------------------------------------------------------------------- HTML

EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster)\s*=\s*["']?\s*|url\(\s*["']?\s*)"""
    r"""(?:https?:|//)""",
    re.IGNORECASE,
)


def test_html_has_no_external_reference_and_no_script(page):
    assert EXTERNAL.search(page) is None
    elements = _Elements(page)
    assert elements.named("script") == []
    assert elements.named("link") == []
    assert "@import" not in page and "@font-face" not in page
    for tag, attrs in elements.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


def test_html_header_shows_title_source_parameters_and_build_time(page):
    elements = _Elements(page)
    text = " ".join("".join(elements.text).split())
    assert f"<title>{TITLE}</title>" in page
    assert "Source: Seed article, Example News" in text
    assert "news.example/seed" in text
    assert '<th scope="row"><code>area</code></th><td>95</td>' in page
    assert '<th scope="row"><code>policy</code></th><td>default</td>' in page
    assert "Built 2025-03-04 05:06 UTC" in text
    # The notebook's own "# title" is not repeated under the header.
    assert page.count(TITLE) == 2  # <title> and <h1>


def test_html_is_one_readable_page_on_phone_and_paper(page):
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in (
        _Elements(page).named("meta"))
    assert "max-width" in page and "@media print" in page
    assert "table-scroll" in page and "overflow-x: auto" in page


def test_script_in_markdown_and_dataframe_shows_as_text(page):
    elements = _Elements(page)
    assert elements.named("script") == []
    shown = "".join(elements.text)
    assert shown.count(SCRIPT) == 2  # the markdown cell and the DataFrame cell value


def test_dataframe_table_survives_sanitising(page):
    elements = _Elements(page)
    assert elements.named("table"), "the DataFrame must stay a table"
    assert "held_area" in page and "1000.5" in page
    assert "<style" not in page.split("</head>", 1)[1]  # pandas' scoped style is dropped


def test_svg_chart_is_inline_and_labelled(page):
    elements = _Elements(page)
    svgs = elements.named("svg")
    assert len(svgs) == 1
    assert svgs[0]["role"] == "img" and svgs[0]["aria-label"] == ALT
    assert f"<title>{ALT}</title>" in page
    assert elements.named("path"), "the chart's drawing must survive"
    assert ALT in "".join(elements.text)  # visible caption


def test_reader_version_hides_code_parameters_and_stderr(page):
    assert "area = 9" not in page
    assert "pd.DataFrame" not in page
    assert "noisy stderr" not in page
    assert "kept stdout" in page


def test_with_code_shows_inputs_and_parameter_cells(executed):
    page = html_report(executed, with_code=True)
    shown = "".join(_Elements(page).text)
    assert "pd.DataFrame(" in shown
    assert "area = 90" in shown and "area = 95" in shown  # parameter cells
    assert "noisy stderr" in page
    assert EXTERNAL.search(page) is None


def test_error_output_shows_in_html(page):
    assert "Error in this cell: ZeroDivisionError" in page
    assert "division by zero" in page


def test_external_markdown_link_keeps_text_but_links_nowhere(page):
    elements = _Elements(page)
    anchors = [a for a in elements.named("a") if a.get("data-link")]
    assert anchors == [{"data-link": "https://example.com/article"}]


def test_svg_sanitiser_removes_active_content():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' onload="alert(1)" viewBox="0 0 10 10"><script>alert(2)</script>'
        "<foreignObject><div>x</div></foreignObject>"
        '<a href="https://evil.example"><rect width="5" height="5"/></a>'
        '<image xlink:href="https://evil.example/x.png"/>'
        '<rect id="r" width="5" height="5" style="fill: url(https://evil.example/f)"/>'
        '<use xlink:href="#r" clip-path="url(#r)"/></svg>'
    )
    nb = new_notebook(
        cells=[
            new_code_cell(
                "",
                outputs=[new_output("display_data", data={"image/svg+xml": svg, "text/plain": ""})],
            )
        ]
    )
    page = html_report(nb)
    body = page.split("</head>", 1)[1]
    assert "<svg" in body
    for needle in ("onload", "alert(", "foreignObject", "evil.example", "<a "):
        assert needle not in body
    # ids are prefixed per chart, and references follow them.
    use = _Elements(body).named("use")[0]
    assert re.fullmatch(r"#s[0-9a-f]{8}-r", use["xlink:href"])
    assert use["clip-path"] == f"url({use['xlink:href']})"


def test_notebook_without_metadata_takes_title_from_first_heading():
    nb = new_notebook(cells=[new_markdown_cell("Intro\n\n# Casualty rates\n\ntext")])
    assert "<title>Casualty rates</title>" in html_report(nb)
    bare = new_notebook(cells=[new_markdown_cell("no heading here")])
    assert "<title>Report</title>" in html_report(bare)
    assert "Report" in _pdf_text(pdf_report(bare))


# ----------------------------------------------------------------------------------- PDF


def test_pdf_is_a_pdf_with_title_tables_caption_and_page_numbers(pdf):
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    text = _pdf_text(pdf)
    assert TITLE in text
    assert "Source: Seed article, Example News" in text
    assert "held_area" in text and "captured_area" in text and "1000.5" in text
    assert SCRIPT in text  # a DataFrame value is text in the PDF too
    assert ALT in text  # chart caption
    assert f"1 / {len(reader.pages)}" in text
    assert "area 95" in text and "Built 2025-03-04 05:06 UTC" in text


def test_pdf_reader_version_hides_code_and_stderr_and_shows_error(pdf):
    text = _pdf_text(pdf)
    assert "kept stdout" in text
    assert "noisy stderr" not in text
    assert "pd.DataFrame" not in text
    assert "Error in this cell: ZeroDivisionError" in text
    assert "division by zero" in text


def test_pdf_with_code_shows_inputs(executed):
    text = _pdf_text(pdf_report(executed, with_code=True))
    assert "pd.DataFrame" in text
    assert "noisy stderr" in text


def test_pdf_chart_is_vector(pdf):
    reader = PdfReader(io.BytesIO(pdf))
    images = [image for page in reader.pages for image in page.images]
    assert images == [], "the SVG chart must be drawn as vectors, not embedded as a bitmap"


def test_dataframe_becomes_a_typst_table(executed):
    nb = render.ReportPreprocessor(with_code=False, title=TITLE).preprocess(
        nbformat.from_dict(executed), {}
    )[0]
    with tempfile.TemporaryDirectory() as tmp:
        body = render.typst_body(nb, Path(tmp), with_code=False)
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["fig-1.svg"]
    assert "table(" in body
    assert "table.header(" in body
    assert "panic" not in body  # a raw Typst block in a markdown cell never reaches Typst


@pytest.mark.parametrize(
    "title",
    [
        'Share #held <script>alert(1)</script> $x$ *bold* ] [ \\ "q" @ref // c',
        "#set page(fill: red)",
        ']#panic("boom")[',
    ],
)
def test_pdf_title_with_markup_characters_appears_literally(title):
    nb = new_notebook(cells=[new_markdown_cell("Body text.")])
    nb.metadata["analysis"] = {
        "title": title,
        "source": {"title": f"Source {title}", "publisher": None, "url": None},
        "parameters": {"label": title},
    }
    text = _pdf_text(pdf_report(nb))
    assert text.count(title) >= 3  # title block, footer, source line (+ parameter)


@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("us-letter", (612, 792))])
def test_pdf_paper_size(paper, size):
    nb = new_notebook(cells=[new_markdown_cell("# Paper\n\ntext")])
    box = PdfReader(io.BytesIO(pdf_report(nb, paper=paper))).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == size


def test_unknown_paper_and_non_notebooks_raise_render_error():
    nb = new_notebook(cells=[new_markdown_cell("text")])
    with pytest.raises(RenderError, match="paper"):
        pdf_report(nb, paper="a5")
    with pytest.raises(RenderError, match="notebook"):
        html_report("not a notebook")
    with pytest.raises(RenderError, match="notebook"):
        pdf_report({"nbformat": 3, "cells": "x"})


def test_exporters_are_reused_between_calls():
    first = render._exporter(render.ReportHTMLExporter, with_code=False)
    assert render._exporter(render.ReportHTMLExporter, with_code=False) is first
    assert render._exporter(render.ReportHTMLExporter, with_code=True) is not first


def test_jupyter_nbconvert_to_typst_pdf(executed, tmp_path):
    path = tmp_path / "report.ipynb"
    nbformat.write(executed, path)
    jupyter = Path(sys.executable).with_name("jupyter")
    result = subprocess.run(
        [str(jupyter), "nbconvert", "--to", "typst_pdf", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "report.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert "held_area" in _pdf_text(data)
