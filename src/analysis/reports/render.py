"""Render an executed notebook as one self-contained HTML page and a Typst-typeset PDF.

HTML: nbconvert's HTMLExporter with the project's own template (templates/report_html):
styles and images inline, no script, no external URL; markdown and HTML outputs pass
through an allowlist sanitiser, SVG charts through a strict SVG allowlist of their own.

PDF: pandoc reads the markdown cells into its JSON document, each cell output is built
as pandoc blocks (a reader's table from its data, a chart as a Typst figure with its alt
text; other HTML through pandoc's sandboxed HTML reader), the project's rules are
applied in Python (pdfbody: no raw Typst from the notebook, only its own images), pandoc
writes Typst, and the `typst` package compiles it inside templates/typst/report.typ.
Report metadata reaches Typst only as JSON data, never as markup. No LaTeX, no browser.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import importlib.util
import json
import re
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import bleach
import nbformat
import typst
from nbconvert.exporters import Exporter, HTMLExporter, TemplateExporter
from nbconvert.filters import strip_ansi
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import markdown2html_mistune
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from pygments.formatters import HtmlFormatter
from traitlets import Bool, Unicode, default

from analysis import outputs
from analysis.errors import RenderError
from analysis.reports import pdfbody

__all__ = [
    "ReportHTMLExporter",
    "TypstPDFExporter",
    "html_report",
    "pdf_report",
    "report_metadata",
]

TEMPLATES = Path(__file__).parent / "templates"
TYPST_TEMPLATE = TEMPLATES / "typst" / "report.typ"

# Cells papermill tags: the notebook's defaults and the values it injected.
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters"})
PAPERS = frozenset({"a4", "us-letter"})


# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class ReportMeta:
    """What the report header shows, read from notebook metadata with fallbacks."""

    title: str
    source: Mapping[str, str | None] | None
    parameters: tuple[tuple[str, str], ...]
    built: str | None  # for display
    built_iso: str | None

    def as_json(self, paper: str) -> dict[str, Any]:
        source = None
        if self.source:
            url = self.source.get("url")
            source = {
                "title": self.source["title"],
                "publisher": self.source.get("publisher"),
                "url": url,
                "link": bool(url and re.match(r"https?://", url)),
            }
        return {
            "title": self.title,
            "source": source,
            "parameters": [{"name": k, "value": v} for k, v in self.parameters],
            "built": self.built,
            "paper": paper,
        }


_H1 = re.compile(r"^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def _first_heading(nb) -> str | None:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            match = _H1.search(_text(cell.get("source", "")))
            if match:
                return match.group(1).strip()
    return None


def _text(value: Any) -> str:
    """Notebook strings may be stored as lists of lines."""
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return "" if value is None else str(value)


def _clean_str(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _format_value(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def _format_built(value: Any) -> tuple[str | None, str | None]:
    text = _clean_str(value)
    if text is None:
        return None, None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text, None
    shown = when.strftime("%Y-%m-%d %H:%M")
    offset = when.utcoffset()
    if offset is not None:
        shown += " UTC" if not offset else when.strftime(" UTC%z")
    return shown, when.isoformat()


def report_metadata(nb) -> ReportMeta:
    """Title, source, parameters and build time of a report notebook.

    Reads ``nb.metadata["analysis"]`` (written by the build) and falls back to papermill's
    parameters, the first ``# heading`` and finally "Report".
    """
    metadata = nb.get("metadata", {}) or {}
    analysis = metadata.get("analysis")
    analysis = analysis if isinstance(analysis, Mapping) else {}
    title = _clean_str(analysis.get("title")) or _first_heading(nb) or "Report"

    source = analysis.get("source")
    if isinstance(source, Mapping) and _clean_str(source.get("title")):
        source = {
            "title": _clean_str(source.get("title")),
            "publisher": _clean_str(source.get("publisher")),
            "url": _clean_str(source.get("url")),
        }
    else:
        source = None

    params = analysis.get("parameters")
    if not isinstance(params, Mapping):
        papermill = metadata.get("papermill")
        params = papermill.get("parameters") if isinstance(papermill, Mapping) else None
    params = params if isinstance(params, Mapping) else {}
    parameters = tuple((str(k), _format_value(v)) for k, v in params.items())

    built, built_iso = _format_built(analysis.get("built"))
    return ReportMeta(title, source, parameters, built, built_iso)


def _as_notebook(nb) -> nbformat.NotebookNode:
    if isinstance(nb, nbformat.NotebookNode):
        return nb
    if isinstance(nb, Mapping) and "cells" in nb:
        return nbformat.from_dict(nb)
    raise RenderError(f"expected a Jupyter notebook (nbformat NotebookNode), got {type(nb)!r}")


def _check_notebook(nb) -> None:
    if nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise RenderError(
            f"cannot render notebook: nbformat {nb.get('nbformat')!r} is not 4, "
            "or the notebook has no cell list"
        )


# ------------------------------------------------------------------- shared cell policy


def _alt_text(output, mime: str, key: str = "alt") -> str | None:
    """Alt text of an image output: ``metadata[mime]["alt"]`` or ``metadata["alt"]``
    (``key="caption"``: its caption, the same way)."""
    metadata = output.get("metadata", {}) or {}
    per_mime = metadata.get(mime)
    alt = per_mime.get(key) if isinstance(per_mime, Mapping) else None
    return _clean_str(alt if alt is not None else metadata.get(key))


def _caption(output, mime: str) -> str | None:
    """What a figure's caption says: its own caption, else (older notebooks) its alt text."""
    return _alt_text(output, mime, "caption") or _alt_text(output, mime)


