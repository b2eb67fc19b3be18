"""Finding quantities in text: every figure an article states.

`extract(text)` finds quantities (value, unit, the qualifier printed before them and the
conversion printed beside them in parentheses), dates and durations, each as a `Found`. It
is a pass of regular expressions of our own: quantulum3 was measured on the test set and
left out (docs/intake.md says why). Reading article files, drafting source files and
checking a source file against its article are analysis.intake.article's work.

Spans are offsets into the text given to `extract` (for a file, as `read_article` returns
it: markup stripped).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, replace
from fractions import Fraction

from analysis.errors import UnknownUnit
from analysis.figures.bounds import QUALIFIERS
from analysis.figures.units import convert, dimensionality
from analysis.figures.vocabulary import load_vocabulary, normalise

#: A printed conversion further than this from the exact one is reported for review;
#: articles round conversions (90 km² -> "around 35 sq mi" is 0.7 % off), so 5 % is slack.
CONVERSION_TOLERANCE = Fraction(5, 100)


# --- what is found ------------------------------------------------------------------


@dataclass(frozen=True)
class PrintedNearby:
    """A conversion printed beside a quantity: "(around 35 square miles)"."""

    value: Fraction
    unit: str
    qualifier: str | None
    span: tuple[int, int]


@dataclass(frozen=True)
class Found:
    """One figure found in an article.

    kind is count (people, troops, or a bare number), quantity, duration, or date. A date
    has `value` (one day) or `low`/`high` (a month, a season, a year); an unresolved one
    ("on Sunday", "last week" in an article that gives no date of its own, a month whose
    year the article never gives) has neither and a `note` saying why. A range of
    quantities ("10–15 km", "hundreds of people") has `low`/`high` and no `value`.
    """

    kind: str
    value: Fraction | dt.date | None
    unit: str
    qualifier: str | None
    span: tuple[int, int]
    evidence: str
    id: str = ""
    printed: tuple[PrintedNearby, ...] = ()
    low: dt.date | Fraction | None = None
    high: dt.date | Fraction | None = None
    weekday: str | None = None  # "Sunday" in "on Sunday": a date the article leaves open
    relative: str | None = None  # "last week" in an article with no date of its own
    note: str | None = None  # why it needs a closer look than the others
    line: int = 0

    def describe(self) -> str:
        """Short wording for messages and draft descriptions: '90 km² (approximately)'."""
        if self.kind == "date":
            if self.value is not None:
                what = self.value.isoformat()
            elif self.low is not None:
                what = f"{self.low.isoformat()} to {self.high.isoformat()}"
            elif self.weekday:
                what = f"a {self.weekday}"
            elif self.relative:
                what = f"'{self.relative}'"
            else:
                what = "a date whose year is not printed"
        elif self.value is None:
            what = f"{_short_number(self.low)} to {_short_number(self.high)} {self.unit}"
        else:
            what = f"{_short_number(self.value)} {self.unit}"
        if self.qualifier:
            what += f" ({self.qualifier})"
        for p in self.printed:
            what += f", printed as {_short_number(p.value)} {p.unit}"
            if p.qualifier:
                what += f" ({p.qualifier})"
        return what

    def record(self) -> dict:
        """The comparable form the test set's expected files use (tests/articles/)."""
        if self.kind == "date":
            if self.value is not None:
                return {"kind": "date", "value": self.value}
            if self.low is not None:
                return {"kind": "date", "low": self.low, "high": self.high}
            if self.relative:
                return {"kind": "date", "relative": self.relative}
            return {"kind": "date", "weekday": self.weekday}
        out: dict = ({"value": self.value} if self.value is not None
                     else {"low": self.low, "high": self.high})
        out["unit"] = self.unit
        if self.qualifier:
            out["qualifier"] = self.qualifier
        if self.printed:
            out["printed"] = [{"value": p.value, "unit": p.unit,
                               **({"qualifier": p.qualifier} if p.qualifier else {})}
                              for p in self.printed]
        return out

    def to_json(self) -> dict:
        """For `--json` output: the figure as plain JSON types, with where it was printed."""
        out = {"line": self.line, "evidence": self.evidence, "kind": self.kind,
               "unit": self.unit, "qualifier": self.qualifier, "suggested_id": self.id,
               "note": self.note}
        for key in ("value", "low", "high"):
            v = getattr(self, key)
            if isinstance(v, dt.date):
                out[key] = v.isoformat()
            elif isinstance(v, Fraction):
                out[key] = yaml_number(v)
        if self.weekday:
            out["weekday"] = self.weekday
        if self.relative:
            out["relative"] = self.relative
        return out


def _short_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    if value.denominator not in (2, 4, 5, 8, 10, 20, 25, 50, 100, 1000) and value < 1:
        return f"{value.numerator}/{value.denominator}"  # a share in words: 2/3
    return format(float(value), "g")


def yaml_number(value: Fraction) -> int | float:
    """A value as YAML and JSON write it: an int when whole, else a float; a share in words
    (2/3) to six decimals, so the number read back is 2/3 rounded, not a float's noise."""
    if value.denominator == 1:
        return value.numerator
    if _short_number(value) != format(float(value), "g"):
        return round(float(value), 6)
    return float(value)


def evidence_of(text: str, span: tuple[int, int]) -> str:
    """The words printed at span, on one line."""
    return " ".join(text[span[0]:span[1]].split())


def slug(words: str) -> str:
    """Lower-case letters and digits joined by underscores: 'Russian troops' -> 'russian_troops'."""
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


# --- vocabulary ----------------------------------------------------------------------

_MONTHS = {name: i for i, name in enumerate(calendar.month_name) if name}
_MONTH_ABBR = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8,
               "Sep": 9, "Sept": 9, "Oct": 10, "Nov": 11, "Dec": 12}
_MONTH_RE = (r"(?:" + "|".join(_MONTHS) + r"|(?:" + "|".join(_MONTH_ABBR) + r")\.?)")
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
# Meteorological seasons of the northern hemisphere: (first month, number of months).
_SEASONS = {"spring": (3, 3), "summer": (6, 3), "fall": (9, 3), "autumn": (9, 3),
            "winter": (12, 3)}

