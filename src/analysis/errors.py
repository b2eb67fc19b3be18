"""One base error for everything a user can get wrong.

Each error carries its facts (file, line, figure, field, fix) and builds its
message from them, so the CLI can print it as one paragraph without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class AnalysisError(Exception):
    """Base of every error caused by input: the CLI prints it and exits 1."""

    exit_code = 1


@dataclass
class SourceError(AnalysisError, ValueError):
    """A source file is wrong: names where, what, and how to fix it."""

    path: str
    problem: str
    line: int | None = None
    figure: str | None = None
    field: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f", line {self.line}"
        parts = [f"{where}:"]
        if self.figure:
            what = f"figure '{self.figure}'"
            if self.field:
                what += f", field '{self.field}'"
            parts.append(what + ":")
        elif self.field:
            parts.append(f"field '{self.field}':")
        parts.append(self.problem.rstrip(".") + ".")
        if self.fix:
            fix = self.fix.rstrip(".")
            fix = fix[:1].upper() + fix[1:]  # a new sentence
            parts.append(fix if fix.endswith(("?", "!")) else fix + ".")
        return " ".join(parts)


@dataclass
class FormulaError(AnalysisError, ValueError):
    """A formula uses something the safe evaluator does not allow, or fails to evaluate."""

    formula: str
    problem: str

    def __str__(self) -> str:
        return f"formula {self.formula!r}: {self.problem}"


class UsageError(AnalysisError):
    """Wrong command-line use or configuration (exit code 2)."""

    exit_code = 2


@dataclass
class IntakeError(AnalysisError, ValueError):
    """An article cannot be read or drafted from: names the file, what is wrong, what to do."""

    path: str
    problem: str
    fix: str | None = None

    def __str__(self) -> str:
        message = f"{self.path}: {self.problem.rstrip('.')}."
        if self.fix:
            message += f" {self.fix[0].upper()}{self.fix[1:].rstrip('.')}."
        return message
