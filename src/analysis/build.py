"""Build reports: plan -> cache check -> execute (papermill) -> render -> publish.

A build task is hermetic: (notebook bytes, parameters, {relative path: bytes} of
every input file) -> artifacts (bytes). `run_task` materialises the inputs in a
fresh temporary folder with the project's relative layout and runs papermill
with that folder as the kernel's working directory, so a task runs the same in
this process, in a local process pool (`--jobs`) or on a Dask worker with no
shared filesystem (`--scheduler`). Only the process that runs `analysis build`
writes `reports/`, through `analysis.publish`.

Cache: a report is skipped when its key equals the key of its last good build
and its published files still have the recorded hashes. The key hashes the
notebook without outputs, execution counts or metadata (tags kept), the
parameters as canonical JSON, the bytes of every input file, the `analysis`
package's code (every file of the package, templates included), the Python
version and the versions of papermill, nbconvert and nbclient.

Notebook conventions (the project's notebooks follow them):

- a cell tagged `parameters` declares every parameter with a default;
- a parameter named `source` is the path of the source file, relative to the
  project root; the kernel's working directory is the (materialised) root;
- a parameter `figures_out` (str, default "" meaning do not write) names a file
  to which the notebook writes, as JSON, the list of figures it used (the
  `analysis figures --json` contract; `{"figures": [...]}` is accepted too).
  The build sets it and publishes `figures.json` =
  `{"report": name, "parameters": {...}, "figures": [...]}`.
- a parameter `title`, if given, titles the report (else the source file's article title,
  else the report's name);
  a parameter `paper` ("a4" | "us-letter") sets the PDF's paper size.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis import __version__
from analysis import publish as pub
from analysis.errors import UsageError
from analysis.reportlist import (
    PATH_PARAMETERS,
    REPORT_LIST,
    Report,
    check_inputs,
    check_parameters,
    declared_parameters,
    load_report_list,
    select,
    skip_slow_imports,
    with_overrides,
)

KERNEL = "python3"
FIGURES_PARAMETER = "figures_out"
FIGURES_FILE = "figures.json"  # written by the notebook, in the task's temp root
DEFAULT_TIMEOUT = 600.0  # seconds per cell; a cell that runs 10 minutes is stuck
DEFAULT_LOCK_TIMEOUT = 600.0
LOCK_FILE = ".build.lock"
KEY_VERSION = "analysis-build-1"  # bump when the key's recipe changes
TOOLS = ("papermill", "nbconvert", "nbclient")
SCHEDULER_CONNECT_TIMEOUT = 30  # seconds to reach a Dask scheduler before giving up


class LockTimeout(UsageError):
    """Another build holds the lock for longer than we were asked to wait."""


class ProjectError(UsageError):
    """No project (no reports.yaml) where the command runs."""


# --- what a task depends on ---------------------------------------------------------


def stripped_notebook(data: bytes, path: str = "notebook") -> bytes:
    """The part of a notebook that decides its results: cell types, sources, tags, kernel.

    Outputs, execution counts, ids and other metadata are dropped, so re-saving an
    executed notebook leaves it unchanged while editing any cell (markdown too) does not.
    """
    try:
        nb = json.loads(data)
        cells = []
        for c in nb.get("cells", []):
            src = c.get("source", "")
            tags = (c.get("metadata") or {}).get("tags") or []
            cells.append({
                "type": c.get("cell_type"),
                "source": "".join(src) if isinstance(src, list) else src,
                "tags": sorted(tags),
            })
        kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    except (ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"{path}: not a readable notebook ({exc})") from exc
    return _canonical({"cells": cells, "kernel": kernel, "nbformat": nb.get("nbformat")})


def _canonical(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def code_hash() -> str:
    """Hash of the `analysis` package: its version and every file in it (templates too)."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        rel = path.relative_to(package).as_posix()
        h.update(b"\0" + rel.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def environment() -> dict:
    """Versions that change what a notebook produces."""
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version(), "analysis": __version__}
    for tool in TOOLS:
        try:
            env[tool] = version(tool)
        except PackageNotFoundError:
            env[tool] = None
    return env


