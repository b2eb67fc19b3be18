"""Command line: a thin layer over the library.

Each command opens the library object and calls one function; library errors
(AnalysisError) become `Error: ...` and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
import textwrap

import click

from analysis import __version__
from analysis.errors import INPUT_ERROR, AnalysisError, UsageError, exit_code
from analysis.figures.bounds import POLICIES
from analysis.words import counted

# The figures engine loads pint (about half a second), so commands import it when
# they run: `analysis build` with nothing to do must stay fast for cron.


def user_errors(func):
    """Turn an AnalysisError into a one-paragraph message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AnalysisError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exit_code(exc))

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="analysis")
def cli():
    """Checked, sourced, unit-aware figures from news reports, published as reports."""


def _readings(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        fid, sep, name = pair.partition("=")
        if not sep or not fid or not name:
            raise UsageError(f"--reading {pair!r}: write it as FIGURE=READING, e.g. as_of=article")
        out[fid.strip()] = name.strip()
    return out


policy_option = click.option(
    "--policy", type=click.Choice(POLICIES), default="default", show_default=True,
    help="How qualifiers become bounds: the default policy, or every figure exact.")
reading_option = click.option(
    "--reading", "readings", multiple=True, metavar="FIGURE=READING",
    help="Pick one reading of an ambiguous figure, e.g. as_of=article.")


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@policy_option
@reading_option
@click.option("--strict", is_flag=True, help="Exit 1 when the audit finds an inconsistency.")
@click.option("--json", "as_json", is_flag=True, help="Print the audit as JSON.")
@click.option("--against", type=click.Path(dir_okay=False), default=None, metavar="ARTICLE",
              help="Also list every quantity in ARTICLE that no figure, printed conversion "
                   "or ignore entry accounts for (exit 1 if any).")
@click.option("--quantities", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="The quantities file figures name (default: quantities.yaml or "
                   "data/quantities.yaml, from each source's folder upward).")
@user_errors
def check(sources, policy, readings, strict, as_json, against, quantities):
    """Validate source files and run the article's self-audit.

    Exit 0 when every file is valid (audit findings are warnings), 1 when a file
    has errors, with --strict when the audit finds an inconsistency, or with
    --against when the article holds a quantity that the file leaves out.

    Example:

        analysis check data/sources/*.yaml
    """
    from analysis.figures.audit import audit
    from analysis.figures.claims import find_quantities_file, load_quantities, validate
    from analysis.figures.derive import evaluate
    from analysis.figures.source import load_source
    from analysis.intake.article import format_missing, missing_figures, read_article

    chosen = _readings(readings)
    failed = inconsistent = False
    report = []
    used: set[str] = set()
    declared: dict = {}  # quantities file -> its quantities, each loaded once
    for path in sources:
        try:
            source = load_source(path)
            qpath = quantities or find_quantities_file(path)
            if qpath is not None and str(qpath) not in declared:
                declared[str(qpath)] = load_quantities(qpath)
            validate(source, declared.get(str(qpath)), str(qpath) if qpath else None)
            mine = {k: v for k, v in chosen.items() if any(f.id == k for f in source.figures)}
            used |= set(mine)
            figures = evaluate(source, policy=policy, readings=mine)
            findings = audit(figures)
            missing = missing_figures(source, read_article(against)) if against else []
        except AnalysisError as exc:
            failed = True
            click.echo(f"Error: {exc}", err=True)
            report.append({"source": path, "error": str(exc)})
            continue
        bad = [f for f in findings if not f.ok]
        warned = [(r.id, w) for r in figures.values() for w in r.warnings]
        inconsistent |= bool(bad) or bool(warned)  # --strict fails on either
        failed |= bool(missing)
        report.append({"source": path, "findings": [f.to_json() for f in findings],
                       "warnings": [{"id": fid, "warning": w} for fid, w in warned],
                       **({"missing": [m.to_json() for m in missing]} if against else {})})
        if as_json:
            continue
        mark = "!" if bad or missing or warned else "ok"
        click.echo(f"{mark} {path}: {len(source.figures)} figures, {len(source.derived)} derived, "
                   f"{len(findings)} audit findings, {len(bad)} inconsistent"
                   + (f", {len(warned)} warnings" if warned else ""))
        for fid, w in warned:
            click.echo(f"   {'WARNING':<25} {fid}: {w}")
        for f in findings:
            click.echo(f"   {f.verdict.upper():<25} {f.id}: {f.stated}")
            if f.kind == "conversion":  # in a reporter's words: what, what it should be, how far
                for line in textwrap.wrap(f.message, 70):
                    click.echo(f"   {'':<25} {line}")
            else:
                click.echo(f"   {'':<25} computed {f.computed}; tolerance {f.tolerance}")
        if against:
            click.echo(f"   {len(missing)} quantities in {against} not accounted for"
                       + (":" if missing else ""))
            for line in format_missing(against, missing):
                click.echo(f"   MISSING {line}")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    unused = sorted(set(chosen) - used)
    if unused and not failed:
        raise UsageError(f"--reading names {', '.join(unused)}, which no checked file has "
                         "as a figure; check the spelling")
    if failed or (strict and inconsistent):
        sys.exit(INPUT_ERROR)


@cli.command()
@click.argument("source", type=click.Path())
@policy_option
@reading_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the JSON contract: id, kind, value, low, high, unit, formula, "
                   "inputs, qualifier.")
