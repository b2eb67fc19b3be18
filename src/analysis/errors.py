"""Every error a user can cause, under one base, in one message shape.

As in pint's `errors` module: each error class carries its facts (file, line,
figure, field, what to do) as fields and builds its message from them with the
one formatter, `describe`: "where: what is wrong. What to do." The CLI prints that
as one paragraph without a traceback and exits with `exit_code(exc)`: 1 for bad
input, 2 for wrong use or configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass

INPUT_ERROR = 1  # a source file, article, formula or notebook is wrong
USAGE_ERROR = 2  # the command line, the report list or the project is wrong


def describe(where: str | None, problem: str, fix: str | None = None) -> str:
    """The one message shape: "where: what is wrong. What to do."

    >>> describe("a.yaml, line 3", "no figures.", "add one")
    'a.yaml, line 3: no figures. Add one.'
    """
    message = problem.rstrip(".") + "."
    if where:
        message = f"{where}: {message}"
    if fix:
        fix = fix.rstrip(".")
        fix = fix[:1].upper() + fix[1:]  # a new sentence
        message += " " + (fix if fix.endswith(("?", "!")) else fix + ".")
    return message


class AnalysisError(Exception):
    """Base of every error a user can cause.

    `AnalysisError("message")` prints the message as written; the subclasses below
    are dataclasses with a `problem` field (and a `where` and an optional `fix`)
    whose message `describe` builds.
    """

    @property
    def where(self) -> str | None:
        return None

    @property
    def exit_code(self) -> int:
        return exit_code(self)

    def __str__(self) -> str:
        problem = getattr(self, "problem", None)
        if problem is None:
            return super().__str__()
        return describe(self.where, problem, getattr(self, "fix", None))

    def __reduce__(self):
        # A dataclass error keeps its fields, not its args, so rebuild it from them when
        # it crosses a process boundary (process pool, Dask), as pint's errors do.
        if is_dataclass(self):
            return type(self), tuple(getattr(self, f.name) for f in fields(self))
        return super().__reduce__()


class UsageError(AnalysisError):
    """Wrong command-line use or configuration (exit code 2)."""


def exit_code(exc: BaseException) -> int:
    """The one mapping from an error to the CLI's exit code."""
    return USAGE_ERROR if isinstance(exc, UsageError) else INPUT_ERROR


# --- reading a file ----------------------------------------------------------------------


@dataclass
class LimitError(AnalysisError, ValueError):
    """A file breaks a reading limit of analysis.files (size, YAML alias, nesting); the
    reader that called it re-raises it with the file's name, as its own error."""

    problem: str
    fix: str | None = None
    line: int | None = None


@dataclass
class FileError(AnalysisError, ValueError):
    """A file is wrong: names the file, what is wrong and what to do."""

    path: str
    problem: str
    fix: str | None = None

    @property
    def where(self) -> str:
        return self.path


# --- the figures engine ---------------------------------------------------------------


@dataclass
class SourceError(AnalysisError, ValueError):
    """A source file is wrong: names where, what, and how to fix it."""

    path: str
    problem: str
    line: int | None = None
    figure: str | None = None
    field: str | None = None
    fix: str | None = None

    @property
    def where(self) -> str:
        where = self.path
        if self.line is not None:
            where += f", line {self.line}"
        if self.figure:
            where += f": figure '{self.figure}'"
            if self.field:
                where += f", field '{self.field}'"
        elif self.field:
            where += f": field '{self.field}'"
        return where


@dataclass
class FormulaError(AnalysisError, ValueError):
    """A formula uses something the safe evaluator does not allow, or fails to evaluate."""

    formula: str
    problem: str

    @property
    def where(self) -> str:
        return f"formula {self.formula!r}"


@dataclass
class UnknownUnit(AnalysisError, ValueError):
    """A unit spelling that is not in the unit table."""

    text: str
    known: tuple[str, ...] = ()

    @property
    def problem(self) -> str:
        return (f"unknown unit {self.text!r}; use one of {', '.join(self.known)} "
                "(or a ratio of two of them, such as 'troops / month')")


class VocabularyError(FileError):
    """The vocabulary file (units and qualifier words) is wrong: names the file and the entry."""


# --- intake ------------------------------------------------------------------------------


class IntakeError(FileError):
    """An article cannot be read or drafted from: names the file, what is wrong, what to do."""


# --- the report pipeline ---------------------------------------------------------------


@dataclass
class ReportListError(UsageError, ValueError):
    """The report list is wrong: names the file, the entry and the field."""

    path: str
    problem: str
    entry: str | None = None
    field: str | None = None

    @property
    def where(self) -> str:
        where = self.path
        if self.entry is not None:
            where += f", report {self.entry}"
        if self.field is not None:
            where += f", field '{self.field}'"
        return where


@dataclass
class GridTooLarge(ReportListError):
    """A grid expands past the limit: the user confirms with --yes or a higher limit."""


@dataclass
class ParameterError(UsageError, ValueError):
    """A report parameter the notebook does not accept."""

    report: str
    parameter: str
    problem: str

    @property
    def where(self) -> str:
        return f"report '{self.report}', parameter '{self.parameter}'"


class ProjectError(UsageError):
    """No project (no reports.yaml) where the command runs."""


class LockTimeout(UsageError):
    """Another build holds the lock for longer than we were asked to wait."""


class RenderError(AnalysisError):
    """A notebook could not be rendered as a report."""


class KernelStartError(AnalysisError, RuntimeError):
    """A report's kernel did not start: transient, so the task retries it once."""


class WarmStateError(AnalysisError, RuntimeError):
    """A worker's kernel template could not import the report stack: not transient."""
