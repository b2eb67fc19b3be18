"""Faults a scheduled build must survive: a raising cell, a dead kernel, a cell that never
ends, SIGKILL mid-build, two builds at once, an interrupted publish."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_build import make_project, run, stable_code, write_notebook  # noqa: F401

from analysis.reports import publish as pub
from analysis.reports.build import status

ANALYSIS = [sys.executable, "-m", "analysis"]

FAULTY = """\
formats: [ipynb]
reports:
  - name: good
    notebook: notebooks/tiny.ipynb
    parameters: {source: data/sources/a.yaml}
  - name: broken
    notebook: notebooks/broken.ipynb
    parameters: {source: data/sources/b.yaml}
"""


def faulty_project(tmp_path, cell: str) -> Path:
    root = make_project(tmp_path, FAULTY)
    write_notebook(root / "notebooks" / "broken.ipynb", extra_cells=[cell])
    return root


def test_raising_cell_fails_its_report_only_and_keeps_the_last_good_one(tmp_path,
                                                                        stable_code):  # noqa: F811
    root = faulty_project(tmp_path, "x = 1")
    assert run(root, jobs=2)[0].exit_code == 0
    good_before = (root / "reports/broken/figures.json").read_bytes()

    write_notebook(root / "notebooks/broken.ipynb", extra_cells=['raise ValueError("boom")'])
    (root / "data/sources/a.yaml").write_text("figures: {x: 9}\n")  # so `good` rebuilds too
    summary, rec = run(root, jobs=2)
    assert summary.exit_code == 1
    assert summary.built == ["good"]
    [(name, message)] = summary.failed
    failed_nb = root / "reports/.failed/broken.ipynb"
    assert name == "broken"
    assert message == (
        "report 'broken' failed: cell 4 (In [4]) `raise ValueError(\"boom\")` raised "
        f"ValueError: boom; the executed notebook is kept at {failed_nb}"
    )
    executed = nbformat.read(failed_nb, 4)
    assert any(o.get("ename") == "ValueError" for c in executed.cells for o in c.get("outputs", []))
    # The last good report is untouched, and status says where the failed notebook is.
    assert (root / "reports/broken/figures.json").read_bytes() == good_before
    states = {s.name: s for s in status(root)}
    assert states["broken"].state == "failed"
    assert str(failed_nb) in states["broken"].detail
    manifest = json.loads((root / "reports/manifest.json").read_text())
    assert manifest["reports"]["broken"]["key"] is not None  # last good build kept

    # Fixed: it builds, and the failed notebook is cleared away.
    write_notebook(root / "notebooks/broken.ipynb", extra_cells=["x = 2"])
    assert run(root)[0].built == ["broken"]
    assert not failed_nb.exists()


def test_cli_exit_code_1_names_report_and_cell(tmp_path, monkeypatch, stable_code):  # noqa: F811
    from click.testing import CliRunner

    from analysis.cli import cli

    root = faulty_project(tmp_path, "1 / 0")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["build", "--quiet", "--jobs", "1"])
    assert result.exit_code == 1
    assert "FAILED      broken: report 'broken' failed: cell 4 (In [4]) `1 / 0` raised " \
        "ZeroDivisionError: division by zero" in result.output
    assert "good" not in result.output  # --quiet: only failures
    assert (root / "reports/good/good.ipynb").exists()


def test_cell_that_kills_its_kernel_fails_within_seconds(tmp_path):
    root = faulty_project(tmp_path, "import os; os._exit(1)")
    started = time.monotonic()
    summary, _ = run(root, "broken")
    elapsed = time.monotonic() - started
    [(name, message)] = summary.failed
    assert "the kernel died in cell 4 `import os; os._exit(1)`" in message
    assert elapsed < 20, elapsed
    # The notebook is written once, when papermill ends (engine.py), not after each cell;
    # a run that breaks still leaves the notebook as it stood, with the cells before.
    executed = nbformat.read(root / "reports/.failed/broken.ipynb", 4)
    assert executed.cells[3].metadata.papermill["status"] == "completed"
    assert "os._exit" in executed.cells[4].source


def test_cell_that_never_ends_is_stopped_by_the_timeout(tmp_path):
    root = faulty_project(tmp_path, "while True:\n    pass")
    started = time.monotonic()
    summary, _ = run(root, "broken", timeout=2)
    elapsed = time.monotonic() - started
    [(name, message)] = summary.failed
    assert "cell 4 `while True:` ran longer than the timeout (2 s per cell)" in message
    assert elapsed < 20, elapsed


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _published(root: Path, name: str) -> bool:
    try:
        manifest = json.loads((root / "reports/manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return manifest["reports"].get(name, {}).get("status") == "ok"


def _assert_consistent(root: Path):
    """Every report folder holds exactly the files the manifest records, bytes and all."""
    reports = root / "reports"
    manifest, problem = pub.read_manifest(reports)
    assert problem is None
    for name, entry in manifest["reports"].items():
        if entry.get("key"):
            assert pub.verify_files(reports, name, entry["hashes"]), name
            assert sorted(p.name for p in (reports / name).iterdir()) == sorted(entry["hashes"])
    for folder in reports.iterdir():
        if folder.is_dir() and not folder.name.startswith("."):
            assert folder.name in manifest["reports"], f"unrecorded folder {folder}"
    assert not list(reports.rglob("*.tmp"))


def test_sigkill_mid_build_leaves_no_partial_files(tmp_path):
    root = make_project(tmp_path)
    # The source reports sleep for $DELAY seconds, so the kill lands inside a kernel run.
    (root / "reports.yaml").write_text(
        (root / "reports.yaml").read_text().replace(
            'parameters: {source: "{path}"}', 'parameters: {source: "{path}", delay_env: DELAY}'))
    env = {**os.environ, "DELAY": "0"}
    subprocess.run([*ANALYSIS, "build", "main", "source-a", "--jobs", "1"], cwd=root, env=env,
                   check=True, capture_output=True)
    good = (root / "reports/source-a/source-a.ipynb").read_bytes()
    # A stale staging folder from an "earlier" kill, to be cleaned up.
    (root / "reports/.staging/source-b-deadbeef").mkdir(parents=True)
    (root / "reports/.staging/source-b-deadbeef/source-b.html").write_text("<half")

    proc = subprocess.Popen(
        [*ANALYSIS, "build", "--jobs", "1", "--force"], cwd=root,
        env={**env, "DELAY": "60"}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # main is rebuilt and published first, then source-a sleeps in its kernel.
        _wait_for(lambda: (root / "reports/build.log").read_text().count("execute\tsource-a")
                  == 2, 60, "source-a to start")
        time.sleep(1.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its kernel, as a crash would
        proc.wait()

    log = (root / "reports/build.log").read_text()
    assert "built\tmain" in log.split("cleanup")[-1]  # published by the killed build
    assert not (root / "reports/source-b").exists()
    assert (root / "reports/source-a/source-a.ipynb").read_bytes() == good
    _assert_consistent(root)

    result = subprocess.run([*ANALYSIS, "build", "--jobs", "1"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "removed stale .staging/source-b-deadbeef" in (root / "reports/build.log").read_text()
    assert not any((root / "reports/.staging").iterdir())
    _assert_consistent(root)
    assert sorted(p.name for p in (root / "reports").iterdir() if p.is_dir()
                  and not p.name.startswith(".")) == ["main", "source-a", "source-b"]


def test_interrupted_swap_is_restored_by_the_next_build(tmp_path):
    reports = tmp_path / "reports"
    pub.publish_report(reports, "r", {"r.html": b"old"})
    # Killed between the two renames: the old folder sits in staging, none in place.
    os.rename(reports / "r", reports / ".staging" / "r.old-0123abcd")
    (reports / ".staging" / "r-89abcdef").mkdir()
    (reports / ".staging" / "r-89abcdef" / "r.html").write_bytes(b"ne")
    done = pub.clean_staging(reports)
    assert (reports / "r" / "r.html").read_bytes() == b"old"
    assert sorted(done) == ["removed stale .staging/r-89abcdef",
                            "restored r/ from an interrupted publish"]
    assert not any((reports / ".staging").iterdir())


def test_publish_replaces_a_report_folder_as_a_whole(tmp_path):
    reports = tmp_path / "reports"
    pub.publish_report(reports, "r", {"r.html": b"1", "r.pdf": b"1"})
    hashes = pub.publish_report(reports, "r", {"r.html": b"2"})
    assert sorted(p.name for p in (reports / "r").iterdir()) == ["r.html"]
    assert pub.verify_files(reports, "r", hashes)
    assert not pub.verify_files(reports, "r", {"r.html": pub.sha256(b"1")})


def test_two_builds_at_once_one_waits_both_succeed(tmp_path):
    root = make_project(tmp_path)
    cmd = [*ANALYSIS, "build", "--jobs", "1", "--format", "ipynb"]
    procs = [subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("waiting up to 600 s for another build" in out for out, _ in outs) == 1
    _assert_consistent(root)
    log = [line.split("\t") for line in (root / "reports/build.log").read_text().splitlines()]
    events = [fields[1] for fields in log]
    # The runs never interleave: one start..end, then the other.
    assert events.index("end") < len(events) - 1 - events[::-1].index("start")


@pytest.mark.parametrize("garbage", [
    "", "[1, 2]", '{"version": 1, "reports": {"main": 3}}',
    '{"version": 1, "reports": {"main": {"parameters": 5, "files": [1]}}}',
])
def test_manifest_garbage_never_crashes_a_build(tmp_path, garbage, stable_code):  # noqa: F811
    root = make_project(tmp_path)
    (root / "reports").mkdir()
    (root / "reports/manifest.json").write_text(garbage)
    summary, _ = run(root, "source-a")
    assert summary.built == ["source-a"]
    manifest, problem = pub.read_manifest(root / "reports")
    assert problem is None and sorted(manifest["reports"]) == ["source-a"]
    assert "source-a/source-a.ipynb" in (root / "reports/index.html").read_text()
