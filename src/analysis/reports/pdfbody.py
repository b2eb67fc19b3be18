"""The body of a report's PDF: pandoc reads the notebook's markdown, this module applies
the project's rules to pandoc's document, pandoc writes Typst.

pandoc's JSON document is walked here, in Python. A Lua filter did this before, and
half of a PDF's time went into moving the document between pandoc and Lua; two short
pandoc runs (markdown to JSON, JSON to Typst) with a walk in between cost half as much.

Cell outputs do not go through pandoc's markdown reader: `Body` builds each one as
pandoc blocks (a chart as a Typst figure, text as a code block) and leaves a placeholder
in the markdown, a raw block holding a random token that no notebook can guess. A
reader's table is written as Typst here, from its data (`table_blocks`, `markup`): the
same Typst pandoc's writer made of it, byte for byte (tests/test_pdfbody.py checks this
against pandoc), without the 50 ms a report pandoc took to read and write the tables.
HTML outputs other than a reader's table are read by pandoc's HTML reader, sandboxed: it
reads no file and fetches nothing.

The rules, for everything pandoc reads (markdown cells, Markdown and HTML outputs):

1. Every raw block or inline is dropped (a ```{=typst} block in a markdown cell, raw
   HTML), so notebook text never becomes Typst code. Only this module writes raw Typst,
   around text that pandoc's writer escapes or that `markup` escapes as it would.
2. Only images that render.py wrote (fig-N.ext) are kept; any other image becomes its
   alt text, because Typst would fail on a missing or remote file.
3. A chart becomes a Typst figure with its alt text (pandoc's writer drops alt); the alt
   text enters Typst only as an escaped string literal, the caption as pandoc's Typst.
4. Table columns whose body cells are all numbers are aligned right, the others left; a
   short table is kept on one page (an unbreakable block).
5. A table cell's ``cell-label`` span (the column name a phone shows) is dropped.
6. A link to an anchor the document does not have becomes its text: Typst fails the
   whole report on a label that does not exist.
7. A run of more than 40 characters without a space gets an invisible break point every
   20, so a long word or address wraps instead of pushing a table off the page.
8. A word starting with "." starts with an escaped dot: pandoc writes *x* as `#emph[x]`,
   and Typst read `*x*.at(panic(1))` as a method call on it.
9. A code block or inline code keeps one class, and only a plain language name: pandoc
   writes it unescaped after ```, so a class like x```#code``` ran the code.
10. A Unicode line break in text (U+0085, U+2028, U+2029) is a space: Typst ends a line
   there, and "x\u2028/ t" started a term list that failed the whole PDF.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import subprocess
from typing import Any

import pypandoc

from analysis.errors import RenderError

# gfm is closest to Jupyter's markdown; raw_attribute carries the placeholders (rule 1
# drops any other raw format); no YAML block may set metadata; no $...$ becomes math
# (the HTML page shows dollars as typed, and a price is no formula); no footnotes and no
# "> [!NOTE]" alerts, which neither the HTML page (nbconvert's mistune) nor JupyterLab
# renders (they cost pandoc's reader 11 and 7 ms a report, too).
PANDOC_FORMAT = ("gfm+raw_attribute-yaml_metadata_block-tex_math_dollars-tex_math_gfm"
                 "-emoji-footnotes-alerts")
# --sandbox: readers and writers touch no file or URL; --quiet: a warning is not a
# failure, and cron mail under `build --quiet` must show failures only
PANDOC_ARGS = ["--sandbox", "--quiet"]

OWN_IMAGE = re.compile(r"fig-[0-9]+\.[A-Za-z]+")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+-]{1,40}")
SHORT_TABLE_ROWS = 14
LONG, EVERY = 40, 20
ZWSP = "\u200b"
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
# Unicode line breaks, which Typst (not pandoc) ends a line at, so that a marker after one
# started a list or a term: in text they are a space (rule 10)
_TYPST_NEWLINES = str.maketrans({"\x85": " ", "\u2028": " ", "\u2029": " "})
_LUA_SPACE = " \t\n\r\f\v"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                     r"|[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
                     r"(?:[pP][+-]?[0-9]+)?")
_MISSING = frozenset({"", "nan", "NaN", "<NA>", "None", "NaT", "-", "inf", "-inf"})

Node = dict[str, Any]


@functools.cache
def _pandoc_path() -> str:
    # the binary pypandoc would run (the cache key records its version); run directly,
    # because pypandoc.convert_text starts pandoc twice more to list its formats
    return pypandoc.get_pandoc_path()


_SURROGATE = re.compile("[\ud800-\udfff]")


def _pandoc(text: str, source: str, target: str, *extra: str, doing: str) -> str:
    """pandoc from ``source`` to ``target``; ``doing`` names the step in its error."""
    data = _SURROGATE.sub("\ufffd", text).encode("utf-8")  # a lone surrogate is no UTF-8
    try:
        done = subprocess.run([_pandoc_path(), "-f", source, "-t", target, *PANDOC_ARGS, *extra],
                              input=data, capture_output=True, check=False)
    except OSError as exc:
        raise RenderError(f"pandoc could not run: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"pandoc could not {doing}: {detail}")
    return done.stdout.decode("utf-8")


def _document(text: str, source: str, doing: str) -> dict[str, Any]:
    try:
        return json.loads(_pandoc(text, source, "json", doing=doing))
    except RecursionError as exc:
        raise RenderError(f"pandoc could not {doing}: it is nested too deeply") from exc


# ------------------------------------------------------------------ building blocks


def _attr(identifier: str = "", classes: list[str] | None = None) -> list:
    return [identifier, classes or [], []]


def breakable(word: str) -> str:
    """Rule 7: an invisible break point every 20 characters of a run longer than 40."""
    if len(word) <= LONG:
        return word
    parts = [word[i:i + EVERY] for i in range(0, len(word), EVERY)]
    return ZWSP.join(parts)


def _split(text: str) -> list[str]:
    """The words of plain text, split at ASCII spaces (rule 10: and Unicode line breaks),
    each with its break points (rule 7)."""
    return [breakable(w) for w in _SPACES.split(text.translate(_TYPST_NEWLINES).strip()) if w]


def words(text: str) -> list[Node]:
    """Plain text as pandoc inlines: words and spaces, never markup."""
    out: list[Node] = []
    for word in _split(text):
        if out:
            out.append({"t": "Space"})
        out.append({"t": "Str", "c": word})
    return out


def fence(text: str, info: str = "") -> str:
    """A fenced markdown block that ``text`` cannot close: longer than any backtick run."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


