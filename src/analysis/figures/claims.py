"""One quantity across sources: who said what when, where they disagree, what reversed.

A quantities file (`data/quantities.yaml`) declares each shared quantity once: a
stable key (`kursk.ground_held`), its unit, a description and optionally the
direction it can only move in (`trend: falls` or `rises`). A figure in any source
file names its quantity with `quantity: <key>`; its date is the figure's `date`
(a day, or a date figure whose range it takes), else its source's coverage.

From those, per quantity: the claims in date order with their bounds (in the
quantity's unit); conflicts (two claims at overlapping dates whose bounds do not
meet) and reversals (a later claim wholly above an earlier one for a quantity that
only falls, or wholly below for one that only rises). Format: docs/data-format.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from analysis.errors import AnalysisError, SourceError
from analysis.figures.bounds import to_float
from analysis.figures.derive import Figures, Result, evaluate
from analysis.figures.source import (
    Figure,
    Source,
    _Map,
    load_source,
    load_yaml,
    read_text,
)
from analysis.figures.units import (
    UnknownUnit,
    convert,
    describe_dimension,
    dimensionality,
    is_headcount,
    parse_unit,
)

QUANTITIES_FILE = "quantities.yaml"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
TRENDS = ("falls", "rises")
QUANTITY_FIELDS = {"key", "unit", "description", "trend", "note"}


# --- the quantities file -------------------------------------------------------------


@dataclass
class Quantity:
    """One quantity shared across sources, declared once."""

    key: str
    unit: str  # canonical (figures.units); every figure of it converts into this unit
    description: str
    trend: str | None = None  # "falls" | "rises" | None
    path: str = ""
    line: int | None = None


def _qerror(path, problem, node=None, key=None, *, quantity=None, fix=None) -> SourceError:
    line = None
    if isinstance(node, _Map):
        line = node.key_lines.get(key, node.line) if key is not None else node.line
    if quantity is not None:
        problem = f"quantity '{quantity}': {problem}"
    return SourceError(str(path), problem, line=line, fix=fix)


def load_quantities(path: str | Path) -> dict[str, Quantity]:
    """Read and validate a quantities file; SourceError naming file and line on any problem."""
    path = str(path)
    text = read_text(path)
    doc = load_yaml(text, path)
    if not isinstance(doc, dict) or set(doc) != {"quantities"} or not isinstance(
            doc["quantities"], list):
        raise _qerror(path, "must hold one section, 'quantities:', a list of entries", doc,
                      fix="see docs/data-format.md, 'Quantities shared across sources'")
    out: dict[str, Quantity] = {}
    for node in doc["quantities"]:
        if not isinstance(node, dict):
            raise _qerror(path, "each quantity must be a mapping starting with '- key: ...'",
                          doc, "quantities", fix="write '- key: area.name' and its fields")
        key = node.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            raise _qerror(path, f"quantity key {key!r} is not a valid key", node, "key",
                          fix="use lower-case words joined by dots, e.g. kursk.ground_held")
        for name in node:
            if name not in QUANTITY_FIELDS:
                close = difflib.get_close_matches(str(name), sorted(QUANTITY_FIELDS), n=1)
                raise _qerror(path, f"unknown field '{name}'", node, name, quantity=key,
                              fix=f"did you mean '{close[0]}'?" if close else
                              f"allowed: {', '.join(sorted(QUANTITY_FIELDS))}")
        if key in out:
            raise _qerror(path, f"duplicate quantity key '{key}' (first declared on line "
                          f"{out[key].line})", node, "key", quantity=key,
                          fix="declare each quantity once; give the other its own key")
        try:
            unit = parse_unit(str(node.get("unit", "")))
        except UnknownUnit as exc:
            raise _qerror(path, str(exc), node, "unit", quantity=key,
                          fix="declare the unit figures of it are shown in, e.g. km² or troops"
                          ) from None
        description = node.get("description")
        if not isinstance(description, str) or not description.strip():
            raise _qerror(path, "missing required field 'description'", node, quantity=key,
                          fix="say in your words what the quantity measures")
        trend = node.get("trend")
        if trend is not None and trend not in TRENDS:
            raise _qerror(path, f"trend must be 'falls' or 'rises', not {trend!r}", node,
                          "trend", quantity=key, fix="or leave it out")
        out[key] = Quantity(key, unit, description.strip(), trend, path,
                            node.key_lines.get("key", node.line))
    return out


def find_quantities_file(source_path: str | Path) -> Path | None:
    """The quantities file a source file belongs to: from its folder upward, the first
    `quantities.yaml` or `data/quantities.yaml` (data/sources/x.yaml -> data/quantities.yaml)."""
    folder = Path(source_path).resolve().parent
    for f in (folder, *folder.parents):
        for candidate in (f / QUANTITIES_FILE, f / "data" / QUANTITIES_FILE):
            if candidate.is_file():
                return candidate
    return None


# --- validation of source files against the quantities ---------------------------------


def _date_ranges(source: Source, fig: Figure) -> list[tuple[dt.date, dt.date]]:
    """Every (first, last) day a figure's date can mean, under every reading."""
    if fig.date is None:
        return []
    if isinstance(fig.date, dt.date):
        return [(fig.date, fig.date)]
    ref = source.figure(fig.date)
    options = [(r.low or r.value, r.high or r.value) for r in ref.readings.values()] or [
        (ref.low or ref.value, ref.high or ref.value)]
    return options