_STYLE_BLOCK = re.compile(r"<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)


class ReportPreprocessor(Preprocessor):
    """Shape a notebook into a report: what readers see, and nothing they should not.

    Reader version (``with_code=False``): drops the papermill parameter cells and stderr
    streams. Always: drops pandas' ``<style scoped>`` blocks (the report has its own table
    style, and a sanitiser would show them as text) and the leading ``# title`` line when
    it repeats the report title shown in the header.
    """

    enabled = Bool(True)
    with_code = Bool(False, help="Keep the code and the parameter cells.").tag(config=True)
    title = Unicode("", help="Report title; a first heading equal to it is dropped.")

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []) or [])
            if not self.with_code and cell.cell_type == "code" and tags & HIDDEN_TAGS:
                continue
            cells.append(cell)
        nb.cells = cells
        self._drop_repeated_title(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in (self._output(o) for o in cell.outputs) if o]
        return nb, resources

    def _output(self, output):
        if output.output_type == "stream":
            if output.get("name") == "stderr" and not self.with_code:
                return None
            return output
        data = output.get("data")
        if data and "text/html" in data:
            data["text/html"] = _STYLE_BLOCK.sub("", _text(data["text/html"]))
        return output

    def _drop_repeated_title(self, nb) -> None:
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                if cell.cell_type == "code" and self.with_code:
                    return
                continue
            source = _text(cell.source)
            match = _H1.search(source)
            if (
                match
                and match.group(1).strip() == self.title
                and not source[: match.start()].strip()
            ):
                cell.source = source[match.end() :].lstrip("\n")
            return


# Validate the notebook once, after all preprocessors, not after each of the dozen (most
# of them disabled): the same check, a tenth of the cost.
_OPTIMISTIC = True


def _default_preprocessors() -> list:
    # nbconvert's own list first (so --execute etc. still work), then ours.
    return [*Exporter.class_traits()["default_preprocessors"].default(), ReportPreprocessor]


# ------------------------------------------------------------------------- SVG policy

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
# Drawing elements only: no script, foreignObject, a, animation, or external resources.
_SVG_TAGS = frozenset(
    """svg g defs symbol use path rect circle ellipse line polyline polygon text tspan
    textPath title desc clipPath mask pattern marker linearGradient radialGradient stop
    image filter feGaussianBlur feOffset feBlend feFlood feComposite feMerge feMergeNode
    feColorMatrix""".split()
)
_SAFE_STYLE = re.compile(r"^[^\\@<>]*$")
_URL_REF = re.compile(r"url\(\s*['\"]?([^)'\"]*)['\"]?\s*\)", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_ATTR_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]*$")


class _SVGError(ValueError):
    pass


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def _safe_value(value: str) -> bool:
    """No CSS escapes/at-rules and no url() but same-document references."""
    if not _SAFE_STYLE.match(value) or "expression" in value.lower():
        return False
    return all(ref.startswith("#") for ref in _URL_REF.findall(value)) and (
        value.lower().count("url(") == len(_URL_REF.findall(value))
    )