def input_hashes(report: Report, root: Path) -> tuple[dict[str, str], dict[str, bytes]]:
    """({path: sha256}, {path: bytes}) of a report's inputs; the notebook hashed stripped."""
    hashes, files = {}, {}
    for rel in report.input_paths():
        data = (root / rel).read_bytes()
        files[rel] = data
        if rel == report.notebook:
            data = stripped_notebook(data, rel)
        hashes[rel] = pub.sha256(data)
    return hashes, files


def cache_key(report: Report, inputs: dict[str, str], code: str, env: dict,
              with_code: bool) -> str:
    """The exact cache key of a report: everything that decides its artifacts but formats."""
    return pub.sha256(_canonical({
        "recipe": KEY_VERSION,
        "notebook": report.notebook,
        "parameters": report.parameters,
        "inputs": inputs,
        "code": code,
        "env": env,
        "with_code": with_code,
    }))


# --- the hermetic task --------------------------------------------------------------


@dataclass
class Task:
    """Everything a worker needs; picklable, no paths into the project."""

    name: str
    notebook: str
    parameters: dict
    formats: tuple[str, ...]
    files: dict[str, bytes]
    key: str
    code: str
    with_code: bool = False
    timeout: float | None = DEFAULT_TIMEOUT
    figures_out: bool = True
    verify_code: bool = False  # on a cluster, check the worker runs the same package


@dataclass
class Result:
    name: str
    key: str
    ok: bool
    artifacts: dict[str, bytes] = field(default_factory=dict)
    duration: float = 0.0
    error: str = ""
    failed_notebook: bytes | None = None
    title: str = ""


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:80]
    return "(empty cell)"


def _progress_emitter(progress) -> Callable | None:
    if progress is None:
        return None
    if hasattr(progress, "put"):  # a (manager) queue: progress crosses processes
        return lambda *event: progress.put(event)
    return progress


def run_task(task: Task, progress=None) -> Result:
    """Execute one report and render its formats; never raises for a notebook's fault.

    `progress`, if given, is a callable or a queue; it receives
    (report, cell index, number of cells, first line of the cell) per cell.
    """
    started = time.monotonic()
    emit = _progress_emitter(progress)
    try:
        if task.verify_code and code_hash() != task.code:
            return Result(task.name, task.key, False, error=(
                f"report '{task.name}': the analysis package on this worker "
                f"({platform.node()}) differs from the one that planned the build; "
                "install the same version on every worker"
            ), duration=time.monotonic() - started)
        with tempfile.TemporaryDirectory(prefix="analysis-task-") as tmp:
            result = _run_in(Path(tmp), task, emit)
    except Exception as exc:  # a bug or an environment fault: fail this report only
        result = Result(task.name, task.key, False,
                        error=f"report '{task.name}': {type(exc).__name__}: {exc}")
    result.duration = time.monotonic() - started
    return result