# Military personnel are counted in `troops`, everyone else in `people` (docs/intake.md).
_MILITARY = (r"troops?|soldiers?|servicem[ae]n|service\s?members|fighters|personnel|marines|"
             r"paratroopers|combatants|conscripts|reservists|recruits|mercenaries|sailors|"
             r"infantrymen|commandos|militants|guardsmen")
_CIVIL = (r"people|persons?|civilians?|residents|workers|children|women|men|refugees|"
          r"migrants|prisoners|hostages|inhabitants|villagers|casualties|victims|volunteers|"
          r"employees|evacuees|deaths|fatalities|dead|killed|wounded|injured|miners|farmers|"
          r"firefighters|dockers|pensioners|passengers|patients|students|teachers|nurses|"
          r"doctors|"
          r"(?:were|was|have\s+been|had\s+been|are)\s+(?:killed|wounded|injured|dead)")
_CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "USD": "USD", "€": "EUR", "EUR": "EUR",
                   "£": "GBP", "GBP": "GBP"}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 10**6, "billion": 10**9,
           "trillion": 10**12}
_DOZEN = 12
_MONEY_SCALES = {"m": 10**6, "mn": 10**6, "bn": 10**9, "b": 10**9, "k": 1_000}
_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_WORD_VALUES = {**{w: i for i, w in enumerate(_SMALL)}, **_TENS}
# Words that may stand between a number and the people it counts ("70,000 Russian troops")
# only if they are not one of these: they end the noun phrase.
_STOP = {"of", "the", "a", "an", "and", "or", "in", "on", "at", "to", "for", "from", "by",
         "with", "were", "was", "had", "have", "has", "are", "is", "be", "been", "that",
         "which", "who", "per", "each", "than", "as", "into", "since", "after", "before"}

_WORD = r"(?:" + "|".join([*_SMALL, *_TENS, *_SCALES, "dozen"]) + r")"
_NUM_RE = re.compile(
    r"(?P<digits>(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)"
    r"|(?<![\w.,])\d{1,3}(?: \d{3})+(?![\d.,]\d)"
    r"|(?<![\w.,])\d+(?:\.\d+)?(?![\d,]\d))"
    r"|(?P<words>\b(?:an?[\s-]+(?=hundred|thousand|million|billion|dozen))?" + _WORD
    + r"(?:[\s-]+(?:and[\s-]+)?" + _WORD + r")*\b)",
    re.IGNORECASE,
)
_SCALE_AFTER = re.compile(r"[\s-]*(?P<scale>thousand|million|billion|trillion)\b", re.I)
_MONEY_SCALE_AFTER = re.compile(r"\s?(?P<scale>mn|m|bn|b|k)\b", re.I)
# Unit spellings in articles (vocabulary.yaml, `in_articles`) -> canonical unit.
# Speeds are a ratio of two units, which a vocabulary entry (one unit each) cannot name.
_ARTICLE_UNITS = {**load_vocabulary().article_spellings,
                  **{w: "km / hour" for w in ("km/h", "kph", "kilometres per hour",
                                              "kilometers per hour", "kilometres an hour",
                                              "kilometers an hour")},
                  **{w: "mi / hour" for w in ("mph", "miles per hour", "miles an hour")}}


def _spelled(word: str) -> str:
    """A word from the vocabulary as a pattern: a space in it matches any run of spaces."""
    return re.escape(word).replace(r"\ ", r"\s+")


_GAP = r"(?:[ \t]+\n?[ \t]*|\n[ \t]*)"  # spaces, and at most one line break
_UNIT_AFTER = re.compile(
    r"(?:-|" + _GAP + r")?(?P<unit>"
    + "|".join(_spelled(s) for s in sorted(_ARTICLE_UNITS, key=len, reverse=True))
    + r")(?![\w²])",
    re.IGNORECASE,
)
_PEOPLE_AFTER = re.compile(
    r"(?P<between>(?:" + _GAP + r"[A-Za-z][\w'’-]*){0,3}?)" + _GAP + r"(?:(?P<mil>" + _MILITARY
    + r")|(?P<civ>"
    + _CIVIL + r"))\b",
    re.IGNORECASE,
)
_QUALIFIER = "|".join(_spelled(q) for q in sorted(QUALIFIERS, key=len, reverse=True))
_CURRENCY = r"US\$|\$|€|£|USD\s?|EUR\s?|GBP\s?"
_QUALIFIER_BEFORE = re.compile(r"(?:^|(?<![\w-]))(?P<q>" + _QUALIFIER + r")\s*$", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"(?P<cur>" + _CURRENCY + r")$")
# What may stand between "(" and the number of a printed conversion: "(around $35 ...".
_QUALIFIER_AND_CURRENCY = re.compile(r"(?:(?:" + _QUALIFIER + r")\s+)?(?:" + _CURRENCY + r")?",
                                     re.I)
_CLOCK_AFTER = re.compile(r"\s?(?:[ap]\.m\.|[ap]m\b)", re.I)
_SCALE_LETTERS = re.compile(r"(?P<scale>mn|m|bn)\b", re.I)
_QUALIFIER_AFTER = re.compile(r"\s+or\s+(?P<q>so|more|fewer|less)\b", re.I)
_RANGE_DASH = re.compile(r"[ \t]*[-–—][ \t]*")
_RANGE_TO = re.compile(r"\s+to\s+", re.I)
_RANGE_AND = re.compile(r"\s+and\s+", re.I)
_BETWEEN_BEFORE = re.compile(r"\bbetween\s+$", re.I)
_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.I)
_CURRENCY_AT = re.compile(r"(?:US\$|\$|€|£)?")
_PAREN_AFTER = re.compile(r"\s*\(\s*(?:or\s+)?")
_RELATIVE_AFTER = re.compile(r"\s+(?:after|before|later|earlier|ago|since|into|on)\b", re.I)
_A_DURATION = re.compile(r"\b(?:a|an|one)\s+(?P<unit>year|month|week|day|fortnight)\b", re.I)
_YEAR_PREPOSITION = re.compile(
    r"\b(?:in|since|by|until|till|from|during|through|of|early|late|mid-?|between|and|to|"
    r"before|after|the)\s*$", re.I)


# --- dates ---------------------------------------------------------------------------