def _sanitize_svg(svg: str, *, prefix: str, label: str | None, standalone: bool) -> str:
    """Re-serialise an SVG keeping drawing elements and safe attributes only.

    ids get ``prefix`` so two inline charts never share clip paths or markers. Raises
    _SVGError if the text is not an SVG document.
    """
    if "<!ENTITY" in svg:
        raise _SVGError("SVG with entity declarations")
    try:
        root = ET.fromstring(svg.encode("utf-8"))
    except ET.ParseError as exc:
        raise _SVGError(str(exc)) from exc
    if _local(root.tag) != (_SVG_NS, "svg"):
        raise _SVGError("root element is not <svg>")

    def ref(value: str) -> str:
        value = _URL_REF.sub(lambda m: f"url(#{prefix}{m.group(1)[1:]})", value)
        return value

    def attrs(el: ET.Element, is_root: bool) -> list[tuple[str, str]]:
        out = []
        for name, value in el.attrib.items():
            ns, local = _local(name)
            if local.lower().startswith("on") or not _ATTR_NAME.match(local):
                continue
            if ns == _XLINK_NS and local == "href" or ns is None and local == "href":
                if value.startswith("#"):
                    out.append(("xlink:href", f"#{prefix}{value[1:]}"))
                elif _local(el.tag)[1] == "image" and _DATA_IMAGE.match(value):
                    out.append(("xlink:href", value))
                continue
            if ns == _XML_NS and local == "space":
                out.append(("xml:space", value))
                continue
            if ns is not None or (is_root and local in {"xmlns", "version"}):
                continue
            if not _safe_value(value):
                continue
            out.append((local, f"{prefix}{value}" if local == "id" else ref(value)))
        return out

    parts: list[str] = []

    def emit(el: ET.Element, is_root: bool = False) -> None:
        ns, tag = _local(el.tag)
        if ns != _SVG_NS or tag not in _SVG_TAGS:
            return
        attributes = attrs(el, is_root)
        if is_root:
            # matplotlib's <style> sets these for every element; presentation
            # attributes on the root inherit the same way without a global stylesheet.
            attributes += [("stroke-linejoin", "round"), ("stroke-linecap", "butt")]
            if label:
                attributes += [("role", "img"), ("aria-label", label)]
            if standalone:
                attributes = [("xmlns", _SVG_NS), ("xmlns:xlink", _XLINK_NS), *attributes]
        parts.append(f"<{tag}")
        for name, value in attributes:
            parts.append(f' {name}="{html.escape(value, quote=True)}"')
        parts.append(">")
        if is_root and label:
            parts.append(f"<title>{html.escape(label, quote=False)}</title>")
        if el.text and tag in {"text", "tspan", "textPath", "title", "desc"}:
            parts.append(html.escape(el.text, quote=False))
        for child in el:
            emit(child)
            if child.tail and tag in {"text", "tspan", "textPath"}:
                parts.append(html.escape(child.tail, quote=False))
        parts.append(f"</{tag}>")

    emit(root, is_root=True)
    return "".join(parts)


def _svg_prefix(svg: str) -> str:
    return "s" + hashlib.sha1(svg.encode("utf-8")).hexdigest()[:8] + "-"


# ------------------------------------------------------------------------ HTML filters

_HTML_TAGS = frozenset(
    """a abbr b blockquote br caption cite code col colgroup dd del details div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small
    span strong sub summary sup table tbody td tfoot th thead tr u ul""".split()
)
_HTML_ATTRS_ANY = frozenset({"class", "id", "title", "lang", "dir"})
_HTML_ATTRS = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
}


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name in _HTML_ATTRS_ANY:
        return True
    if name not in _HTML_ATTRS.get(tag, ()):
        return False
    if name == "src":
        return bool(_DATA_IMAGE.match(value))
    if name == "href":  # external links are rewritten to data-link after cleaning
        return value.startswith("#") or bool(re.match(r"(?:https?|mailto):", value))
    return True


_EXTERNAL_HREF = re.compile(r'(<a\b[^>]*?)\bhref="((?:https?|mailto):[^"]*)"')


