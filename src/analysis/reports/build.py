"""Build reports: plan -> cache check -> execute (papermill) -> render -> publish.

The pieces live beside this module: `reportlist` (what to build), `cache` (what a
report depends on, and whether it is fresh), `task` (one hermetic run), `runners`
(serial, process pool, Dask), `publish` (the only writer of `reports/`), `render`
(HTML and PDF) and `progress` (what the user sees). This module plans, takes the
lock, runs the tasks and publishes their results; `status` answers from the same
freshness rule without building.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import LockTimeout, ProjectError, UsageError
from analysis.files import project_root
from analysis.reports import history
from analysis.reports import publish as pub
from analysis.reports.cache import Fingerprint, assess, package_hash
from analysis.reports.progress import Reporter, Summary
from analysis.reports.reportlist import (
    DEFAULT_GRID_LIMIT,
    REPORT_LIST,
    ReportSpec,
    check_inputs,
    check_parameters,
    declared_parameters,
    load_report_list,
    select,
    with_declared_inputs,
    with_overrides,
)
from analysis.reports.runners import run_dask, run_pool, run_serial
from analysis.reports.task import DEFAULT_TIMEOUT, FIGURES_FILE, FIGURES_PARAMETER, Task

DEFAULT_LOCK_TIMEOUT = 600.0
INDEX_EVERY = 2.0  # seconds: how far the index may lag behind the manifest during a build
LOCK_FILE = ".build.lock"


# --- the build ----------------------------------------------------------------------


def find_root(start: Path | None = None) -> Path:
    """The project root (analysis.files.project_root), or a ProjectError outside a project."""
    root = project_root(start)
    if root is None:
        raise ProjectError(f"no {REPORT_LIST} in {Path(start or Path.cwd()).resolve()} or any "
                           "folder above it; run the command inside the project")
    return root


def plan(root: Path, names=(), *, overrides=None, formats=None,
         reports_dir: Path | None = None,
         grid_limit: int | None = DEFAULT_GRID_LIMIT) -> list[ReportSpec]:
    """The selected reports, their inputs and parameters checked; starts no kernel."""
    root = Path(root).resolve()
    reports_dir = Path(reports_dir) if reports_dir else root / "reports"
    selected = with_overrides(select(load_report_list(root, grid_limit=grid_limit), names),
                              overrides or {}, formats)
    cache_file = reports_dir / ".cache" / "parameters.json"
    checked = []
    for report in selected:
        declared = declared_parameters(root / report.notebook, cache_file)
        check_parameters(report, declared, extra=(FIGURES_PARAMETER,))
        report = with_declared_inputs(report, declared)
        check_inputs(report, root)
        checked.append(report)
    return checked


def build(root: Path | str = ".", names=(), *, formats=None, overrides=None,
          with_code: bool = False, force: bool = False, jobs: int | None = None,
          scheduler: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
          lock_timeout: float = DEFAULT_LOCK_TIMEOUT, reports_dir: Path | str | None = None,
          reporter: Reporter | None = None,
          grid_limit: int | None = DEFAULT_GRID_LIMIT) -> Summary:
    """Build the named reports (all when none is named); returns what happened.

    Raises UsageError (exit 2) for a bad report list, parameter or lock timeout,
    before any kernel starts. A report that fails does not stop the others.
    """
    from filelock import FileLock, Timeout

    started = time.monotonic()
    root = Path(root).resolve()
    reports_dir = Path(reports_dir).resolve() if reports_dir else root / "reports"
    reporter = reporter or Reporter()
    selected = plan(root, names, overrides=overrides, formats=formats, reports_dir=reports_dir,
                    grid_limit=grid_limit)
    declared_figs = {r.name: FIGURES_PARAMETER in declared_parameters(
        root / r.notebook, reports_dir / ".cache" / "parameters.json") for r in selected}

    reports_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(reports_dir / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        reporter.waiting(reports_dir / LOCK_FILE, lock_timeout)
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise LockTimeout(
                f"another build is running (it holds {reports_dir / LOCK_FILE}); waited "
                f"{lock_timeout:g} s. Try again later or wait longer with --lock-timeout"
            ) from None
    summary = Summary()
    try:
        _build_locked(root, reports_dir, selected, declared_figs, summary, reporter,
                      with_code=with_code, force=force, jobs=jobs, scheduler=scheduler,
                      timeout=timeout)
    finally:
        lock.release()
    summary.duration = time.monotonic() - started
    reporter.end(summary)
    return summary


def default_jobs() -> int:
    """Workers for a local build: one a core this process may use, plus one.

    A worker's core idles while its kernel starts and while the two trade messages; a
    spare worker fills those gaps. On the 2-core machine, cold builds of the 100-report
    grid with 3 workers against 2, in turn: 6 of 7 pairs faster, by about 3% on average
    (idle CPU 8-9 s a build down to 3-4 s); the project's 4 reports, no difference."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