def _month_number(name: str) -> int:
    name = name.rstrip(".")
    return _MONTHS.get(name) or _MONTH_ABBR[name]


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _season_range(year: int, season: str) -> tuple[dt.date, dt.date]:
    first, length = _SEASONS[season.lower()]
    last_month = first + length - 1
    end_year = year + (last_month - 1) // 12  # winter 2024 runs into February 2025
    last_month = (last_month - 1) % 12 + 1
    return dt.date(year, first, 1), _month_range(end_year, last_month)[1]


_PART = {"early": (1, 10), "mid": (11, 20), "mid-": (11, 20), "late": (21, 31)}

_RELATIVE_WORDS = (r"yesterday|(?:earlier|later)\s+this\s+(?:week|month|year)|"
                   r"(?:last|this|next)\s+(?:week|month|year)|"
                   r"(?:last|next)\s+(?:spring|summer|fall|autumn|winter)")
_DATE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("rel", re.compile(r"(?<!\bthe\s)\b(?P<rel>" + _RELATIVE_WORDS + r")\b(?!\s+\d)",
                       re.I)),
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("dmy-range", re.compile(r"\b(?:(?i:between|from)\s+)?(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*"
                             r"(?:-|–|—|and|to)\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
                             r"(?P<mon>" + _MONTH_RE + r"),?\s+(?P<y>\d{4})\b")),
    ("mdy-range", re.compile(r"\b(?P<mon>" + _MONTH_RE + r")\s+(?P<d1>\d{1,2})\s*(?:-|–|—|to)\s*"
                             r"(?P<d>\d{1,2}),?\s+(?P<y>\d{4})\b")),
    ("dmy", re.compile(r"\b(?:" + _WEEKDAY_RE + r",?\s+)?(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?"
                       r"\s+(?:of\s+)?(?P<mon>" + _MONTH_RE + r"),?\s+(?P<y>\d{4})\b")),
    ("mdy", re.compile(r"\b(?:" + _WEEKDAY_RE + r",?\s+)?(?P<mon>" + _MONTH_RE
                       + r")\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})\b")),
    ("dm", re.compile(r"\b(?:" + _WEEKDAY_RE + r",?\s+)?(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?"
                      r"\s+(?:of\s+)?(?P<mon>" + _MONTH_RE + r")(?!\w)")),
    ("md", re.compile(r"\b(?:" + _WEEKDAY_RE + r",?\s+)?(?P<mon>" + _MONTH_RE
                      + r")\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?![,.]?\s*\d)")),
    ("my", re.compile(r"\b(?:(?P<part>(?i:early|mid-?|late))\s*)?(?P<mon>" + _MONTH_RE
                      + r"),?\s+(?:of\s+)?(?P<y>\d{4})\b")),
    ("py", re.compile(r"\b(?P<part>(?i:early|mid|late))[\s-]+(?P<y>(?:19|20)\d\d)\b(?![\w-])")),
    ("mm", re.compile(r"\b(?i:between)\s+(?P<mon1>" + "|".join(_MONTHS) + r")\s+and\s+(?P<mon>"
                      + "|".join(_MONTHS) + r")\b(?:,?\s+(?P<y>\d{4})\b)?")),
    ("sy", re.compile(r"\b(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)(?:\s+of)?\s+"
                      r"(?P<y>\d{4})\b", re.I)),
    ("m", re.compile(r"\b(?P<prep>(?i:in|since|by|until|till|from|during|through|throughout|last|"
                     r"this|next|before|after|early|late|mid-?))\s+(?:(?P<part>(?i:early|mid-?|late))"
                     r"\s*)?"
                     r"(?P<mon>" + "|".join(_MONTHS) + r")\b(?!\s+\d)")),
    ("s", re.compile(r"\b(?P<prep>in|since|by|until|during|through|throughout|last|this|next)\s+"
                     r"(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)\b(?!\s+(?:of\s+)?"
                     r"\d)", re.I)),
    ("weekday", re.compile(r"\b(?:(?i:on|last|this|next|since|by|until)\s+)?(?P<wd>"
                           + _WEEKDAY_RE + r")\b")),
]


@dataclass
class _DateHit:
    span: tuple[int, int]
    kind: str
    value: dt.date | None = None
    low: dt.date | None = None
    high: dt.date | None = None
    month: int | None = None  # for a date whose year comes from context
    day: int | None = None
    season: str | None = None
    part: str | None = None
    weekday: str | None = None
    note: str | None = None
    relative: str | None = None  # "last week": resolved against the article's own date
    month2: int | None = None  # the last month of "between April and June"
    future: bool = False  # a weekday the sentence says is to come ("until Saturday")
    prep: str | None = None  # the word before a month with no year: "since" means before


#: where an article prints its own date: "Published ...", "Updated ...", a wire header
_DATELINE_CUE = re.compile(r"\b(?:published|updated|posted|wire|news|service)\b|\|", re.I)
_FUTURE_CUE = re.compile(r"\b(?:will|due\s+to|expected\s+to|scheduled|set\s+to|plans?\s+to|"
                         r"until|till|by|next)\b", re.I)
_THIRDS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12)}


def article_date(text: str, hits: list[_DateHit] | None = None) -> dt.date | None:
    """The article's own date, where it prints one near the top: a full date on a short line
    of the first dozen that is a dateline ("Published 21 March 2025", "Meridian News Wire |
    May 12, 2025", "Updated 14 November 2024, 18:40 GMT") or little but the date
    ("_12 August 2023_", "Saturday 19 October 2024")."""
    if hits is None:
        hits = _find_dates(text)
    lines, pos = [], 0
    for line in text.splitlines(keepends=True)[:12]:
        lines.append((pos, pos + len(line), line))
        pos += len(line)
    for h in hits:
        if h.value is None or h.kind not in ("iso", "dmy", "mdy"):
            continue
        for start, end, line in lines:
            if start <= h.span[0] < end and len(line.strip()) <= 100:
                rest = line[: h.span[0] - start] + line[h.span[1] - start:]
                rest = re.sub(_WEEKDAY_RE + r"|\d{1,2}[:.]\d{2}\s*(?:[AP]M)?|\b[A-Z]{3,4}\b",
                              "", rest)
                if _DATELINE_CUE.search(rest) or len(re.sub(r"[\W_]", "", rest)) <= 12:
                    return h.value
    return None


