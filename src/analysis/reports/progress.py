"""What a build tells its user: nothing (the library default), plain lines, or a live display.

Every display sends failures to stderr and everything else to stdout.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from analysis.words import counted


@dataclass
class Summary:
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duration: float = 0.0
    changes: list = field(default_factory=list)  # history.Change: figures that changed

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


class Reporter:
    """What a build tells its user. This one says nothing; the CLI picks a louder one."""

    wants_cells = False

    def begin(self, total: int, to_build: int) -> None: ...
    def note(self, message: str) -> None: ...
    def waiting(self, lock: Path, timeout: float) -> None: ...
    def skipped(self, name: str) -> None: ...
    def started(self, name: str) -> None: ...
    def cell(self, name: str, index: int, total: int, line: str) -> None: ...
    def finished(self, name: str, duration: float) -> None: ...
    def failed(self, name: str, message: str) -> None: ...
    def changed(self, lines: list[str]) -> None: ...
    def end(self, summary: Summary) -> None: ...



class PlainReporter(Reporter):
    """One line per event, for logs and cron mail; `quiet` keeps only failures."""

    def __init__(self, quiet: bool = False, out=None, err=None):
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def begin(self, total, to_build):
        self._say(f"{counted(total, 'report')}: {to_build} to build, {total - to_build} "
                  "up to date")

    def note(self, message):
        self._say(f"note: {message}")

    def waiting(self, lock, timeout):
        self._say(f"waiting up to {timeout:g} s for another build to finish ({lock})")

    def skipped(self, name):
        self._say(f"up to date  {name}")

    def started(self, name):
        self._say(f"building    {name}")

    def finished(self, name, duration):
        self._say(f"built       {name} ({duration:.1f} s)")

    def failed(self, name, message):
        print(f"FAILED      {name}: {message}", file=self.err, flush=True)

    def changed(self, lines):
        # Changes print even with --quiet: a changed published figure is what cron should mail.
        loud = bool(lines) and lines[0].startswith("changed:")
        for line in lines:
            if loud:
                print(line, file=self.out, flush=True)
            else:
                self._say(line)
        if not lines:
            self._say("changed: no figure changed")

    def end(self, summary):
        self._say(f"done in {summary.duration:.1f} s: {len(summary.built)} built, "
                  f"{len(summary.skipped)} up to date, {len(summary.failed)} failed")


class RichReporter(PlainReporter):
    """A live display on a terminal: reports done of total, each running report's cell."""

    wants_cells = True

    def __init__(self):
        super().__init__()
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.console = Console(stderr=False)
        self.errors = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=self.console, transient=True,
        )
        self.total = None
        self.running: dict[str, int] = {}
        self.lock = threading.Lock()

    def _say(self, text):
        self.console.print(text, highlight=False, markup=False)

    def begin(self, total, to_build):
        super().begin(total, to_build)
        if to_build:
            self.progress.start()
            self.total = self.progress.add_task("reports", total=to_build)

    def started(self, name):
        with self.lock:
            self.running[name] = self.progress.add_task(f"  {name}: queued", total=None)

    def cell(self, name, index, total, line):
        with self.lock:
            task = self.running.get(name)
            if task is not None:
                self.progress.update(task, completed=index, total=total,
                                     description=f"  {name}: cell {index}/{total} {line[:40]}")

    def _done(self, name):
        with self.lock:
            task = self.running.pop(name, None)
            if task is not None:
                self.progress.remove_task(task)
            if self.total is not None:
                self.progress.advance(self.total)

    def finished(self, name, duration):
        self._done(name)
        super().finished(name, duration)

    def failed(self, name, message):
        self._done(name)
        # Failures go to stderr in both displays, so cron mail and `2>` catch them.
        self.errors.print(f"FAILED {name}: {message}", style="bold red", markup=False,
                          highlight=False)

    def changed(self, lines):
        for line in lines or ["changed: no figure changed"]:
            self._say(line)

    def end(self, summary):
        self.progress.stop()
        super().end(summary)


def make_reporter(quiet: bool = False) -> Reporter:
    if not quiet and sys.stdout.isatty():
        return RichReporter()
    return PlainReporter(quiet=quiet)
