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
    no_caption = _typst(pdfbody.figure_blocks("fig-2.svg", "Alt", None))
    assert 'image("fig-2.svg")' in no_caption


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
    assert "passwd" not in out


def test_a_pandoc_that_cannot_run_is_a_render_error(monkeypatch):
    monkeypatch.setattr(pdfbody, "_pandoc_path", lambda: "/nonexistent/pandoc")
    with pytest.raises(RenderError, match="pandoc could not run"):
        _typst("text")