#: a word each kind of date needs: a text without it skips that pattern (speed, not sense)
_MONTH_KINDS = ("dmy-range", "mdy-range", "dmy", "mdy", "dm", "md", "my", "m", "mm")
_NEEDS = {**{k: re.compile(_MONTH_RE) for k in _MONTH_KINDS},
          "rel": re.compile(r"yesterday|last|this|next", re.I),
          "iso": re.compile(r"\d{4}-\d\d-\d\d"),
          "py": re.compile(r"early|mid|late", re.I),
          "sy": re.compile(r"spring|summer|fall|autumn|winter", re.I),
          "weekday": re.compile(_WEEKDAY_RE)}
_NEEDS["s"] = _NEEDS["sy"]


def _find_dates(text: str) -> list[_DateHit]:
    hits: list[_DateHit] = []
    taken: list[tuple[int, int]] = []
    present = {kind: bool(need.search(text)) for kind, need in _NEEDS.items()
               if kind not in _MONTH_KINDS[1:]}
    for kind, pattern in _DATE_PATTERNS:
        if not present[_MONTH_KINDS[0] if kind in _MONTH_KINDS else kind]:
            continue
        for m in pattern.finditer(text):
            span = m.span()
            if _overlaps(span, taken):
                continue
            hit = _date_hit(kind, m)
            if hit is None:
                continue
            if kind == "weekday":
                sentence = re.split(r"[.!?]\s|\n\s*\n", text[max(0, span[0] - 200):span[0]])[-1]
                hit.future = bool(_FUTURE_CUE.search(sentence + " " + m.group(0).split()[0]))
            hits.append(hit)
            taken.append(span)
    hits += _find_years_alone(text, taken)
    hits.sort(key=lambda h: h.span)
    today = article_date(text, hits)
    _resolve_years(hits, today)
    if today is not None:
        _resolve_relative(hits, today)
    return hits


def _find_years_alone(text: str, taken: list[tuple[int, int]]) -> list[_DateHit]:
    """A year printed on its own ("in 2023", "since 2014") is a date range, not a count."""
    out = []
    for m in re.finditer(r"(?<![\w.,$€£-])(?P<y>(?:19|20)\d\d)(?![\w%]|[.,]\d)", text):
        if _overlaps(m.span(), taken) or _unit_at(text, m.end()):
            continue
        if _people_at(text, m.end()) and not _YEAR_PREPOSITION.search(text[:m.start()]):
            continue  # "2000 soldiers": a count
        year = int(m.group("y"))
        out.append(_DateHit(m.span(), "y", low=dt.date(year, 1, 1), high=dt.date(year, 12, 31)))
    return out


def _date_hit(kind: str, m: re.Match) -> _DateHit | None:
    g = m.groupdict()
    span = m.span()
    try:
        if kind.endswith("-range"):
            month, year = _month_number(g["mon"]), int(g["y"])
            low, high = dt.date(year, month, int(g["d1"])), dt.date(year, month, int(g["d"]))
            return _DateHit(span, kind, low=low, high=high) if low <= high else None
        if kind in ("iso", "dmy", "mdy"):
            month = int(g["m"]) if kind == "iso" else _month_number(g["mon"])
            return _DateHit(span, kind, value=dt.date(int(g["y"]), month, int(g["d"])))
        if kind in ("dm", "md"):
            month = _month_number(g["mon"])
            dt.date(2024, month, int(g["d"]))  # a leap year: reject 31 June, keep 29 Feb
            return _DateHit(span, kind, month=month, day=int(g["d"]))
        if kind == "my":
            low, high = _month_range(int(g["y"]), _month_number(g["mon"]))
            low, high = _narrow(low, high, g.get("part"))
            return _DateHit(span, kind, low=low, high=high)
        if kind == "rel":
            words = " ".join(g["rel"].lower().split())
            return _DateHit(span, kind, relative=words,
                            note="relative to the article's date, which it does not print; "
                                 "give value, or low and high")
        if kind == "py":  # early, mid, late 2024: its first, middle or last four months
            first, last = _THIRDS[g["part"].lower()]
            year = int(g["y"])
            return _DateHit(span, kind, low=dt.date(year, first, 1),
                            high=_month_range(year, last)[1])
        if kind == "mm":
            m1, m2 = _month_number(g["mon1"]), _month_number(g["mon"])
            if g.get("y"):
                year = int(g["y"])
                return _DateHit(span, kind, low=dt.date(year, m1, 1),
                                high=_month_range(year + (m2 < m1), m2)[1])
            return _DateHit(span, kind, month=m1, month2=m2)
        if kind == "sy":
            low, high = _season_range(int(g["y"]), g["season"])
            return _DateHit(span, kind, low=low, high=high)
        if kind == "m":
            prep = g["prep"].lower()
            part = g.get("part") or (prep if prep in _PART or prep == "mid" else None)
            return _DateHit(span, kind, month=_month_number(g["mon"]), part=part, prep=prep)
        if kind == "s":
            return _DateHit(span, kind, season=g["season"].lower(), prep=g["prep"].lower())
        if kind == "weekday":
            return _DateHit(span, kind, weekday=g["wd"],
                            note="the article does not say which one; give its date as "
                            "value, or low and high")
    except ValueError:  # 2024-13-45, 31 June: not a date
        return None
    raise AssertionError(kind)  # pragma: no cover


def _narrow(low: dt.date, high: dt.date, part: str | None) -> tuple[dt.date, dt.date]:
    if not part:
        return low, high
    first, last = _PART[part.lower()]
    return low.replace(day=first), high.replace(day=min(last, high.day))