def _build_locked(root, reports_dir, selected, declared_figs, summary, reporter, *,
                  with_code, force, jobs, scheduler, timeout):
    log = lambda event, name="-", detail="": pub.append_log(reports_dir, event, name, detail)  # noqa: E731
    for done in pub.clean_staging(reports_dir):
        log("cleanup", "-", done)
    manifest, problem = pub.read_manifest(reports_dir)
    if problem:
        reporter.note(problem)
        log("manifest", "-", problem)
    pub.write_readme(reports_dir)
    fp = Fingerprint.of(reports_dir / ".cache")
    package = package_hash() if scheduler else ""

    tasks, plans = [], {}
    for report in selected:
        entry = manifest["reports"].get(report.name) or {}
        found = assess(report, root, entry, fp, with_code, reports_dir)
        inputs, files, key = found.inputs, found.files, found.key
        plans[report.name] = (report, inputs, key)
        if not force and found.stale is None:
            summary.skipped.append(report.name)
            if entry.get("status") != "ok":  # inputs went back to the last good build
                entry["status"], entry["failure"] = "ok", None
                pub.drop_failed(reports_dir, report.name)
            continue
        tasks.append(Task(name=report.name, notebook=report.notebook,
                          parameters=report.parameters, formats=report.formats, files=files,
                          key=key, code=package, with_code=with_code, timeout=timeout,
                          figures_out=declared_figs[report.name]))
    log("start", "-", f"{len(selected)} report(s), {len(tasks)} to build, "
        f"{len(summary.skipped)} up to date" + (f", on {scheduler}" if scheduler else ""))
    reporter.begin(len(selected), len(tasks))
    for name in summary.skipped:
        reporter.skipped(name)
        log("up-to-date", name)

    cell_cb = reporter.cell if reporter.wants_cells else None
    on_start = lambda name: (reporter.started(name), log("execute", name))  # noqa: E731
    jobs = max(1, min(jobs or default_jobs(), len(tasks)))
    if not tasks:
        results = iter(())
    elif scheduler:
        results = run_dask(tasks, scheduler, on_start)
    elif jobs == 1:
        results = run_serial(tasks, cell_cb, on_start)
    else:
        results = run_pool(tasks, jobs, cell_cb, on_start)

    kept: dict[str, bytes] = {}  # figures.json of each report built, for the history
    index_written = time.monotonic()
    try:
        for result in results:
            report, inputs, key = plans[result.name]
            entry = manifest["reports"].get(report.name) or {}
            for note in result.notes:
                reporter.note(f"{report.name}: {note}")
                log("retry", report.name, note)
            if result.ok:
                note = history.report_note(reports_dir, report.name,
                                           result.artifacts.get(FIGURES_FILE, b""))
                if note:  # the report's "changes since the previous version", published with it
                    result.artifacts[history.NOTE_FILE] = note.encode("utf-8")
                hashes = pub.publish_report(reports_dir, report.name, result.artifacts)
                kept[report.name] = result.artifacts.get(FIGURES_FILE, b"")
                pub.drop_failed(reports_dir, report.name)
                entry = _entry(report, result, hashes, inputs, key, fp, with_code)
                summary.built.append(report.name)
                reporter.finished(report.name, result.duration)
                log("built", report.name, f"{result.duration:.2f} s")
            else:
                where = pub.save_failed(reports_dir, report.name, result.failed_notebook)
                message = result.error
                if where:
                    message += f"; the executed notebook is kept at {reports_dir / where}"
                if not entry.get("key"):
                    entry = {"name": report.name, "notebook": report.notebook,
                             "parameters": report.parameters, "title": result.title,
                             "key": None}
                entry["status"] = "failed"
                entry["failure"] = {"built": pub.now(), "duration": round(result.duration, 3),
                                    "error": result.error, "failed_notebook": where,
                                    "key": key, "inputs": inputs}
                summary.failed.append((report.name, message))
                reporter.failed(report.name, message)
                log("failed", report.name, message)
            manifest["reports"][report.name] = entry
            manifest["built"] = pub.now()
            # After the report's folder: the manifest never names files that are not there.
            pub.write_manifest(reports_dir, manifest)
            # The index lists every report, so writing it after each would cost a build of
            # n reports n² rows; during a build it may lag by INDEX_EVERY seconds, and it
            # is written once more at the end.
            if time.monotonic() - index_written >= INDEX_EVERY:
                pub.write_index(reports_dir, manifest)
                index_written = time.monotonic()
        if kept:
            _record_history(reports_dir, manifest, kept, summary, reporter, log)
    finally:
        if not tasks:
            pub.write_manifest(reports_dir, manifest)
        pub.write_index(reports_dir, manifest)
        log("end", "-", f"{len(summary.built)} built, {len(summary.skipped)} up to date, "
            f"{len(summary.failed)} failed")


