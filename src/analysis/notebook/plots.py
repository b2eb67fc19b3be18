"""The one chart style: vector (SVG), colour-blind-safe, readable in grey print and on a
375 px phone.

Every chart shows each figure's point value as a marker and its bounds as a band with
end ticks (so a narrow range stays visible); a side with no upper bound stated, or only
a cap, runs to the edge and ends in an arrow. Each row's label sits above its band, so
the plot keeps the full width of a phone; the value, worded by the presentation rule
(present.py), sits at the label's right. The SVG has no fixed size: it scales to its
column. Each chart comes with a caption (what it shows) and alt text (what a screen
reader says: every value in words).
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import re
import warnings

import matplotlib

matplotlib.use("Agg")  # no display needed; notebooks show the SVG we hand them
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.font_manager import FontProperties, findfont, get_font  # noqa: E402
from matplotlib.ft2font import LoadFlags  # noqa: E402
from matplotlib.lines import TICKDOWN, Line2D  # noqa: E402
from matplotlib.text import Annotation, Text  # noqa: E402
from matplotlib.transforms import (  # noqa: E402
    Bbox,
    BboxTransformFrom,
    BboxTransformTo,
    ScaledTranslation,
    TransformedBbox,
    blended_transform_factory,
)

from analysis.figures.derive import Result  # noqa: E402
from analysis.notebook.present import (  # noqa: E402
    compact_text,
    interval_text,
    label_of,
    shape,
)

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
# Markers differ too, so the charts still read in grey print.
MARKERS = ["o", "s", "D", "^", "v", "P", "X"]

# A chart is drawn 4.4 in wide: at a phone's 343 px column it scales to about 0.8, so
# 11 pt labels still read at about 12 px.
WIDTH_IN = 4.4
STYLE = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, scalable
    "svg.hashsalt": "analysis",  # stable ids, so the same chart gives the same bytes
    # DejaVu Sans ships with matplotlib; the browser falls back along the stack below.
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.spines.left": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#cccccc",
    "grid.linewidth": 0.6,
    "figure.dpi": 100,
    # the plot area's edges (matplotlib's defaults), pinned: a row's width (ROW_PT) is
    # worked out from them, and a matplotlibrc must not move one without the other
    "figure.subplot.left": 0.125,
    "figure.subplot.right": 0.9,
    "savefig.bbox": "tight",  # for a chart saved by hand; `svg` crops its own way
}
# A row's width in points: the plot area's (figure.subplot.left 0.125 to right 0.9), where
# a label starts at its left edge and the value ends at its right.
ROW_PT = WIDTH_IN * 72 * (STYLE["figure.subplot.right"] - STYLE["figure.subplot.left"])
ROW_FONT_PT = 10.5  # a row's label and value
PAD_IN = 0.1  # white margin kept around a chart's ink, in inches (savefig.pad_inches)


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isinf(x))


def _open_high(r: Result) -> bool:
    """No upper bound stated, or only a cap: drawn as an arrow, not a band."""
    return not _finite(r.high) or "high" in r.capped


def range_chart(results: list[Result], *, title: str, xlabel: str | None = None,
                labels: list[str] | None = None, percent: bool = False):
    """Horizontal chart: one row a figure, point marker and bounds band.

    Returns (figure, alt_text); `caption_for` words its caption. All results must
    share a unit. The figure has no Axes: its marks are drawn straight onto it (`_Area`),
    so to add to a chart, add artists to the figure (`fig.text`, `fig.add_artist`).
    """
    units = {r.unit for r in results}
    if len(units) != 1:
        raise ValueError(f"one chart, one unit; got {sorted(units)}")
    scale = 100 if percent else 1
    labels = labels or [r.description for r in results]
    values_text = [compact_text(r) for r in results]
    wrapped = [_no_math(_wrap_beside(t, v)) for t, v in zip(labels, values_text, strict=True)]
    values = [float(r.value) * scale for r in results]
    highs = [float(r.high) * scale for r in results if not _open_high(r)]
    lows = [float(r.low) * scale for r in results if _finite(r.low)]
    any_open = any(_open_high(r) for r in results)
    right = max(highs + values) * (1.35 if any_open else 1.12) or 1
    if percent and right > 100 and max(highs + values, default=0) <= 100:
        right = 100.0  # a share's axis ends at 100%, unless a value passes it
    left = min([0.0, *lows]) * 1.12  # a difference may run below zero
    span = right - left
    # rows from the top; a label that wraps pushes the rows below it down
    heights = [1 + 0.4 * w.count("\n") for w in wrapped]
    ys = [sum(heights[i + 1:]) for i in range(len(results))]
    top = ys[0] + 0.35 + 0.4 * (wrapped[0].count("\n") + 1)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(WIDTH_IN, 0.5 * sum(heights) + 0.9))
        area = _Area(fig, (left, right), (-0.5, top))
        # a row's text stands on a line its descenders clear, 0.3 above the band
        line = area.data + ScaledTranslation(0, _descent() / 72, fig.dpi_scale_trans)
        for i, r in enumerate(results):
            y = ys[i]
            color, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            lo = float(r.low) * scale if _finite(r.low) else left
            open_high = _open_high(r)
            hi = right if open_high else float(r.high) * scale
            area.add(LineCollection([[(lo, y), (hi, y)]], colors=color, linewidths=8,
                                    alpha=0.35))
            # end ticks: a range narrower than the marker still shows where it ends
            ends = [lo] if open_high else [lo, hi]
            area.add(LineCollection([[(x, y - 0.2), (x, y + 0.2)] for x in ends],
                                    colors=color, linewidths=1.6))
            if open_high:
                area.add(Annotation("", xy=(right, y), xytext=(right - span * 0.06, y),
                                    xycoords=area.data, arrowprops={
                                        "arrowstyle": "-|>", "color": color, "lw": 1.6,
                                        "linestyle": "--"}), clip=False)
            area.add(Line2D([values[i]], [y], marker=marker, color=color, markersize=7,
                            markeredgecolor="black", markeredgewidth=0.8, linestyle="none"))
            # the label's last line and the value share a baseline (a multi-line text
            # set by its bottom edge sits a point higher than a one-line text)
            area.add(Text(left, y + 0.3, wrapped[i], ha="left", va="baseline",
                          fontsize=ROW_FONT_PT, transform=line), clip=False)
            area.add(Text(right, y + 0.3, _no_math(values_text[i]), ha="right",
                          va="baseline", fontsize=ROW_FONT_PT, fontweight="bold",
                          transform=line), clip=False)
        unit_text = xlabel or ("" if percent else label_of(results[0]) or "ratio")
        _x_axis(area, left, right, "%" if percent else "", _no_math(unit_text))
        # the title where an Axes puts its left title: 6 pt above the plot area
        fig.add_artist(Text(0, 1, _no_math(_wrap(title, 40)), ha="left", va="baseline",
                            fontsize=12, fontweight="bold", transform=area.frame
                            + ScaledTranslation(0, 6 / 72, fig.dpi_scale_trans)))
    return fig, alt_text(title, labels, results)


class _Area:
    """A chart's plot area, drawn straight onto its figure with no matplotlib Axes.

    An Axes is general machinery (spines, two Axis objects with their Tick objects,
    autoscaling, layout): creating one cost 8 to 11 ms of CPU, a fifth of a chart, and
    drawing and cropping it more again, for a chart that uses none of it. The area sits
    where `plt.subplots` puts an Axes (the figure.subplot.* rcParams); `data` maps the
    chart's limits onto it as an Axes' transData would, `frame` is its transAxes (0..1
    across and up), `box` is the clip box an Axes gives its lines and bands."""

    def __init__(self, fig, xlim: tuple[float, float], ylim: tuple[float, float]):
        p = fig.subplotpars
        self.fig = fig
        self.box = TransformedBbox(Bbox.from_extents(p.left, p.bottom, p.right, p.top),
                                   fig.transFigure)
        self.frame = BboxTransformTo(self.box)
        self.data = BboxTransformFrom(Bbox.from_extents(xlim[0], ylim[0], xlim[1],
                                                        ylim[1])) + self.frame
        self.xaxis = blended_transform_factory(self.data, self.frame)  # x data, y 0..1

    def add(self, artist, clip: bool = True):
        """Put `artist` on the figure in data coordinates (unless it has its own),
        clipped to the area as an Axes clips its lines and bands."""
        if not artist.is_transform_set():
            artist.set_transform(self.data)
        if clip:
            artist.set_clip_box(self.box)
        else:
            artist.set_clip_on(False)
        return self.fig.add_artist(artist)


def _x_axis(area: _Area, left: float, right: float, suffix: str, label: str) -> None:
    """The x axis where matplotlib's own would draw it: the bottom spine, and a grid line,
    a tick mark and a label at each round step, the unit label below.

    The sizes are matplotlib's defaults (axes.linewidth 0.8, xtick.major.size 3.5 pt,
    pad 3.5 pt, axes.labelpad 4 pt), and the grid sits where axes.axisbelow "line" puts
    it: above the bands, below the lines and markers."""
    # round steps (1, 2, 5, 10 ...) so ticks read 0, 5, 10, 15, not 2.5, 7.5, 12
    locator = matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10])
    slack = (right - left) * 1e-10
    ticks = [t for t in locator.tick_values(left, right) if left - slack <= t <= right + slack]
    area.add(LineCollection([[(t, 0), (t, 1)] for t in ticks], colors=STYLE["grid.color"],
                            linewidths=STYLE["grid.linewidth"], capstyle="projecting",
                            zorder=1.5, transform=area.xaxis))
    area.add(Line2D([0, 1], [0, 0], color="black", linewidth=0.8, zorder=2.5,
                    solid_capstyle="projecting", transform=area.frame), clip=False)
    area.add(Line2D(ticks, [0] * len(ticks), linestyle="none", color="black",
                    marker=TICKDOWN, markersize=3.5, markeredgewidth=0.8,
                    transform=area.xaxis), clip=False)
    below = area.xaxis + ScaledTranslation(0, -7 / 72, area.fig.dpi_scale_trans)
    texts = [area.add(Text(t, 0, tick_text(t, suffix), transform=below, ha="center",
                           va="top"), clip=False) for t in ticks]
    if label:
        # below the tick labels' bottom edge by the label pad, centred on the area
        area.add(Annotation(label, xy=(0.5, 0), xycoords=(area.frame, texts[0]) if texts
                            else area.frame, xytext=(0, -4), textcoords="offset points",
                            ha="center", va="top", annotation_clip=False), clip=False)


def tick_text(v: float, suffix: str = "") -> str:
    """A tick's label: thousands separated, a true minus sign."""
    return (f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:g}").replace("-", "\u2212") + suffix