def _resolve_years(hits: list[_DateHit], today: dt.date | None = None) -> None:
    """Give a date printed without its year ("in January") the year the story implies.

    Take the dated mention printed nearest before it (else the first after it), and of that
    year, the year before and the year after, the one that puts the month closest in time to
    it: "the fall of 2024 ... in January" is January 2025, "agreed on 11 November 2023 ...
    compared with October" is October 2023. An article that prints its own date is its
    own anchor: "in June" in a piece dated September 2024 is June 2024, whatever year the
    paragraph before it mentioned. The draft marks the guess for review.
    """
    known: list[tuple[int, dt.date]] = []  # (position, first day) of dates with a year
    for h in hits:
        start = h.value or h.low
        if start is not None:
            known.append((h.span[0], start))
    for h in hits:
        if h.kind not in ("dm", "md", "m", "s", "mm") or h.value or h.low:
            continue
        before = [d for pos, d in known if pos < h.span[0]]
        after = [d for pos, d in known if pos > h.span[0]]
        month = h.month or _SEASONS[h.season][0]
        if today or before or after:
            anchor = today or (before[-1] if before else after[0])
            years = (anchor.year - 1, anchor.year, anchor.year + 1)
            if h.prep in ("since", "last") and today:  # the one before the article's date
                years = tuple(y for y in years if dt.date(y, month, 1) <= anchor) or years
            elif h.prep == "next" and today:
                years = tuple(y for y in years if dt.date(y, month, 1) > anchor) or years
            year = min(years, key=lambda y: abs((dt.date(y, month, 1) - anchor).days))
            how = ("guessed from the article's date" if today else
                   f"guessed from the date {'before' if before else 'after'} it")
        else:
            h.note = "the article does not give its year; give value, or low and high"
            continue
        if h.kind in ("dm", "md"):
            try:
                h.value = dt.date(year, h.month, h.day)
            except ValueError:  # 29 February in a common year
                h.note = "not a date in the year the story implies; check it"
                continue
        elif h.kind == "m":
            h.low, h.high = _narrow(*_month_range(year, h.month), h.part)
        elif h.kind == "mm":
            h.low = dt.date(year, h.month, 1)
            h.high = _month_range(year + (h.month2 < h.month), h.month2)[1]
        else:
            h.low, h.high = _season_range(year, h.season)
        h.note = f"year {year} is not printed; {how}: check it"


def _resolve_relative(hits: list[_DateHit], today: dt.date) -> None:
    """Relative dates and weekdays against the article's own date: "last week" is the
    Monday-to-Sunday week before the article's, "earlier this month" the first of the month
    to the day before, a weekday the last one on or before the article's date (the next one
    on or after it where the sentence says it is to come)."""
    for h in hits:
        if h.kind == "weekday":
            wd = list(calendar.day_name).index(h.weekday)
            shift = (wd - today.weekday()) % 7 if h.future else -((today.weekday() - wd) % 7)
            h.value, h.weekday = today + dt.timedelta(days=shift), None
            h.note = "the weekday read against the article's date; check it"
        elif h.kind == "rel":
            h.low, h.high = _relative_range(h.relative, today)
            h.value = h.low if h.low == h.high else None
            if h.value:
                h.low = h.high = None
            h.relative, h.note = None, "read against the article's date; check it"


def _relative_range(words: str, today: dt.date) -> tuple[dt.date, dt.date]:
    day = dt.timedelta(days=1)
    if words == "yesterday":
        return today - day, today - day
    *when, span = words.split()
    when = " ".join(when)
    if span == "week":
        monday = today - dt.timedelta(days=today.weekday())
        step = {"last": -7, "next": 7}.get(when, 0)
        low = monday + dt.timedelta(days=step)
        return (low, today - day) if when == "earlier this" else (low, low + 6 * day)
    if span == "month":
        first = today.replace(day=1)
        if when == "last":
            first = (first - day).replace(day=1)
        elif when == "next":
            first = (first + dt.timedelta(days=31)).replace(day=1)
        last = _month_range(first.year, first.month)[1]
        return (first, today - day) if when == "earlier this" else (first, last)
    if span == "year":
        year = today.year + {"last": -1, "next": 1}.get(when, 0)
        if when == "earlier this":
            return dt.date(year, 1, 1), today - day
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    # a season: the next one that starts after the article's date, or the last that ended
    for year in ((today.year, today.year + 1) if when == "next"
                 else (today.year, today.year - 1, today.year - 2)):
        low, high = _season_range(year, span)
        if (when == "next" and low > today) or (when == "last" and high < today):
            return low, high
    return _season_range(today.year, span)  # pragma: no cover - one of the years fits


# --- quantities ----------------------------------------------------------------------


def _parse_words(words: str) -> Fraction | None:
    tokens = [t for t in re.split(r"[\s-]+", words.lower()) if t and t != "and"]
    total, current, seen_number = 0, 0, False
    for tok in tokens:
        if tok in ("a", "an"):
            current, seen_number = 1, True
        elif tok in _WORD_VALUES:
            current += _WORD_VALUES[tok]
            seen_number = True
        elif tok == "hundred":
            current = (current or 1) * 100
        elif tok == "dozen":
            current = (current or 1) * _DOZEN
        elif tok in _SCALES:
            total += (current or 1) * _SCALES[tok]
            current = 0
    if not seen_number:
        return None  # "thousand" alone
    return Fraction(total + current)


def _parse_digits(digits: str) -> Fraction:
    return Fraction(digits.replace(",", "").replace(" ", ""))


def _unit_at(text: str, pos: int) -> tuple[str, str, int] | None:
    """(canonical unit, kind, end) of a unit spelled right at pos, or None."""
    m = _UNIT_AFTER.match(text, pos)
    if not m:
        return None
    unit = _ARTICLE_UNITS[normalise(m.group("unit"))]
    kind = "duration" if dimensionality(unit) == dimensionality("day") else "quantity"
    return unit, kind, m.end()


def _people_at(text: str, pos: int) -> tuple[str, int, str] | None:
    """(unit, end, words between) of people counted right after pos ("70,000 Russian troops")."""
    m = _PEOPLE_AFTER.match(text, pos)
    if not m:
        return None
    between = m.group("between").split()
    if any(w.lower() in _STOP or _NUM_RE.fullmatch(w) for w in between):
        return None
    if between and _unit_at(" " + " ".join(between), 0):  # "90 square ... people": not people
        return None
    noun = m.group("mil") or m.group("civ")
    return ("troops" if m.group("mil") else "people"), m.end(), " ".join([*between, noun])


@dataclass
class _Quantity:
    value: Fraction | None  # None for a range
    unit: str
    kind: str
    qualifier: str | None
    start: int  # the qualifier's start when there is one
    end: int
    label: str = ""  # words for the suggested id ("russian troops")
    low: Fraction | None = None
    high: Fraction | None = None
    note: str | None = None


