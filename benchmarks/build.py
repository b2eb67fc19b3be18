"""Time `analysis build` on a 100-variant grid of the Kursk report, and the plain way.

Not a test: run it by hand (`.venv/bin/python benchmarks/build.py`) and copy the
figures into the README. It works on a copy of the project (notebooks, data) in a
temporary folder with its own reports.yaml, so it never touches reports/.

The grid (issue 12): the Kursk report in 25 titled editions x both area units x both
readings of the reinforcements, 100 reports, each as HTML, PDF and notebook.

    cold      `analysis build` of all 100 from nothing, on all cores; best of 2 runs
    memory    the peak memory of the process tree (build, workers, kernel templates,
              kernels) during a second full build (`--force`), sampled: the sampler's
              own work would slow the timed one
    plain     per report, the papermill CLI, then `jupyter nbconvert --to html` and
              `--to typst_pdf`, one after another; timed on a few reports and scaled
    no-op     `analysis build` again, nothing changed (best of 3)
    floor     the cells' own run time (papermill's per-cell durations, in a sample of
              the reports built one at a time, so that no other process shares their
              core) plus in-process rendering, times the 100 reports, divided by the
              cores: what the work itself costs, with no kernel start or imports.
              Measured right after each cold build, at the same speed of the machine
              (which drifts by a fifth within a run); the ratio is the fastest cold
              build's to its own floor, and every run's pair is printed

Targets on 2 cores: cold <= 60 s and >= 20x faster than plain for the same reports;
cold within 1.5x of the floor; no-op < 1 s; peak memory < 1.5 GB.

`--default-list` times the project's own report list instead (issue 4's benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ANALYSIS = [sys.executable, "-m", "analysis"]


def copy_project(dest: Path) -> Path:
    for name in ("notebooks", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_*"))
    shutil.copy2(ROOT / "reports.yaml", dest / "reports.yaml")
    return dest


def timed(cmd, cwd, env=None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


def plain_way(project: Path, reports) -> float:
    out = project / "plain"
    out.mkdir()
    start = time.perf_counter()
    for r in reports:
        executed = out / f"{r.name}.ipynb"
        params = yaml.safe_dump(r.parameters)
        subprocess.run([str(BIN / "papermill"), r.notebook, str(executed), "-y", params,
                        "-k", "python3", "--no-progress-bar"], cwd=project, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for to in ("html", "typst_pdf"):
            subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", to, str(executed)],
                           cwd=project, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def floor_and_render(project: Path, reports) -> tuple[float, float, float, list[float]]:
    """Sum of bare kernel runs, and in-process render times (HTML, PDF) per report."""
    import papermill

    from analysis.reports import render

    kernel, html_t, pdf_t, nbs = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in reports:
            out = Path(tmp) / f"{r.name}.ipynb"
            start = time.perf_counter()
            nbs.append(papermill.execute_notebook(
                str(project / r.notebook), str(out), parameters=r.parameters,
                kernel_name="python3", progress_bar=False, cwd=str(project)))
            kernel.append(time.perf_counter() - start)
    # One-off imports and template loads paid on a notebook that is then not timed: Typst
    # memoises, so rendering the timed notebook itself twice would time a cheaper repeat.
    render.html_report(_variant(nbs[0]))
    render.pdf_report(_variant(nbs[0]))
    for nb in nbs:
        start = time.perf_counter()
        render.html_report(nb)
        html_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        render.pdf_report(nb)
        pdf_t.append(time.perf_counter() - start)
    n = len(reports)
    return sum(kernel), sum(html_t) / n, sum(pdf_t) / n, kernel


def _variant(nb):
    """A copy of `nb` whose text differs from it everywhere (for an untimed warm-up)."""
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = f"Warm-up. {cell.source}"
    return nb


def default_list(args) -> None:
    """Issue 4's benchmark: the project's own report list, (a) to (e)."""
    sys.path.insert(0, str(ROOT / "src"))
    from analysis.reports.reportlist import load_report_list

    cores = _cores()
    with tempfile.TemporaryDirectory(prefix="analysis-bench-") as tmp:
        project = copy_project(Path(tmp))
        reports = load_report_list(project)
        print(f"{len(reports)} reports on {cores} cores: {', '.join(r.name for r in reports)}")
        # Warm-up: fills the parameter cache and the OS file cache, as a second run would.
        timed([*ANALYSIS, "build", "--force"], project)

        a = None if args.skip_plain else plain_way(project, reports)
        # The best of two runs: this machine may be shared; memory from a third, sampled run.
        b = min(timed([*ANALYSIS, "build", "--jobs", "1", "--force"], project) for _ in "ab")
        c = min(timed([*ANALYSIS, "build", "--force"], project) for _ in "ab")
        _, peak, _ = peak_memory([*ANALYSIS, "build", "--force"], project, every=0.02)
        d = min(timed([*ANALYSIS, "build"], project) for _ in range(3))
        # The same through the library: what the command costs beyond `import analysis.cli`.
        lib = ("import sys; from analysis.reports.build import build, find_root; "
               "from analysis.reports.progress import make_reporter; "
               "sys.exit(build(find_root(), force={}, reporter=make_reporter(True)).exit_code)")
        c_lib = min(timed([sys.executable, "-c", lib.format(True)], project) for _ in "ab")
        d_lib = min(timed([sys.executable, "-c", lib.format(False)], project) for _ in "abc")
        cli_import = min(timed([sys.executable, "-c", "import analysis.cli"], project)
                         for _ in "abc")
        kernel_sum, html_t, pdf_t, kernels = floor_and_render(project, reports)
        e = kernel_sum / cores

    rows = [
        ("(a) plain: papermill CLI + 2x nbconvert, serial", a, f"{a / c:.1f}x (c)" if a else ""),
        ("(b) analysis build --jobs 1 --force", b, f"{b / c:.2f}x (c)"),
        (f"(c) analysis build --force ({cores} cores, default --jobs)", c, ""),
        ("(d) analysis build, nothing changed", d, f"(c) is {c / d:.0f}x (d)"),
        (f"(e) floor: sum of kernel runs / {cores} cores", e, f"(c) is {c / e:.2f}x (e)"),
        ("(c') as (c), called from Python (no CLI start-up)", c_lib, f"{c_lib / e:.2f}x (e)"),
        ("(d') as (d), called from Python (no CLI start-up)", d_lib,
         f"(c') is {c_lib / d_lib:.0f}x (d')"),
        ("    python -c 'import analysis.cli' alone", cli_import, ""),
    ]
    print(f"\n{'what':<52} {'seconds':>8}  ratio")
    for what, secs, ratio in rows:
        shown = "skipped" if secs is None else f"{secs:8.2f}"
        print(f"{what:<52} {shown:>8}  {ratio}")
    print(f"\nkernel runs: {', '.join(f'{k:.2f}' for k in kernels)} s")
    print(f"peak memory of (c): {peak / 2**20:.0f} MiB (process tree RSS, sampled every 20 ms)")
    print(f"rendering per report, in-process: HTML {html_t:.3f} s + PDF {pdf_t:.3f} s = "
          f"{html_t + pdf_t:.3f} s")
    print("\ntargets: (c) >= 3x faster than (a); (d) < 0.5 s and >= 20x faster than (c); "
          "(c) <= 1.3x (e); peak < 1.5 GB; rendering < 0.3 s per report")
    checks = [
        ("(a)/(c) >= 3", a is None or a / c >= 3),
        ("(d) < 0.5 s", d < 0.5),
        ("(c)/(d) >= 20", c / d >= 20),
        ("(c)/(e) <= 1.3", c / e <= 1.3),
        ("peak < 1.5 GB", peak < 1.5e9),
        ("render < 0.3 s", html_t + pdf_t < 0.3),
    ]
    print("met: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in checks))


# --- issue 12: a 100-variant grid ------------------------------------------------------

EDITIONS = 25
GRID_YAML = """\
formats: [html, pdf, ipynb]
reports:
  - name: kursk-{{title}}-{{area_unit}}-{{reinforcements_reading}}
    notebook: notebooks/kursk_report.ipynb
    parameters: {{source: data/sources/kursk-incursion-2025.yaml}}
    grid:
      title: [{titles}]
      area_unit: [km2, mi2]
      reinforcements_reading: [excludes, includes]
