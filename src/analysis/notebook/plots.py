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

import io
import math
import re

import matplotlib

matplotlib.use("Agg")  # no display needed; notebooks show the SVG we hand them
import matplotlib.lines  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.transforms  # noqa: E402

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
    "savefig.bbox": "tight",  # for a chart saved by hand; `svg` crops its own way
}
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
    share a unit.
    """
    units = {r.unit for r in results}
    if len(units) != 1:
        raise ValueError(f"one chart, one unit; got {sorted(units)}")
    scale = 100 if percent else 1
    labels = labels or [r.description for r in results]
    wrapped = [_no_math(_wrap(t)) for t in labels]
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
    # the grid is drawn with the axis (_x_axis), so matplotlib's own is not made at all
    with plt.rc_context({**STYLE, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.5 * sum(heights) + 0.9))
        for i, r in enumerate(results):
            y = ys[i]
            color, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            lo = float(r.low) * scale if _finite(r.low) else left
            open_high = _open_high(r)
            hi = right if open_high else float(r.high) * scale
            ax.hlines(y, lo, hi, color=color, linewidth=8, alpha=0.35)
            # end ticks: a range narrower than the marker still shows where it ends
            ends = [lo] if open_high else [lo, hi]
            ax.vlines(ends, y - 0.2, y + 0.2, color=color, linewidth=1.6)
            if open_high:
                ax.annotate("", xy=(right, y), xytext=(right - span * 0.06, y),
                            arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.6,
                                        "linestyle": "--"})
            ax.plot(values[i], y, marker=marker, color=color, markersize=7,
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none")
            ax.text(left, y + 0.3, wrapped[i], ha="left", va="bottom", fontsize=10.5)
            ax.text(right, y + 0.3, _no_math(compact_text(r)), ha="right", va="bottom",
                    fontsize=10.5, fontweight="bold")
        ax.set_xlim(left, right)
        ax.set_ylim(-0.5, ys[0] + 0.35 + 0.4 * (wrapped[0].count("\n") + 1))
        unit_text = xlabel or ("" if percent else label_of(results[0]) or "ratio")
        _x_axis(ax, left, right, "%" if percent else "", _no_math(unit_text))
        ax.set_title(_no_math(_wrap(title, 40)), loc="left", fontsize=12, fontweight="bold")
    return fig, alt_text(title, labels, results)


def _x_axis(ax, left: float, right: float, suffix: str, label: str) -> None:
    """The x axis as plain artists where matplotlib's own axis would draw them: a grid
    line, a tick mark and a label at each round step, the unit label below.

    matplotlib's Axis is general machinery (a Tick object of five artists for each tick,
    its tick labels laid out again for the crop); hiding it and drawing the same marks
    took a third off the Kursk report's cells' CPU. The sizes are matplotlib's defaults
    (xtick.major.size 3.5 pt, pad 3.5 pt, axes.labelpad 4 pt), and the grid sits where
    axes.axisbelow "line" puts it: above the bands, below the lines and markers."""
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    # round steps (1, 2, 5, 10 ...) so ticks read 0, 5, 10, 15, not 2.5, 7.5, 12
    locator = matplotlib.ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10])
    slack = (right - left) * 1e-10
    ticks = [t for t in locator.tick_values(left, right) if left - slack <= t <= right + slack]
    axis = ax.get_xaxis_transform()  # x in data, y in axes (0 is the bottom)
    ax.vlines(ticks, 0, 1, transform=axis, colors=STYLE["grid.color"],
              linewidths=STYLE["grid.linewidth"], capstyle="projecting", zorder=1.5)
    ax.plot(ticks, [0] * len(ticks), transform=axis, linestyle="none", color="black",
            marker=matplotlib.lines.TICKDOWN, markersize=3.5, markeredgewidth=0.8,
            clip_on=False)
    below = axis + matplotlib.transforms.ScaledTranslation(0, -7 / 72,
                                                           ax.figure.dpi_scale_trans)
    texts = [ax.text(t, 0, tick_text(t, suffix), transform=below, ha="center", va="top",
                     clip_on=False) for t in ticks]
    if label:
        # below the tick labels' bottom edge by the label pad, centred on the axes
        ax.annotate(label, xy=(0.5, 0), xycoords=(ax.transAxes, texts[0]) if texts
                    else ax.transAxes, xytext=(0, -4), textcoords="offset points",
                    ha="center", va="top", annotation_clip=False)


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
