"""Article intake: read an article file, draft a source file from its figures, and list
what a reviewed source file leaves out.

`read_article(path)` returns an article's readable text (plain text, Markdown or HTML) or
refuses the file with an IntakeError: too big, empty, binary, not UTF-8. `extract_file` reads
and extracts in one step; `draft_source` / `dump_draft` write the draft the analyst reviews,
and `write_atomic` / `refuse_existing` put it on disk without overwriting a reviewed file.
`missing_figures(source, text)` and `format_missing` serve `analysis check --against`.
Finding the figures themselves is analysis.intake.extract's work.
"""

from __future__ import annotations

import calendar
import codecs
import datetime as dt
import html.parser
import re
from fractions import Fraction
from pathlib import Path

import yaml

from analysis.errors import IntakeError, UnknownUnit
from analysis.figures.bounds import half_unit
from analysis.figures.units import is_headcount, parse_unit
from analysis.files import atomic_write
from analysis.intake.extract import Found, PrintedNearby, evidence_of, extract, slug, yaml_number

#: Refuse articles above this size: a long news article is about 50 kB, so a file this
#: big is not one article (a dump, a book, a binary) and would only be slow to scan.
MAX_ARTICLE_BYTES = 10_000_000  # 10 MB


# --- reading an article --------------------------------------------------------------


class _TextOfHTML(html.parser.HTMLParser):
    """The readable text of an HTML page: the article, not the page around it.

    Dropped with everything inside them: scripts, styles and other non-text elements; the
    page's title, navigation, asides ("most read", "related"), footers and a header outside
    the <article>; and any element whose class or id names it as an advert, banner,
    promotion, sponsored block, menu or the like. Their numbers are not the article's.
    """

    _SKIP = {"script", "style", "noscript", "template", "svg", "iframe", "object", "title",
             "nav", "aside", "footer", "form", "button", "select"}
    _BOILERPLATE = {"ad", "ads", "advert", "adverts", "advertisement", "banner", "promo",
                    "sponsor", "sponsored", "related", "newsletter", "cookie", "cookies",
                    "social", "share", "masthead", "breadcrumb", "breadcrumbs", "menu",
                    "sidebar", "outbrain", "taboola", "subscribe", "paywall"}
    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
             "source", "track", "wbr"}
    _BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
              "td", "th", "table", "section", "article", "header", "footer", "blockquote",
              "title", "figcaption", "pre", "hr", "dd", "dt", "main", "aside", "nav", "time"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list = []  # [tag, depth] of the element being dropped
        self.in_article = 0

    def _boilerplate(self, tag, attrs) -> bool:
        if tag in self._SKIP or (tag == "header" and not self.in_article):
            return True
        names = " ".join(v or "" for k, v in attrs if k in ("class", "id", "role"))
        return bool(self._BOILERPLATE & set(re.split(r"[\s_-]+", names.lower())))

    def handle_starttag(self, tag, attrs):
        if self.skip:
            if tag == self.skip[0] and tag not in self._VOID:
                self.skip[1] += 1
            return
        if tag not in self._VOID and self._boilerplate(tag, attrs):
            self.skip = [tag, 1]
            return
        if tag == "article":
            self.in_article += 1
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if not self.skip and tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skip:
            if tag == self.skip[0]:
                self.skip[1] -= 1
                if self.skip[1] == 0:
                    self.skip = []
            return
        if tag == "article":
            self.in_article = max(0, self.in_article - 1)
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of HTML: tags, comments, scripts and styles gone; nothing fetched."""
    parser = _TextOfHTML()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


_URL = re.compile(r"https?://\S+|www\.\S+")


def markdown_to_text(markup: str) -> str:
    """Readable text of Markdown: links and images keep their words; URLs, code blocks,
    comments, heading and quote marks, emphasis, code marks and inline HTML tags go."""
    text = re.sub(r"```.*?```", "", markup, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<(?:https?://|www\.)[^>]*>", "", text)
    text = re.sub(r"^\s{0,3}(?:#{1,6}|>+)\s?", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    text = re.sub(r"(?<!\w)_(\S[^_]*?)_(?!\w)", r"\1", text)
    text = re.sub(r"<[^>\n]+>", "", text)  # inline HTML such as <sup>2</sup>
    return _URL.sub("", text)


def _looks_like_html(text: str, suffix: str) -> bool:
    if suffix in (".html", ".htm", ".xhtml"):
        return True
    head = text.lstrip()[:500].lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or "<body" in head


def _guess_encoding(data: bytes) -> str:
    """A best guess at the encoding of bytes that are not UTF-8, in iconv's spelling."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            return name
    sample = data[:4000]
    if len(sample) > 8:
        if sample[1::2].count(0) > len(sample) * 0.4:
            return "UTF-16LE"
        if sample[0::2].count(0) > len(sample) * 0.4:
            return "UTF-16BE"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "ISO-8859-1"
    if any(0x80 <= b <= 0x9F for b in data):
        return "WINDOWS-1252"  # bytes Latin-1 leaves unused: curly quotes, dashes
    return "ISO-8859-1"


