"""Command line: a thin layer over the library.

Each command opens the library object and calls one function; library errors
(AnalysisError) become `Error: ...` and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from analysis import __version__
from analysis.audit import audit
from analysis.derive import evaluate
from analysis.errors import AnalysisError, UsageError
from analysis.estimate import POLICIES
from analysis.present import table_rows, text_table
from analysis.sources import load_source


def user_errors(func):
    """Turn an AnalysisError into a one-paragraph message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except AnalysisError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)

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
@user_errors
def check(sources, policy, readings, strict, as_json):
    """Validate source files and run the article's self-audit.

    Exit 0 when every file is valid (audit findings are warnings), 1 when a file
    has errors, or with --strict when the audit finds an inconsistency.

    Example:

        analysis check data/sources/*.yaml
    """
    chosen = _readings(readings)
    failed = inconsistent = False
    report = []
    for path in sources:
        try:
            source = load_source(path)
            figures = evaluate(source, policy=policy,
                               readings={k: v for k, v in chosen.items()
                                         if any(f.id == k for f in source.figures)})
            findings = audit(figures)
        except AnalysisError as exc:
            failed = True
            click.echo(f"Error: {exc}", err=True)
            report.append({"source": path, "error": str(exc)})
            continue
        bad = [f for f in findings if not f.ok]
        inconsistent |= bool(bad)
        report.append({"source": path, "findings": [f.to_json() for f in findings]})
        if as_json:
            continue
        mark = "!" if bad else "ok"
        click.echo(f"{mark} {path}: {len(source.figures)} figures, {len(source.derived)} derived, "
                   f"{len(findings)} audit findings, {len(bad)} inconsistent")
        for f in findings:
            click.echo(f"   {f.verdict.upper():<25} {f.id}: {f.stated}")
            click.echo(f"   {'':<25} computed {f.computed}; tolerance {f.tolerance}")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if failed or (strict and inconsistent):
        sys.exit(1)


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
    result = evaluate(load_source(source), policy=policy, readings=_readings(readings))
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(text_table(table_rows(result), ["id", "value", "bounds", "wording"]))


def main() -> None:
    cli()