def alt_text(title: str, labels: list[str], results: list[Result]) -> str:
    """What a screen reader says: the chart's kind, then each row's value and bounds in
    words (the figure itself is the caption's job)."""
    rows = "; ".join(f"{lab}: {interval_text(r)}" for lab, r in zip(labels, results,
                                                                      strict=True))
    kind = "one range" if len(results) == 1 else f"{len(results)} ranges"
    return f"Chart of {kind}, {title}. {rows}."


def caption_for(results: list[Result], what: str) -> str:
    """A caption saying what the chart shows and how to read it."""
    marks = "Each marker is a figure's value and its band the bounds"
    if any(_open_high(r) for r in results):
        marks += "; a dashed arrow means no upper bound is stated"
    if any(shape(r) == "upper" for r in results):
        marks += "; a band from zero means only an upper bound is known"
    return f"{what}. {marks}."


def _no_math(text: str) -> str:
    """Text from a source file stays text: matplotlib would read $...$ as math."""
    return text.replace("$", r"\$")


def _wrap(text: str, width: int = 34) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def _wrap_beside(label: str, value: str) -> str:
    """`label` in the fewest lines that fit the row, its last line ending at least half
    an em before `value` (drawn beside that line at the row's right end), the lines as
    even as they can be (the widest as narrow as it can be, like CSS `text-wrap:
    balance`): "Share of the captured / ground no longer held", not "Share of the
    captured ground no longer / held".

    The widths are measured in the chart's own font, as matplotlib will draw them: a
    wrap at a fixed number of characters let a long last line run under a wide value
    ("... to the statement" under "86+ km² a month")."""
    words = label.split()
    if not words:
        return ""
    text = " ".join(words)
    edge = list(itertools.accumulate((_advance(c, False) for c in text), initial=0.0))
    starts = [m.start() for m in re.finditer(r"\S+", text)]
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    room = ROW_PT - _text_width(value, bold=True) - ROW_FONT_PT / 2
    n = len(words)
    # best[i]: (lines, widest line, where the first line ends) for words[i:]; a single
    # word wider than its line stands alone
    best: list[tuple[int, float, int]] = [(0, 0.0, n)] * (n + 1)
    for i in range(n - 1, -1, -1):
        options = []
        for j in range(i + 1, n + 1):
            width = edge[ends[j - 1]] - edge[starts[i]]
            if width > (room if j == n else ROW_PT) and j > i + 1:
                break  # wider still with more words
            lines, widest, _ = best[j]
            options.append((lines + 1, max(width, widest), j))
        best[i] = min(options)
    lines, i = [], 0
    while i < n:
        j = best[i][2]
        lines.append(" ".join(words[i:j]))
        i = j
    return "\n".join(lines)


