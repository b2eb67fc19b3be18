"""A story over time, for people: each quantity's claims as a table, a timeline chart and
sentences for its conflicts and reversals (the findings come from figures/claims.py).

Used by notebooks/story_report.ipynb and by `analysis claims`. Text from source files
(attributions, titles, wordings) is escaped where it becomes Markdown.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import pandas as pd

from analysis.figures.claims import Claim, Conflict, Reversal, Timeline, load_story, select
from analysis.notebook.present import (
    bounds_text,
    group_unit_label,
    number,
    shape,
    text_table,
    unit_label,
    value_text,
)
from analysis.words import counted

TREND_WORDS = {"falls": "expected only to fall", "rises": "expected only to rise"}


# --- words ------------------------------------------------------------------------------


def date_text(low: dt.date, high: dt.date) -> str:
    """'14 April 2025'; '1 to 30 April 2025'; '8 June to 3 August 2025'; across years in full."""
    if low == high:
        return number(low)
    if low.year != high.year:
        return f"{number(low)} to {number(high)}"
    if low.month != high.month:
        return f"{low.day} {low:%B} to {number(high)}"
    return f"{low.day} to {number(high)}"


def when(c: Claim) -> str:
    text = date_text(c.date_low, c.date_high)
    return {"coverage": f"{text} (the article's coverage)",
            "published": f"{text} (published)"}.get(c.dated_by, text)


def _floor_text(x, unit: str) -> str:
    """A lower bound rounded down, so the words never claim more than is known."""
    x = Fraction(x)
    digits = 0 if x >= 100 or x.denominator == 1 else 1 if x >= 10 else 2
    scale = 10 ** digits
    shown = Fraction(math.floor(x * scale), scale)
    label = unit_label(unit)
    return f"{number(shown, digits=digits)} {label}".strip()


def who(c: Claim) -> str:
    outlet = c.publisher or c.source_title
    return f"{c.result.attributed_to} ({outlet})"


def conflict_text(c: Conflict) -> str:
    unit = c.lower.result.unit
    return (f"{who(c.lower)} said {c.lower.said} ({_range(c.lower)}) for "
            f"{when(c.lower)}; {who(c.upper)} said {c.upper.said} ({_range(c.upper)}) for "
            f"{when(c.upper)}. The dates overlap but the figures cannot both be right: they "
            f"are at least {_floor_text(c.gap, unit)} apart.")


def _range(c: Claim) -> str:
    """The bounds in words, without the aside an open side adds ('(no upper bound)')."""
    return bounds_text(c.result).replace(" (no upper bound)", "")


def reversal_text(r: Reversal, description: str) -> str:
    unit = r.later.result.unit
    moved = "rose" if r.trend == "falls" else "fell"
    return (f"{description} is {TREND_WORDS[r.trend]}, yet it {moved} by at least "
            f"{_floor_text(r.change, unit)}: {who(r.earlier)} gave {r.earlier.said} for "
            f"{when(r.earlier)} ({_range(r.earlier)}), then {who(r.later)} gave "
            f"{r.later.said} for {when(r.later)} ({_range(r.later)}).")


def summary_text(t: Timeline) -> str:
    """The finding first, in one plain sentence or two."""
    q = t.quantity
    if not t.claims:
        return f"{q.description}: no source gives a figure."
    sources = len({c.source_id for c in t.claims})
    first, last = t.claims[0], t.claims[-1]
    text = (f"{q.description}: {len(t.claims)} figure{'s' * (len(t.claims) != 1)} from "
            f"{sources} source{'s' * (sources != 1)}")
    if len(t.claims) > 1:
        text += (f", from {value_or_bound(first)} {at(first)} to "
                 f"{value_or_bound(last)} {at(last)}")
    else:
        text += f": {value_or_bound(first)} {at(first)}"
    text += "."
    found = []
    if t.conflicts:
        n = len(t.conflicts)
        found.append(f"{n} conflict{'s' * (n != 1)}: figures for the same dates that cannot "
                     "both be right")
    if t.reversals:
        n = len(t.reversals)
        moved = "rose" if q.trend == "falls" else "fell"
        found.append(f"{n} reversal{'s' * (n != 1)}: it {moved} although "
                     f"{TREND_WORDS[q.trend]}")
    if found:
        text += " " + "; ".join(found) + "."
    elif len(t.claims) > 1:
        text += " The figures agree within their bounds."
    return text


def at(c: Claim) -> str:
    """'on 14 April 2025' for a day; 'during 1 to 30 April 2025' for a span."""
    return ("on " if c.date_low == c.date_high and c.dated_by == "figure" else "during ") + when(c)


def value_or_bound(c: Claim) -> str:
    """A one-sided figure by its known side ('at least 600 km²'); else the value and bounds."""
    r = c.result
    if shape(r) in ("lower", "upper", "exact"):  # value_text words the known side itself
        return value_text(r)
    return f"{value_text(r)} ({bounds_text(r).replace(' to ', '–')})"


def rows(t: Timeline) -> list[dict]:
    """Who said what when: one row a claim, in date order."""
    return [{"when": when(c), "said": c.said, "bounds": bounds_text(c.result),
             "who": c.result.attributed_to or "", "source": c.source_title,
             "ref": c.ref} for c in t.claims]


def timeline_text(t: Timeline) -> str:
    """A quantity's timeline for a terminal: heading, table, findings."""
    q = t.quantity
    trend = f", {TREND_WORDS[q.trend]}" if q.trend else ""
    lines = [f"{q.key}: {q.description} ({q.unit}{trend})"]
    if t.claims:
        lines.append(text_table(rows(t), ["when", "said", "bounds", "who", "ref"]))
    else:
        lines.append("no source gives a figure for it")
    for c in t.conflicts:
        lines.append(f"CONFLICT {c.lower.ref} vs {c.upper.ref}: {conflict_text(c)}")
    for r in t.reversals:
        lines.append(f"REVERSAL {r.earlier.ref} -> {r.later.ref}: "
                     f"{reversal_text(r, q.description)}")
    return "\n".join(lines)


