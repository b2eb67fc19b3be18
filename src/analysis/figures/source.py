"""Load and validate a source file: one article's metadata and its figures.

YAML is read with a SafeLoader that remembers line numbers and keeps decimals
as written (2.50 stays 2.50, so its significant digits survive). Every problem
raises SourceError naming the file, the line, the figure and the field, and a fix.
The format is documented in docs/data-format.md.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import yaml

from analysis.errors import LimitError, SourceError, UnknownUnit
from analysis.figures.bounds import QUALIFIERS, normalise_qualifier
from analysis.figures.units import is_headcount, parse_unit
from analysis.files import limited_safe_loader, load_limited, read_capped

ID_RE = re.compile(r"[a-z][a-z0-9_]*")  # used with fullmatch: "a\n" is no id

# A number as a person writes it: plain decimal, optionally with thousands commas, and
# scientific notation. Anything else (2,5 or 1:30 or 0x1F, which YAML 1.1 reads as 25,
# 90 and 31) is refused rather than guessed at.
_NUMBER_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?"
                        r"|[+-]?\.\d+(?:[eE][+-]?\d+)?")
# Caps checked before any Fraction is made: 1e999999999 as a Fraction is a billion-digit
# integer. Real figures have a handful of digits and lie far inside 1e-30 .. 1e30.
MAX_DIGITS = 30
MAX_EXPONENT = 30


# --- YAML with line numbers -------------------------------------------------------


class _Map(dict):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict


class _Loader(limited_safe_loader()):
    pass


class _Written(str):
    """A scalar YAML would read as a number in a form people do not write (0x1F, 1:30,
    .inf, 1_000): kept as the text written, so a text field shows it as written and a
    number field refuses it with a fix."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | Decimal | dt.date):
            raise _BadKey(key_node.start_mark.line + 1)
        if key in out:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_number(loader, node):
    # keep the digits as printed: 2.50 has three significant digits
    text = loader.construct_scalar(node)
    if not _NUMBER_RE.fullmatch(text) or len(text) > 2 * MAX_DIGITS:
        return _Written(text)
    number = Decimal(text)
    if number == number.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(text)
    return number


def _construct_timestamp(loader, node):
    # an impossible date such as 2025-06-31 stays text, so _date names figure and field
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


class _BadKey(Exception):
    def __init__(self, line):
        self.line = line


class _DuplicateKey(Exception):
    def __init__(self, key, line):
        self.key, self.line = key, line


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# --- the model --------------------------------------------------------------------


@dataclass
class Printed:
    """A conversion the article prints beside a figure ("around 35 square miles")."""

    value: Fraction
    unit: str
    qualifier: str | None = None
    written: Decimal | None = None


@dataclass
class Reading:
    """One way of reading an ambiguous figure; a report parameter picks one."""

    name: str
    value: Fraction | dt.date | None = None
    low: Fraction | dt.date | None = None
    high: Fraction | dt.date | None = None
    qualifier: str | None = None
    note: str | None = None
    written: Decimal | None = None


@dataclass
class Figure:
    """A figure the article states."""

    id: str
    kind: str  # "count" | "quantity" | "date"
    description: str
    attributed_to: str
    unit: str
    value: Fraction | dt.date | None = None
    low: Fraction | dt.date | None = None
    high: Fraction | dt.date | None = None
    qualifier: str | None = None
    written: Decimal | None = None
    date: str | dt.date | None = None
    printed: list[Printed] = field(default_factory=list)
    at_most: str | None = None
    noun: str | None = None  # what a count counts, for readers: "soldiers", "deaths"
    label: str | None = None  # a short name for readers: "ground still held"
    readings: dict[str, Reading] = field(default_factory=dict)
    default_reading: str | None = None
    note: str | None = None
    line: int | None = None
    quantity: str | None = None  # a key of the quantities file (figures/claims.py)
    field_lines: dict[str, int] = field(default_factory=dict)  # field -> its line


@dataclass
class Derived:
    """A figure computed from others by a formula declared in the source file."""

    id: str
    formula: str
    description: str
    unit: str | None = None
    domain: tuple | None = None  # (low, high) in the unit's base magnitude, None for open
    format: str | None = None  # "percent" shows a dimensionless share as a percentage
    noun: str | None = None  # what a count (or a count per time) counts, for readers
    label: str | None = None  # a short name for readers
    line: int | None = None