def _text_width(text: str, bold: bool = False) -> float:
    """`text`'s width in points, set in the chart's font at the row's size: the sum of
    its glyphs' advances, within a point of what matplotlib measures for the SVG (its
    ink, kerned; the half-em gap beside a value covers the difference). FreeType lays
    out a whole string at about 30 µs a glyph; a glyph's advance is looked up once."""
    return sum(_advance(ch, bold) for ch in text)


@functools.cache
def _descent() -> float:
    """How far, in points, a row's letters reach below their baseline: the depth of
    "lp", as matplotlib measures it for a text set by its bottom edge."""
    font = _font(False)
    font.set_size(ROW_FONT_PT, 72)
    font.set_text("lp", 0.0, flags=LoadFlags.NO_HINTING)
    return font.get_descent() / 64


def _font(bold: bool):
    return get_font(findfont(FontProperties(family=STYLE["font.family"],
                                            weight="bold" if bold else "normal")))


@functools.cache
def _advance(char: str, bold: bool) -> float:
    font = _font(bold)
    font.set_size(ROW_FONT_PT, 72)  # 72 dpi: a pixel is a point
    try:
        with warnings.catch_warnings():  # matplotlib warns of a missing glyph as it draws
            warnings.simplefilter("ignore")
            glyph = font.load_char(ord(char), flags=LoadFlags.NO_HINTING)
    except RuntimeError:  # a character DejaVu Sans lacks (Thai, CJK, some emoji)
        return ROW_FONT_PT  # an em: about what a reader's fallback font gives it
    return glyph.linearHoriAdvance / 65536


