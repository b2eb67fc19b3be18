"""One hermetic build task: (notebook, parameters, input bytes) -> artifacts.

`run_task` materialises the inputs in a fresh temporary folder with the project's
relative layout and runs papermill with that folder as the kernel's working
directory, so a task runs the same in this process, in a local process pool or on
a Dask worker with no shared filesystem. It never raises for a notebook's fault.

Notebook conventions (the project's notebooks follow them):

- a cell tagged `parameters` declares every parameter with a default;
- a parameter that names an input file says so with a comment starting `input file` on
  its line (`source = "data/a.yaml"  # input file: ...`) and holds a path relative to
  the project root; the kernel's working directory is the (materialised) root, which
  holds a `reports.yaml` marker so that `analysis.notebook.locate` finds it;
- a parameter `figures_out` (str, default "" meaning do not write) names a file
  to which the notebook writes, as JSON, the list of figures it used (the
  `analysis figures --json` contract; `{"figures": [...]}` is accepted too, with an
  optional `"source": {"title", "publisher", "url"}` that titles the report).
  An optional `"summary"` (a string: the report's first finding, in one line) is shown
  under the report's title in the index.
  The build sets it and publishes `figures.json` =
  `{"report": name, "parameters": {...}, "figures": [...]}`;
- a parameter `title`, if given, titles the report (else the source file's article
  title, else the report's name); a parameter `paper` ("a4" | "us-letter") sets the
  PDF's paper size.
"""

from __future__ import annotations

import json
import platform
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.files import PROJECT_FILE
from analysis.reports.cache import package_hash
from analysis.reports.publish import now
from analysis.reports.reportlist import skip_slow_imports

KERNEL = "python3"
FIGURES_PARAMETER = "figures_out"
FIGURES_FILE = "figures.json"  # written by the notebook, in the task's temp root
MAX_SUMMARY = 400  # characters of a report's one-line summary kept for the index
MAX_CELL_OUTPUT = 5_000_000  # characters of output one cell may publish
DEFAULT_TIMEOUT = 600.0  # seconds per cell; a cell that runs 10 minutes is stuck
# Our papermill engine (analysis.reports.engine), found by papermill through its
# `papermill.engine` entry point. Never import that module before papermill: papermill
# loads it while papermill itself is still being imported.
ENGINE = "analysis"


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
    code: str  # cache.package_hash() of the planning machine, for verify_code
    with_code: bool = False
    timeout: float | None = DEFAULT_TIMEOUT
    figures_out: bool = True
    verify_code: bool = False  # on a cluster, check the worker runs the same package
    warm: bool = True  # fork the kernel from the worker's template (reports.warm)


@dataclass
class TaskResult:
    name: str
    key: str
    ok: bool
    artifacts: dict[str, bytes] = field(default_factory=dict)
    duration: float = 0.0
    error: str = ""
    failed_notebook: bytes | None = None
    title: str = ""
    summary: str = ""  # the report's first finding, one line, for the index
    notes: list[str] = field(default_factory=list)  # e.g. a kernel start retried


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


def run_task(task: Task, progress=None) -> TaskResult:
    """Execute one report and render its formats; never raises for a notebook's fault.

    `progress`, if given, is a callable or a queue; it receives
    (report, cell index, number of cells, first line of the cell) per cell.
    """
    started = time.monotonic()
    emit = _progress_emitter(progress)
    try:
        if task.verify_code and package_hash() != task.code:
            return TaskResult(task.name, task.key, False, error=(
                f"report '{task.name}': the analysis package on this worker "
                f"({platform.node()}) differs from the one that planned the build; "
                "install the same version on every worker"
            ), duration=time.monotonic() - started)
        with tempfile.TemporaryDirectory(prefix="analysis-task-") as tmp:
            result = _run_in(Path(tmp), task, emit)
    except Exception as exc:  # a bug or an environment fault: fail this report only
        result = TaskResult(task.name, task.key, False,
                        error=f"report '{task.name}': {type(exc).__name__}: {exc}")
    result.duration = time.monotonic() - started
    return result