@user_errors
def figures(source, policy, readings, as_json):
    """Print every stated and derived figure of a source file, with bounds.

    Example:

        analysis figures data/sources/kursk-incursion-2025.yaml --json
    """
    from analysis.figures.derive import evaluate
    from analysis.figures.source import load_source
    from analysis.notebook.present import table_rows, text_table

    result = evaluate(load_source(source), policy=policy, readings=_readings(readings))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(text_table(table_rows(result), ["id", "value", "bounds", "wording"]))
    for r in result.values():
        for w in r.warnings:
            click.echo(f"WARNING {r.id}: {w}")


@cli.command("claims")
@click.argument("quantity", required=False)
@click.option("--sources", "paths", multiple=True, type=click.Path(), metavar="PATH",
              help="Source files or folders of them (default: data/sources). Repeatable.")
@click.option("--quantities", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="The quantities file (default: found from the first source upward).")
@policy_option
@click.option("--json", "as_json", is_flag=True, help="Print each quantity's timeline as JSON.")
@user_errors
def claims_command(quantity, paths, quantities, policy, as_json):
    """Line up every source's figures for each quantity by date; flag conflicts and reversals.

    QUANTITY is a key (kursk.ground_held) or a group (kursk); all when left out. A
    conflict is two figures at overlapping dates whose bounds do not meet; a
    reversal is a quantity declared to only fall (or rise) that certainly moved back.

    Example:

        analysis claims kursk.ground_held

        analysis claims --sources tests/story/sources --json
    """
    from analysis.figures.claims import load_story, select
    from analysis.notebook.story import timeline_text

    lines = select(load_story(list(paths) or ["data/sources"], quantities, policy=policy),
                   quantity)
    if as_json:
        click.echo(json.dumps([t.to_json() for t in lines.values()], indent=2,
                              ensure_ascii=False))
        return
    click.echo("\n\n".join(timeline_text(t) for t in lines.values()))


def main() -> None:
    cli()


# --- build and status (analysis.reports.build) ----------------------------------------------


@cli.command("build")
@click.argument("names", nargs=-1)
@click.option("--format", "formats", default=None, metavar="LIST",
              help="Formats to make, e.g. html,pdf,ipynb (default: each report's, all three).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set a notebook parameter for every report built (value read as YAML).")
