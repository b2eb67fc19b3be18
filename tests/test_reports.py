"""The real reports, end to end: every report in the list builds from the project's own
notebooks, and what a reader gets holds the right figures and nothing unsafe.

Expected figures are worked out by hand from the seed article's source file, by the
presentation rule of docs/presentation.md:
  held "approximately 90 km²" (85 to 95), captured "over 1,000 km²"
  share held = 90 / 1000, bounded only above: 95 / 1000 -> "at most 9.5%"
  90 km² = 90 / 2.589988110336 mi² = 34.749... mi², two digits -> "approximately 35 mi²";
    85 and 95 km² -> 32.8187 and 36.6797 mi², outward -> "32.8 to 36.7 mi²"
  1000 km² -> 386.102 mi², rounded down -> "over 386 mi²"
  North Korean share, 70,000 excluding them: 11000 / 81000 = 13.58% -> two digits "14%";
    10,500 / 85,500 = 12.28% down, 11,500 / 76,500 = 15.03% up -> "12.2% to 15.1%"
  North Korean killed share: at least 1000 / 11500 = 8.6956% -> "more than 8.69%"
  6 Aug 2024 -> 22 Jun 2025 = 320 days = 320 / 30.4375 months = 10.51 -> "10.5 months"
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from analysis.figures.derive import evaluate
from analysis.figures.source import load_source

REPO = Path(__file__).resolve().parents[1]
KEY_FIGURES_KM2 = ["approximately 90 km²", "over 1,000 km²", "at most 9.5%", "14%",
                   "12.2% to 15.1%", "more than 8.69%", "10.5 months",
                   "an estimated 70,000 troops", "around 11,000 soldiers", "over 1,000 deaths"]
KEY_FIGURES_MI2 = ["approximately 35 mi²", "32.8 to 36.7 mi²", "over 386 mi²",
                   "approximately 90 km², as printed", "at most 9.5%", "14%"]


class _Refs(HTMLParser):
    """Collects every src/href value, every script element, and inline style text."""

    def __init__(self):
        super().__init__()
        self.refs, self.scripts, self.styles, self._in_style = [], 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset") and value:
                self.refs.append(value)
            if name == "style" and value:
                self.styles.append(value)

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def _parse(html_text: str) -> _Refs:
    p = _Refs()
    p.feed(html_text)
    return p


def _report(root: Path, name: str, ext: str) -> Path:
    return root / "reports" / name / f"{name}.{ext}"


def _pdf_text(path: Path) -> str:
    """The PDF's text with white space folded: table cells wrap across lines."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_every_report_in_the_list_builds(built_project):
    root, summary = built_project
    assert summary.failed == []
    # the harbour test article lives in tests/data/; conftest adds it to this scratch copy
    expected = {"kursk-km2", "kursk-mi2", "source-kursk-incursion-2025",
                "source-harbour-flooding-2023", "source-zz-injected", "story-kursk"}
    assert set(summary.built) == expected
    for name in expected:
        for ext in ("html", "pdf", "ipynb"):
            assert _report(root, name, ext).stat().st_size > 1000, (name, ext)
    manifest = json.loads((root / "reports" / "manifest.json").read_text())
    assert set(manifest["reports"]) == expected
    index = (root / "reports" / "index.html").read_text()
    for name in expected:
        assert f"{name}/{name}.pdf" in index


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025",
                                  "source-harbour-flooding-2023", "source-zz-injected",
                                  "story-kursk"])
def test_html_has_no_external_reference_and_no_script(built_project, name):
    root, _ = built_project
    page = _report(root, name, "html").read_text(encoding="utf-8")
    parsed = _parse(page)
    assert parsed.scripts == 0
    for ref in parsed.refs:
        assert not re.match(r"^\s*(https?:|//)", ref, re.I), ref
    for css in parsed.styles:
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            assert not re.match(r"^\s*(https?:|//)", url, re.I), url
    assert "<title>" in page


@pytest.mark.parametrize(("name", "figures"), [("kursk-km2", KEY_FIGURES_KM2),
                                               ("kursk-mi2", KEY_FIGURES_MI2)])
def test_html_and_pdf_hold_the_key_figures(built_project, name, figures):
    root, _ = built_project
    page = _report(root, name, "html").read_text(encoding="utf-8")
    text = _pdf_text(_report(root, name, "pdf"))
    for figure in figures:
        assert figure in page, f"{figure} missing from {name}.html"
        assert figure in text, f"{figure} missing from {name}.pdf"