# --- the report ---------------------------------------------------------------------------


@dataclass
class Story:
    """Several source files lined up by quantity, for the story report."""

    timelines: dict[str, Timeline]
    used: list[Claim] = field(default_factory=list)

    @classmethod
    def load(cls, sources, quantities: str | Path | None = None, *, group: str = "",
             policy: str = "default") -> Story:
        paths = [sources] if isinstance(sources, str | Path) else list(sources)
        lines = select(load_story(paths, quantities, policy=policy), group or None)
        return cls({k: t for k, t in lines.items() if t.claims})

    @property
    def sources(self) -> list[tuple[str, str]]:
        """(id, title) of every source with a claim, in first-claim order."""
        seen: dict[str, str] = {}
        for t in self.timelines.values():
            for c in t.claims:
                seen.setdefault(c.source_id, c.source_title)
        return list(seen.items())

    def findings(self) -> list[str]:
        """Conflicts and reversals of every quantity, in words (plain text)."""
        out = []
        for t in self.timelines.values():
            out += [conflict_text(c) for c in t.conflicts]
            out += [reversal_text(r, t.quantity.description) for r in t.reversals]
        return out

    def summary(self) -> str:
        """One line for the index: the first conflict or reversal, else that there is none."""
        findings = self.findings()
        if findings:
            return findings[0]
        n = sum(len(t.claims) for t in self.timelines.values())
        return (f"{counted(n, 'figure')} for "
                f"{counted(len(self.timelines), 'quantity', 'quantities')} from "
                f"{counted(len(self.sources), 'source')}: no two contradict each other, and "
                "none moved against its expected direction.")

    def table(self, key: str) -> pd.DataFrame:
        """Who said what when; the article column only when the story has several."""
        t = self.timelines[key]
        self._use(t)
        columns = ["when", "said", "bounds", "who"] + (["source"] if len(self.sources) > 1
                                                       else [])
        frame = pd.DataFrame(rows(t), columns=columns)
        frame.columns = ["When", "What was said", "Bounds", "Who said it", "Article"][
            :len(columns)]
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        return frame

    def chart(self, key: str):
        """(figure, alt text): the timeline chart of one quantity."""
        t = self.timelines[key]
        self._use(t)
        return timeline_chart(t, self.sources)

    def _use(self, t: Timeline) -> None:
        for c in t.claims:
            if c not in self.used:
                self.used.append(c)

    def save_figures(self, path: str, parameters: dict) -> None:
        """The claims this report showed, in the figures JSON contract (the build's
        figures_out); a claim's id is <source id>/<figure id>, its unit the quantity's."""
        if not path:
            return
        claims = self.used or [c for t in self.timelines.values() for c in t.claims]
        # the engine's own JSON of each figure (the contract), renamed so ids stay unique
        figures = [{**c.result.to_json(), "id": c.ref} for c in claims]
        payload = {"parameters": parameters, "figures": figures, "summary": self.summary()}
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False),
                              encoding="utf-8")


# --- the chart ----------------------------------------------------------------------------


