"""Time `analysis build` against the plain way, on the project's report list.

Not a test: run it by hand (`.venv/bin/python benchmarks/build.py`) and copy the
table into the README. It works on a copy of the project (notebooks, data,
reports.yaml) in a temporary folder, so it never touches reports/.

    (a) plain: per report, papermill's CLI, then `jupyter nbconvert --to html`, then
        `jupyter nbconvert --to typst_pdf`, one after the other
    (b) analysis build --jobs 1 --force   (best of 2)
    (c) analysis build --force            (all cores, best of 2; peak memory of the
                                           process tree in a third run)
    (d) analysis build                    (nothing changed, best of 3)
    (e) floor: the sum of bare kernel runs (papermill.execute_notebook, in-process)
        divided by the cores
    render: in-process HTML and PDF rendering time per report

Targets (issue 4) on a 2-core machine: (c) >= 3x faster than (a); (d) < 0.5 s and
>= 20x faster than (c); (c) within 1.3x of (e); peak memory < 1.5 GB; rendering
both formats < 0.3 s per report.
"""

from __future__ import annotations

import argparse
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


def timed_with_peak_memory(cmd, cwd) -> tuple[float, int]:
    """Wall time and peak resident memory of the command and all its children."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak = max(peak, total)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    rc = proc.wait()
    elapsed = time.perf_counter() - start
    done.set()
    thread.join()
    if rc != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {rc}")
    return elapsed, peak


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

    kernel, html_t, pdf_t = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in reports:
            out = Path(tmp) / f"{r.name}.ipynb"
            start = time.perf_counter()
            nb = papermill.execute_notebook(
                str(project / r.notebook), str(out), parameters=r.parameters,
                kernel_name="python3", progress_bar=False, cwd=str(project))
            kernel.append(time.perf_counter() - start)
            render.html_report(nb)  # first call pays one-off imports and template loads
            render.pdf_report(nb)
            start = time.perf_counter()
            render.html_report(nb)
            html_t.append(time.perf_counter() - start)
            start = time.perf_counter()
            render.pdf_report(nb)
            pdf_t.append(time.perf_counter() - start)
    n = len(reports)
    return sum(kernel), sum(html_t) / n, sum(pdf_t) / n, kernel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-plain", action="store_true", help="skip (a), the slowest")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    from analysis.reports.reportlist import load_report_list

    cores = os.cpu_count() or 1
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
        _, peak = timed_with_peak_memory([*ANALYSIS, "build", "--force"], project)
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
        (f"(c) analysis build --force (--jobs {cores})", c, ""),
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


if __name__ == "__main__":
    main()