def _run_in(root: Path, task: Task, emit) -> TaskResult:
    skip_slow_imports()
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    for rel, data in task.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # The folder holding reports.yaml is the project root (analysis.files.project_root):
    # mark this copy's, so a notebook never resolves its paths in a project around it.
    if PROJECT_FILE not in task.files:
        (root / PROJECT_FILE).write_text("# the root of one build task's copy of the project\n")
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
    notes: list[str] = []
    stderr_path = root / ".kernel-stderr.txt"
    from analysis.reports import warm

    engine_kwargs = {}
    if task.warm:
        engine_kwargs["kernel_manager_class"] = warm.kernel_manager_class()
    for attempt in (1, 2):
        try:
            with open(stderr_path, "wb") as kernel_stderr:
                nb = papermill.execute_notebook(
                    str(root / task.notebook), str(executed),
                    parameters=params, kernel_name=KERNEL, progress_bar=False,
                    log_output=False, execution_timeout=task.timeout or None,
                    engine_name=ENGINE, on_cell=on_cell, kernel_stderr=kernel_stderr,
                    resources={"metadata": {"path": str(root)}}, shutdown_kernel="immediate",
                    **engine_kwargs,
                )
        except warm.WarmStateError as exc:  # the template cannot import: no retry helps
            error = str(exc)
        except warm.KernelStartError as exc:
            if attempt == 1 and (not task.warm or warm.server().restart_if_dead()):
                notes.append(f"the kernel failed to start ({exc}); retried once")
                continue  # a kernel start is retried once; a cell's error never is
            error = f"the kernel failed to start twice ({exc})"
        except PapermillExecutionError as exc:
            error = (f"cell {exc.cell_index} (In [{exc.exec_count}]) "
                     f"`{_first_line(exc.source)}` raised {exc.ename}: {exc.evalue}")
        except CellTimeoutError:
            error = (f"cell {current['index']} `{_first_line(current['source'])}` ran longer "
                     f"than the timeout ({task.timeout:g} s per cell) and was stopped")
        except DeadKernelError:
            error = (f"the kernel died in cell {current['index']} "
                     f"`{_first_line(current['source'])}`{_tail(stderr_path)}")
        except Exception as exc:  # bad notebook, ...
            where = "" if current["index"] is None else (
                f" in cell {current['index']} `{_first_line(current['source'])}`")
            error = f"{type(exc).__name__}{where}: {exc}".strip()
        break
    if error is not None:
        failed = executed.read_bytes() if executed.exists() else None
        return TaskResult(task.name, task.key, False, error=f"report '{task.name}' failed: {error}",
                          failed_notebook=failed, title=title, notes=notes)

    figures, source, summary = [], None, ""
    fig_path = root / FIGURES_FILE
    if task.figures_out and fig_path.exists():
        try:
            data = json.loads(fig_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            return _failed_after_run(task, nb, title, f"its {FIGURES_PARAMETER} file is not JSON: "
                                     f"{exc}")
        figures = data.get("figures", []) if isinstance(data, dict) else data
        if isinstance(data, dict) and isinstance(data.get("source"), dict):
            source = {k: data["source"].get(k) for k in ("title", "publisher", "url")}
            title = _title(task, source)
        if isinstance(data, dict) and isinstance(data.get("summary"), str):
            summary = " ".join(data["summary"].split())[:MAX_SUMMARY]
    _bound_outputs(nb)
    nb.metadata["analysis"] = {
        "title": title,
        "source": source,
        "parameters": task.parameters,
        "built": now(),
        "report": task.name,
    }
    artifacts: dict[str, bytes] = {}
    try:
        if "html" in task.formats or "pdf" in task.formats:
            from analysis.reports import render
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
    return TaskResult(task.name, task.key, True, artifacts=artifacts, title=title,
                      summary=summary, notes=notes)


def _output_size(output) -> int:
    if output.get("output_type") == "stream":
        return len(_joined(output.get("text")))
    return sum(len(_joined(v)) for v in (output.get("data") or {}).values()) + sum(
        len(_joined(line)) for line in output.get("traceback") or [])


def _joined(value) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value or "")


def _bound_outputs(nb) -> None:
    """Cut each cell's outputs at MAX_CELL_OUTPUT characters, with a note the reader sees:
    a cell that prints 100 MB must not publish a 100 MB page (in any format)."""
    import nbformat

    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept, used = [], 0
        for output in cell.get("outputs", []):
            size = _output_size(output)
            if used + size <= MAX_CELL_OUTPUT:
                kept.append(output)
                used += size
                continue
            total = used + size + sum(_output_size(o) for o in
                                      cell.outputs[len(kept) + 1:])
            if output.get("output_type") == "stream":
                output["text"] = _joined(output.get("text"))[: MAX_CELL_OUTPUT - used]
                kept.append(output)
            kept.append(nbformat.v4.new_output("stream", name="stdout", text=(
                f"\n[Output cut here: this cell's output is {total / 1e6:,.1f} million "
                f"characters; a report shows at most {MAX_CELL_OUTPUT / 1e6:g} million.]\n")))
            break
        cell.outputs = kept


def _tail(path: Path, lines: int = 3) -> str:
    """The last lines the kernel wrote to stderr, for an error message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [ln for ln in text.splitlines() if ln.strip() and "WARNING" not in ln][-lines:]
    return f" (kernel stderr: {' | '.join(kept)})" if kept else ""


def _failed_after_run(task: Task, nb, title: str, problem: str) -> TaskResult:
    import nbformat

    return TaskResult(task.name, task.key, False, error=f"report '{task.name}' failed: {problem}",
                      failed_notebook=nbformat.writes(nb).encode("utf-8"), title=title)


def _title(task: Task, source: dict | None = None) -> str:
    """The `title` parameter; else the article's title (from what the notebook reported
    of its source file); else the report's name."""
    if task.parameters.get("title"):
        return str(task.parameters["title"])
    if source and source.get("title"):
        # typographic apostrophes: Russia's -> Russia’s
        title = re.sub(r"(?<=\w)'(?=\w)", "\u2019", str(source["title"]))
        return f"Figures from \u201c{title}\u201d"
    return task.name