def clean_html(value: Any) -> str:
    """Allowlist sanitiser for markdown and HTML outputs (replaces nbconvert's clean_html,
    whose allowlist escapes headings, paragraphs and table headers as text).

    Disallowed tags such as ``<script>`` are escaped and so shown as text; event attributes
    and ``style`` are dropped; external links lose their href (the page links nowhere) and
    keep the address as ``data-link``, which the stylesheet prints after the link text.
    """
    text = value.decode() if isinstance(value, bytes) else _text(value)
    cleaned = bleach.clean(
        text,
        tags=_HTML_TAGS,
        attributes=_allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        strip=False,
        strip_comments=True,
    )
    return _EXTERNAL_HREF.sub(r'\1data-link="\2"', cleaned)


def report_html(output) -> str:
    """An HTML output for the page: a reader's table built from its data (every string
    escaped, see analysis.outputs), any other HTML through `clean_html`; table data of the
    wrong shape falls back to the output's HTML, its Markdown, or its plain text."""
    data = output.get("data", {}) or {}
    table = outputs.read_table(data.get(outputs.TABLE_MIME))
    if table is not None:
        return outputs.table_html(table)
    if "text/html" in data:
        return clean_html(data["text/html"])
    if "text/markdown" in data:  # data of the wrong shape: the next format the output has
        return clean_html(markdown2html_mistune(_text(data["text/markdown"])))
    return _pre(_text(data.get("text/plain")))


def _figure(body: str, caption: str | None) -> str:
    caption = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart">{body}{caption}</figure>'


def report_svg(output) -> str:
    """An SVG output as an inline, sanitised, accessible figure."""
    svg = _text(output.get("data", {}).get("image/svg+xml"))
    alt = _alt_text(output, "image/svg+xml")
    try:
        body = _sanitize_svg(svg, prefix=_svg_prefix(svg), label=alt or "Chart", standalone=False)
    except _SVGError:
        return '<p class="missing">[chart could not be displayed]</p>'
    return _figure(body, _caption(output, "image/svg+xml"))


def report_image(output, mime: str) -> str:
    """A PNG/JPEG output as an inline data: image with its alt text."""
    data = "".join(_text(output.get("data", {}).get(mime)).split())
    alt = _alt_text(output, mime)
    src = f"data:{mime};base64,{data}"
    if not _DATA_IMAGE.match(src):
        return '<p class="missing">[image could not be displayed]</p>'
    img = f'<img src="{html.escape(src)}" alt="{html.escape(alt or "Chart")}">'
    return _figure(img, _caption(output, mime))


_PYGMENTS_CSS = HtmlFormatter(style="default").get_style_defs(".highlight")


# ---------------------------------------------------------------------------- HTML


class ReportHTMLExporter(HTMLExporter):
    """Self-contained report page: one file, no script, no external URL, sanitised."""

    export_from_notebook = "Report HTML"

    with_code = Bool(False, help="Show code cells (inputs) and parameter cells.").tag(config=True)

    @default("template_name")
    def _template_name_default(self):
        return "report_html"

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return [str(TEMPLATES)]

    @default("sanitize_html")
    def _sanitize_html_default(self):
        return True

    @default("embed_images")
    def _embed_images_default(self):
        return True

    @default("exclude_anchor_links")
    def _exclude_anchor_links_default(self):
        return True

    @default("optimistic_validation")
    def _optimistic_validation_default(self):
        return _OPTIMISTIC

    @default("default_preprocessors")
    def _default_preprocessors_default(self):
        return _default_preprocessors()

    @property
    def default_config(self):
        config = super().default_config
        # Vector charts first; no javascript or widget views in a static report.
        config.NbConvertBase.display_data_priority = [
            "image/svg+xml",
            "image/png",
            "image/jpeg",
            outputs.TABLE_MIME,  # a reader's table, built from its data (report_html)
            "text/html",
            "text/markdown",
            "text/latex",
            "text/plain",
        ]
        return config

    def default_filters(self):
        yield from super().default_filters()
        yield ("clean_html", clean_html)
        yield ("report_html", report_html)
        yield ("report_svg", report_svg)
        yield ("report_image", report_image)

    def from_notebook_node(self, nb, resources=None, **kw):
        nb = _as_notebook(nb)
        _check_notebook(nb)
        meta = report_metadata(nb)
        self.exclude_input = not self.with_code
        self.exclude_input_prompt = True
        self.exclude_output_prompt = True
        pre = self._report_preprocessor()
        pre.with_code = self.with_code
        pre.title = meta.title
        resources = dict(resources or {})
        resources["report"] = {
            "title": meta.title,
            "source": meta.source,
            "parameters": meta.parameters,
            "built": meta.built,
            "built_iso": meta.built_iso or "",
        }
        resources["report_pygments_css"] = _PYGMENTS_CSS
        resources["table_mime"] = outputs.TABLE_MIME
        try:
            return self._page(nb, resources, **kw)
        except RenderError:
            raise
        except Exception as exc:
            raise RenderError(f"cannot render notebook as HTML: {exc}") from exc

    def _page(self, nb, resources, **kw):
        """HTMLExporter.from_notebook_node without its last step, which parses the whole
        page with BeautifulSoup to give alt text to images lacking it and tabindex to
        JupyterLab's cell classes, then writes it out again. This template has neither
        (every image gets its alt text in report_svg/report_image), and that pass cost
        about a third of the page's rendering time."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    def _report_preprocessor(self) -> ReportPreprocessor:
        for pre in self._preprocessors:
            if isinstance(pre, ReportPreprocessor):
                return pre
        raise RenderError("ReportPreprocessor is not registered")  # pragma: no cover


# ----------------------------------------------------------------------------- PDF


def _pre(text: str, css_class: str = "") -> str:
    attr = f' class="{css_class}"' if css_class else ""
    return f"<pre{attr}><code>{html.escape(strip_ansi(text), quote=False)}</code></pre>"


class _ImageFiles:
    """Image outputs written next to the Typst source as fig-N.ext."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.count = 0

    def add(self, data: bytes, ext: str) -> str:
        self.count += 1
        name = f"fig-{self.count}.{ext}"
        (self.directory / name).write_bytes(data)
        return name