def _quantity_at(text: str, m: re.Match, allow_bare: bool) -> _Quantity | None:
    """The quantity whose number the match m found, with its unit and qualifier."""
    start, end = m.span()
    if m.group("digits"):
        value = _parse_digits(m.group("digits"))
        if re.match(r"(?:st|nd|rd|th)\b", text[end:end + 3]):  # 3rd: an ordinal
            return None
        if start > 0 and text[start - 1] in ":/" or re.match(r"[:/]\d", text[end:end + 2]):
            return None  # 10:30, 3/4: times and fractions
        if start > 1 and text[start - 1] == "-" and text[start - 2].isalpha():
            return None  # F-16, COVID-19: a name, not a number
        if _CLOCK_AFTER.match(text, end):
            return None  # 6am, 9 p.m.: a time of day
    else:
        value = _parse_words(m.group("words"))
        if value is None:
            return None
    before = text[max(0, start - 40):start]
    if m.group("words") and re.match(r"an?\b", m.group("words"), re.I):
        half = re.search(r"\bhalf\s+$", before, re.I)
        if half:  # "half a billion"
            value /= 2
            start -= len(before) - half.start()
            before = before[: half.start()]
    cur = _CURRENCY_BEFORE.search(before)
    unit = kind = None
    if cur:
        unit, kind = _CURRENCY_SIGNS[cur.group("cur").strip()], "quantity"
        start -= len(cur.group("cur"))
        before = before[: len(before) - len(cur.group("cur"))]
    sm = _SCALE_AFTER.match(text, end)
    if sm:
        value *= _SCALES[sm.group("scale").lower()]
        end = sm.end()
    elif unit is not None:
        ms = _MONEY_SCALE_AFTER.match(text, end)
        if ms:
            value *= _MONEY_SCALES[ms.group("scale").lower()]
            end = ms.end()
    else:
        ms = _SCALE_LETTERS.match(text, end)  # "41m tonnes", "4.5m pensioners": millions
        if ms and (_unit_at(text, ms.end()) or _people_at(text, ms.end())):
            value *= _MONEY_SCALES[ms.group("scale").lower()]
            end = ms.end()
    after_q = _QUALIFIER_AFTER.match(text, end)  # "1,000 or more people"
    if after_q:
        end = after_q.end()
    label = ""
    if unit is None:
        found = _unit_at(text, end)
        if found:
            unit, kind, end = found
        else:
            people = _people_at(text, end)
            strong = re.match(r"-strong\b", text[end:end + 8])
            if people:
                unit, end, label = people
                kind = "count"
            elif strong:  # "a 2,000-strong reserve": a force of that many
                unit, kind, end, label = "troops", "count", end + strong.end(), "force"
    if unit is None and re.search(r"\bpopulation\s+(?:of\s+)?(?:\w+\s+)?$", before, re.I):
        unit, kind, label = "people", "count", "population"  # "a population of 52,000"
    if unit is None:
        if not allow_bare or (m.group("words") and value < 1000):
            return None  # "one of the", "two sides": small number words need a unit
        unit, kind = "dimensionless", "count"
    elif not after_q:
        after_q = _QUALIFIER_AFTER.match(text, end)  # "90 km² or so"
        if after_q:
            end = after_q.end()
    qualifier, start = _qualifier_before(before, start, kind)
    if after_q:
        qualifier = "or " + after_q.group("q").lower()
    return _Quantity(value, unit, kind, qualifier, start, end, label)


def _qualifier_before(before: str, start: int, kind: str) -> tuple[str | None, int]:
    """The qualifier printed right before a number, and where the figure then starts.

    Before a length of time "over" and "under" usually say when ("spent over five years"
    is a span), so they count as qualifiers there only after "for" or a form of "last".
    """
    qm = _QUALIFIER_BEFORE.search(before)
    if not qm:
        return None, start
    qualifier = " ".join(qm.group("q").lower().split())
    if qualifier == "over" and re.search(r"\b(?:spread|stretch|extend|sprawl)\w*\s+$",
                                         before[: qm.start("q")], re.I):
        return None, start  # "spreads over 75 km²": where, not how much
    if kind == "duration" and qualifier in ("over", "under") and not re.search(
        r"\b(?:for|lasts?|lasted|lasting)\s+$", before[: qm.start("q")], re.I
    ):
        return None, start
    return qualifier, start - (len(before) - qm.start("q"))


def _find_quantities(text: str, taken: list[tuple[int, int]]
                     ) -> list[tuple[_Quantity, tuple[PrintedNearby, ...]]]:
    """Quantities with the conversions printed beside them, outside the spans taken."""
    out: list[tuple[_Quantity, tuple[PrintedNearby, ...]]] = []
    consumed_until = 0
    for m in _NUM_RE.finditer(text):
        if m.start() < consumed_until or _overlaps(m.span(), taken):
            continue
        r = _range_at(text, m)
        if r is not None:
            consumed_until = r.end
            out.append((r, ()))
            continue
        q = _quantity_at(text, m, allow_bare=True)
        if q is None:
            continue
        printed: list[PrintedNearby] = []
        pm = _PAREN_AFTER.match(text, q.end)
        if pm and q.unit != "dimensionless":
            nm = _NUM_RE.match(text, _skip_qualifier_and_currency(text, pm.end()))
            inner = _quantity_at(text, nm, allow_bare=False) if nm else None
            if inner and inner.start >= pm.end() and re.match(r"\s*\)", text[inner.end:]):
                printed.append(PrintedNearby(inner.value, inner.unit, inner.qualifier,
                                       (inner.start, inner.end)))
                q.end = text.index(")", inner.end) + 1
        consumed_until = q.end
        out.append((q, tuple(printed)))
    return out


def _number_of(m: re.Match) -> Fraction | None:
    return _parse_digits(m.group("digits")) if m.group("digits") else _parse_words(
        m.group("words"))