@dataclass
class Check:
    """A sanity relation the figures should satisfy ("held_area <= captured_area")."""

    id: str
    expr: str
    description: str
    line: int | None = None


@dataclass
class Ignored:
    """A quantity in the article deliberately left out of the figures."""

    value: Fraction
    unit: str
    reason: str


@dataclass
class SourceMeta:
    id: str
    title: str
    publisher: str | None = None
    url: str | None = None
    published: dt.date | None = None
    covers: tuple[dt.date | None, dt.date | None] | None = None
    notes: list[str] = field(default_factory=list)
    language: str | None = None


@dataclass
class Source:
    path: str
    meta: SourceMeta
    figures: list[Figure]
    derived: list[Derived]
    checks: list[Check]
    ignore: list[Ignored] = field(default_factory=list)

    def figure(self, fid: str) -> Figure | Derived:
        for f in (*self.figures, *self.derived):
            if f.id == fid:
                return f
        raise KeyError(fid)


# --- validation -------------------------------------------------------------------

TOP_FIELDS = {"source", "figures", "derived", "checks", "ignore"}
SOURCE_FIELDS = {"id", "title", "publisher", "url", "published", "covers", "notes", "language"}
FIGURE_FIELDS = {"id", "kind", "description", "attributed_to", "value", "unit", "qualifier",
                 "date", "printed", "at_most", "readings", "default_reading", "note", "low",
                 "high", "review", "evidence", "quantity", "noun", "label"}
DERIVED_FIELDS = {"id", "formula", "description", "unit", "domain", "format", "note", "noun",
                  "label"}
CHECK_FIELDS = {"id", "assert", "description"}
PRINTED_FIELDS = {"value", "unit", "qualifier"}
READING_FIELDS = {"value", "low", "high", "qualifier", "note"}
IGNORE_FIELDS = {"value", "unit", "reason"}
DOMAINS = {"share": (Fraction(0), Fraction(1)), "nonnegative": (Fraction(0), None)}


class _Ctx:
    """Where we are, for error messages."""

    def __init__(self, path: str):
        self.path = path

    def error(self, problem, *, node=None, key=None, figure=None, field=None, fix=None):
        line = None
        if isinstance(node, _Map):
            line = node.key_lines.get(key, node.line) if key is not None else node.line
        return SourceError(self.path, problem, line=line, figure=figure, field=field, fix=fix)


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), sorted(choices), n=1)
    return f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(choices))}"


def _check_fields(ctx, node, allowed, *, what, figure=None):
    if not isinstance(node, dict):
        raise ctx.error(f"{what} must be a mapping of field: value, not {type(node).__name__}",
                        node=node, figure=figure, fix="indent its fields under it as 'name: value'")
    for key in node:
        if key not in allowed:
            raise ctx.error(f"unknown field '{key}' in {what}", node=node, key=key,
                            figure=figure, field=str(key), fix=_suggest(key, allowed))


def _text(ctx, node, key, *, figure=None, required=True, what="field"):
    val = node.get(key)
    if val is None:
        if required:
            raise ctx.error(f"missing required {what} '{key}'", node=node, figure=figure,
                            field=key, fix=f"add '{key}: ...' to it")
        return None
    if not isinstance(val, str | int | Decimal):
        raise ctx.error(f"'{key}' must be text", node=node, key=key, figure=figure, field=key,
                        fix="quote it")
    return str(val).strip()


