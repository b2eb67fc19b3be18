"""The one chart style: vector (SVG), colour-blind-safe, readable in grey print.

Every chart shows each figure's point value as a marker and its bounds as a
range line; an unbounded side runs to the edge of the axes and ends in an arrow.
Each chart carries alt text, which the HTML report attaches to the figure.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # no display needed; notebooks show the SVG we hand them
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from analysis.figures.derive import Result  # noqa: E402
from analysis.notebook.present import bounds_text, number, unit_label, value_text  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
# Markers differ too, so the charts still read in grey print.
MARKERS = ["o", "s", "D", "^", "v", "P", "X"]

STYLE = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, scalable
    "svg.hashsalt": "analysis",  # stable ids, so the same chart gives the same bytes
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "x",
    "grid.color": "#cccccc",
    "grid.linewidth": 0.6,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}


def _val(x) -> float:
    return float(x) if x is not None and not (isinstance(x, float) and math.isinf(x)) else math.inf


def range_chart(results: list[Result], *, title: str, xlabel: str | None = None,
                labels: list[str] | None = None, percent: bool = False):
    """Horizontal chart: one row a figure, point marker and bounds range.

    Returns (figure, alt_text). All results must share a unit.
    """
    units = {r.unit for r in results}
    if len(units) != 1:
        raise ValueError(f"one chart, one unit; got {sorted(units)}")
    unit = units.pop()
    scale = 100 if percent else 1
    labels = labels or [r.description for r in results]
    with plt.rc_context(STYLE):
        rows = sum(_wrap(t).count("\n") + 1 for t in labels)
        fig, ax = plt.subplots(figsize=(7.0, 0.3 * rows + 0.25 * len(results) + 1.2))
        finite_highs = [_val(r.high) * scale for r in results if math.isfinite(_val(r.high))]
        values = [float(r.value) * scale for r in results]
        right = max(finite_highs + values) * 1.15 or 1
        finite_lows = [float(r.low) * scale for r in results if math.isfinite(_val(r.low))]
        left = min([0.0, *finite_lows]) * 1.15  # a difference may run below zero
        for i, r in enumerate(results):
            y = len(results) - 1 - i
            color, marker = PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]
            lo = float(r.low) * scale if math.isfinite(_val(r.low)) else left
            hi = _val(r.high) * scale
            open_end = not math.isfinite(hi)
            ax.hlines(y, lo, right if open_end else hi, color=color, linewidth=9, alpha=0.4)
            if open_end:
                ax.annotate("", xy=(right, y), xytext=(right * 0.97, y),
                            arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.5})
            ax.plot(float(r.value) * scale, y, marker=marker, color=color, markersize=7,
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none")
        ax.set_yticks(range(len(results)), [_no_math(_wrap(t)) for t in reversed(labels)])
        ax.set_xlim(left, right)
        ax.set_ylim(-0.7, len(results) - 0.3)
        ax.set_xlabel(_no_math(xlabel or ("percent" if percent else unit_label(unit) or "ratio")))
        ax.set_title(_no_math(title), loc="left", fontsize=11, fontweight="bold")
        # round steps (1, 2, 5, 10 ...) so ticks read 0, 5, 10, 15, not 2.5, 7.5, 12
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:g}"))
    alt = f"{title}. " + "; ".join(
        f"{lab}: {value_text(r) if not percent else number(r.value, percent=True)}, bounds "
        f"{bounds_text(r)}" for lab, r in zip(labels, results, strict=True)) + "."
    return fig, alt


def _no_math(text: str) -> str:
    """Text from a source file stays text: matplotlib would read $...$ as math."""
    return text.replace("$", r"\$")


def _wrap(text: str, width: int = 30) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)


def svg(fig) -> str:
    """The chart as SVG text; closes the figure."""
    buf = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def show(fig, alt: str) -> None:
    """Display a chart in a notebook as SVG with its alt text in the output metadata."""
    from IPython.display import display

    display({"image/svg+xml": svg(fig), "text/plain": alt},
            metadata={"image/svg+xml": {"alt": alt}}, raw=True)