def _fonts(path) -> set[str]:
    """The fonts a PDF's pages use, without their subset prefix (ABCDEF+)."""
    names = set()
    for page in PdfReader(str(path)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def test_pdf_chart_text_is_set_in_the_font_matplotlib_measured(built_project):
    # a chart's SVG keeps its text as text in DejaVu Sans (plots.STYLE), the font
    # matplotlib laid it out with; typst finds it in matplotlib's font folder
    # (render.chart_fonts), so chart labels no longer fall back to the body's Libertinus
    root, _ = built_project
    fonts = _fonts(_report(root, "kursk-km2", "pdf"))
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= fonts, fonts  # labels; values and titles
    assert any(f.startswith("LibertinusSerif") for f in fonts), fonts  # the body


def test_the_seed_story_report_is_a_one_source_timeline(built_project):
    root, _ = built_project
    text = _pdf_text(_report(root, "story-kursk", "pdf"))
    page = _report(root, "story-kursk", "html").read_text(encoding="utf-8")
    # the finding first: over 1,000 km² at the launch, about 90 km² (85..95) at the statement,
    # each worded by the presentation rule (the article's own qualifier travels with it)
    finding = ("2 figures from 1 source, from over 1,000 km² on 6 August 2024 to approximately "
               "90 km² (85–95 km²) on 22 June 2025. The figures agree within their bounds.")
    assert finding in text and finding in html.unescape(page)
    assert "No two figures contradict each other" in text
    # who said what when, one row a figure
    assert "6 August 2024 over 1,000 km² no upper bound stated" in text
    assert "22 June 2025 approximately 90 km² 85 to 95 km² General Oleksandr Syrsky" in text
    # the deaths are worded as deaths (the figure's noun), not as the troops' unit
    assert "over 1,000 deaths" in text and "over 1,000 troops" not in text
    # the index's one line: 2 + 1 + 1 + 1 figures for the four kursk quantities, one
    # source, each count worded in its number
    index = html.unescape((root / "reports" / "index.html").read_text(encoding="utf-8"))
    assert "5 figures for 4 quantities from 1 source: no two contradict" in index
    assert page.count("<svg") == 4  # a timeline for each of the four kursk quantities
    figures = json.loads((root / "reports" / "story-kursk" / "figures.json").read_text())
    assert [f["id"] for f in figures["figures"]][:2] == ["kursk-incursion-2025/captured_area",
                                                         "kursk-incursion-2025/held_area"]
    from test_cli import CONTRACT_KEYS

    assert all(set(f) == CONTRACT_KEYS for f in figures["figures"])


def test_pdf_has_pages_title_and_table_rows(built_project):
    root, _ = built_project
    assert len(PdfReader(_report(root, "kursk-km2", "pdf")).pages) >= 3
    text = _pdf_text(_report(root, "kursk-km2", "pdf"))
    assert text.startswith("Kursk incursion: ground held, troops deployed, losses (km²)")
    # rows of a table: a description and its bounds, cell by cell
    assert "Share of the captured ground still held" in text
    assert "65,000 to 75,000 troops" in text
    assert "Ukrainian Troops Still Hold Territory in Russia\u2019s Kursk Region" in text
    assert "Source file: kursk-incursion-2025.yaml" in text  # no stray Markdown escapes
    # parameters and build details come last
    assert text.index("About this report") > text.index("Source file:")


@pytest.mark.parametrize(("name", "sentences"), [
    ("kursk-km2", [
        # at least (1000 − 95) km² / 320 days × 30.4375 = 86.08 km² a month, rounded down
        # to 86: a one-sided figure is worded by its side, never "about"
        "Ukraine gave up more than 86 km² a month",
        "known from one side only: at least 905 km²",  # 1000 − 95, exactly
        # over 1,000 deaths in 3 months: at least 333.33 a month, rounded down
        "on average more than 333 deaths a month",
        "more than 8.69% of the North Korean soldiers sent had died",
    ]),
    ("kursk-mi2", [
        # 86.08 km² a month = 33.237 mi² a month, rounded down
        "Ukraine gave up more than 33.2 mi² a month",
        "still defending approximately 35 mi² (approximately 90 km², as printed)",
    ]),
])
def test_report_sentences_state_values_and_bounds_right(built_project, name, sentences):
    root, _ = built_project
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", _report(root, name, "html")
                                         .read_text(encoding="utf-8"))).split())
    for sentence in sentences:
        assert sentence in text, sentence


def test_mi2_report_shows_areas_in_square_miles_first(built_project):
    root, _ = built_project
    page = _report(root, "kursk-mi2", "html").read_text(encoding="utf-8")
    territory = page[page.index("Ground captured, and still held"):]
    assert territory.index("approximately 35 mi²") < territory.index("Reinforcements")
    assert "in square miles" not in page  # one report, one notebook: only the unit differs