def _output_blocks(output, figures: _ImageFiles, body: pdfbody.Body) -> None:
    kind = output.output_type
    if kind == "stream":
        body.blocks(pdfbody.code_block(strip_ansi(_text(output.get("text")))))
        return
    if kind == "error":
        title = f"Error in this cell: {_text(output.get('ename'))}"
        trace = "\n".join(strip_ansi(_text(line)) for line in output.get("traceback", []))
        if not trace.strip():
            trace = f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}"
        body.blocks(pdfbody.error_blocks(title, trace))
        return
    data = output.get("data", {}) or {}
    if "image/svg+xml" in data:
        alt = _alt_text(output, "image/svg+xml")
        svg = _text(data["image/svg+xml"])
        try:
            clean = _sanitize_svg(svg, prefix="", label=None, standalone=True)
        except _SVGError:
            body.blocks(pdfbody.note("[chart could not be displayed]"))
            return
        body.blocks(pdfbody.figure_blocks(figures.add(clean.encode("utf-8"), "svg"), alt,
                                          _caption(output, "image/svg+xml")))
        return
    for mime, ext in (("image/png", "png"), ("image/jpeg", "jpg")):
        if mime in data:
            try:
                raw = base64.b64decode("".join(_text(data[mime]).split()), validate=True)
            except (binascii.Error, ValueError):
                body.blocks(pdfbody.note("[image could not be displayed]"))
                return
            body.blocks(pdfbody.figure_blocks(figures.add(raw, ext), _alt_text(output, mime),
                                              _caption(output, mime)))
            return
    table = outputs.read_table(data.get(outputs.TABLE_MIME))
    if table is not None:  # a reader's table, from its data
        body.blocks(pdfbody.table_blocks(table))
    elif "text/html" in data:
        body.html(_text(data["text/html"]))
    elif "text/markdown" in data:
        body.markdown(_text(data["text/markdown"]))
    elif "text/plain" in data:
        body.blocks(pdfbody.code_block(strip_ansi(_text(data["text/plain"]))))


def typst_body(nb, figures_dir: Path, *, with_code: bool) -> str:
    """The report body as Typst (see pdfbody); image outputs are written to
    ``figures_dir``."""
    figures = _ImageFiles(figures_dir)
    body = pdfbody.Body()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            body.markdown(_text(cell.source))
        elif cell.cell_type == "code":
            source = _text(cell.source)
            if with_code and source.strip():
                body.markdown(pdfbody.fence(source, "python"))
            for output in cell.get("outputs", []):
                _output_blocks(output, figures, body)
    return body.typst()