def _register_engine():
    """A papermill engine that reports each cell as it starts (for progress and errors)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.utils import merge_kwargs, remove_args

    class ProgressEngine(NBClientEngine):
        # NBClientEngine.execute_managed_notebook, plus a per-cell callback and the
        # kernel's stderr sent to a file (its chatter would fill cron mail; a crash
        # message in it goes into the error).
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, on_cell=None,
                                     kernel_stderr=None, log_output=False, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            if on_cell is not None:
                start = nb_man.cell_start

                def cell_start(cell, cell_index=None, **kw):
                    on_cell(cell_index, cell)
                    return start(cell, cell_index, **kw)

                nb_man.cell_start = cell_start
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log_output=log_output)
            client = PapermillNotebookClient(nb_man, **final)
            if kernel_stderr is None:
                return client.execute()
            return client.execute(stderr=kernel_stderr)

    papermill_engines.register("analysis", ProgressEngine)
    return "analysis"


def _warm_worker() -> None:
    """Pool initializer: pay the imports once per worker, all workers at once."""
    skip_slow_imports()
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    try:
        from analysis import render  # noqa: F401
    except ImportError:
        pass


def _run_in(root: Path, task: Task, emit) -> Result:
    skip_slow_imports()
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    for rel, data in task.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    params = dict(task.parameters)
    if task.figures_out:
        params[FIGURES_PARAMETER] = FIGURES_FILE
    executed = root / ".executed.ipynb"
    current = {"index": None, "source": "", "count": 0}
    n_cells = len(json.loads(task.files[task.notebook]).get("cells", [])) + 1  # + injected

    def on_cell(index, cell):
        current.update(index=index, source=cell.get("source", ""))
        if emit is not None:
            emit(task.name, index, n_cells, _first_line(cell.get("source", "")))

    title = _title(task)
    error = None
    nb = None
    stderr_path = root / ".kernel-stderr.txt"
    try:
        with open(stderr_path, "wb") as kernel_stderr:
            nb = papermill.execute_notebook(
                str(root / task.notebook), str(executed),
                parameters=params, kernel_name=KERNEL, progress_bar=False, log_output=False,
                execution_timeout=task.timeout or None, engine_name=_register_engine(),
                on_cell=on_cell, kernel_stderr=kernel_stderr,
                resources={"metadata": {"path": str(root)}}, shutdown_kernel="immediate",
            )
    except PapermillExecutionError as exc:
        error = (f"cell {exc.cell_index} (In [{exc.exec_count}]) "
                 f"`{_first_line(exc.source)}` raised {exc.ename}: {exc.evalue}")
    except CellTimeoutError:
        error = (f"cell {current['index']} `{_first_line(current['source'])}` ran longer "
                 f"than the timeout ({task.timeout:g} s per cell) and was stopped")
    except DeadKernelError:
        error = (f"the kernel died in cell {current['index']} "
                 f"`{_first_line(current['source'])}`{_tail(stderr_path)}")
    except Exception as exc:  # kernel would not start, bad notebook, ...
        where = "" if current["index"] is None else (
            f" in cell {current['index']} `{_first_line(current['source'])}`")
        error = f"{type(exc).__name__}{where}: {exc}".strip()
    if error is not None:
        failed = executed.read_bytes() if executed.exists() else None
        return Result(task.name, task.key, False, error=f"report '{task.name}' failed: {error}",
                      failed_notebook=failed, title=title)

    figures = []
    fig_path = root / FIGURES_FILE
    if task.figures_out and fig_path.exists():
        try:
            data = json.loads(fig_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            return _failed_after_run(task, nb, title, f"its {FIGURES_PARAMETER} file is not JSON: "
                                     f"{exc}")
        figures = data.get("figures", []) if isinstance(data, dict) else data
    nb.metadata["analysis"] = {
        "title": title,
        "source": _source_meta(task),
        "parameters": task.parameters,
        "built": _now(),
        "report": task.name,
    }
    artifacts: dict[str, bytes] = {}
    try:
        if "html" in task.formats or "pdf" in task.formats:
            from analysis import render
        if "html" in task.formats:
            artifacts[f"{task.name}.html"] = render.html_report(
                nb, with_code=task.with_code).encode("utf-8")
        if "pdf" in task.formats:
            paper = str(task.parameters.get("paper") or "a4")
            artifacts[f"{task.name}.pdf"] = render.pdf_report(
                nb, with_code=task.with_code, paper=paper)
    except Exception as exc:
        return _failed_after_run(task, nb, title, f"rendering failed: {type(exc).__name__}: {exc}")
    if "ipynb" in task.formats:
        artifacts[f"{task.name}.ipynb"] = nbformat.writes(nb).encode("utf-8")
    artifacts[FIGURES_FILE] = (json.dumps(
        {"report": task.name, "parameters": task.parameters, "figures": figures},
        indent=2, sort_keys=True, ensure_ascii=False, default=str,
    ) + "\n").encode("utf-8")
    return Result(task.name, task.key, True, artifacts=artifacts, title=title)


def _tail(path: Path, lines: int = 3) -> str:
    """The last lines the kernel wrote to stderr, for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [ln for ln in text.splitlines() if ln.strip() and "WARNING" not in ln][-lines:]
    return f" (kernel stderr: {' | '.join(kept)})" if kept else ""


