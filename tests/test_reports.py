"""The real reports, end to end: every report in the list builds from the project's own
notebooks, and what a reader gets holds the right figures and nothing unsafe.

Expected figures are worked out by hand from the seed article's source file:
  held 90 km² (approximately: 85 to 95), captured over 1,000 km²
  share held = 90 / 1000 = 9.0%, at most 95 / 1000 = 9.5%
  90 km² = 90 / 2.589988110336 mi² = 34.749... mi² -> "34.7 mi²"; 1000 km² -> 386.1 -> "386 mi²"
  North Korean share, 70,000 excluding them: 11000 / 81000 = 13.580...% -> "13.6%"
  North Korean killed share: 1000 / 11000 = 9.09...% -> "9.1%"
  6 Aug 2024 -> 22 Jun 2025 = 320 days = 320 / 30.4375 months = 10.51 -> "10.5 months"
"""

from __future__ import annotations

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
KEY_FIGURES_KM2 = ["90 km²", "1,000 km²", "9.0%", "9.5%", "13.6%", "9.1%", "10.5 months",
                   "70,000 troops", "11,000 troops"]
KEY_FIGURES_MI2 = ["34.7 mi²", "386 mi²", "9.0%", "13.6%"]


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


def test_the_seed_story_report_is_a_one_source_timeline(built_project):
    root, _ = built_project
    text = _pdf_text(_report(root, "story-kursk", "pdf"))
    page = _report(root, "story-kursk", "html").read_text(encoding="utf-8")
    # the finding first: over 1,000 km² at the launch, about 90 km² (85..95) at the statement
    finding = ("2 figures from 1 source, from at least 1,000 km² on 6 August 2024 to 90 km² "
               "(85 km²–95 km²) on 22 June 2025. The figures agree within their bounds.")
    assert finding in text and finding in page
    assert "No two figures contradict each other" in text
    # who said what when, one row a figure
    assert "6 August 2024 over 1,000 km² at least 1,000 km² (no upper bound)" in text
    assert "22 June 2025 approximately 90 km² 85 km² to 95 km² General Oleksandr Syrsky" in text
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
    assert "Kursk incursion: ground held, troops deployed, losses (km²)" in text
    # rows of the headline table: a description and its bounds, cell by cell
    assert "Share of the captured ground still held" in text
    assert "65,000 troops to 75,000 troops" in text
    assert "Ukrainian Troops Still Hold Territory in Russia's Kursk Region" in text
    assert "Source file: kursk-incursion-2025.yaml" in text  # no stray Markdown escapes


@pytest.mark.parametrize(("name", "sentences"), [
    ("kursk-km2", [
        # 910 km² lost over 320 days = 86.56 km² a month; at least (1000 - 95) / 320 days
        # = 86.08; a lower bound is never called "at least" the central value
        "about <strong>86.6 km² a month</strong> (at least 86.1 km² a month (no upper bound))",
        "About <strong>910 km²</strong> had been given up (at least 905 km² (no upper bound))",
        # over 1,000 deaths in 3 months: at least 333.3 a month, 10.95 a day
        "at least <strong>333 deaths a month</strong>, or at least <strong>11.0 a day</strong>",
    ]),
    ("kursk-mi2", [
        # 910 km² = 351.35 mi²; a month: 351.35 / 10.513 = 33.42 mi², at least 33.24
        "about <strong>33.4 mi² a month</strong> (at least 33.2 mi² a month (no upper bound))",
        "still defending about <strong>34.7 mi²</strong>",
    ]),
])
def test_report_sentences_state_values_and_bounds_right(built_project, name, sentences):
    root, _ = built_project
    page = _report(root, name, "html").read_text(encoding="utf-8")
    for sentence in sentences:
        assert sentence in page, sentence


def test_mi2_report_shows_areas_in_square_miles_first(built_project):
    root, _ = built_project
    page = _report(root, "kursk-mi2", "html").read_text(encoding="utf-8")
    territory = page[page.index("Territory"):]
    assert territory.index("34.7 mi²") < territory.index("Deployments")


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
                                   "inputs", "qualifier", "width_from", "width_from_uncapped"}
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
