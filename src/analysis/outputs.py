"""The contract between a notebook's outputs and the renderers.

A reader's table leaves the kernel twice in one display output: as HTML (``text/html``,
which JupyterLab shows) and as plain data under ``TABLE_MIME``: a caption, the column
names and the rows, all strings, the first column naming each row. Both renderers build
the table from the data: the page with `table_html`, whose every string is escaped, so
it skips the HTML sanitiser; the PDF as pandoc blocks (reports.pdfbody), so pandoc's
HTML reader never parses it. Together those were a sixth of a report's rendering time. Any other
HTML output still goes through the sanitiser and pandoc's reader.

The data is a notebook output, so it is untrusted: `read_table` accepts only that exact
shape, within limits, and anything else is ignored (the HTML is then used). Every
string stays text: escaped on the page, pandoc words (never markup) in the PDF.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

#: the mime type of a reader's table as data (a JSON object in the notebook)
TABLE_MIME = "application/vnd.analysis.table+json"

#: limits on a table as data; past them the HTML is used
MAX_COLUMNS = 50
MAX_ROWS = 5_000
MAX_CELL = 10_000


def table_data(caption: str, columns: list[str], rows: list[list[str]]) -> dict[str, Any]:
    """A table as ``TABLE_MIME`` data: every value a string."""
    return {"caption": str(caption), "columns": [str(c) for c in columns],
            "rows": [[str(v) for v in row] for row in rows]}


def _strings(value: Any, length: int | None = None) -> bool:
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(isinstance(v, str) and len(v) <= MAX_CELL for v in value))


def read_table(value: Any) -> dict[str, Any] | None:
    """``TABLE_MIME`` data checked for its exact shape, or None if it is not one."""
    if not isinstance(value, Mapping) or set(value) - {"caption", "columns", "rows"}:
        return None
    caption, columns, rows = value.get("caption", ""), value.get("columns"), value.get("rows")
    if not isinstance(caption, str) or len(caption) > MAX_CELL:
        return None
    if not _strings(columns) or not 1 <= len(columns) <= MAX_COLUMNS:
        return None
    if not isinstance(rows, list) or len(rows) > MAX_ROWS:
        return None
    if not all(_strings(row, len(columns)) for row in rows):
        return None
    return {"caption": caption, "columns": list(columns), "rows": [list(r) for r in rows]}


def table_html(table: dict[str, Any]) -> str:
    """The table as HTML for readers: a caption, column headers (``<th scope="col">``),
    the first column as row headers (``<th scope="row">``), every string escaped. Each
    cell repeats its column's name in a ``cell-label`` span, which the page shows only
    where a phone stacks a row into a card."""
    e = html.escape
    columns = table["columns"]
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in columns)
    names = [f'<span class="cell-label">{e(c)}</span>' for c in columns[1:]]
    body = []
    for first, *rest in table["rows"]:
        body.append(f'<tr><th scope="row">{e(first)}</th>'
                    + "".join(f"<td>{n}{e(v)}</td>" for n, v in zip(names, rest, strict=True))
                    + "</tr>")
    caption = f"<caption>{e(table['caption'])}</caption>" if table["caption"] else ""
    return (f'<table class="figures">{caption}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')