def _typst_timestamp(meta: ReportMeta) -> datetime | None:
    if not meta.built_iso:
        return None
    when = datetime.fromisoformat(meta.built_iso)
    return when if when.tzinfo is not None else None


_local_state = threading.local()


def chart_fonts() -> list[str]:
    """The folder of the fonts matplotlib ships (DejaVu Sans among them), found without
    importing matplotlib; [] if it is not there.

    A chart's SVG names DejaVu Sans, the font matplotlib measured its text with. Typst
    embeds only Libertinus, New Computer Modern and DejaVu Sans Mono and reads no system
    font, so without this folder it set chart text in Libertinus Serif, narrower and
    thinner than the text was laid out for (and unlike the HTML page). The folder comes
    from an installed package, never from a report, and matplotlib's version is in every
    report's cache key."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.origin:
        return []
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return [str(folder)] if (folder / "DejaVuSans.ttf").is_file() else []


def _typst_compiler() -> typst.Compiler:
    # One compiler per thread keeps the fonts loaded between reports.
    compiler = getattr(_local_state, "compiler", None)
    if compiler is None:
        compiler = _local_state.compiler = typst.Compiler(ignore_system_fonts=True,
                                                          font_paths=chart_fonts())
    return compiler


class TypstPDFExporter(Exporter):
    """Notebook -> pandoc markdown -> Typst -> PDF, with the report's title block."""

    export_from_notebook = "PDF via Typst"
    output_mimetype = "application/pdf"

    with_code = Bool(False, help="Show code cells (inputs) and parameter cells.").tag(config=True)
    paper = Unicode("a4", help='Paper size: "a4" or "us-letter".').tag(config=True)

    @default("file_extension")
    def _file_extension_default(self):
        return ".pdf"

    @default("optimistic_validation")
    def _optimistic_validation_default(self):
        return _OPTIMISTIC

    @default("default_preprocessors")
    def _default_preprocessors_default(self):
        return _default_preprocessors()

    def from_notebook_node(self, nb, resources=None, **kw):
        nb = _as_notebook(nb)
        _check_notebook(nb)
        if self.paper not in PAPERS:
            raise RenderError(f"paper must be one of {sorted(PAPERS)}, got {self.paper!r}")
        meta = report_metadata(nb)
        for pre in self._preprocessors:
            if isinstance(pre, ReportPreprocessor):
                pre.with_code = self.with_code
                pre.title = meta.title
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        with tempfile.TemporaryDirectory(prefix="analysis-render-") as tmp:
            root = Path(tmp)
            body = typst_body(nb_copy, root, with_code=self.with_code)
            (root / "body.typ").write_text(body, encoding="utf-8")
            (root / "meta.json").write_text(
                json.dumps(meta.as_json(self.paper), ensure_ascii=False), encoding="utf-8"
            )
            main = root / "main.typ"
            main.write_text(TYPST_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
            try:
                pdf = _typst_compiler().compile(
                    str(main), format="pdf", root=str(root), timestamp=_typst_timestamp(meta)
                )
            except typst.TypstError as exc:
                detail = getattr(exc, "diagnostic", "") or ""
                raise RenderError(f"typst could not typeset the report: {exc} {detail}") from exc
        resources["output_extension"] = ".pdf"
        return pdf, resources


# ------------------------------------------------------------------------- public API


def _exporter(kind: type, **traits) -> Any:
    # Exporters load templates and build Jinja environments once per thread.
    cache = getattr(_local_state, "exporters", None)
    if cache is None:
        cache = _local_state.exporters = {}
    key = (kind, tuple(sorted(traits.items())))
    exporter = cache.get(key)
    if exporter is None:
        exporter = cache[key] = kind(**traits)
    return exporter


def html_report(nb, *, with_code: bool = False) -> str:
    """The notebook as one self-contained HTML document."""
    body, _ = _exporter(ReportHTMLExporter, with_code=with_code).from_notebook_node(nb)
    return body


def pdf_report(nb, *, with_code: bool = False, paper: str = "a4") -> bytes:
    """The notebook as a typeset PDF (``paper``: "a4" or "us-letter")."""
    if paper not in PAPERS:
        raise RenderError(f"paper must be one of {sorted(PAPERS)}, got {paper!r}")
    exporter = _exporter(TypstPDFExporter, with_code=with_code, paper=paper)
    pdf, _ = exporter.from_notebook_node(nb)
    return pdf