def _failed_after_run(task: Task, nb, title: str, problem: str) -> Result:
    import nbformat

    return Result(task.name, task.key, False, error=f"report '{task.name}' failed: {problem}",
                  failed_notebook=nbformat.writes(nb).encode("utf-8"), title=title)


def _title(task: Task) -> str:
    """The `title` parameter; else the article's title for a report on one source file;
    else the report's name."""
    if task.parameters.get("title"):
        return str(task.parameters["title"])
    meta = _source_meta(task)
    if meta and meta.get("title"):
        return f"Figures from \u201c{meta['title']}\u201d"
    return task.name


def _source_meta(task: Task) -> dict | None:
    """Title, publisher and address of the source file, if the report has one."""
    rel = task.parameters.get("source")
    if not isinstance(rel, str) or rel not in task.files:
        return None
    import yaml

    try:
        data = yaml.safe_load(task.files[rel])
    except yaml.YAMLError:
        return None
    src = data.get("source") if isinstance(data, dict) else None
    if not isinstance(src, dict):
        return None
    return {k: src.get(k) for k in ("title", "publisher", "url")}


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="seconds")


# --- running many tasks -------------------------------------------------------------


def _run_serial(tasks, on_cell, on_start):
    for task in tasks:
        on_start(task.name)
        yield run_task(task, on_cell)


def _run_pool(tasks, jobs, on_cell, on_start):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # forkserver: workers start from a clean small process (no threads, no copy of
    # this one's state); each imports papermill in parallel in _warm_worker.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["analysis.build"])
    manager = queue = pump = None
    if on_cell is not None:
        manager = ctx.Manager()
        queue = manager.Queue()
        pump = threading.Thread(target=_pump, args=(queue, on_cell), daemon=True)
        pump.start()
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx,
                                 initializer=_warm_worker) as pool:
            futures = {}
            for task in tasks:
                futures[pool.submit(run_task, task, queue)] = task
                on_start(task.name)
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    yield fut.result()
                except BrokenProcessPool as exc:
                    yield Result(task.name, task.key, False,
                                 error=f"report '{task.name}': its worker process died ({exc})")
    finally:
        if queue is not None:
            queue.put(None)
            pump.join(timeout=2)
            manager.shutdown()


def _pump(queue, on_cell):
    while True:
        try:
            event = queue.get()
        except (EOFError, OSError):
            return
        if event is None:
            return
        on_cell(*event)


def _run_dask(tasks, scheduler, on_start):
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise UsageError(
            "--scheduler needs Dask distributed: pip install 'analysis[distributed]'"
        ) from exc
    try:
        client = Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    with client:
        futures = {}
        for task in tasks:
            task.verify_code = True
            futures[client.submit(run_task, task, pure=False)] = task
            on_start(task.name)
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # the worker died or could not unpickle the task
                yield Result(task.name, task.key, False,
                             error=f"report '{task.name}': the Dask task failed: {exc}")


# --- the build ----------------------------------------------------------------------


@dataclass
class Summary:
    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    duration: float = 0.0

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
    def end(self, summary: Summary) -> None: ...


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest folder, from `start` up, holding reports.yaml."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / REPORT_LIST).is_file():
            return folder
    raise ProjectError(f"no {REPORT_LIST} in {start} or any folder above it; "
                       "run the command inside the project")


def plan(root: Path, names=(), *, overrides=None, formats=None,
         reports_dir: Path | None = None) -> list[Report]:
    """The selected reports, their inputs and parameters checked; starts no kernel."""
    root = Path(root).resolve()
    reports_dir = Path(reports_dir) if reports_dir else root / "reports"
    selected = with_overrides(select(load_report_list(root), names), overrides or {}, formats)
    cache_file = reports_dir / ".cache" / "parameters.json"
    checked = []
    for report in selected:
        declared = declared_parameters(root / report.notebook, cache_file)
        check_parameters(report, declared, extra=(FIGURES_PARAMETER,))
        report = _with_default_inputs(report, declared)
        check_inputs(report, root)
        checked.append(report)
    return checked