def raw_typst(text: str) -> Node:
    return {"t": "RawBlock", "c": ["typst", text]}


def typst_string(text: str) -> str:
    """A Typst string literal: no way out of the quotes, no control characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def note(text: str) -> list[Node]:
    """A short note in italics, e.g. for an output that cannot be shown."""
    return [{"t": "Para", "c": [{"t": "Emph", "c": words(text)}]}]


def code_block(text: str) -> list[Node]:
    return [{"t": "CodeBlock", "c": [_attr(), text.rstrip("\n")]}]


def error_blocks(title: str, trace: str) -> list[Node]:
    return [{"t": "Div", "c": [_attr(), [
        {"t": "Para", "c": [{"t": "Strong", "c": words(title)}]}, *code_block(trace)]]}]


def figure_blocks(name: str, alt: str | None, caption: str | None) -> list[Node]:
    """Rule 3 for a chart render.py wrote: a Typst figure with its alt text; with no
    caption, the image alone, in a paragraph of its own, still with its alt text."""
    if not caption:
        image = f'#box(image("{name}", alt: {typst_string(alt or "Chart")}))'
        return [{"t": "Para", "c": [{"t": "RawInline", "c": ["typst", image]}]}]
    return _typst_figure(name, alt or "Chart", words(caption))


def _typst_figure(name: str, alt: str, caption: list[Node]) -> list[Node]:
    # the caption's inlines sit between two raw inlines, so pandoc's writer escapes them
    # and sets them on the same line as the brackets (no space at either end)
    opening = f'#figure(image("{name}", alt: {typst_string(alt)}), caption: ['
    return [{"t": "Plain", "c": [{"t": "RawInline", "c": ["typst", opening]}, *caption,
                                 {"t": "RawInline", "c": ["typst", "])"]}]}]


def _caption_inlines(blocks: list[Node]) -> list[Node]:
    """A figure caption's blocks as one line of inlines (paragraphs joined by a space)."""
    out: list[Node] = []
    for block in blocks:
        inlines = block["c"] if block.get("t") in ("Plain", "Para") else words(stringify(block))
        if out and inlines:
            out.append({"t": "Space"})
        out.extend(inlines)
    return out