def parse_number(raw) -> Decimal:
    """A number as written (int, Decimal or text) -> Decimal, or ValueError(problem, fix).

    Only plain decimal (1000, 1,000, 2.5) and scientific notation (2.5e3) are numbers;
    digit and exponent caps apply before anything is computed with it."""
    fix = "write a plain number such as 1000, \"1,000\" (quoted) or 2.5"
    if isinstance(raw, bool) or raw is None:
        raise ValueError(f"must be a number, not {raw!r}", fix)
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise ValueError(f"must be a number, not {raw!r}", fix)
    if len(text) > 2 * MAX_DIGITS + 10:
        raise ValueError(f"has more than {MAX_DIGITS} digits", "round it as the article does")
    if not _NUMBER_RE.fullmatch(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        if re.fullmatch(r"\d+,\d{1,2}|\d+,\d{4,}", text):
            whole, frac = text.split(",")
            fix = (f"a comma is read only between thousands (1,000); write {whole}.{frac} "
                   f"or {whole}{frac}")
        elif ":" in text:
            fix = "YAML 1.1 would read 1:30 as 90 (base 60); write the number itself, e.g. 90"
        elif re.match(r"[+-]?0[xXoObB]", text):
            fix = "write it in decimal digits, e.g. 31 for 0x1F"
        raise ValueError(f"must be a number, not {shown!r}", fix)
    written = Decimal(text.replace(",", ""))
    digits = len(written.as_tuple().digits)
    if digits > MAX_DIGITS:
        raise ValueError(f"has {digits} digits; at most {MAX_DIGITS} are read",
                         "round it as the article does")
    if written and not -MAX_EXPONENT <= written.adjusted() < MAX_EXPONENT:
        raise ValueError(f"is out of range (about 1e{written.adjusted()}); numbers here lie "
                         f"between 1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT}",
                         "check the exponent, or state it in a larger or smaller unit")
    return written


def _number(ctx, node, key, *, figure, nonnegative=True):
    """A figure's number: exact Fraction plus the Decimal as written."""
    raw = node.get(key)
    try:
        written = parse_number(raw)
    except ValueError as exc:
        problem, fix = exc.args
        raise ctx.error(f"'{key}' {problem}", node=node, key=key, figure=figure, field=key,
                        fix=fix) from None
    if nonnegative and written < 0:
        raise ctx.error(f"'{key}' is negative ({raw}); counts and measures here cannot be",
                        node=node, key=key, figure=figure, field=key,
                        fix="give the size as a positive number; a fall goes in a derived figure")
    return Fraction(written), written


def _date(ctx, node, key, *, figure):
    raw = node.get(key)
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ctx.error(f"'{key}' is not a date: {raw!r}", node=node, key=key, figure=figure,
                    field=key, fix="write dates as YYYY-MM-DD, for example 2024-08-06")


def _unit(ctx, node, key, *, figure):
    raw = node.get(key)
    if raw is None:
        raise ctx.error(f"missing required field '{key}'", node=node, figure=figure, field=key,
                        fix="add a unit such as km², sq mi, troops, day or dimensionless")
    try:
        return parse_unit(str(raw))
    except UnknownUnit as exc:
        raise ctx.error(exc.problem, node=node, key=key, figure=figure, field=key,
                        fix="spell it as one of those, or add the spelling to the unit's "
                            "spellings in analysis/figures/vocabulary.yaml") from None


def _qualifier(ctx, node, key, *, figure):
    raw = node.get(key)
    if raw is None:
        return None
    q = normalise_qualifier(str(raw))
    if q not in QUALIFIERS:
        raise ctx.error(f"unknown qualifier {raw!r}", node=node, key=key, figure=figure,
                        field=key, fix=_suggest(q, QUALIFIERS) + " (see the qualifier policy in "
                        "docs/data-format.md)")
    return q


def _id(ctx, node, seen, *, what):
    fid = node.get("id")
    if fid is None:
        raise ctx.error(f"{what} without an 'id'", node=node, field="id",
                        fix="give it an id of lower-case letters, digits and _")
    if not isinstance(fid, str) or not ID_RE.fullmatch(fid):
        raise ctx.error(f"id {fid!r} is not a valid name", node=node, key="id", field="id",
                        fix="use lower-case letters, digits and _, starting with a letter")
    if fid in seen:
        raise ctx.error(f"duplicate id '{fid}' (first defined on line {seen[fid]})", node=node,
                        key="id", figure=fid, field="id", fix="give each figure its own id")
    seen[fid] = node.key_lines.get("id", node.line) if isinstance(node, _Map) else None
    return fid


def _list(ctx, doc, key, *, required=False):
    val = doc.get(key)
    if val is None:
        if required:
            raise ctx.error(f"missing '{key}:' section", node=doc, field=key,
                            fix=f"add a '{key}:' list (see docs/data-format.md)")
        return []
    if not isinstance(val, list):
        raise ctx.error(f"'{key}' must be a list of entries starting with '- '", node=doc,
                        key=key, field=key, fix="write each entry as '- id: ...'")
    return val


def _parse_meta(ctx, doc) -> SourceMeta:
    node = doc.get("source")
    if node is None:
        raise ctx.error("missing 'source:' section with the article's title", node=doc,
                        field="source", fix="add 'source:' with at least 'id' and 'title'")
    _check_fields(ctx, node, SOURCE_FIELDS, what="the source section")
    covers = None
    if node.get("covers") is not None:
        c = node["covers"]
        _check_fields(ctx, c, {"from", "to"}, what="source.covers")
        covers = (_date(ctx, c, "from", figure=None) if c.get("from") else None,
                  _date(ctx, c, "to", figure=None) if c.get("to") else None)
    notes = node.get("notes") or []
    if isinstance(notes, str):
        notes = [notes]
    if not isinstance(notes, list) or not all(isinstance(n, str | int | Decimal) for n in notes):
        raise ctx.error("'notes' must be a list of sentences", node=node, key="notes",
                        field="notes", fix="write each note as '- text'")
    sid = _text(ctx, node, "id", what="source field")
    if not ID_RE.fullmatch(sid.replace("-", "_")):
        raise ctx.error(f"source id {sid!r} is not a valid name", node=node, key="id",
                        field="id", fix="use lower-case letters, digits, - and _")
    return SourceMeta(
        id=sid,
        title=_text(ctx, node, "title", what="source field"),
        publisher=_text(ctx, node, "publisher", required=False),
        url=_text(ctx, node, "url", required=False),
        published=_date(ctx, node, "published", figure=None) if node.get("published") else None,
        covers=covers,
        notes=[str(n) for n in notes],
        language=_text(ctx, node, "language", required=False),
    )


def _check_order(ctx, node, *, figure, where, low, value, high, qualifier=None):
    """low <= value <= high, and no qualifier beside explicit bounds (which would win)."""
    if (low is not None or high is not None) and qualifier is not None:
        raise ctx.error(f"{where} has both a qualifier ('{qualifier}') and explicit low/high "
                        "bounds", node=node, key="qualifier", figure=figure, field="qualifier",
                        fix="keep the qualifier and drop low/high (the policy gives the bounds), "
                            "or keep the bounds and drop the qualifier")
    ends = [(n, v) for n, v in (("low", low), ("value", value), ("high", high)) if v is not None]
    for (n1, v1), (n2, v2) in zip(ends, ends[1:], strict=False):
        if v1 > v2:
            raise ctx.error(f"{where}: {n1} ({v1}) is above {n2} ({v2})", node=node, key=n1,
                            figure=figure, field=n1, fix="order them low <= value <= high")


def _parse_reading(ctx, name, node, *, figure, is_date):
    _check_fields(ctx, node, READING_FIELDS, what=f"reading '{name}'", figure=figure)
    r = Reading(name=str(name), note=_text(ctx, node, "note", figure=figure, required=False))
    for key in ("value", "low", "high"):
        if node.get(key) is None:
            continue
        if is_date:
            setattr(r, key, _date(ctx, node, key, figure=figure))
        else:
            num, written = _number(ctx, node, key, figure=figure)
            setattr(r, key, num)
            if key == "value":
                r.written = written
    r.qualifier = _qualifier(ctx, node, "qualifier", figure=figure)
    if r.value is None and (r.low is None or r.high is None):
        raise ctx.error(f"reading '{name}' needs a 'value', or both 'low' and 'high'", node=node,
                        figure=figure, field=f"readings.{name}", fix="add them")
    _check_order(ctx, node, figure=figure, where=f"reading '{name}'", low=r.low, value=r.value,
                 high=r.high, qualifier=r.qualifier)
    return r


def _parse_figure(ctx, node, seen) -> Figure:
    if not isinstance(node, dict):
        raise ctx.error("each figure must be a mapping starting with '- id: ...'",
                        field="figures", fix="see docs/data-format.md for an example")
    fid = _id(ctx, node, seen, what="a figure")
    _check_fields(ctx, node, FIGURE_FIELDS, what=f"figure '{fid}'", figure=fid)
    kind = node.get("kind")
    if kind not in (None, "date", "quantity", "count"):
        raise ctx.error(f"unknown kind {kind!r}", node=node, key="kind", figure=fid,
                        field="kind", fix="use 'date' for a date, or leave kind out")
    fig = Figure(
        id=fid, kind="date" if kind == "date" else "quantity",
        description=_text(ctx, node, "description", figure=fid),
        attributed_to=_text(ctx, node, "attributed_to", figure=fid),
        unit="date", note=_text(ctx, node, "note", figure=fid, required=False),
        noun=_text(ctx, node, "noun", figure=fid, required=False),
        label=_text(ctx, node, "label", figure=fid, required=False),
        line=node.line if isinstance(node, _Map) else None,
    )
    is_date = fig.kind == "date"
    if is_date:
        for key in ("value", "low", "high"):
            if node.get(key) is not None:
                setattr(fig, key, _date(ctx, node, key, figure=fid))
    else:
        fig.unit = _unit(ctx, node, "unit", figure=fid)
        if is_headcount(fig.unit):
            fig.kind = "count"
        if node.get("value") is not None:
            fig.value, fig.written = _number(ctx, node, "value", figure=fid)
        fig.qualifier = _qualifier(ctx, node, "qualifier", figure=fid)
        for key in ("low", "high"):
            if node.get(key) is not None:
                setattr(fig, key, _number(ctx, node, key, figure=fid)[0])
    if fig.kind == "count" and fig.value is not None and fig.value.denominator != 1:
        raise ctx.error(f"a count must be a whole number, not {fig.written}", node=node,
                        key="value", figure=fid, field="value", fix="round it as the article does")
    readings = node.get("readings") or {}
    if readings:
        if not isinstance(readings, dict):
            raise ctx.error("'readings' must map a reading's name to its value", node=node,
                            key="readings", figure=fid, field="readings",
                            fix="see the as_of example in docs/data-format.md")
        for name, rnode in readings.items():
            fig.readings[str(name)] = _parse_reading(ctx, name, rnode, figure=fid,
                                                      is_date=is_date)
        fig.default_reading = _text(ctx, node, "default_reading", figure=fid, required=False)
        if fig.default_reading is None:
            fig.default_reading = next(iter(fig.readings))
        if fig.default_reading not in fig.readings:
            raise ctx.error(f"default_reading '{fig.default_reading}' is not one of its readings",
                            node=node, key="default_reading", figure=fid,
                            field="default_reading", fix=_suggest(fig.default_reading,
                                                                  fig.readings))
    elif fig.value is None and not (fig.low is not None and fig.high is not None):
        raise ctx.error("missing required field 'value'", node=node, figure=fid, field="value",
                        fix="add 'value: ...', or both 'low' and 'high'")
    if fig.value is None and (fig.low is None) != (fig.high is None):
        raise ctx.error("a range needs both 'low' and 'high'", node=node, figure=fid,
                        field="low" if fig.low is None else "high", fix="add the missing end")
    _check_order(ctx, node, figure=fid, where="the figure", low=fig.low, value=fig.value,
                 high=fig.high, qualifier=fig.qualifier)
    _parse_printed(ctx, node, fig)
    date = node.get("date")
    if isinstance(date, dt.date):
        fig.date = date
    elif date is not None:
        fig.date = str(date)
    if node.get("at_most") is not None:
        fig.at_most = str(node["at_most"])
    fig.quantity = _text(ctx, node, "quantity", figure=fid, required=False)
    if isinstance(node, _Map):
        fig.field_lines = dict(node.key_lines)
    return fig


def _parse_printed(ctx, node, fig: Figure) -> None:
    """The conversions printed beside a figure: each a value in a known unit, once a unit."""
    fid, raw = fig.id, node.get("printed")
    if raw is None:
        return
    if not isinstance(raw, list):
        raise ctx.error("'printed' must be a list of conversions, each starting with '- '",
                        node=node, key="printed", figure=fid, field="printed",
                        fix="write it as 'printed:' then '  - value: 35' and '    unit: sq mi'")
    if raw and fig.kind == "date":
        raise ctx.error("a date has no printed conversion", node=node, key="printed", figure=fid,
                        field="printed", fix="remove 'printed:' from this date")
    for pnode in raw:
        _check_fields(ctx, pnode, PRINTED_FIELDS, what="a printed conversion", figure=fid)
        if pnode.get("value") is None:
            raise ctx.error("a printed conversion without a value", node=pnode, figure=fid,
                            field="printed.value", fix="add the number the article prints, "
                            "e.g. 'value: 35' for \"(35 sq mi)\", or remove the entry")
        try:
            unit = _unit(ctx, pnode, "unit", figure=fid)
        except SourceError as exc:
            exc.field = "printed.unit"
            raise
        value, written = _number(ctx, pnode, "value", figure=fid)
        for earlier in fig.printed:
            if earlier.unit == unit:
                raise ctx.error(f"the conversion into {unit} is printed twice ({earlier.written:,} "
                                f"and {written:,} {unit})", node=pnode, figure=fid,
                                field="printed", fix="keep one entry per unit: the audit judges "
                                "each conversion once")
        fig.printed.append(Printed(value=value, written=written, unit=unit,
                                   qualifier=_qualifier(ctx, pnode, "qualifier", figure=fid)))


def _parse_domain(ctx, node, fid):
    raw = node.get("domain")
    if raw is None:
        return None
    if isinstance(raw, str):
        if raw not in DOMAINS:
            raise ctx.error(f"unknown domain {raw!r}", node=node, key="domain", figure=fid,
                            field="domain", fix=_suggest(raw, DOMAINS) + ", or [low, high]")
        return DOMAINS[raw]
    if isinstance(raw, list) and len(raw) == 2:
        ends = []
        for end in raw:
            if end is None:
                ends.append(None)
            elif isinstance(end, int | Decimal) and not isinstance(end, bool):
                try:
                    ends.append(Fraction(parse_number(end)))
                except ValueError as exc:
                    raise ctx.error(f"domain end {exc.args[0]}", node=node, key="domain",
                                    figure=fid, field="domain", fix=exc.args[1]) from None
            else:
                break
        else:
            return tuple(ends)
    raise ctx.error(f"domain must be 'share', 'nonnegative' or [low, high], not {raw!r}",
                    node=node, key="domain", figure=fid, field="domain",
                    fix="for example domain: [0, null]")


def _parse_derived(ctx, node, seen) -> Derived:
    if not isinstance(node, dict):
        raise ctx.error("each derived figure must be a mapping starting with '- id: ...'",
                        field="derived", fix="see docs/data-format.md")
    fid = _id(ctx, node, seen, what="a derived figure")
    _check_fields(ctx, node, DERIVED_FIELDS, what=f"derived figure '{fid}'", figure=fid)
    fmt = node.get("format")
    if fmt == "percent" and node.get("unit") not in (None, "dimensionless"):
        raise ctx.error("format: percent shows a dimensionless share (0.09) as 9%; this "
                        f"figure's unit is {node.get('unit')!r}", node=node, key="format",
                        figure=fid, field="format",
                        fix="use unit: dimensionless with format: percent, or unit: percent alone")
    if fmt not in (None, "percent"):
        raise ctx.error(f"unknown format {fmt!r}", node=node, key="format", figure=fid,
                        field="format", fix="use 'percent' or leave it out")
    return Derived(
        id=fid,
        formula=_text(ctx, node, "formula", figure=fid),
        description=_text(ctx, node, "description", figure=fid),
        unit=_unit(ctx, node, "unit", figure=fid) if node.get("unit") is not None else None,
        domain=_parse_domain(ctx, node, fid),
        format=fmt,
        noun=_text(ctx, node, "noun", figure=fid, required=False),
        label=_text(ctx, node, "label", figure=fid, required=False),
        line=node.line if isinstance(node, _Map) else None,
    )


def _parse_check(ctx, node, seen) -> Check:
    if not isinstance(node, dict):
        raise ctx.error("each check must be a mapping starting with '- id: ...'",
                        field="checks", fix="see docs/data-format.md")
    cid = _id(ctx, node, seen, what="a check")
    _check_fields(ctx, node, CHECK_FIELDS, what=f"check '{cid}'", figure=cid)
    return Check(id=cid, expr=_text(ctx, node, "assert", figure=cid),
                 description=_text(ctx, node, "description", figure=cid),
                 line=node.line if isinstance(node, _Map) else None)


def _parse_ignored(ctx, node) -> Ignored:
    _check_fields(ctx, node, IGNORE_FIELDS, what="an ignore entry")
    value, _ = _number(ctx, node, "value", figure=None)
    return Ignored(value=value, unit=_unit(ctx, node, "unit", figure=None),
                   reason=_text(ctx, node, "reason"))


def read_text(path: str | Path) -> str:
    """A file's text as UTF-8, or a SourceError that says what is wrong with it."""
    p = Path(path)
    if not p.exists():
        raise SourceError(str(path), "no such file", fix="check the path; source files live "
                          "in data/sources/")
    if p.is_dir():
        raise SourceError(str(path), "is a folder, not a file", fix="name a .yaml file in it")
    try:
        data = read_capped(p)
    except LimitError as exc:
        raise SourceError(str(path), exc.problem, fix=exc.fix) from None
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read ({exc.strerror})",
                          fix="check the file's permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(str(path), f"is not UTF-8 text (byte {exc.start})", line=line,
                          fix="save it as UTF-8, e.g. iconv -f latin1 -t utf-8") from None