def _with_default_inputs(report: Report, declared: dict) -> Report:
    """A path parameter left at the notebook's default still names an input file."""
    extra = []
    for name in PATH_PARAMETERS:
        if name in report.parameters or name not in declared:
            continue
        try:
            default = ast.literal_eval(declared[name].get("default") or "None")
        except (ValueError, SyntaxError):
            continue
        if isinstance(default, str) and default:
            extra.append(default)
    if not extra:
        return report
    return dataclasses.replace(report, inputs=tuple(dict.fromkeys((*report.inputs, *extra))))


def build(root: Path | str = ".", names=(), *, formats=None, overrides=None,
          with_code: bool = False, force: bool = False, jobs: int | None = None,
          scheduler: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
          lock_timeout: float = DEFAULT_LOCK_TIMEOUT, reports_dir: Path | str | None = None,
          reporter: Reporter | None = None) -> Summary:
    """Build the named reports (all when none is named); returns what happened.

    Raises UsageError (exit 2) for a bad report list, parameter or lock timeout,
    before any kernel starts. A report that fails does not stop the others.
    """
    from filelock import FileLock, Timeout

    started = time.monotonic()
    root = Path(root).resolve()
    reports_dir = Path(reports_dir).resolve() if reports_dir else root / "reports"
    reporter = reporter or Reporter()
    selected = plan(root, names, overrides=overrides, formats=formats, reports_dir=reports_dir)
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
    code, env = code_hash(), environment()

    tasks, plans = [], {}
    for report in selected:
        inputs, files = input_hashes(report, root)
        key = cache_key(report, inputs, code, env, with_code)
        plans[report.name] = (report, inputs, key)
        entry = manifest["reports"].get(report.name) or {}
        if not force and _up_to_date(entry, key, report.formats, reports_dir, report.name):
            summary.skipped.append(report.name)
            if entry.get("status") != "ok":  # inputs went back to the last good build
                entry["status"], entry["failure"] = "ok", None
                pub.drop_failed(reports_dir, report.name)
            continue
        tasks.append(Task(report.name, report.notebook, report.parameters, report.formats,
                          files, key, code, with_code, timeout, declared_figs[report.name]))
    log("start", "-", f"{len(selected)} report(s), {len(tasks)} to build, "
        f"{len(summary.skipped)} up to date" + (f", on {scheduler}" if scheduler else ""))
    reporter.begin(len(selected), len(tasks))
    for name in summary.skipped:
        reporter.skipped(name)
        log("up-to-date", name)

    cell_cb = reporter.cell if reporter.wants_cells else None
    on_start = lambda name: (reporter.started(name), log("execute", name))  # noqa: E731
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    if not tasks:
        results = iter(())
    elif scheduler:
        results = _run_dask(tasks, scheduler, on_start)
    elif jobs == 1:
        results = _run_serial(tasks, cell_cb, on_start)
    else:
        results = _run_pool(tasks, jobs, cell_cb, on_start)

    try:
        for result in results:
            report, inputs, key = plans[result.name]
            entry = manifest["reports"].get(report.name) or {}
            if result.ok:
                hashes = pub.publish_report(reports_dir, report.name, result.artifacts)
                pub.drop_failed(reports_dir, report.name)
                entry = _entry(report, result, hashes, inputs, key, code, env, with_code)
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
                entry["failure"] = {"built": _now(), "duration": round(result.duration, 3),
                                    "error": result.error, "failed_notebook": where,
                                    "key": key, "inputs": inputs}
                summary.failed.append((report.name, message))
                reporter.failed(report.name, message)
                log("failed", report.name, message)
            manifest["reports"][report.name] = entry
            manifest["built"] = _now()
            # After the report's folder: the manifest never names files that are not there.
            pub.write_manifest(reports_dir, manifest)
            pub.write_index(reports_dir, manifest)
    finally:
        if not tasks:
            pub.write_manifest(reports_dir, manifest)
        pub.write_index(reports_dir, manifest)
        log("end", "-", f"{len(summary.built)} built, {len(summary.skipped)} up to date, "
            f"{len(summary.failed)} failed")