# How pandoc's Typst writer (smart quotes on, its default) writes a word: these characters
# escaped with a backslash, these written as Typst's shorthand for them.
_TYPST_SPECIAL = frozenset("[]#<>@$\\`_*~'\"")
_TYPST_SHORTHAND = {"\u00a0": "~", "\u2019": "'", "\u2014": "---", "\u2013": "--"}
# a word that, first in a line or a content block and followed by a space, starts a list
# item, a numbered item, a term or a heading
_TYPST_MARKER = re.compile(r"[-+/]|=+|[0-9]+\.")
# the same marker before a space that is not ASCII (an em space), which Typst takes too
_TYPST_MARKER_SPACE = re.compile(rf"(?:{_TYPST_MARKER.pattern})\s")


def _markup_word(word: str) -> str:
    chars, last = [], "\n"
    for c in word:
        if c in _TYPST_SPECIAL or (c == last and c in "-/"):
            chars.append("\\" + c)
        else:
            chars.append(_TYPST_SHORTHAND.get(c, c))
        last = c
    return "".join(chars)


def markup(text: str) -> str:
    """Plain text as Typst markup that shows that text, in words and single spaces, as
    pandoc's Typst writer writes a run of `words`, with one fix: a first word that starts
    a list item, a heading or a term (`- x`, `+ x`, `1. x`, `= x`, `/ x: y`) is escaped.
    pandoc escapes one only at the start of a line, but a table cell or caption starts a
    content block, which Typst reads as one: `[- x]` was a bulleted list. (Only the
    marker before a space: `\\-5` would print a hyphen where `-5` prints a minus sign.)"""
    found = _split(_SURROGATE.sub("\ufffd", text))
    if not found:
        return ""
    first = found[0]
    escape_first = first[0] == "(" or _TYPST_MARKER_SPACE.match(first) is not None or (
        len(found) > 1 and _TYPST_MARKER.fullmatch(first) is not None)
    return " ".join("\\" * (word[0] == ";" or (i == 0 and escape_first)) + _markup_word(word)
                    for i, word in enumerate(found))


def _column_aligns(rows: list[list[str]], ncols: int) -> list[str]:
    """Rule 4: "right" for a column whose body cells are all numbers (and some not
    empty), "left" for the others."""
    numeric, seen = [True] * ncols, [False] * ncols
    for row in rows:
        for i, text in enumerate(row):
            kind = _number_kind(text)
            if kind is False:
                numeric[i] = False
            elif kind:
                seen[i] = True
    return ["right" if numeric[i] and seen[i] else "left" for i in range(ncols)]


def table_blocks(table: dict[str, Any]) -> list[Node]:
    """A reader's table (analysis.outputs data) as Typst: the table pandoc's writer would
    make of it (a header row, a rule, the rows; numeric columns right-aligned; a short
    table kept on one page), written here, because pandoc took about 50 ms a report to
    read and write the tables back."""
    columns, rows = table["columns"], table["rows"]
    aligns = _column_aligns([[" ".join(_split(v)) for v in row] for row in rows], len(columns))

    def row_line(cells: list[str]) -> str:
        return ", ".join(f"[{markup(c)}]" for c in cells) + ","

    lines = ["#figure(", "  align(center)[#table(", f"    columns: {len(columns)},",
             "    align: (" + "".join(f"{a}," for a in aligns) + "),",
             f"    table.header({row_line(columns)}),", "    table.hline(),"]
    lines += [f"    {row_line(row)}" for row in rows]
    lines.append("  )]")
    if table["caption"]:
        lines.append(f"  , caption: [{markup(table['caption'])}]")
    lines += ["  , kind: table", "  )", "", ""]
    typst = "\n".join(lines)
    if len(rows) <= SHORT_TABLE_ROWS:
        return [raw_typst("#block(breakable: false)["), raw_typst(typst), raw_typst("]")]
    return [raw_typst(typst)]