def load_yaml(text: str, path: str) -> object:
    """YAML text read with the project's limits (no aliases, bounded depth, plain keys);
    every problem is a SourceError naming the file and line. Used for source files and the
    quantities file alike."""
    try:
        doc = load_limited(text, _Loader)
    except _DuplicateKey as exc:
        raise SourceError(path, f"the key '{exc.key}' appears twice in one mapping",
                          line=exc.line, fix="remove one of them") from None
    except _BadKey as exc:
        raise SourceError(path, "a key must be a plain name, not a list or mapping",
                          line=exc.line, fix="write keys as 'name: value'") from None
    except LimitError as exc:
        raise SourceError(path, exc.problem, line=exc.line, fix=exc.fix) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context_mark", None)
        if context is not None and mark is not None and mark.index >= len(text.rstrip()):
            # the file ended inside something (an unclosed quote or bracket): name where
            # that something starts, not the end of the file
            problem = f"{exc.context} that starts here, {problem}"
            mark = context
        raise SourceError(path, f"is not valid YAML: {problem}",
                          line=mark.line + 1 if mark else None,
                          fix="check the indentation and quoting near that line") from None
    return doc


def parse_source(text: str, path: str = "<text>") -> Source:
    """Validate a source file's text; see load_source."""
    ctx = _Ctx(path)
    doc = load_yaml(text, path)
    if not isinstance(doc, dict):
        raise SourceError(path, "must be a YAML mapping with 'source:' and 'figures:' sections",
                          fix="see docs/data-format.md for a full example")
    _check_strings(ctx, doc)
    for key in doc:
        if key not in TOP_FIELDS:
            raise ctx.error(f"unknown section '{key}'", node=doc, key=key, field=str(key),
                            fix=_suggest(key, TOP_FIELDS))
    meta = _parse_meta(ctx, doc)
    seen: dict[str, int | None] = {}
    figures = [_parse_figure(ctx, n, seen) for n in _list(ctx, doc, "figures", required=True)]
    derived = [_parse_derived(ctx, n, seen) for n in _list(ctx, doc, "derived")]
    checks = [_parse_check(ctx, n, seen) for n in _list(ctx, doc, "checks")]
    ignore = [_parse_ignored(ctx, n) for n in _list(ctx, doc, "ignore")]
    source = Source(path=path, meta=meta, figures=figures, derived=derived, checks=checks,
                    ignore=ignore)
    _check_references(ctx, source)
    return source