def _not_utf8(name: str, guess: str, why: str) -> IntakeError:
    return IntakeError(name, f"the text is not UTF-8 ({why}); it looks like {guess}",
                       f"convert it first: iconv -f {guess} -t UTF-8 {name} > article.utf8.txt"
                       ", then extract from article.utf8.txt")


def read_article(path: str | Path) -> str:
    """An article's readable text (plain text, Markdown or HTML), or an IntakeError."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise IntakeError(name, "no such file", "name an article saved as .txt, .md or .html")
    size = p.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise IntakeError(
            name, f"the file is {size:,} bytes, over the limit of {MAX_ARTICLE_BYTES:,} bytes "
            f"({MAX_ARTICLE_BYTES / 1e6:g} MB) for one article",
            "save just the article's text to its own file and extract from that")
    with p.open("rb") as fh:
        data = fh.read(MAX_ARTICLE_BYTES + 1)
    if not data.strip():
        raise IntakeError(name, "the file is empty", "save the article's text into it, or "
                          "name the right file")
    if b"\x00" in data:
        guess = _guess_encoding(data)
        if guess.startswith("UTF-"):
            raise _not_utf8(name, guess, "it holds NUL bytes")
        raise IntakeError(name, "this is a binary file (it holds NUL bytes), not an article",
                          "save the article as plain text, Markdown or HTML; for a PDF or "
                          "word-processor file, export its text first")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _not_utf8(name, _guess_encoding(data),
                        f"byte 0x{data[exc.start]:02X} on line {line} is not valid UTF-8"
                        ) from None
    if _looks_like_html(text, p.suffix.lower()):
        return html_to_text(text)
    if p.suffix.lower() in (".md", ".markdown"):
        return markdown_to_text(text)
    return _URL.sub(lambda m: " " * len(m.group()), text)  # URLs hold numbers, not figures


def extract_file(path: str | Path) -> tuple[str, list[Found]]:
    """Read an article and extract its figures; IntakeError when it holds none."""
    text = read_article(path)
    found = extract(text)
    if not found:
        raise IntakeError(str(path), "no figures found (no number, date or quantity the "
                          "extractor recognises)",
                          "check that this is the article you meant; if a figure is spelled "
                          "in a way docs/intake.md lists as not caught, write it by hand")
    return text, found


# --- the draft source file -----------------------------------------------------------


def _dedupe(found: list[Found]) -> list[Found]:
    """One figure per distinct statement: a number printed twice is one figure to review."""
    out, seen = [], set()
    for f in found:
        key = (f.kind, f.value, f.unit, f.qualifier, f.low, f.high,
               tuple((p.value, p.unit, p.qualifier) for p in f.printed))
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def draft_figure(f: Found) -> dict:
    """One figure of the draft, in the data format, marked for review."""
    desc = f"TODO describe: {f.describe()}"
    if f.note:
        desc += f"; {f.note}"
    fig: dict = {"id": f.id, "description": desc, "attributed_to": "TODO: who says so"}
    if f.kind == "date":
        fig["kind"] = "date"
        if f.value is not None:
            fig["value"] = f.value
        elif f.low is not None:
            fig["low"], fig["high"] = f.low, f.high
    else:
        if f.value is None:  # a range: "10–15 km", "hundreds of people"
            fig["low"], fig["high"] = yaml_number(f.low), yaml_number(f.high)
        else:
            fig["value"] = yaml_number(f.value)
        fig["unit"] = f.unit
        if f.qualifier:
            fig["qualifier"] = f.qualifier
        if f.printed:
            fig["printed"] = [
                {"value": yaml_number(p.value), "unit": p.unit,
                 **({"qualifier": p.qualifier} if p.qualifier else {})}
                for p in f.printed
            ]
    fig["review"] = True
    fig["evidence"] = f.evidence
    return fig


def draft_source(text: str, found: list[Found], article: str | Path) -> dict:
    """A draft source file for an article: metadata to fill in and every figure found."""
    title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(title) > 200:
        title = "TODO: the article's title"
    days = [d for f in found if f.kind == "date" for d in (f.value, f.low, f.high) if d]
    sid = slug(Path(article).stem).replace("_", "-")
    if not sid[:1].isalpha():
        sid = f"article-{sid}".rstrip("-")  # an id starts with a letter
    meta: dict = {"id": sid,
                  "title": title, "publisher": None, "url": None, "language": "en"}
    if days:
        meta["covers"] = {"from": min(days), "to": max(days)}
    meta["notes"] = [f"Drafted by `analysis extract` from {Path(article).name}; every figure "
                     "is marked review: true until someone has checked it against the article."]
    return {"source": meta, "figures": [draft_figure(f) for f in _dedupe(found)]}


_HEADER = ("# Draft source file written by `analysis extract`. Check every figure against the\n"
           "# article, write its description and who said it, then delete its `review: true`.\n"
           "# Format: docs/data-format.md\n")


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # a date used twice is written twice, not as &id001
        return True


def dump_draft(draft: dict) -> str:
    """The draft as YAML (safe types only), with a header saying what to do with it."""
    return _HEADER + yaml.dump(draft, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                               width=100)


def refuse_existing(path: str | Path, *, force: bool) -> None:
    """IntakeError if path exists and force is off: a reviewed file is never overwritten."""
    if Path(path).exists() and not force:
        raise IntakeError(str(path), "the file already exists; nothing was written",
                          "pass --force to replace it, or choose another -o path")


def write_atomic(path: str | Path, text: str, *, force: bool = False) -> None:
    """Write a draft through the project's one atomic writer (analysis.reports.publish), so a
    reader never sees half a file. Without force an existing file is left as it is."""
    refuse_existing(path, force=force)
    folder = Path(path).parent
    if not folder.is_dir():
        # a mistyped folder would otherwise hold a draft that nobody reviews
        raise IntakeError(str(path), f"the folder {folder} does not exist; nothing was written",
                          "create it first, or check the -o path")
    try:
        atomic_write(Path(path), text.encode("utf-8"))
    except OSError as exc:  # /proc, a read-only disk, a full disk: nothing was written
        raise IntakeError(str(path), f"cannot write here ({exc.strerror}); nothing was written",
                          "choose a file in a folder you can write to") from None


# --- what a source file leaves out ---------------------------------------------------


def _unit_key(unit: str) -> str:
    try:
        canon = parse_unit(unit)
    except UnknownUnit:
        canon = unit
    return "headcount" if is_headcount(canon) else canon  # troops or people: a headcount


def _date_ranges(fig) -> list[tuple[dt.date, dt.date]]:
    """Every day or range a date figure (or one of its readings) gives."""
    out = []
    for r in [fig, *getattr(fig, "readings", {}).values()]:
        if isinstance(r.value, dt.date):
            out.append((r.value, r.value))
        elif isinstance(r.low, dt.date) and isinstance(r.high, dt.date):
            out.append((r.low, r.high))
    return out


def _date_accounted(f: Found, figures) -> bool:
    dated = [fig for fig in figures if getattr(fig, "kind", None) == "date"]
    if f.value is None and f.low is None:
        if f.weekday:  # "on Sunday": accounted for by a date that is or may be a Sunday
            weekday = f.weekday
            for fig in dated:
                ranges = _date_ranges(fig)
                if not ranges:
                    return True
                for lo, hi in ranges:
                    if (hi - lo).days >= 6 or any(
                        calendar.day_name[(lo + dt.timedelta(days=i)).weekday()] == weekday
                        for i in range((hi - lo).days + 1)
                    ):
                        return True
            return False
        return bool(dated)  # a month without its year: any dated figure may hold it
    lo, hi = (f.value, f.value) if f.value is not None else (f.low, f.high)
    for fig in dated:
        for flo, fhi in _date_ranges(fig):
            if (lo <= flo and fhi <= hi) or (flo <= lo and hi <= fhi):
                return True
    return False


def _quantity_accounted(f: Found, figures, ignore) -> bool:
    """A figure has its value (or a reading does, or a bound); a range ("10–15 km") is
    accounted for by a figure with its ends as bounds, or with a value inside it."""
    key = _unit_key(f.unit)
    for fig in figures:
        if getattr(fig, "kind", None) == "date" or _unit_key(fig.unit) != key:
            continue
        for r in [fig, *getattr(fig, "readings", {}).values()]:
            if f.value is not None and f.value in (r.value, r.low, r.high):
                return True
            if f.value is not None and _rounds_to(f.value, r):
                return True
            if f.value is None and ((r.low, r.high) == (f.low, f.high) or (
                    r.value is not None and f.low <= r.value <= f.high)):
                return True
    if f.value is None:
        return _ignored(f.low, f.unit, ignore) and _ignored(f.high, f.unit, ignore)
    return _ignored(f.value, f.unit, ignore)


def _rounds_to(value: Fraction, r) -> bool:
    """A share in words ("two-thirds") written as a decimal (0.67, or the draft's
    0.6666666666666666): the same figure when the decimal is the share rounded."""
    written = getattr(r, "written", None)
    if value.denominator == 1 or written is None or r.value is None:
        return False
    return abs(r.value - value) <= half_unit(written)


def _ignored(value: Fraction, unit: str, ignore) -> bool:
    key = _unit_key(unit)
    return any(_unit_key(i.unit) == key and Fraction(i.value) == value for i in ignore)


def _printed_accounted(p: PrintedNearby, figures) -> bool:
    key = _unit_key(p.unit)
    return any(_unit_key(pp.unit) == key and pp.value == p.value
               for fig in figures for pp in getattr(fig, "printed", []))


def missing_figures(source, text: str) -> list[Found]:
    """Quantities and dates in the article that no figure, printed conversion or ignore
    entry of the source file accounts for, in the order printed: quantities by value and
    unit, dates by the day or range a date figure gives.

    A printed conversion the file lacks comes back as a Found of its own.
    """
    figures, ignore = list(source.figures), list(getattr(source, "ignore", []))
    missing: list[Found] = []
    for f in extract(text):
        if f.kind == "date":
            if not _date_accounted(f, figures):
                missing.append(f)
            continue
        if not _quantity_accounted(f, figures, ignore):
            missing.append(f)
        for p in f.printed:
            if not _printed_accounted(p, figures) and not _ignored(p.value, p.unit, ignore):
                missing.append(Found(kind="quantity", value=p.value, unit=p.unit,
                                     qualifier=p.qualifier, span=p.span,
                                     evidence=evidence_of(text, p.span),
                                     id=f"{f.id}_printed", line=f.line,
                                     note=f"printed beside {f.id}"))
    return missing


def format_missing(article: str | Path, missing: list[Found]) -> list[str]:
    """One line per missing figure: 'ARTICLE:LINE: 70000 troops (an estimated) "..."'."""
    return [f'{article}:{f.line}: {f.describe()} "{f.evidence}" (suggested id: {f.id})'
            for f in missing]