# ----------------------------------------------------------------------- the rules


def stringify(value: Any) -> str:
    """The text of inlines or blocks, as pandoc.utils.stringify gives it."""
    if isinstance(value, list):
        return "".join(stringify(v) for v in value)
    if not isinstance(value, dict):
        return ""
    tag = value.get("t")
    if tag == "Str":
        return value["c"]
    if tag in ("Space", "SoftBreak", "LineBreak"):
        return " "
    if tag in ("Code", "Math"):
        return value["c"][1]
    if tag in ("RawInline", "RawBlock", "Note"):
        return ""
    c = value.get("c")
    if tag in ("Link", "Image"):
        return stringify(c[1])
    if tag in ("Span", "Div"):
        return stringify(c[1])
    if tag == "Quoted":
        double = c[0].get("t") == "DoubleQuote"
        return ("\u201c" if double else "\u2018") + stringify(c[1]) + (
            "\u201d" if double else "\u2019")
    return stringify(c) if isinstance(c, list) else ""


def _number_kind(text: str) -> bool | None:
    """True: a number; None: empty or a missing-value marker; False: text. As the Lua
    filter had it: ASCII spaces trimmed, then thousands commas, one trailing % and a
    leading minus sign (U+2212) taken off, then Lua's tonumber (ASCII digits, decimal or
    hexadecimal, spaces around allowed)."""
    text = text.strip(_LUA_SPACE)
    if text in _MISSING:
        return None
    bare = text.replace(",", "").removesuffix("%")
    if bare.startswith("\u2212"):
        bare = "-" + bare[1:]
    return bool(_NUMBER.fullmatch(bare.strip(_LUA_SPACE)))


def _align_numeric_columns(table: Node) -> None:
    """Rule 4 on a table pandoc read (from markdown or HTML): `_column_aligns`, unless a
    cell spans rows or columns or a row is short or long."""
    _attr_, _caption, specs, _head, bodies, _foot = table["c"]
    ncols = len(specs)
    rows = []
    for body in bodies:
        for row in body[3]:
            cells = row[1]
            if len(cells) != ncols or any(c[2] != 1 or c[3] != 1 for c in cells):
                return
            rows.append([stringify(c[4]) for c in cells])
    for spec, align in zip(specs, _column_aligns(rows, ncols), strict=True):
        if align == "right":
            spec[0] = {"t": "AlignRight"}
        elif spec[0].get("t") == "AlignDefault":
            # pandoc wraps tables in align(center); "auto" would centre every cell.
            spec[0] = {"t": "AlignLeft"}


def _table(table: Node) -> list[Node]:
    _align_numeric_columns(table)
    rows = sum(len(body[3]) for body in table["c"][4])
    if rows <= SHORT_TABLE_ROWS:
        return [raw_typst("#block(breakable: false)["), table, raw_typst("]")]
    return [table]


def _images(blocks: list) -> list[Node]:
    found: list[Node] = []
    _visit(blocks, lambda node: found.append(node) if node["t"] == "Image" else None)
    return found


def _rule(node: Node) -> list[Node]:
    """Rules 1 to 5 and 7 for one node whose children are done: its replacement."""
    tag = node["t"]
    if tag in ("RawBlock", "RawInline"):
        return []
    if tag == "Str":
        text = breakable(node["c"].translate(_TYPST_NEWLINES))
        if text.startswith("."):
            # after `#emph[x]` (pandoc's Typst for *x*), a "." would call a method on it:
            # `*x*.at(panic(1))` ran code. An escaped dot ends the expression ("(" and "["
            # pandoc escapes itself).
            rest = [{"t": "Str", "c": text[1:]}] if len(text) > 1 else []
            return [{"t": "RawInline", "c": ["typst", "\\."]}, *rest]
        node["c"] = text
    elif tag in ("CodeBlock", "Code"):
        # a class becomes the raw block's language, written unescaped after ```: keep
        # only plain language names ("x```#code" ran the code)
        attr = node["c"][0]
        attr[1] = [c for c in attr[1] if _LANGUAGE.fullmatch(c)][:1]
    elif tag == "Image":
        if not OWN_IMAGE.fullmatch(node["c"][2][0]):
            return [{"t": "Emph", "c": node["c"][1]}]
    elif tag == "Span":
        if "cell-label" in node["c"][0][1]:
            return []
    elif tag == "Figure":
        images = _images(node["c"][2])
        if len(images) == 1 and OWN_IMAGE.fullmatch(images[0]["c"][2][0]):
            image = images[0]["c"]
            return _typst_figure(image[2][0], stringify(image[1]),
                                 _caption_inlines(node["c"][1][1]))
    elif tag == "Table":
        return _table(node)
    return [node]