@click.option("--with-code", is_flag=True, help="Show the code cells (the analyst's version).")
@click.option("--force", is_flag=True, help="Rebuild even the reports that are up to date.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Reports built at once (default: the number of cores, plus one).")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the reports on this Dask scheduler's workers.")
@click.option("--timeout", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Seconds a cell may run before its report fails (0: no limit).")
@click.option("--lock-timeout", type=click.FloatRange(min=0), default=600, show_default=True,
              help="Seconds to wait for another running build.")
@click.option("-q", "--quiet", is_flag=True, help="Print only failures (for cron mail).")
@click.option("--reports-dir", type=click.Path(file_okay=False), default=None,
              help="Where reports go (default: reports/ in the project).")
@click.option("--grid-limit", type=click.IntRange(min=1), default=None,
              help="Refuse a grid in reports.yaml that expands to more reports than this "
              "(default: 1000).")
@click.option("--yes", is_flag=True, help="Build every grid, however many reports it makes.")
@user_errors
def build_command(names, formats, params, with_code, force, jobs, scheduler, timeout,
                  lock_timeout, quiet, reports_dir, grid_limit, yes):
    """Build the reports in reports.yaml (or the NAMEs given) into reports/.

    Exit code: 0 all built or up to date, 1 a report failed, 2 usage error.

    Example:

        analysis build

        analysis build kursk-mi2 -p policy=exact --format html
    """
    from analysis.reports.build import build, find_root
    from analysis.reports.progress import make_reporter
    from analysis.reports.reportlist import DEFAULT_GRID_LIMIT, parse_formats, parse_overrides

    try:
        summary = build(
            find_root(), names,
            formats=parse_formats(formats) if formats else None,
            overrides=parse_overrides(params), with_code=with_code, force=force, jobs=jobs,
            scheduler=scheduler, timeout=timeout or None, lock_timeout=lock_timeout,
            reports_dir=reports_dir, reporter=make_reporter(quiet),
            grid_limit=None if yes else (grid_limit or DEFAULT_GRID_LIMIT),
        )
    except OSError as exc:  # a read-only or missing reports folder, a full disk
        where = exc.filename or reports_dir or "reports/"
        raise UsageError(f"cannot write the reports: {where}: {exc.strerror or exc}; the "
                         "last good reports are unchanged. Check that the folder exists and "
                         "can be written, or choose another with --reports-dir") from None
    sys.exit(summary.exit_code)


@cli.command("status")
@click.option("--reports-dir", type=click.Path(file_okay=False), default=None,
              help="Where reports go (default: reports/ in the project).")
@click.option("--with-code", is_flag=True,
              help="Compare with `analysis build --with-code` (the analyst's version).")
@user_errors
def status_command(reports_dir, with_code):
    """Show each report: up to date, stale (and why), failed (and where), never built.

    A report is up to date exactly when `analysis build` would skip it.

    Example:

        analysis status
    """
    from analysis.reports.build import find_root, status

    for s in status(find_root(), reports_dir, with_code=with_code):
        when = f"  built {s.built} in {s.duration:.1f} s" if s.built and s.duration else ""
        click.echo(f"{s.name:<28} {s.state}{when}")
        if s.detail:
            click.echo(f"{'':<28} {s.detail}")


@cli.command("diff")
@click.argument("name", required=False)
@click.option("--since", metavar="BUILD|DATE", default=None,
              help="Compare with this build, or with the last build before this date "
                   "(YYYY-MM-DD); default: the build before the latest.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("--reports-dir", type=click.Path(file_okay=False), default=None,
              help="Where reports go (default: reports/ in the project).")
@user_errors
def diff_command(name, since, as_json, reports_dir):
    """List the figures whose value or bounds changed between two builds, by how much.

    A changed finding (new bounds that do not meet the old, a one-sided figure
    that became two-sided) is flagged. NAME limits it to one report.

    Example:

        analysis diff

        analysis diff story-kursk --since 2026-11-20
    """
    from pathlib import Path

    from analysis.reports.build import find_root
    from analysis.reports.history import change_text, diff
    from analysis.reports.reportlist import load_report_list

    root = find_root()
    folder = Path(reports_dir) if reports_dir else root / "reports"
    known = [r.name for r in load_report_list(root)]
    base, head, changes = diff(folder, name, since, known)
    if as_json:
        click.echo(json.dumps({"from": base["build"], "to": head["build"],
                               "changes": [c.to_json() for c in changes]}, indent=2,
                              ensure_ascii=False))
        return
    what = f"report {name}" if name else "all reports"
    click.echo(f"{what}: build {base['build']} -> {head['build']}: "
               f"{counted(len(changes), 'figure')} changed")
    for c in changes:
        click.echo(f"  {change_text(c)}")


@cli.command("extract")
@click.argument("article", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the draft source file here (default: print it).")
@click.option("--force", is_flag=True, help="Replace the -o file if it exists.")
@user_errors
def extract_command(article, output, force):
    """Draft a source file from an article's figures, every one marked for review.

    Reads plain text, Markdown or HTML; nothing it references is fetched.

    Example:

        analysis extract article.html -o data/sources/new-report.yaml
    """
    from analysis.intake.article import (
        draft_source,
        dump_draft,
        extract_file,
        refuse_existing,
        write_atomic,
    )

    if output is not None:
        refuse_existing(output, force=force)  # before any work: nothing is written
    text, found = extract_file(article)
    draft = draft_source(text, found, article)
    if output is None:
        click.echo(dump_draft(draft), nl=False)
        return
    write_atomic(output, dump_draft(draft), force=force)
    click.echo(f"Wrote {output}: {len(draft['figures'])} figures to review.", err=True)