_SIZE = re.compile(r'(<svg\b[^>]*?)\s(?:width|height)="[^"]*"')
# matplotlib measures text with DejaVu Sans (it ships with it); a reader's browser may not
# have it, so the SVG names look-alikes, then any sans-serif
FONT_STACK = "'DejaVu Sans', Verdana, 'Bitstream Vera Sans', Arial, sans-serif"


_VIEWBOX = re.compile(r'(<svg\b[^>]*?\sviewBox=")[^"]*(")')


def svg(fig) -> str:
    """The chart as SVG text with no fixed size (its viewBox keeps the shape, so it scales
    to its column), cropped to its ink plus PAD_IN; closes the figure.

    savefig's bbox_inches="tight" lays the whole figure out twice (once to measure, once
    to draw), half of a chart's cost. Here it is drawn once: the ink's box is measured
    with the renderer of that one draw (matplotlib's draw_event hands it over, its text
    sizes already cached), and the SVG's viewBox is set to it: the same crop."""
    buf = io.StringIO()
    ink = []
    cid = fig.canvas.mpl_connect("draw_event", lambda event: ink.append(
        fig.get_tightbbox(event.renderer)))
    try:
        with plt.rc_context({**STYLE, "savefig.bbox": None}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
    finally:
        fig.canvas.mpl_disconnect(cid)
        plt.close(fig)
    text = buf.getvalue()
    if ink:
        box, height = ink[-1], fig.get_figheight()
        x, y = (box.x0 - PAD_IN) * 72, (height - box.y1 - PAD_IN) * 72  # points, y down
        w, h = (box.width + 2 * PAD_IN) * 72, (box.height + 2 * PAD_IN) * 72
        text = _VIEWBOX.sub(rf"\g<1>{x:.6g} {y:.6g} {w:.6g} {h:.6g}\g<2>", text, count=1)
    for _ in range(2):
        text = _SIZE.sub(r"\1", text, count=1)
    return text.replace("font-family: 'DejaVu Sans'", f"font-family: {FONT_STACK}")


def show(fig, alt: str, caption: str | None = None) -> None:
    """Display a chart in a notebook as SVG; alt text and caption travel in the output
    metadata (the HTML and PDF renderers read both)."""
    from IPython.display import display

    meta = {"alt": alt}
    if caption:
        meta["caption"] = caption
    display({"image/svg+xml": svg(fig), "text/plain": alt},
            metadata={"image/svg+xml": meta}, raw=True)
