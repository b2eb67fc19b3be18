"""Warm the report stack's first-use costs in a process that will fork kernels.

A build's kernel is a fork of a template process (reports.warm) that has imported the
report stack. Importing is not all a report pays for the first time: matplotlib looks
up its fonts at the first text it measures, pint parses and caches each unit at its
first use, PyYAML, pandas and the formatters fill their own caches. Each forked kernel
would pay those again, about 50 ms of CPU a report (measured: the Kursk report's cells
took 0.38 s of CPU in a fork of a template without this, 0.32 s with it). `run()`
pays them once, in the template, before it forks: it reads a small made-up source file
(below, not a user's data), works out its figures, words them, makes a table and draws
a chart to SVG, then closes everything it opened.

Nothing here runs notebook code, and what it leaves behind is caches of pure functions
(fonts, parsed units, compiled patterns), identical in every kernel forked afterwards,
so no report can see another. A failure here is ignored: warming is only a saving.
(matplotlib's open font files are not among them: it drops those in a forked child.)
"""

from __future__ import annotations

import string

# A source file in the project's format (docs/data-format.md), made up for warming:
# every kind of figure a report shows (a range, a lower bound, a cap, a date range, an
# area with its square-mile twin, a share), so their code paths are all taken once.
SOURCE = """\
source:
  id: warm-up
  title: "Made-up figures that warm the report stack"
  publisher: null
  url: null
  language: en
figures:
  - id: area
    label: area held
    description: An area
    value: 90
    unit: km²
    qualifier: approximately
    date: day
    attributed_to: nobody
    printed:
      - value: 35
        unit: sq mi
        qualifier: around
  - id: area_first
    label: area first taken
    description: A larger area
    value: 1000
    unit: km²
    qualifier: over
    date: day
    attributed_to: nobody
  - id: people
    label: people sent
    description: A count
    value: 11000
    unit: troops
    noun: soldiers
    qualifier: around
    date: season
    attributed_to: nobody
  - id: lost
    label: people lost
    description: A count capped by another
    value: 1000
    unit: troops
    qualifier: over
    at_most: people
    date: season
    attributed_to: nobody
  - id: day
    label: the day
    description: A day
    kind: date
    value: 2024-08-06
    attributed_to: nobody
  - id: season
    label: the season
    description: A season
    kind: date
    low: 2024-09-01
    high: 2024-11-30
    attributed_to: nobody
derived:
  - id: area_mi2
    label: area held
    description: The area in square miles
    formula: area
    unit: mi²
  - id: share
    label: share still held
    description: A share
    formula: area / area_first
    unit: dimensionless
    format: percent
    domain: share
"""


ran = False  # True once _run has finished in this process (or the one it was forked from)


def run() -> None:
    """Take the report stack's first-use paths once; never raises."""
    try:
        _run()
    except Exception:  # only a saving: a kernel pays these costs itself instead
        pass


def _run() -> None:
    global ran
    import matplotlib.pyplot as plt

    from analysis.figures.derive import evaluate
    from analysis.figures.source import parse_source
    from analysis.notebook import plots
    from analysis.notebook.report import AREA_UNITS, Report, table_data, table_html

    source = parse_source(SOURCE, "<warm-up>")
    for area_unit in ("km2", "mi2"):
        rep = Report(source, evaluate(source), AREA_UNITS[area_unit])
        for fid in ("area", "area_first", "share", "lost", "season"):
            rep.value(fid), rep.bounds(fid)
        rep.value_beside("area")
        frame = rep.table(["area", "area_first", "share", "people", "lost"], caption="Warm")
        table_html(frame), table_data(frame)
        rep.audit_table(), rep.method_table(), rep.notes(), rep.source_lines()
        rows = rep.chart_rows(["area", "area_first"])
        fig, alt = plots.range_chart(rows, title="Warm-up", labels=["Held", "First taken"])
        plots.caption_for(rows, "Warm-up")
        plots.svg(fig)
    for bold in (False, True):  # a row's words are measured glyph by glyph to wrap it
        plots._text_width(string.ascii_letters + string.digits + string.punctuation, bold)
    plt.close("all")
    ran = True
