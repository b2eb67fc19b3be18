"""What the report notebooks call: load a source once, then tables, text and charts.

Notebooks stay thin (narrative, parameters, calls into this module); everything
a test must reach lives here. Untrusted text from a source file (descriptions,
attributions, titles) is escaped before it becomes Markdown, so `<script>` or
`*` in a label shows as typed.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import outputs
from analysis.errors import AnalysisError
from analysis.figures.audit import Finding, audit
from analysis.figures.bounds import QUALIFIERS
from analysis.figures.derive import Figures, Result, evaluate
from analysis.figures.source import Source, load_source
from analysis.figures.units import convert
from analysis.files import project_root
from analysis.notebook.present import (
    bounds_text,
    compact_text,
    formula_words,
    group_unit_label,
    interval_text,
    label_of,
    number,
    quoted,
    shape,
    unit_label,
    value_text,
    with_unit,
)

AREA_UNITS = {"km2": "km²", "mi2": "mi²"}
_AREAS = frozenset(AREA_UNITS.values())
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def md(text) -> str:
    """Plain text made safe for Markdown: HTML escaped, Markdown markup neutralised,
    `$` never math, and a bare address (https\\://...) never a link."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


@dataclass
class Report:
    """One source file, evaluated under a report's parameters."""

    source: Source
    figures: Figures
    area_unit: str | None = None  # None: every area in the unit its figure declares
    used: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, source: str | Path, *, policy: str = "default",
             readings: dict[str, str] | None = None, area_unit: str | None = None) -> Report:
        """`area_unit` ("km2" or "mi2") is a display setting: every area, and every rate
        with an area in it, is converted to it."""
        if area_unit is not None and area_unit not in AREA_UNITS:
            raise AnalysisError(f"area_unit must be one of {', '.join(AREA_UNITS)}, "
                                f"not {area_unit!r}")
        src = load_source(source)
        readings = {k: v for k, v in (readings or {}).items() if v}
        return cls(src, evaluate(src, policy=policy, readings=readings),
                   AREA_UNITS[area_unit] if area_unit else None)

    # --- single figures ---------------------------------------------------------

    def __getitem__(self, fid: str) -> Result:
        if fid not in self.figures:
            raise AnalysisError(f"{self.source.path}: the report needs a figure '{fid}', "
                                "which the source file does not define")
        if fid not in self.used:
            self.used.append(fid)
        return self.figures[fid]

    def shown(self, fid: str) -> Result:
        """A figure as the report shows it: any area, or rate with an area in it, in the
        report's area unit (an exact converted copy)."""
        r = self[fid]
        unit = self._display_unit(r.unit)
        if unit == r.unit:
            return r
        conv = {k: (convert(getattr(r, k), r.unit, unit)
                    if getattr(r, k) not in (None, float("inf"), float("-inf"))
                    else getattr(r, k)) for k in ("value", "low", "high")}
        return Result(**{**r.__dict__, **conv, "unit": unit})

    area = shown  # the name older notebooks use

    def _display_unit(self, unit: str) -> str:
        if self.area_unit is None:
            return unit
        return " / ".join(self.area_unit if part in _AREAS else part
                          for part in unit.split(" / "))

    def value(self, fid: str) -> str:
        """The value with its qualifier, escaped for Markdown: 'approximately 90 km²',
        'more than 905 km²', '14%'."""
        return md(value_text(self.shown(fid)))

    def printed(self, fid: str) -> str:
        """The figure in the other area unit, as the article printed it, for beside its
        value: 'around 35 mi², as printed'; '' where the article printed none."""
        r = self.shown(fid)
        fig = self.source.figure(fid)
        if r.kind != "stated":
            return ""
        if r.unit != fig.unit:  # shown converted: the article's own number is the original
            return md(f"{fig.qualifier + ' ' if fig.qualifier else ''}"
                      f"{_as_written(fig.value, fig.written)} {unit_label(fig.unit)}, as printed")
        for p in fig.printed:
            if p.unit != r.unit:
                return md(f"{p.qualifier + ' ' if p.qualifier else ''}"
                          f"{_as_written(p.value, p.written)} {unit_label(p.unit)}, as printed")
        return ""

    def value_beside(self, fid: str) -> str:
        """The value with the article's other unit beside it: 'approximately 90 km² (around
        35 mi², as printed)'. Not for use inside parentheses."""
        other = self.printed(fid)
        return self.value(fid) + (f" ({other})" if other else "")

    def number(self, fid: str) -> str:
        """The point value alone, rounded by the rule, for a sentence that words its unit
        and its side itself: '70,000', '6.4', '14%'."""
        r = self.shown(fid)
        text = with_unit(r.value, r)
        label = label_of(r)
        return md(text if label == "%" else text.removesuffix(label).strip())

    def bounds(self, fid: str) -> str:
        """The bounds in words: '85 km² to 95 km²', 'no upper bound stated'."""
        return md(bounds_text(self.shown(fid), self.figures))

    def interval(self, fid: str) -> str:
        """Value and bounds in one phrase: '14%, between 12.2% and 15.1%'."""
        return md(interval_text(self.shown(fid), self.figures))

    def shape(self, fid: str) -> str:
        """'exact', 'range', 'lower', 'upper': which sides of the figure are known."""
        return shape(self.shown(fid))

    def compact(self, fid: str) -> str:
        return md(compact_text(self.shown(fid)))

    # --- where a range comes from -------------------------------------------------

    def _quoted(self, fid: str) -> str:
        """An input as the article words it: "'an estimated 70,000' (Russian troops ...)"."""
        fig, r = self.source.figure(fid), self.figures[fid]
        desc = md(fig.description)
        written = getattr(fig, "written", None)
        if getattr(fig, "readings", None) and r.reading in fig.readings:
            written = fig.readings[r.reading].written
        if r.is_date or written is None:
            return desc
        words = (f"{r.qualifier} " if r.qualifier else "") + f"{written:,}"
        return f"'{md(words)}' ({desc})"

    def width_sentence(self, fid: str) -> str:
        """One plain sentence on where a derived figure's range comes from (its width_from):
        "Most of this range (61%) comes from 'an estimated 70,000' (...)"."""
        r = self[fid]
        shares = sorted((r.width_from or {}).items(), key=lambda kv: -kv[1])
        if r.width_from is None:
            return ""
        if not shares or shares[0][1] == 0:
            return "Its inputs are exact, so it has no range."
        (top, share), rest = shares[0], [kv for kv in shares[1:] if kv[1] > 0]
        if share == 1:
            side = ("no upper bound" if r.high in (None, float("inf"))
                    else "no lower bound" if r.low in (None, float("-inf")) else None)
            if side:
                return f"This range has {side} because of {self._quoted(top)}."
            return f"All of this range comes from {self._quoted(top)}."
        if share >= 0.5:
            text = f"Most of this range ({_share(share)}) comes from {self._quoted(top)}"
            more = "mostly " if len(rest) > 1 else ""
            return text + f"; the rest {more}from {self._quoted(rest[0][0])}."
        parts = [f"{self._quoted(k)} ({_share(v)})" for k, v in shares if v > 0]
        return ("This range comes from several figures: " + ", ".join(parts[:-1])
                + f" and {parts[-1]}.")

    def width_notes(self, ids: list[str]) -> str:
        """A Markdown list: for each derived figure with more than one input, where its range
        comes from (Report.width_sentence)."""
        lines = []
        for fid in ids:
            r = self[fid]
            if r.width_from is None or len(r.width_from) < 2:
                continue  # a stated figure, or a conversion: its range is its one input's
            lines.append(f"- **{md(r.description)}:** {self.width_sentence(fid)}")
        return "\n".join(lines)

    # --- tables -----------------------------------------------------------------

    def table(self, ids: list[str], caption: str = "") -> pd.DataFrame:
        """Figure, value (its qualifier with it), bounds and source: one row a figure.
        Computed figures say so; how, in words, is in `method_table`."""
        rows = []
        for fid in ids:
            r = self.shown(fid)
            other = self.printed(fid)
            rows.append({
                "Figure": r.description,
                "Value": value_text(r) + (f" ({_unescape(other)})" if other else ""),
                "Bounds": bounds_text(r, self.figures),
                "Source": (r.attributed_to or "") if r.kind == "stated"
                else "computed from the stated figures",
            })
        frame = pd.DataFrame(rows, columns=["Figure", "Value", "Bounds", "Source"])
        frame.attrs["caption"] = caption
        return _numbered_rows(frame)

    def method_table(self, caption: str = "How each computed figure is worked out"
                     ) -> pd.DataFrame:
        """Every computed figure the report used, its formula in words."""
        names = self._names()
        rows = [{"Figure": r.description, "Worked out as": formula_words(r.formula, names)}
                for fid in self.used if (r := self.figures[fid]).kind == "derived"]
        frame = pd.DataFrame(rows, columns=["Figure", "Worked out as"])
        frame.attrs["caption"] = caption
        return _numbered_rows(frame)

    def _names(self) -> dict[str, str]:
        """What each figure is called in a formula written out in words: its `label`, else
        its description in quotes."""
        out = {}
        for fid in self.figures:
            fig = self.source.figure(fid)
            out[fid] = fig.label or quoted(fig.description)
        return out

    def chart_rows(self, ids: list[str]) -> list[Result]:
        """Figures as a chart draws them, in the report's units."""
        return [self.shown(fid) for fid in ids]

    def audit_table(self, caption: str = "The article's conversions and relations, "
                    "re-checked") -> pd.DataFrame:
        names = self._names()
        # a relation is shown in words ("ground still held is at most ground captured")
        rows = [{"Check": f.description, "Verdict": f.verdict,
                 "What was checked": (formula_words(f.stated, names) if f.kind == "check"
                                      else f.stated),
                 "Computed": f.computed, "Tolerance": f.tolerance} for f in self.findings]
        frame = pd.DataFrame(rows, columns=["Check", "Verdict", "What was checked",
                                            "Computed", "Tolerance"])
        frame.attrs["caption"] = caption
        return _numbered_rows(frame)

    @property
    def findings(self) -> list[Finding]:
        if not hasattr(self, "_findings"):
            self._findings = audit(self.figures)
        return self._findings

    @property
    def inconsistent(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def audit_summary(self) -> str:
        """One Markdown line: how many checks are consistent, and which are not; then any
        figure whose bounds or value come with a warning (see `warnings`)."""
        bad = self.inconsistent
        text = f"**{len(self.findings) - len(bad)} of {len(self.findings)} checks are consistent.**"
        if bad:
            text += " Inconsistent: " + ", ".join(md(f.description) for f in bad) + "."
            # a wrong conversion in a reporter's words: printed, should be, how far off
            text += "".join(f" {md(f.message)}" for f in bad if f.kind == "conversion")
        return text + self.warnings()

    def warnings(self) -> str:
        """Markdown: each figure's warnings (a value beyond what is possible, bounds that
        could not be made exact), or nothing when there are none."""
        lines = [f"- **{md(r.description)}**: {md(w)}" for r in self.figures.values()
                 for w in r.warnings]
        if not lines:
            return ""
        return "\n\n**Warnings** (figures to read with care):\n\n" + "\n".join(lines)

    def policy_table(self) -> pd.DataFrame:
        family_text = {
            "exact": "exactly X", "approx": "X ± half a unit of its last significant digit",
            "lower": "at least X, no upper bound", "nearly": "X − half a unit up to X",
            "upper": "0 up to X",
        }
        by_family: dict[str, list[str]] = {}
        for word, fam in QUALIFIERS.items():
            by_family.setdefault(fam, []).append(word)
        rows = [{"Wording in the article": ", ".join(words), "Bounds": family_text[fam]}
                for fam, words in by_family.items()]
        if self.figures.policy == "exact":
            rows = [{"Wording in the article": "any",
                     "Bounds": "exactly X, as the report reads every figure exactly"}]
        frame = pd.DataFrame(rows)
        frame.attrs["caption"] = "Bounds read from the article's wording"
        return _numbered_rows(frame)

    def source_lines(self) -> str:
        m = self.source.meta
        lines = [f"- **Title:** {md(_quote_marks(m.title))}"]
        lines.append(f"- **Publisher:** {md(m.publisher) if m.publisher else 'not named'}")
        lines.append(f"- **Address:** {md(m.url) if m.url else 'not given'}")
        if m.covers:
            ends = [number(d) if d else "open" for d in m.covers]
            lines.append(f"- **Statements refer to:** {ends[0]} to {ends[1]}")
        lines.append(f"- **Source file:** {md(Path(self.source.path).name)}")
        return "\n".join(lines)

    def source_line(self) -> str:
        """One Markdown line under the standfirst: the article, by its title."""
        m = self.source.meta
        who = f", {md(m.publisher)}" if m.publisher else ", publisher not named in our copy"
        return f"Source: *{md(_quote_marks(m.title))}*{who}."

    def covers_text(self) -> str:
        """The dates the article's statements refer to: '6 August 2024 to 3 August 2025'."""
        covers = self.source.meta.covers
        if not covers:
            return ""
        return " to ".join(number(d) if d else "open" for d in covers)

    def plain(self, fid: str) -> str:
        """The value with its qualifier as plain text (not Markdown), for a summary line."""
        return value_text(self.shown(fid))

    def notes(self) -> str:
        return "\n".join(f"- {md(n)}" for n in self.source.meta.notes) or "- None recorded."

    # --- output -----------------------------------------------------------------

    def save_figures(self, path: str, parameters: dict, summary: str = "") -> None:
        """Write the figures this report used, in the JSON contract (the build's figures_out),
        and the report's one-line summary (its first finding) for the index."""
        if not path:
            return
        ids = self.used or list(self.figures)
        m = self.source.meta
        # as shown: in the report's units, so the page and this file can be compared
        shown = [self.shown(fid).to_json() for fid in self.figures if fid in ids]
        payload = {"parameters": parameters, "figures": shown,
                   "source": {"title": m.title, "publisher": m.publisher, "url": m.url}}
        if summary:
            payload["summary"] = summary
        Path(path).write_text(json.dumps(payload, indent=2, ensure_ascii=False),
                              encoding="utf-8")


def _share(x: float) -> str:
    """A share of a range in words: 61%, never a rounded 100% or 0%."""
    p = x * 100
    if 99 < p < 100:
        return "over 99%"
    if 0 < p < 1:
        return "under 1%"
    return f"{p:.0f}%"


def _numbered_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    return frame


def _quote_marks(text: str) -> str:
    """Typographic apostrophes and quotes in a title: Russia's -> Russia’s."""
    text = re.sub(r"(?<=\w)'", "\u2019", text)
    text = re.sub(r'"(?=\w)', "\u201c", text)
    return text.replace('"', "\u201d").replace("'", "\u2018")


def _as_written(value, written) -> str:
    """A number as the article printed it: its digits, thousands separated."""
    return f"{written:,}" if written is not None else number(value)


def _unescape(markdown: str) -> str:
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown))