def _record_history(reports_dir, manifest, kept, summary, reporter, log) -> None:
    """Keep the built reports' figures; say which changed; mark them in the manifest."""
    previous, new = history.record(reports_dir, kept, list(manifest["reports"]), pub.now())
    if new is None:
        reporter.changed([])
        return
    changes = history.changes_between(reports_dir, previous, new) if previous else []
    summary.changes = changes
    lines = history.summary_lines(previous, new, changes)
    reporter.changed(lines)
    for line in lines if changes else ():  # the log keeps changes, not the first record
        log("changed", "-", line)
    by_report: dict[str, list] = {}
    for c in changes:
        by_report.setdefault(c.report, []).append(c)
    for name, entry in manifest["reports"].items():
        mine = by_report.get(name)
        if mine:  # the index marks it until a later build changes figures again
            entry["changed"] = {"build": new["build"], "figures": len(mine),
                                "findings": sum(1 for c in mine if c.finding)}
        else:
            entry.pop("changed", None)
    pub.write_manifest(reports_dir, manifest)


def _entry(report, result, hashes, inputs, key, fp, with_code) -> dict:
    files = {fmt: f"{report.name}.{fmt}" for fmt in report.formats}
    files["figures"] = FIGURES_FILE
    if history.NOTE_FILE in hashes:
        files["changes"] = history.NOTE_FILE
    return {
        "name": report.name, "title": result.title, "notebook": report.notebook,
        "parameters": report.parameters, "formats": list(report.formats), "files": files,
        "hashes": hashes, "with_code": with_code, "key": key, "inputs": inputs, "code": fp.code,
        "templates": fp.templates_for(report.formats), "env": fp.env_for(report.formats),
        "render": fp.render_keys(report.formats),
        "built": pub.now(), "duration": round(result.duration, 3),
        "status": "ok", "failure": None, "summary": result.summary,
    }


# --- status -------------------------------------------------------------------------


@dataclass
class ReportStatus:
    name: str
    state: str  # "up to date" | "stale" | "failed" | "never built"
    detail: str = ""
    built: str | None = None
    duration: float | None = None


def status(root: Path | str = ".", reports_dir: Path | str | None = None, *,
           with_code: bool = False) -> list[ReportStatus]:
    """Each report of the list against the manifest: up to date, stale (why), failed, never.

    "Up to date" means exactly that `analysis build` (with the same `with_code`) would
    skip the report: both ask `cache.assess` with the same key and the same inputs.
    """
    root = Path(root).resolve()
    reports_dir = Path(reports_dir).resolve() if reports_dir else root / "reports"
    manifest, problem = pub.read_manifest(reports_dir)
    fp = Fingerprint.of(reports_dir / ".cache")
    out = []
    cache_file = reports_dir / ".cache" / "parameters.json"
    for report in load_report_list(root, grid_limit=None):
        try:  # the same inputs as `build` hashes: input-file parameters, given or default
            report = with_declared_inputs(report, declared_parameters(root / report.notebook,
                                                                      cache_file))
        except UsageError:
            pass  # `build` will say what is wrong with the notebook
        entry = manifest["reports"].get(report.name) or {}
        built, duration = entry.get("built"), entry.get("duration")
        try:
            found = assess(report, root, entry, fp, with_code, reports_dir)
        except OSError as exc:
            state = "stale" if entry.get("key") else "never built"
            out.append(ReportStatus(report.name, state, f"cannot read an input: {exc}",
                                    built, duration))
            continue
        if found.stale is None:  # build skips it (and clears an old failure)
            out.append(ReportStatus(report.name, "up to date", "", built, duration))
            continue
        failure = entry.get("failure") or {}
        if entry.get("status") == "failed":
            where = failure.get("failed_notebook")
            detail = failure.get("error", "")
            if where:
                detail += f"; failed notebook: {reports_dir / where}"
            if failure.get("key") not in (None, found.key):
                detail += "; its inputs changed since, so the next build retries it"
            out.append(ReportStatus(report.name, "failed", detail, built, duration))
            continue
        if not entry.get("key"):
            out.append(ReportStatus(report.name, "never built", problem or ""))
            continue
        out.append(ReportStatus(report.name, "stale", found.stale, built, duration))
    return out