def test_every_built_page_has_one_title_heading(built_project):
    # One <h1> a page (the report's title): a notebook's own "# heading" would make two.
    root, _ = built_project
    pages = sorted((root / "reports").glob("*/*.html"))
    assert pages
    for page in pages:
        assert page.read_text(encoding="utf-8").count("<h1") == 1, page.name


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2"])
def test_the_page_opens_with_the_finding(built_project, name):
    root, _ = built_project
    page = _report(root, name, "html").read_text(encoding="utf-8")
    assert page.count("<h1") == 1
    body = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[page.index("<h1"):])).split())
    head = body[:900]
    # title, the date the figures refer to, the finding with its key numbers, the source
    assert "Figures as of 22 June 2025" in head
    for figure in ("at most 9.5%", "14%", "more than 8.69%", "over 1,000 deaths"):
        assert figure in head, figure
    assert head.index("Figures as of") < head.index("at most 9.5%") < head.index("Source:")
    # parameters and build details: last, folded away
    about = page.index('<footer class="report-about">')
    assert page.index("<details", about) and "source</code>" in page[about:]
    assert "<code>source</code>" not in page[:about]


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025"])
def test_reader_text_has_no_code(built_project, name):
    root, _ = built_project
    folder = root / "reports" / name
    page = _report(root, name, "html").read_text(encoding="utf-8")
    page = page[:page.index('<footer class="report-about">')]  # parameters are data
    text = " ".join(html.unescape(re.sub(r"<(style|svg)\b.*?</\1>|<[^>]+>", " ", page,
                                         flags=re.S)).split())
    pdf = _pdf_text(_report(root, name, "pdf"))
    pdf = pdf[:pdf.index("About this report")]
    ids = [f["id"] for f in json.loads((folder / "figures.json").read_text())["figures"]]
    for body in (text, pdf):
        leaked = [i for i in ids if "_" in i and re.search(rf"\b{i}\b", body)]
        assert leaked == [], leaked
        for code in ("days_between", "quantity(", "<=", "troops a month"):
            assert code not in body, code


@pytest.mark.parametrize("name", ["kursk-km2", "source-kursk-incursion-2025"])
def test_tables_have_captions_and_row_headers(built_project, name):
    root, _ = built_project
    page = _report(root, name, "html").read_text(encoding="utf-8")
    tables = re.findall(r"<table class=\"figures\">.*?</table>", page, flags=re.S)
    assert tables
    for table in tables:
        assert "<caption>" in table
        rows = re.findall(r"<tbody>.*?</tbody>", table, flags=re.S)[0].split("<tr>")[1:]
        assert all(row.startswith('<th scope="row">') for row in rows)


def test_index_links_titles_to_pages_with_a_summary(built_project):
    root, _ = built_project
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert index.count("<h1") == 1
    items = re.findall(r"<li>.*?</li>", index, flags=re.S)
    manifest = json.loads((root / "reports" / "manifest.json").read_text())
    assert len(items) == len(manifest["reports"])
    for item in items:
        links = re.findall(r'<a href="([^"]+)">', item)
        # the title links to the HTML page, the PDF comes next, the JSON last
        assert links[0].endswith(".html") and links[1].endswith(".pdf"), links
        assert links[-1].endswith("figures.json")
        # parameters are folded away
        assert item.index("<details") < item.index("<code>")
    km2 = next(i for i in items if "kursk-km2/kursk-km2.html" in i)
    summary = re.search(r'<p class="summary">(.*?)</p>', km2).group(1)
    assert "at most 9.5%" in html.unescape(summary)
    # the real project lists no test article
    assert not (REPO / "data" / "sources" / "harbour-flooding-2023.yaml").exists()


def test_markup_in_titles_and_labels_shows_as_text(built_project):
    root, _ = built_project
    page = _report(root, "source-zz-injected", "html").read_text(encoding="utf-8")
    assert _parse(page).scripts == 0
    assert "onerror" not in page.replace("onerror=alert(1)&gt;", "")  # only as escaped text
    assert "&lt;script&gt;alert('label')&lt;/script&gt;" in page.replace("&#x27;", "'")
    text = _pdf_text(_report(root, "source-zz-injected", "pdf"))
    assert "<script>alert('label')</script>" in text
    assert "Markup <script>alert('title')</script> & *stars* #heading $x$" in text
    assert "tickets $5 and $10" in text  # and the chart built, despite matplotlib's $ math