def _range_at(text: str, m: re.Match) -> _Quantity | None:
    """A range of quantities starting at the number m found: "10–15 km", "between 300 and
    400 soldiers", "£10m-£15m", "3 to 5 million people". The second number gives the unit
    (and the scale, when the first has none); "from 190 to 212" is a change, not a range,
    and "31 to 9" (a vote) is no range either."""
    before = text[max(0, m.start() - 40):m.start()]
    start = m.start()
    cur = _CURRENCY_BEFORE.search(before)
    if cur:
        start -= len(cur.group("cur"))
        before = before[: len(before) - len(cur.group("cur"))]
    between = _BETWEEN_BEFORE.search(before)
    pos = m.end()
    v1 = _number_of(m)
    if m.group("words") and between and re.search(r"\s+and\s+", m.group("words")):
        first = re.split(r"\s+and\s+", m.group("words"), maxsplit=1)[0]  # "six and eight"
        v1, pos = _parse_words(first), m.start() + len(first)
    if v1 is None:
        return None
    scaled = False
    sm = _SCALE_AFTER.match(text, pos)
    if sm:
        v1, pos, scaled = v1 * _SCALES[sm.group("scale").lower()], sm.end(), True
    elif cur:
        ms = _MONEY_SCALE_AFTER.match(text, pos)
        if ms:
            v1, pos, scaled = v1 * _MONEY_SCALES[ms.group("scale").lower()], ms.end(), True
    if between:
        sep = _RANGE_AND.match(text, pos)
    elif _FROM_BEFORE.search(before):
        return None
    else:
        sep = _RANGE_DASH.match(text, pos) or _RANGE_TO.match(text, pos)
    if not sep:
        return None
    nm = _NUM_RE.match(text, _CURRENCY_AT.match(text, sep.end()).end())
    if not nm:
        return None
    q2 = _quantity_at(text, nm, allow_bare=True)
    v2 = _number_of(nm)
    if q2 is None or q2.qualifier or v2 is None or (cur and q2.unit != _CURRENCY_SIGNS.get(
            cur.group("cur").strip())):
        return None  # "up to 29 km²"; "$5 to 10 km" is no range of dollars
    if not scaled and v2 and q2.value != v2:
        v1 *= q2.value / v2  # "3 to 5 million": the first shares the second's scale
    if not v1 < q2.value:
        return None
    if between:
        start -= len(between.group(0))
        before = text[max(0, start - 40):start]
    qualifier, start = _qualifier_before(before, start, q2.kind)
    return _Quantity(None, q2.unit, q2.kind, qualifier, start, q2.end, q2.label, low=v1,
                     high=q2.value)


#: vague plurals read as ranges (docs/intake.md); the draft says the range is a convention
_VAGUE_RANGES = {"dozens": (24, 99), "hundreds": (200, 999), "thousands": (2_000, 9_999),
                 "tens of thousands": (20_000, 99_999),
                 "hundreds of thousands": (200_000, 999_999),
                 "millions": (2_000_000, 999_999_999)}
_VAGUE = re.compile(r"\b(?P<w>tens\s+of\s+thousands|hundreds\s+of\s+thousands|dozens|hundreds|"
                    r"thousands|millions)\s+of\b", re.I)


def _find_vague(text: str, taken: list[tuple[int, int]]) -> list[_Quantity]:
    """"Hundreds of farmers", "dozens of km": a range, when people or a unit follow."""
    out = []
    for m in _VAGUE.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        words = " ".join(m.group("w").lower().split())
        low, high = _VAGUE_RANGES[words]
        people, unit = _people_at(text, m.end()), _unit_at(text, m.end())
        if people:
            unit_name, end, label = people
            kind = "count"
        elif unit and unit[1] != "duration":
            unit_name, kind, end = unit
            label = ""
        else:
            continue
        out.append(_Quantity(None, unit_name, kind, None, m.start(), end, label,
                             low=Fraction(low), high=Fraction(high),
                             note=f"'{words} of' read as {low:,} to {high:,} by convention; "
                                  "check it"))
    return out


_DENOMINATORS = {"half": 2, "third": 3, "quarter": 4, "fifth": 5, "tenth": 10}
_NUMERATORS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "seven": 7, "eight": 8, "nine": 9}
_FRACTION = re.compile(r"\b(?:(?P<n>an?|one|two|three|four|five|six|seven|eight|nine)[\s-]+)?"
                       r"(?P<d>half|thirds?|quarters?|fifths?|tenths?)\b(?!-)", re.I)
_HALF_OF = re.compile(r"\s+(?:of|the|all|its|their|his|her|our|this|that|these|those)\b", re.I)
_NOT_A_FRACTION = re.compile(r"\s+(?:time|times|term|round|party|way|century|day|week|month|"
                             r"year|hour|place|world|quarter|final|division|largest|biggest)\b",
                             re.I)


def _find_fractions(text: str, taken: list[tuple[int, int]]) -> list[_Quantity]:
    """Shares said in words: "a third of", "two-thirds", "half of the", "by a fifth"."""
    out = []
    for m in _FRACTION.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        d, n = m.group("d").lower(), (m.group("n") or "").lower()
        if d == "half":
            if n or not _HALF_OF.match(text, m.end()) or _ORDINAL_BEFORE.search(
                    text[max(0, m.start() - 20):m.start()]):
                continue  # "the second half of", "half an hour"
            value = Fraction(1, 2)
        else:
            plural = d.endswith("s")
            num = _NUMERATORS.get(n.rstrip("n") if n == "an" else n)
            if num is None or (num == 1) == plural or _NOT_A_FRACTION.match(text, m.end()):
                continue  # "the third", "a third time"
            value = Fraction(num, _DENOMINATORS[d.rstrip("s")])
        before = text[max(0, m.start() - 40):m.start()]
        qualifier, start = _qualifier_before(before, m.start(), "quantity")
        out.append(_Quantity(value, "dimensionless", "quantity", qualifier, start, m.end(),
                             "share"))
    return out


_ORDINAL_BEFORE = re.compile(r"\b(?:first|second|third|last|latter|other|top|bottom)\s+$", re.I)
_A_UNIT = re.compile(r"\b(?:a|an|one)(?P<u>\s+(?:met(?:er|re)|mile|kilomet(?:er|re)|hectare|"
                     r"acre|tonne|lit(?:er|re)))\b", re.I)