"""


def grid_project(dest: Path, editions: int = EDITIONS) -> Path:
    for name in ("notebooks", "data"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(".ipynb_*"))
    titles = ", ".join(f"edition{i:02d}" for i in range(1, editions + 1))
    (dest / "reports.yaml").write_text(GRID_YAML.format(titles=titles), encoding="utf-8")
    return dest


def peak_memory(cmd, cwd, every: float = 0.1) -> tuple[float, int, int]:
    """Wall time, and the peak over time of the process tree's summed RSS and PSS.

    Kernels forked from a template share its pages, which RSS counts once per process;
    PSS divides each shared page among the processes that map it, so it adds up to
    what the tree really holds."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peaks = {"rss": 0, "pss": 0}
    done = threading.Event()

    def sample():
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            rss = pss = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    info = p.memory_full_info()
                    rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            peaks["rss"], peaks["pss"] = max(peaks["rss"], rss), max(peaks["pss"], pss)
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.decode()}")
    return elapsed, peaks["rss"], peaks["pss"]


def cell_seconds(path: Path) -> float:
    """The cells' own run time, as papermill recorded it in the executed notebook."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum((c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0)
               for c in nb["cells"] if c["cell_type"] == "code")


def render_seconds(paths: list[Path], warm_up: Path | None) -> list[float]:
    """In-process HTML + PDF rendering time of each executed notebook, each rendered once,
    as a build renders it, after a warm-up on another (`warm_up`; None: a copy of the
    first with other text): the one-off imports and template loads a worker pays once.
    The warm-up is not one of the timed notebooks: Typst memoises, and rendering a
    notebook a second time costs less than the first."""
    import nbformat

    from analysis.reports import render

    warm = (nbformat.read(warm_up, as_version=4) if warm_up is not None
            else _variant(nbformat.read(paths[0], as_version=4)))
    render.html_report(warm)
    render.pdf_report(warm)
    times = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        render.html_report(nb)
        render.pdf_report(nb, paper=str(nb.metadata.get("analysis", {}).get(
            "parameters", {}).get("paper") or "a4"))
        times.append(time.perf_counter() - start)
    return times


def plain_per_report(project: Path, reports, count: int) -> float:
    out = project / "plain"
    out.mkdir()
    start = time.perf_counter()
    for r in reports[:count]:
        executed = out / f"{r.name}.ipynb"
        subprocess.run([str(BIN / "papermill"), r.notebook, str(executed), "-y",
                        yaml.safe_dump(r.parameters), "-k", "python3", "--no-progress-bar"],
                       cwd=project, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for to in ("html", "typst_pdf"):
            subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", to, str(executed)],
                           cwd=project, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) / count


def floor_sample(project: Path, executed: list[Path], names: list[str],
                 render_sample: int) -> tuple[float, float, list[float]]:
    """The floor's two parts, measured right after a cold build: the cells' own run time,
    in a sample of the reports built again one at a time (a build's own cell times are
    stretched by the other workers and kernels sharing the cores, more so with a spare
    worker, which would flatter the cold build against its floor), and in-process
    rendering of a sample. Returns (cells a report, rendering a report, each cell sum)."""
    n = len(executed)
    timed([*ANALYSIS, "build", "--quiet", "--force", "--jobs", "1", *names], project)
    alone = [cell_seconds(project / "reports" / name / f"{name}.ipynb") for name in names]
    sample = executed[:: max(1, n // render_sample)][:render_sample]
    others = [p for p in executed if p not in sample]
    renders = render_seconds(sample, others[-1] if others else None)
    return sum(alone) / len(alone), sum(renders) / len(renders), alone


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _cores() -> int:
    """The cores this process may use, as the build counts them (build.default_jobs)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def grid(args) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from analysis.reports.reportlist import load_report_list

    cores = _cores()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="analysis-bench-grid-") as tmp:
        project = grid_project(Path(tmp), args.editions)
        reports = load_report_list(project)
        n = len(reports)
        print(f"{n} variants of the Kursk report (html, pdf, ipynb) on {cores} cores; "
              f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
        # Timed alone: the memory sampler reads every process's smaps ten times a second,
        # which costs a good part of a core and would slow the build it measures.
        # Each cold build is followed at once by its floor, so that the two are measured
        # at the same speed of this shared machine (which drifts by 20% within a run).
        executed = [project / "reports" / r.name / f"{r.name}.ipynb" for r in reports]
        names = [r.name for r in reports][:: max(1, n // args.cell_sample)][: args.cell_sample]
        colds, floors, in_build = [], [], []
        for _ in range(args.cold_runs):  # best of n: the machine is shared and noisy
            shutil.rmtree(project / "reports", ignore_errors=True)
            colds.append(timed([*ANALYSIS, "build", "--quiet"], project))
            in_build.append([cell_seconds(p) for p in executed])
            floors.append(floor_sample(project, executed, names, args.render_sample))
        best = min(range(len(colds)), key=colds.__getitem__)
        cold, (cells_each, render_each, alone) = colds[best], floors[best]
        noop = min(timed([*ANALYSIS, "build", "--quiet"], project) for _ in range(3))
        _, rss, pss = peak_memory([*ANALYSIS, "build", "--quiet", "--force"], project)
        plain = plain_per_report(project, reports, args.plain_count)
    load_after = os.getloadavg()
    floor = (cells_each + render_each) * n / cores
    pairs = ", ".join(f"{c:.1f} s / {(f[0] + f[1]) * n / cores:.1f} s"
                      for c, f in zip(colds, floors, strict=True))
    plain_all = plain * n
    rows = [
        (f"cold: analysis build, {n} reports, {cores} cores (best of {len(colds)})", cold,
         f"{cold / n:.3f} s a report; runs: {', '.join(f'{c:.1f}' for c in colds)} s"),
        (f"plain: papermill + 2x nbconvert CLI, x {n} (timed on {args.plain_count})",
         plain_all, f"{plain:.2f} s a report; cold is {plain_all / cold:.1f}x faster"),
        ("no-op: analysis build again, nothing changed", noop, ""),
        (f"floor: (cells + rendering) / {cores} cores, after that build", floor,
         f"cold is {cold / floor:.2f}x the floor; cold / floor, each run: {pairs}"),
    ]
    print(f"\n{'what':<62} {'seconds':>8}  notes")
    for what, secs, note in rows:
        print(f"{what:<62} {secs:8.2f}  {note}")
    print(f"\ncells' own run time, {len(alone)} reports built one at a time: {cells_each:.3f} s "
          f"a report (min {min(alone):.3f}, max {max(alone):.3f}); in the full build, "
          f"sharing the cores: {sum(in_build[best]) / n:.3f} s a report")
    print(f"rendering in-process (HTML + PDF), {min(args.render_sample, n)} reports sampled: "
          f"{render_each:.3f} s a report")
    print(f"peak memory of a full build: {pss / 2**20:.0f} MiB PSS "
          f"({rss / 2**20:.0f} MiB summed RSS, which counts shared pages once per process)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}")
    checks = [
        ("cold <= 60 s", cold <= 60),
        ("plain/cold >= 20", plain_all / cold >= 20),
        ("cold/floor <= 1.5", cold / floor <= 1.5),
        ("no-op < 1 s", noop < 1),
        ("peak < 1.5 GB", pss < 1.5e9),
    ]
    print("met: " + ", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in checks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--default-list", action="store_true",
                        help="time the project's own report list (issue 4) instead")
    parser.add_argument("--skip-plain", action="store_true",
                        help="with --default-list: skip (a), the slowest")
    parser.add_argument("--editions", type=int, default=EDITIONS,
                        help=f"titled editions in the grid, 4 reports each (default {EDITIONS})")
    parser.add_argument("--plain-count", type=int, default=3,
                        help="reports the plain pipeline is timed on (default 3)")
    parser.add_argument("--cold-runs", type=int, default=2,
                        help="cold builds timed, each from nothing; the best counts (default 2)")
    parser.add_argument("--cell-sample", type=_at_least_one, default=10,
                        help="grid: reports built one at a time to time the cells for the floor")
    parser.add_argument("--render-sample", type=_at_least_one, default=5,
                        help="reports rendered in-process for the floor (default 5)")
    args = parser.parse_args()
    if args.default_list:
        default_list(args)
    else:
        grid(args)


if __name__ == "__main__":
    main()