_UNPRINTABLE = re.compile(r"[\ud800-\udfff]")


def _check_strings(ctx, node) -> None:
    """No lone surrogate in any text: a "\\ud800" escape passes YAML but cannot be
    printed or written as UTF-8 later."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list):
            _check_strings(ctx, value)
        for text in (key, value):
            if isinstance(text, str) and (bad := _UNPRINTABLE.search(text)):
                raise ctx.error(f"text holds the invalid character U+{ord(bad.group()):04X}",
                                node=node if isinstance(node, _Map) else None,
                                key=key if isinstance(node, _Map) else None,
                                fix="remove it (an escape such as \\ud800 that names half "
                                    "a character)")


def _check_references(ctx, source: Source) -> None:
    stated = {f.id: f for f in source.figures}
    for f in source.figures:
        line_err = dict(figure=f.id)
        if isinstance(f.date, str):
            ref = stated.get(f.date)
            if ref is None or ref.kind != "date":
                raise SourceError(ctx.path, f"'date: {f.date}' names no date figure", line=f.line,
                                  field="date", fix="name a figure of kind: date, or write "
                                  "YYYY-MM-DD", **line_err)
        if f.at_most is not None:
            ref = stated.get(f.at_most)
            if ref is None or ref.kind == "date" or f.kind == "date":
                raise SourceError(ctx.path, f"'at_most: {f.at_most}' names no stated figure "
                                  "of the same kind", line=f.line, field="at_most",
                                  fix="name a stated figure in the same unit family", **line_err)


def load_source(path: str | Path) -> Source:
    """Read and validate one source file; SourceError on any problem."""
    text = read_text(path)
    if not text.strip():
        raise SourceError(str(path), "is empty", fix="see docs/data-format.md for a full example")
    return parse_source(text, str(path))