def validate(source: Source, quantities: dict[str, Quantity] | None,
             quantities_path: str | None = None) -> int:
    """Check a source's quantity keys, their units and its figures' dates against its
    coverage. Returns how many figures name a quantity; SourceError on the first problem."""
    covers = source.meta.covers or (None, None)
    tagged = 0
    for fig in source.figures:
        for first, last in _date_ranges(source, fig):
            lo, hi = covers
            if (lo is not None and first < lo) or (hi is not None and last > hi):
                span = f"{lo or 'open'} to {hi or 'open'}"
                when = first.isoformat() if first == last else f"{first} to {last}"
                raise SourceError(source.path, f"dated {when}, outside the source's coverage "
                                  f"({span})", line=fig.field_lines.get("date", fig.line),
                                  figure=fig.id, field="date",
                                  fix="correct the date, or widen source.covers if the "
                                      "article does reach that far")
        if fig.quantity is None:
            continue
        tagged += 1
        line = fig.field_lines.get("quantity", fig.line)
        if quantities is None:
            raise SourceError(source.path, f"names quantity '{fig.quantity}' but no quantities "
                              "file was found", line=line, figure=fig.id, field="quantity",
                              fix=f"declare it in data/{QUANTITIES_FILE} (looked from the "
                                  "file's folder upward), or pass --quantities FILE")
        q = quantities.get(fig.quantity)
        if q is None:
            close = difflib.get_close_matches(fig.quantity, sorted(quantities), n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"declare it in {quantities_path or QUANTITIES_FILE}")
            raise SourceError(source.path, f"unknown quantity '{fig.quantity}' (not declared "
                              f"in {quantities_path or QUANTITIES_FILE})", line=line,
                              figure=fig.id, field="quantity", fix=hint)
        if fig.kind == "date":
            raise SourceError(source.path, f"a date cannot measure quantity '{q.key}'",
                              line=line, figure=fig.id, field="quantity",
                              fix="tag the number the date belongs to, and give it date: "
                                  f"{fig.id}")
        if dimensionality(fig.unit) != dimensionality(q.unit):
            raise SourceError(source.path, f"unit {fig.unit} does not fit quantity '{q.key}', "
                              f"which is {describe_dimension(dimensionality(q.unit))} "
                              f"({q.unit})", line=fig.field_lines.get("unit", line),
                              figure=fig.id, field="unit",
                              fix="check the figure's unit, or name the quantity it measures")
    return tagged


# --- claims, conflicts, reversals ------------------------------------------------------