def timeline_chart(t: Timeline, sources: list[tuple[str, str]] | None = None):
    """Dates across, the quantity up: each claim a marker at its value with its bounds as a
    vertical range (an arrow where open above) and its date range as a horizontal line.
    Each source has its own colour and marker shape, so the chart reads in grey print."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from analysis.notebook.plots import MARKERS, PALETTE, STYLE, _no_math

    order = [sid for sid, _ in (sources or [])]
    for c in t.claims:
        if c.source_id not in order:
            order.append(c.source_id)
    style = {sid: (PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)])
             for i, sid in enumerate(order)}
    unit = t.quantity.unit
    finite = [float(x) for c in t.claims for x in (c.result.value, c.low, c.high)
              if x is not None and not (isinstance(x, float) and math.isinf(x))]
    top = (max(finite) if finite else 1) * 1.2 or 1
    first = min(c.date_low for c in t.claims)
    last = max(c.date_high for c in t.claims)
    pad = max(dt.timedelta(days=10), (last - first) / 12)
    with plt.rc_context({**STYLE, "axes.grid.axis": "y"}):
        fig, ax = plt.subplots(figsize=(7.0, 3.8))
        labelled = set()
        for c in t.claims:
            color, marker = style[c.source_id]
            mid = c.date_low + (c.date_high - c.date_low) / 2
            lo = float(c.low) if c.low is not None and math.isfinite(float(c.low)) else 0.0
            hi = float(c.high) if c.high is not None and math.isfinite(float(c.high)) else None
            ax.vlines(mid, lo, hi if hi is not None else top, color=color, linewidth=7,
                      alpha=0.35)
            if hi is None:  # open above: the range runs off the top, with an arrow
                ax.annotate("", xy=(mid, top), xytext=(mid, top * 0.93),
                            arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.5})
            if c.date_low != c.date_high:
                ax.hlines(float(c.result.value), c.date_low, c.date_high, color=color,
                          linewidth=2)
            label = None
            if c.source_id not in labelled:
                labelled.add(c.source_id)
                label = _no_math(_short(c.publisher or c.source_title))
                if sum(1 for o in t.claims if o.publisher == c.publisher) > 1 or not c.publisher:
                    label = _no_math(_short(c.source_title))
            ax.plot(mid, float(c.result.value), marker=marker, color=color, markersize=8,
                    markeredgecolor="black", markeredgewidth=0.8, linestyle="none",
                    label=label)
        # The findings drawn in black, so they read in grey print too: a conflict as the
        # gap between the two figures, a reversal as the move between the two.
        for k in t.conflicts:
            lo = max(k.lower.date_low, k.upper.date_low)
            hi = min(k.lower.date_high, k.upper.date_high)
            x = lo + (hi - lo) / 2
            ax.annotate("", xy=(x, float(k.upper.low)), xytext=(x, float(k.lower.high)),
                        arrowprops={"arrowstyle": "<->", "color": "black", "lw": 1.2,
                                    "linestyle": ":"})
            ax.annotate("conflict", (x, float(k.lower.high + k.upper.low) / 2),
                        xytext=(6, 0), textcoords="offset points", fontsize=9,
                        va="center", fontstyle="italic")
        for r in t.reversals:
            x0 = r.earlier.date_low + (r.earlier.date_high - r.earlier.date_low) / 2
            x1 = r.later.date_low + (r.later.date_high - r.later.date_low) / 2
            y0, y1 = float(r.earlier.high), float(r.later.low)
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2,
                                    "linestyle": "--", "shrinkA": 2, "shrinkB": 6})
            ax.annotate("reversal", (x0 + (x1 - x0) / 2, (y0 + y1) / 2), xytext=(0, 8),
                        textcoords="offset points", fontsize=9, ha="center",
                        fontstyle="italic")
        ax.set_xlim(first - pad, last + pad)
        ax.set_ylim(0, top)
        # matplotlib's concise dates: a tick names only what changed since the last one
        # ("Nov", "Dec", "2025"; "15 Jan" when the ticks are days), the year at the
        # axis's end. A fixed "%b %Y" printed "Jan 2025" twice when ticks fell within
        # one month.
        locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(_concise_days(
            locator, formats=["%Y", "%b", "%d %b", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y", "%d %b", "%H:%M", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%Y", "%d %b %Y", "%d %b %Y", "%d %b %Y %H:%M"]))
        # a headcount its claims all count the same way is named by it: deaths, soldiers
        ax.set_ylabel(_no_math(group_unit_label(unit, [c.result for c in t.claims])
                               or "ratio"))
        ax.set_title(_no_math(_short(t.quantity.description, 60)), loc="left", fontsize=11,
                     fontweight="bold")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(
            lambda v, _: f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:g}"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False,
                  fontsize=9)
    alt = (f"{t.quantity.description}, by date. " + "; ".join(
        f"{when(c)}: {c.said} ({bounds_text(c.result)}), {c.result.attributed_to}"
        for c in t.claims) + ".")
    return fig, alt


_PADDED_DAY = re.compile(r"(?<![\d:.])0(\d) ")


def _concise_days(locator, **formats):
    """matplotlib's concise dates with a day written as a reader writes it: "1 Jan", not
    "01 Jan". (strftime's "%-d" does that with glibc, but Windows' strftime refuses it,
    and a notebook runs wherever its reader's JupyterLab does.)"""
    import matplotlib.dates as mdates

    class ConciseDays(mdates.ConciseDateFormatter):
        def format_ticks(self, values):
            return [_PADDED_DAY.sub(r"\1 ", label) for label in super().format_ticks(values)]

        def get_offset(self):
            return _PADDED_DAY.sub(r"\1 ", super().get_offset())

    return ConciseDays(locator, **formats)


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