def test_figures_json_is_the_contract_with_the_engine_values(built_project):
    root, _ = built_project
    data = json.loads((root / "reports" / "kursk-km2" / "figures.json").read_text())
    assert data["parameters"]["area_unit"] == "km2"
    by_id = {f["id"]: f for f in data["figures"]}
    engine = evaluate(load_source(REPO / "data" / "sources" / "kursk-incursion-2025.yaml"))
    for fid in ("held_area", "share_held", "nk_share_of_reinforcements", "months_elapsed"):
        assert by_id[fid] == engine[fid].to_json()
        assert set(by_id[fid]) == {"id", "kind", "value", "low", "high", "unit", "formula",
                                   "inputs", "qualifier", "width_from", "width_from_uncapped",
                                   "warnings"}
    assert by_id["share_held"]["value"] == pytest.approx(0.09)  # 90 / 1000
    assert by_id["captured_area"]["high"] is None  # "over 1,000": no upper bound


def test_executed_notebook_is_kept_and_reruns(built_project):
    root, _ = built_project
    nb = nbformat.read(_report(root, "kursk-km2", "ipynb"), as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs, "the published notebook carries its outputs"
    assert not any(o.get("output_type") == "error" for o in outputs)


@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebook_runs_top_to_bottom_with_its_defaults_from_the_notebooks_folder(notebook,
                                                                                 tmp_path):
    # As an analyst runs it in JupyterLab: working directory notebooks/, no parameters.
    out = tmp_path / notebook
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", "--no-progress-bar", "--cwd",
         str(REPO / "notebooks"), str(REPO / "notebooks" / notebook), str(out)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    assert any(o.get("output_type") == "display_data" and "image/svg+xml" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", []))


def test_committed_notebooks_have_no_outputs():
    for path in (REPO / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        assert sum("parameters" in t for t in tags) == 1, path.name


def _chart_alts(root: Path, name: str) -> list[str]:
    nb = nbformat.read(_report(root, name, "ipynb"), as_version=4)
    return [o["metadata"]["image/svg+xml"]["alt"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})]


def _chart_first_lines(root: Path, name: str) -> list[str]:
    """The first line of each chart's first row label: the first text in its SVG (the rows
    are drawn first, from the top; the axis and the title after them)."""
    nb = nbformat.read(_report(root, name, "ipynb"), as_version=4)
    svgs = [o["data"]["image/svg+xml"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    return [html.unescape(re.search(r"<text\b[^>]*>([^<]*)</text>", s).group(1))
            for s in svgs]


def _pdf_alts(path: Path) -> list[str]:
    """Alt texts in the PDF's structure tree, in document order."""
    found = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, dict):
            if "/Alt" in node:
                found.append(str(node["/Alt"]))
            if node.get("/K") is not None:
                walk(node["/K"])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    tree = PdfReader(path).trailer["/Root"].get("/StructTreeRoot")
    if tree is not None:
        walk(tree)
    return found


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025",
                                  "source-harbour-flooding-2023"])
def test_pdf_keeps_each_chart_with_its_caption_and_alt_text(built_project, name):
    root, _ = built_project
    pdf = _report(root, name, "pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(pdf).pages]
    alts = _chart_alts(root, name)
    assert alts
    for k, label in enumerate(_chart_first_lines(root, name), 1):
        # the first row's label's first line, as drawn in the chart (its text stays text
        # in the PDF), must be on the page with the chart's caption
        on = [i for i, text in enumerate(pages) if f"Figure {k}:" in text]
        assert len(on) == 1, (k, on)
        assert label in pages[on[0]], f"Figure {k}'s chart ({label!r}) is not on its page"
    # and the PDF carries each chart's alt text for a screen reader
    assert _pdf_alts(pdf) == alts


def _text_heights(page) -> list[float]:
    """Heights above the page's foot of the text on it, the footer apart."""
    ys = []

    def visit(text, cm, tm, font, size):
        y = cm[5] + tm[5] * cm[3]
        if text.strip() and y > 60:  # the footer line sits lower
            ys.append(y)

    page.extract_text(visitor_text=visit)
    return ys or [float(page.mediabox.height) / 2]


@pytest.mark.parametrize("name", ["kursk-km2", "kursk-mi2", "source-kursk-incursion-2025"])
def test_pdf_leaves_no_page_a_third_empty(built_project, name):
    # every page but the last runs down to its lower third: no float or unbreakable block
    # left a gap (charts count through their labels, which stay text)
    root, _ = built_project
    reader = PdfReader(_report(root, name, "pdf"))
    for number, page in enumerate(reader.pages[:-1], 1):
        height = float(page.mediabox.height)
        ys = _text_heights(page)
        assert min(ys) < height / 3, f"{name}.pdf page {number} ends high"
        # and starts near its top: floats once left the top half of a page empty
        assert max(ys) > 2 * height / 3, f"{name}.pdf page {number} starts low"