@dataclass
class Claim:
    """One source's figure for a quantity, in the quantity's unit, at its date."""

    quantity: str
    source_id: str
    source_path: str
    source_title: str
    publisher: str | None
    figure_id: str
    line: int | None
    result: Result  # value, low, high in the quantity's unit; attribution, qualifier
    date_low: dt.date
    date_high: dt.date
    said: str  # the article's wording: "about 400 km²"
    dated_by: str  # "figure" | "coverage" | "published"

    @property
    def ref(self) -> str:
        return f"{self.source_id}/{self.figure_id}"

    @property
    def low(self):
        return self.result.low

    @property
    def high(self):
        return self.result.high

    def to_json(self) -> dict:
        r = self.result
        return {"source": self.source_id, "figure": self.figure_id, "path": self.source_path,
                "line": self.line, "title": self.source_title, "publisher": self.publisher,
                "attributed_to": r.attributed_to, "said": self.said,
                "date_low": self.date_low.isoformat(), "date_high": self.date_high.isoformat(),
                "value": to_float(r.value), "low": to_float(r.low), "high": to_float(r.high),
                "unit": r.unit}


@dataclass
class Conflict:
    """Two claims at overlapping dates whose bounds do not meet; `gap` > 0 between them."""

    lower: Claim  # the claim whose bounds lie below
    upper: Claim
    gap: Fraction

    def to_json(self) -> dict:
        return {"lower": self.lower.ref, "upper": self.upper.ref, "gap": float(self.gap)}


@dataclass
class Reversal:
    """A later claim wholly on the wrong side of an earlier one, against the trend."""

    earlier: Claim
    later: Claim
    trend: str
    change: Fraction  # the smallest move the two claims allow, against the trend

    def to_json(self) -> dict:
        return {"earlier": self.earlier.ref, "later": self.later.ref, "trend": self.trend,
                "change": float(self.change)}


@dataclass
class Timeline:
    quantity: Quantity
    claims: list[Claim] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    reversals: list[Reversal] = field(default_factory=list)

    def to_json(self) -> dict:
        q = self.quantity
        return {"quantity": q.key, "unit": q.unit, "description": q.description,
                "trend": q.trend, "claims": [c.to_json() for c in self.claims],
                "conflicts": [c.to_json() for c in self.conflicts],
                "reversals": [r.to_json() for r in self.reversals]}


def _said(fig: Figure, result: Result) -> str:
    written = fig.written if fig.written is not None else fig.value
    # a headcount is worded by what it counts: "over 1,000 deaths", not "troops"
    unit = fig.noun if fig.noun and is_headcount(fig.unit) else fig.unit
    if fig.readings:
        return f"reading '{result.reading}'"
    if written is None:
        return f"{fig.low:,} to {fig.high:,} {unit}"
    text = f"{written:,}" if not isinstance(written, Fraction) else f"{float(written):,g}"
    return " ".join(p for p in (result.qualifier, text, unit) if p)


def _in_unit(result: Result, unit: str) -> Result:
    if result.unit == unit:
        return result

    def conv(x):
        return x if isinstance(x, float) and math.isinf(x) else convert(x, result.unit, unit)

    return Result(**{**result.__dict__, "value": conv(result.value), "low": conv(result.low),
                     "high": conv(result.high), "unit": unit})


def _claim_date(source: Source, figures: Figures, fig: Figure) -> tuple[dt.date, dt.date, str]:
    if isinstance(fig.date, dt.date):
        return fig.date, fig.date, "figure"
    if isinstance(fig.date, str):
        d = figures[fig.date]
        return d.low, d.high, "figure"
    lo, hi = source.meta.covers or (None, None)
    if lo and hi:
        return lo, hi, "coverage"
    if source.meta.published:
        return source.meta.published, source.meta.published, "published"
    raise SourceError(source.path, f"names quantity '{fig.quantity}' but has no date, and the "
                      "source gives neither covers nor published", line=fig.line,
                      figure=fig.id, field="date",
                      fix="give the figure a date: YYYY-MM-DD or the id of a date figure")


def claims_of(source: Source, quantities: dict[str, Quantity], *,
              policy: str = "default") -> list[Claim]:
    """Every claim a (validated) source makes about a declared quantity."""
    figures = evaluate(source, policy=policy)
    out = []
    for fig in source.figures:
        if fig.quantity is None:
            continue
        q = quantities[fig.quantity]
        result = _in_unit(figures[fig.id], q.unit)
        low, high, how = _claim_date(source, figures, fig)
        out.append(Claim(q.key, source.meta.id, source.path, source.meta.title,
                         source.meta.publisher, fig.id, fig.line, result, low, high,
                         _said(fig, figures[fig.id]), how))
    return out