def walk(value: Any, rule) -> Any:
    """Bottom-up over pandoc's JSON: a node's children first, then ``rule(node)``, whose
    list of nodes takes the node's place (none drops it, several are spliced in)."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        if type(item) is dict and "t" in item:
            c = item.get("c")
            if type(c) is list:
                item["c"] = walk(c, rule)
            out.extend(rule(item))
        elif type(item) is list:
            out.append(walk(item, rule))
        else:
            out.append(item)
    return out


_ID_OF = {"Header": lambda c: c[1][0], "Div": lambda c: c[0][0], "Span": lambda c: c[0][0],
          "Figure": lambda c: c[0][0], "Table": lambda c: c[0][0],
          "CodeBlock": lambda c: c[0][0], "Image": lambda c: c[0][0],
          "Link": lambda c: c[0][0]}


def _visit(value: Any, fn) -> None:
    """Every node under ``value``, read only."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and "t" in item:
                fn(item)
                if isinstance(item.get("c"), list):
                    _visit(item["c"], fn)
            elif isinstance(item, list):
                _visit(item, fn)


def _drop_dangling_links(blocks: list) -> list:
    """Rule 6."""
    ids: set[str] = set()
    anchors: set[str] = set()

    def note(node: Node) -> None:
        get = _ID_OF.get(node["t"])
        if get and get(node["c"]):
            ids.add(get(node["c"]))
        if node["t"] == "Link" and node["c"][2][0].startswith("#"):
            anchors.add(node["c"][2][0][1:])

    _visit(blocks, note)
    if anchors <= ids:
        return blocks

    def unlink(node: Node) -> list[Node]:
        if node["t"] == "Link":
            url = node["c"][2][0]
            if url.startswith("#") and url[1:] not in ids:
                return node["c"][1]
        return [node]

    return walk(blocks, unlink)


# --------------------------------------------------------------------------- the body


class Body:
    """The report body, built cell by cell: markdown for pandoc's reader, and cell
    outputs as ready blocks behind placeholders."""

    FORMAT = "analysisoutput"

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.outputs: dict[str, list[Node]] = {}
        self._token = secrets.token_hex(16)

    def markdown(self, text: str) -> None:
        if text.strip():
            self.parts.append(text)

    def blocks(self, blocks: list[Node]) -> None:
        key = f"{self._token}-{len(self.outputs)}"
        self.outputs[key] = blocks
        self.parts.append(f"```{{={self.FORMAT}}}\n{key}\n```")

    def html(self, fragment: str) -> None:
        """An HTML output other than a reader's table: pandoc's HTML reader, sandboxed,
        then the rules."""
        doc = _document(fragment, "html", "read an HTML output")
        try:
            self.blocks(walk(doc["blocks"], _rule))
        except RecursionError as exc:
            raise RenderError("an HTML output is nested too deeply to typeset") from exc

    def typst(self) -> str:
        doc = _document("\n\n".join(self.parts) + "\n", PANDOC_FORMAT,
                        "read the report's markdown")

        def rule(node: Node) -> list[Node]:
            if node["t"] == "RawBlock" and node["c"][0] == self.FORMAT:
                return self.outputs.get(node["c"][1].strip(), [])
            return _rule(node)

        try:
            doc["blocks"] = _drop_dangling_links(walk(doc["blocks"], rule))
            text = json.dumps(doc, ensure_ascii=False)
        except RecursionError as exc:
            raise RenderError("the report is nested too deeply to typeset") from exc
        return _pandoc(text, "json", "typst", "--wrap=preserve",
                       doing="convert the report to Typst")
