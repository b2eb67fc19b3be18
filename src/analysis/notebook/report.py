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

from analysis.errors import AnalysisError
from analysis.figures.audit import Finding, audit
from analysis.figures.bounds import QUALIFIERS
from analysis.figures.derive import Figures, Result, evaluate
from analysis.figures.source import Source, load_source
from analysis.figures.units import convert
from analysis.files import project_root
from analysis.notebook.present import bounds_text, number, table_rows, unit_label, value_text

AREA_UNITS = {"km2": "km²", "mi2": "mi²"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md(text) -> str:
    """Plain text made safe for Markdown: HTML escaped, Markdown markup neutralised."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


@dataclass
class Report:
    """One source file, evaluated under a report's parameters."""

    source: Source
    figures: Figures
    area_unit: str = "km²"
    used: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, source: str | Path, *, policy: str = "default",
             readings: dict[str, str] | None = None, area_unit: str = "km2") -> Report:
        if area_unit not in AREA_UNITS:
            raise AnalysisError(f"area_unit must be one of {', '.join(AREA_UNITS)}, "
                                f"not {area_unit!r}")
        src = load_source(source)
        readings = {k: v for k, v in (readings or {}).items() if v}
        return cls(src, evaluate(src, policy=policy, readings=readings),
                   AREA_UNITS[area_unit])

    # --- single figures ---------------------------------------------------------

    def __getitem__(self, fid: str) -> Result:
        if fid not in self.figures:
            raise AnalysisError(f"{self.source.path}: the report needs a figure '{fid}', "
                                "which the source file does not define")
        if fid not in self.used:
            self.used.append(fid)
        return self.figures[fid]

    def shown(self, fid: str) -> Result:
        """A figure as the report shows it: a stated area in the report's area unit."""
        r = self[fid]
        return self.area(fid) if r.kind == "stated" and r.unit in AREA_UNITS.values() else r

    def value(self, fid: str) -> str:
        """The value as text, escaped for Markdown: '90 km²', '9.0%'."""
        return md(value_text(self.shown(fid)))

    def number(self, fid: str) -> str:
        """The value without its unit, for a sentence that names the unit itself."""
        r = self.shown(fid)
        return md(number(r.value, percent=r.format == "percent"))

    def bounds(self, fid: str) -> str:
        return md(bounds_text(self.shown(fid)))

    def area(self, stated_id: str) -> Result:
        """An area figure in the report's chosen unit (a converted copy where needed)."""
        r = self[stated_id]
        if r.unit == self.area_unit:
            return r
        conv = {k: (convert(getattr(r, k), r.unit, self.area_unit)
                    if getattr(r, k) not in (None, float("inf"), float("-inf"))
                    else getattr(r, k)) for k in ("value", "low", "high")}
        return Result(**{**r.__dict__, **conv, "unit": self.area_unit})

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

    def table(self, ids: list[str]) -> pd.DataFrame:
        shown = {fid: self.shown(fid) for fid in ids}
        rows = table_rows(shown, ids)
        rows.sort(key=lambda row: ids.index(row["id"]))
        frame = pd.DataFrame(rows, columns=["figure", "value", "bounds", "wording", "source"])
        frame.columns = ["Figure", "Value", "Bounds", "Wording / formula", "Source"]
        for row, fid in zip(frame.itertuples(), ids, strict=True):
            if self.figures[fid].kind == "derived":
                frame.at[row.Index, "Wording / formula"] = self.figures[fid].formula
                frame.at[row.Index, "Source"] = "computed"
        return _numbered_rows(frame)

    def audit_table(self) -> pd.DataFrame:
        rows = [{"Check": f.description, "Verdict": f.verdict, "What was checked": f.stated,
                 "Computed": f.computed, "Tolerance": f.tolerance} for f in self.findings]
        return _numbered_rows(pd.DataFrame(rows, columns=["Check", "Verdict", "What was checked",
                                                  "Computed", "Tolerance"]))

    @property
    def findings(self) -> list[Finding]:
        if not hasattr(self, "_findings"):
            self._findings = audit(self.figures)
        return self._findings

    @property
    def inconsistent(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def audit_summary(self) -> str:
        """One Markdown line: how many checks are consistent, and which are not."""
        bad = self.inconsistent
        text = f"**{len(self.findings) - len(bad)} of {len(self.findings)} checks are consistent.**"
        if bad:
            text += " Inconsistent: " + ", ".join(md(f.description) for f in bad) + "."
            # a wrong conversion in a reporter's words: printed, should be, how far off
            text += "".join(f" {md(f.message)}" for f in bad if f.kind == "conversion")
        return text

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
            rows = [{"Wording in the article": "any", "Bounds": "exactly X (policy 'exact')"}]
        return _numbered_rows(pd.DataFrame(rows))

    def source_lines(self) -> str:
        m = self.source.meta
        lines = [f"- **Title:** {md(m.title)}"]
        lines.append(f"- **Publisher:** {md(m.publisher) if m.publisher else 'not named'}")
        lines.append(f"- **Address:** {md(m.url) if m.url else 'not given'}")
        if m.covers:
            ends = [number(d) if d else "open" for d in m.covers]
            lines.append(f"- **Statements refer to:** {ends[0]} to {ends[1]}")
        lines.append(f"- **Source file:** {md(Path(self.source.path).name)}")
        return "\n".join(lines)

    def notes(self) -> str:
        return "\n".join(f"- {md(n)}" for n in self.source.meta.notes) or "- None recorded."

    # --- output -----------------------------------------------------------------

    def save_figures(self, path: str, parameters: dict) -> None:
        """Write the figures this report used, in the JSON contract (the build's figures_out)."""
        if not path:
            return
        ids = self.used or list(self.figures)
        m = self.source.meta
        payload = {"parameters": parameters, "figures": self.figures.to_json(set(ids)),
                   "source": {"title": m.title, "publisher": m.publisher, "url": m.url}}
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


def show(frame: pd.DataFrame) -> None:
    """Display a table without its index column; cell text is HTML-escaped by pandas."""
    from IPython.display import HTML, display

    display(HTML(frame.to_html(index=False, border=0, escape=True, classes="figures")))


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
    for r in rep.figures.values():
        if not r.is_date:
            groups.setdefault((r.unit, r.format), []).append(r)
    out = []
    for (unit, fmt), results in groups.items():
        label = ("percent" if fmt == "percent"
                 else unit_label(unit) if unit != "dimensionless" else "ratios")
        for i in range(0, len(results), max_rows):
            out.append((label, results[i:i + max_rows]))
    return out