def table_data(frame: pd.DataFrame) -> dict:
    """A table for readers as plain data (``outputs.TABLE_MIME``): its caption, column
    names and cells as text, typographic quotes in the caption and cells."""
    return outputs.table_data(
        _quote_marks(frame.attrs.get("caption") or ""), [str(c) for c in frame.columns],
        [[_quote_marks(str(v)) for v in row] for row in frame.itertuples(index=False)])


def table_html(frame: pd.DataFrame) -> str:
    """A table for readers as HTML (see outputs.table_html): a caption, column headers,
    the first column as row headers, every cell escaped."""
    return outputs.table_html(table_data(frame))


def show(frame: pd.DataFrame) -> None:
    """Display a table for readers: HTML (see table_html) and the same table as data,
    from which the PDF is typeset; a plain-text fallback names the table."""
    from IPython.display import display

    data = table_data(frame)
    display({"text/html": outputs.table_html(data), outputs.TABLE_MIME: data,
             "text/plain": f"Table: {frame.attrs.get('caption') or 'figures'}"}, raw=True)


def locate(path: str | Path) -> Path:
    """A path relative to the project root (the folder holding reports.yaml, found from
    wherever the kernel runs: notebooks/ in JupyterLab, a build task's root in a build);
    outside a project, relative to the working folder."""
    p = Path(path)
    if p.is_absolute():
        return p
    found = (project_root() or Path.cwd().resolve()) / p
    return found if found.exists() else p  # load_source will say it does not exist


def choose(name: str, value: str, allowed) -> str:
    """A parameter that takes one of a few words; a clear error otherwise."""
    if value not in allowed:
        raise AnalysisError(f"parameter {name}={value!r}: choose one of "
                            f"{', '.join(map(repr, allowed))}")
    return value


def unit_groups(rep: Report, max_rows: int = 8) -> list[tuple[str, list[Result]]]:
    """Non-date figures grouped by unit (and percent format), for one chart a group."""
    groups: dict[tuple[str, str | None], list[Result]] = {}
    for fid in rep.figures:
        r = rep.shown(fid)
        if not r.is_date:
            groups.setdefault((r.unit, r.format), []).append(r)
    out = []
    for (unit, fmt), results in groups.items():
        label = ("percent" if fmt == "percent"
                 else "ratios" if unit == "dimensionless"
                 else group_unit_label(unit, results))
        for i in range(0, len(results), max_rows):
            out.append((label, results[i:i + max_rows]))
    return out