def _dates_overlap(a: Claim, b: Claim) -> bool:
    return a.date_low <= b.date_high and b.date_low <= a.date_high


def find_conflicts(claims: list[Claim]) -> list[Conflict]:
    """Pairs at overlapping dates whose bounds are disjoint (one's high below the other's low)."""
    out = []
    for i, a in enumerate(claims):
        for b in claims[i + 1:]:
            if not _dates_overlap(a, b):
                continue
            if a.high < b.low:
                out.append(Conflict(a, b, b.low - a.high))
            elif b.high < a.low:
                out.append(Conflict(b, a, a.low - b.high))
    return out


def find_reversals(claims: list[Claim], trend: str | None) -> list[Reversal]:
    """Earlier/later pairs (dates wholly in order) that moved against the trend for certain."""
    if trend is None:
        return []
    out = []
    for i, a in enumerate(claims):
        for b in claims[i + 1:]:
            if a.date_high >= b.date_low:
                continue  # not wholly later: no order to reverse
            if trend == "falls" and b.low > a.high:
                out.append(Reversal(a, b, trend, b.low - a.high))
            elif trend == "rises" and b.high < a.low:
                out.append(Reversal(a, b, trend, a.low - b.high))
    return out


def timelines(sources: list[Source], quantities: dict[str, Quantity], *,
              policy: str = "default") -> dict[str, Timeline]:
    """Per declared quantity (in the file's order): claims by date, conflicts, reversals."""
    out = {key: Timeline(q) for key, q in quantities.items()}
    for source in sources:
        for claim in claims_of(source, quantities, policy=policy):
            out[claim.quantity].claims.append(claim)
    for t in out.values():
        t.claims.sort(key=lambda c: (c.date_low, c.date_high, c.source_id, c.figure_id))
        t.conflicts = find_conflicts(t.claims)
        t.reversals = find_reversals(t.claims, t.quantity.trend)
    return out


def source_files(paths: list[str | Path]) -> list[Path]:
    """Files named, and the *.yaml files in folders named, in name order (no quantities file)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.glob("*.yaml") if f.name != QUANTITIES_FILE))
        else:
            out.append(p)
    return out


def load_story(paths: list[str | Path], quantities_path: str | Path | None = None, *,
               policy: str = "default") -> dict[str, Timeline]:
    """Load, validate and line up a set of source files (files or folders) by quantity.

    The quantities file is `quantities_path`, else the one the first source belongs to.
    """
    files = source_files(paths)
    if not files:
        raise SourceError(", ".join(map(str, paths)) or "(none)", "no source files found",
                          fix="name source files or a folder holding them")
    qpath = Path(quantities_path) if quantities_path else find_quantities_file(files[0])
    if qpath is None:
        raise SourceError(str(files[0]), f"no {QUANTITIES_FILE} found in its folder or above "
                          f"(nor a data/{QUANTITIES_FILE})",
                          fix="create data/quantities.yaml or pass --quantities FILE")
    quantities = load_quantities(qpath)
    sources = []
    for f in files:
        source = load_source(f)
        validate(source, quantities, str(qpath))
        sources.append(source)
    return timelines(sources, quantities, policy=policy)


def select(lines: dict[str, Timeline], key: str | None) -> dict[str, Timeline]:
    """One quantity by key, every quantity whose key starts with `key.` (a group), or all."""
    if not key:
        return lines
    if key in lines:
        return {key: lines[key]}
    group = {k: t for k, t in lines.items() if k.startswith(key + ".")}
    if group:
        return group
    close = difflib.get_close_matches(key, sorted(lines), n=3)
    raise AnalysisError(f"no quantity '{key}'; " + (
        f"did you mean {', '.join(close)}?" if close else
        f"declared: {', '.join(sorted(lines)) or '(none)'}"))
