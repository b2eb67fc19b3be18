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
    ("on Sunday", a month whose year the article never gives) has neither and a `note`
    saying why.
    """

    kind: str
    value: Fraction | dt.date | None
    unit: str
    qualifier: str | None
    span: tuple[int, int]
    evidence: str
    id: str = ""
    printed: tuple[PrintedNearby, ...] = ()
    low: dt.date | None = None
    high: dt.date | None = None
    weekday: str | None = None  # "Sunday" in "on Sunday": a date the article leaves open
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
            else:
                what = "a date whose year is not printed"
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
            return {"kind": "date", "weekday": self.weekday}
        out: dict = {"value": self.value, "unit": self.unit}
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
        return out


def _short_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return format(float(value), "g")


def yaml_number(value: Fraction) -> int | float:
    """A value as YAML and JSON write it: an int when whole, else a float."""
    return value.numerator if value.denominator == 1 else float(value)


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
          r"employees|evacuees|deaths|fatalities|dead|killed|wounded|injured|"
          r"(?:were|was|have\s+been|had\s+been|are)\s+(?:killed|wounded|injured|dead)")
_CURRENCY_SIGNS = {"$": "USD", "US$": "USD", "USD": "USD", "€": "EUR", "EUR": "EUR",
                   "£": "GBP", "GBP": "GBP"}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 10**6, "billion": 10**9,
           "trillion": 10**12}
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

_WORD = r"(?:" + "|".join([*_SMALL, *_TENS, *_SCALES]) + r")"
_NUM_RE = re.compile(
    r"(?P<digits>(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)"
    r"|(?<![\w.,])\d{1,3}(?: \d{3})+(?![\d.,]\d)"
    r"|(?<![\w.,])\d+(?:\.\d+)?(?![\d,]\d))"
    r"|(?P<words>\b(?:an?[\s-]+(?=hundred|thousand|million|billion))?" + _WORD
    + r"(?:[\s-]+(?:and[\s-]+)?" + _WORD + r")*\b)",
    re.IGNORECASE,
)
_SCALE_AFTER = re.compile(r"[\s-]*(?P<scale>thousand|million|billion|trillion)\b", re.I)
_MONEY_SCALE_AFTER = re.compile(r"\s?(?P<scale>mn|m|bn|b|k)\b", re.I)
# Unit spellings in articles (vocabulary.yaml, `in_articles`) -> canonical unit.
_ARTICLE_UNITS = load_vocabulary().article_spellings


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

_DATE_PATTERNS: list[tuple[str, re.Pattern]] = [
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
    ("sy", re.compile(r"\b(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)(?:\s+of)?\s+"
                      r"(?P<y>\d{4})\b", re.I)),
    ("m", re.compile(r"\b(?i:in|since|by|until|till|from|during|through|throughout|last|this|"
                     r"next|before|after|early|late|mid-?)\s+(?:(?P<part>(?i:early|mid-?|late))"
                     r"\s*)?"
                     r"(?P<mon>" + "|".join(_MONTHS) + r")\b(?!\s+\d)")),
    ("s", re.compile(r"\b(?:in|since|by|until|during|through|throughout|last|this|next)\s+"
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


def _find_dates(text: str) -> list[_DateHit]:
    hits: list[_DateHit] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            span = m.span()
            if _overlaps(span, taken):
                continue
            hit = _date_hit(kind, m)
            if hit is None:
                continue
            hits.append(hit)
            taken.append(span)
    hits += _find_years_alone(text, taken)
    hits.sort(key=lambda h: h.span)
    _resolve_years(hits)
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
        if kind == "sy":
            low, high = _season_range(int(g["y"]), g["season"])
            return _DateHit(span, kind, low=low, high=high)
        if kind == "m":
            return _DateHit(span, kind, month=_month_number(g["mon"]), part=g.get("part"))
        if kind == "s":
            return _DateHit(span, kind, season=g["season"].lower())
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


def _resolve_years(hits: list[_DateHit]) -> None:
    """Give a date printed without its year ("in January") the year the story implies.

    Take the dated mention printed nearest before it (else the first after it), and of that
    year, the year before and the year after, the one that puts the month closest in time to
    it: "the fall of 2024 ... in January" is January 2025, "agreed on 11 November 2023 ...
    compared with October" is October 2023. The draft marks the guess for review.
    """
    known: list[tuple[int, dt.date]] = []  # (position, first day) of dates with a year
    for h in hits:
        start = h.value or h.low
        if start is not None:
            known.append((h.span[0], start))
    for h in hits:
        if h.kind not in ("dm", "md", "m", "s"):
            continue
        before = [d for pos, d in known if pos < h.span[0]]
        after = [d for pos, d in known if pos > h.span[0]]
        month = h.month or _SEASONS[h.season][0]
        if before or after:
            anchor = before[-1] if before else after[0]
            year = min((anchor.year - 1, anchor.year, anchor.year + 1),
                       key=lambda y: abs((dt.date(y, month, 1) - anchor).days))
            how = f"guessed from the date {'before' if before else 'after'} it"
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
        else:
            h.low, h.high = _season_range(year, h.season)
        h.note = f"year {year} is not printed; {how}: check it"


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
    value: Fraction
    unit: str
    kind: str
    qualifier: str | None
    start: int  # the qualifier's start when there is one
    end: int
    label: str = ""  # words for the suggested id ("russian troops")


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
        if not allow_bare or m.group("words"):
            return None  # "one of the", "two sides": number words need a unit
        unit, kind = "dimensionless", "count"
    qualifier, start = _qualifier_before(before, start, kind)
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


def extract(text: str) -> list[Found]:
    """Every figure in an article's text, in the order printed, each with a suggested id."""
    text = _same_length_normalise(text)
    dates = _find_dates(text)
    taken = [h.span for h in dates]
    found: list[Found] = []
    for h in dates:
        found.append(Found(kind="date", value=h.value, unit="date", qualifier=None,
                           span=h.span, evidence=evidence_of(text, h.span), low=h.low,
                           high=h.high, weekday=h.weekday, note=h.note))
    durations = _find_a_durations(text, taken)
    taken += [(q.start, q.end) for q in durations]
    quantities = [(q, ()) for q in durations] + _find_quantities(text, taken)
    for q, printed in quantities:
        span = (q.start, q.end)
        found.append(Found(kind=q.kind, value=q.value, unit=q.unit, qualifier=q.qualifier,
                           span=span, evidence=evidence_of(text, span), printed=printed,
                           note=_printed_note(q.value, q.unit, printed), id=q.label))
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
    unit = {"km²": "km2", "mi²": "mi2", "m²": "m2"}.get(f.unit, f.unit.lower())
    suffix = f"{_short_number(f.value).replace('.', '_')}"
    if f.kind == "count":
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