def _find_a_units(text: str, taken: list[tuple[int, int]]) -> list[_Quantity]:
    """One unit said in words after a qualifier: "more than a meter", "nearly a mile"."""
    out = []
    for m in _A_UNIT.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        before = text[max(0, m.start() - 40):m.start()]
        qualifier, start = _qualifier_before(before, m.start(), "quantity")
        found = _unit_at(text, m.start("u"))
        if qualifier and found:
            out.append(_Quantity(Fraction(1), found[0], found[1], qualifier, start, m.end()))
    return out


def _skip_qualifier_and_currency(text: str, pos: int) -> int:
    """Position of the number inside "(around $35 ..." so the number regex can match it."""
    return _QUALIFIER_AND_CURRENCY.match(text, pos).end()


def _find_a_durations(text: str, taken: list[tuple[int, int]]) -> list[_Quantity]:
    """One unit of time said in words: "nearly a year after", "a month later"."""
    out = []
    for m in _A_DURATION.finditer(text):
        if _overlaps(m.span(), taken):
            continue
        before = text[max(0, m.start() - 40):m.start()]
        qualifier, start = _qualifier_before(before, m.start(), "duration")
        if not (qualifier or _RELATIVE_AFTER.match(text, m.end())
                or re.search(r"\b(?:for|within)\s+$", before, re.I)):
            continue  # "once a year", "a day of talks": not a length of time
        unit = m.group("unit").lower()
        value = Fraction(1)
        if unit == "fortnight":
            unit, value = "week", Fraction(2)
        out.append(_Quantity(value, unit, "duration", qualifier, start, m.end()))
    return out


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in taken)


# --- the pass ------------------------------------------------------------------------


_LONG_DIGITS = re.compile(r"\d{41,}|\d{1,3}(?:,\d{3}){13,}")


def extract(text: str) -> list[Found]:
    """Every figure in an article's text, in the order printed, each with a suggested id."""
    text = _same_length_normalise(text)
    # no figure has 40 digits, and Python refuses to read an int of 4,300: blank such runs
    # (same length, so every span still points into the article)
    text = _LONG_DIGITS.sub(lambda m: " " * len(m.group()), text)
    dates = _find_dates(text)
    taken = [h.span for h in dates]
    found: list[Found] = []
    for h in dates:
        found.append(Found(kind="date", value=h.value, unit="date", qualifier=None,
                           span=h.span, evidence=evidence_of(text, h.span), low=h.low,
                           high=h.high, weekday=h.weekday, note=h.note, relative=h.relative))
    durations = _find_a_durations(text, taken)
    taken += [(q.start, q.end) for q in durations]
    vague = _find_vague(text, taken)
    taken += [(q.start, q.end) for q in vague]
    quantities = [(q, ()) for q in durations + vague] + _find_quantities(text, taken)
    taken += [(q.start, q.end) for q, _ in quantities]
    quantities += [(q, ()) for q in _find_fractions(text, taken) + _find_a_units(text, taken)]
    for q, printed in quantities:
        span = (q.start, q.end)
        note = q.note or (_printed_note(q.value, q.unit, printed) if q.value is not None
                          else None)
        found.append(Found(kind=q.kind, value=q.value, unit=q.unit, qualifier=q.qualifier,
                           span=span, evidence=evidence_of(text, span), printed=printed,
                           note=note, id=q.label, low=q.low, high=q.high))
    found.sort(key=lambda f: f.span)
    return _with_ids_and_lines(text, found)


def _printed_note(value: Fraction, unit: str, printed: tuple[PrintedNearby, ...]) -> str | None:
    """Say so when a printed conversion is off by more than rounding explains."""
    notes = []
    for p in printed:
        try:
            exact = convert(value, unit, p.unit)
        except (ValueError, KeyError, UnknownUnit):
            continue
        if exact and abs(p.value - exact) / exact > CONVERSION_TOLERANCE:
            notes.append(f"the printed {_short_number(p.value)} {p.unit} does not match: "
                         f"{_short_number(value)} {unit} is {float(exact):.1f} {p.unit}")
    return "; ".join(notes) or None


def _same_length_normalise(text: str) -> str:
    # No-break and thin spaces separate thousands ("1 000") and words: read them as spaces,
    # one character for one, so spans still index the text the caller holds.
    return text.translate({0xA0: " ", 0x202F: " ", 0x2009: " ", 0x2007: " "})


_ID_BASE = {"km²": "area", "mi²": "area", "m²": "area", "ha": "area", "km": "distance",
            "mi": "distance", "m": "distance", "percent": "share", "USD": "amount",
            "EUR": "amount", "GBP": "amount", "dimensionless": "number"}


def _suggest_id(f: Found) -> str:
    if f.kind == "date":
        if f.value is not None:
            return "date_" + f.value.isoformat().replace("-", "_")
        if f.low is not None:
            if f.low.month == 1 and f.high.month == 12:
                return f"year_{f.low.year}"
            return f"period_{f.low.year}_{f.low.month:02d}"
        return "date_" + slug(f.evidence.split()[-1])
    base = slug(f.id) if f.id else _ID_BASE.get(f.unit, "duration" if f.kind == "duration"
                                                   else "count")
    unit = slug({"km²": "km2", "mi²": "mi2", "m²": "m2"}.get(f.unit, f.unit.lower()))
    if f.value is None:
        suffix = f"{_short_number(f.low)}_to_{_short_number(f.high)}".replace(".", "_")
    else:
        suffix = f"{_short_number(f.value)}".replace(".", "_").replace("/", "_")
    if f.value is not None and f.value.denominator != 1 and f.unit == "dimensionless":
        suffix = f"{f.value.numerator}_{f.value.denominator}"  # share_2_3, not 0.666667
    if f.kind == "count" or f.unit == "dimensionless":
        return f"{base}_{suffix}"
    return f"{base}_{suffix}_{unit}"


def _with_ids_and_lines(text: str, found: list[Found]) -> list[Found]:
    out, seen = [], {}
    for f in found:
        base = _suggest_id(f)
        seen[base] = seen.get(base, 0) + 1
        fid = base if seen[base] == 1 else f"{base}_{seen[base]}"
        line = text.count("\n", 0, f.span[0]) + 1
        out.append(replace(f, id=fid, line=line))
    return out