def _up_to_date(entry: dict, key: str, formats, reports_dir: Path, name: str) -> bool:
    if entry.get("key") != key:
        return False
    files = entry.get("files") or {}
    if not isinstance(files, dict) or not set(formats) <= set(files):
        return False
    # A published file that is missing or changed is a corrupt cache entry: rebuild.
    return pub.verify_files(reports_dir, name, entry.get("hashes"))


def _entry(report, result, hashes, inputs, key, code, env, with_code) -> dict:
    files = {fmt: f"{report.name}.{fmt}" for fmt in report.formats}
    files["figures"] = FIGURES_FILE
    return {
        "name": report.name, "title": result.title, "notebook": report.notebook,
        "parameters": report.parameters, "formats": list(report.formats), "files": files,
        "hashes": hashes, "with_code": with_code, "key": key, "inputs": inputs, "code": code,
        "env": env, "built": _now(), "duration": round(result.duration, 3),
        "status": "ok", "failure": None,
    }


# --- status -------------------------------------------------------------------------


@dataclass
class ReportStatus:
    name: str
    state: str  # "up to date" | "stale" | "failed" | "never built"
    detail: str = ""
    built: str | None = None
    duration: float | None = None


def status(root: Path | str = ".", reports_dir: Path | str | None = None) -> list[ReportStatus]:
    """Each report of the list against the manifest: up to date, stale (why), failed, never."""
    root = Path(root).resolve()
    reports_dir = Path(reports_dir).resolve() if reports_dir else root / "reports"
    manifest, problem = pub.read_manifest(reports_dir)
    code, env = code_hash(), environment()
    out = []
    for report in load_report_list(root):
        entry = manifest["reports"].get(report.name) or {}
        built, duration = entry.get("built"), entry.get("duration")
        failure = entry.get("failure") or {}
        if entry.get("status") == "failed":
            where = failure.get("failed_notebook")
            detail = failure.get("error", "")
            if where:
                detail += f"; failed notebook: {reports_dir / where}"
            out.append(ReportStatus(report.name, "failed", detail, built, duration))
            continue
        if not entry.get("key"):
            detail = problem or ""
            out.append(ReportStatus(report.name, "never built", detail))
            continue
        try:
            inputs, _ = input_hashes(report, root)
        except OSError as exc:
            out.append(ReportStatus(report.name, "stale", f"cannot read an input: {exc}",
                                    built, duration))
            continue
        key = cache_key(report, inputs, code, env, entry.get("with_code", False))
        if key == entry["key"] and pub.verify_files(reports_dir, report.name, entry.get("hashes")):
            out.append(ReportStatus(report.name, "up to date", "", built, duration))
            continue
        reasons = _why_stale(entry, report, inputs, code, env)
        if key == entry["key"]:
            reasons = [f"published files in {reports_dir / report.name} are missing or changed"]
        out.append(ReportStatus(report.name, "stale", "; ".join(reasons) or "inputs changed",
                                built, duration))
    return out


def _why_stale(entry: dict, report: Report, inputs: dict, code: str, env: dict) -> list[str]:
    reasons = []
    old = entry.get("inputs") or {}
    for rel in sorted(set(old) | set(inputs)):
        if rel not in old:
            reasons.append(f"new input {rel}")
        elif rel not in inputs:
            reasons.append(f"no longer reads {rel}")
        elif old[rel] != inputs[rel]:
            reasons.append(f"{rel} changed")
    if entry.get("parameters") != report.parameters:
        reasons.append("parameters changed")
    if entry.get("code") != code:
        reasons.append("the analysis package changed")
    old_env = entry.get("env") or {}
    for k in sorted(set(old_env) | set(env)):
        if old_env.get(k) != env.get(k):
            reasons.append(f"{k} {old_env.get(k)} -> {env.get(k)}")
    return reasons


# --- reporters for the CLI ----------------------------------------------------------


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
        self._say(f"{total} report(s): {to_build} to build, {total - to_build} up to date")

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
        self.console.print(f"FAILED {name}: {message}", style="bold red", markup=False,
                           highlight=False)

    def end(self, summary):
        self.progress.stop()
        super().end(summary)


def make_reporter(quiet: bool = False) -> Reporter:
    if not quiet and sys.stdout.isatty():
        return RichReporter()
    return PlainReporter(quiet=quiet)
