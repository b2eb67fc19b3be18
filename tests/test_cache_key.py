"""The cache key is complete, and `status` and `build` agree on what is stale.

One tiny project with three reports, one per format, built once per test; then
each tool version, template folder and the package code is changed in turn (by
replacing what `cache` reads, not by installing anything) and `status` must name
exactly the reports that thing can change, and `build` must rebuild exactly those.
"""

from __future__ import annotations

import pytest
from test_build import Recorder, make_project

from analysis.reports import cache as cache_mod
from analysis.reports.build import build, status

REPORTS_YAML = """\
reports:
  - name: r-html
    notebook: notebooks/tiny.ipynb
    formats: [html]
  - name: r-pdf
    notebook: notebooks/tiny.ipynb
    formats: [pdf]
  - name: r-nb
    notebook: notebooks/tiny.ipynb
    formats: [ipynb]
"""
ALL = {"r-html", "r-pdf", "r-nb"}
# The reports each thing can change, worked out from what renders each format:
# nbconvert renders HTML and prepares the notebook for pandoc; bleach, pygments,
# Jinja and mistune only the HTML page; pandoc, pypandoc and typst only the PDF.
AFFECTED = {
    **{tool: ALL for tool in cache_mod.EXECUTION_TOOLS},
    "python": ALL, "analysis": ALL,
    "nbconvert": {"r-html", "r-pdf"},
    "bleach": {"r-html"}, "pygments": {"r-html"}, "jinja2": {"r-html"},
    "mistune": {"r-html"},
    "pandoc": {"r-pdf"}, "pypandoc": {"r-pdf"}, "typst": {"r-pdf"},
}


@pytest.fixture
def pinned(monkeypatch):
    """Pin the package and template hashes (others edit src/ while tests run) and let a
    test change one tool version at a time."""
    state = {"code": "code-1", "templates": {"html": "html-1", "pdf": "pdf-1"}, "env": {}}
    real_env = cache_mod.environment
    monkeypatch.setattr(cache_mod, "code_hash", lambda: state["code"])
    monkeypatch.setattr(cache_mod, "template_hashes", lambda: dict(state["templates"]))
    monkeypatch.setattr(cache_mod, "environment",
                        lambda cache_dir=None: {**real_env(cache_dir), **state["env"]})
    return state


def stale(root) -> set[str]:
    return {s.name for s in status(root) if s.state != "up to date"}


def agree(root, **kw) -> set[str]:
    """Build, and check it rebuilt exactly what `status` called stale; returns that set."""
    before = {s.name: s.state for s in status(root, with_code=kw.get("with_code", False))}
    rec = Recorder()
    summary = build(root, reporter=rec, jobs=1, **kw)
    assert summary.exit_code == 0, summary.failed
    rebuilt = {n for n, state in before.items() if state != "up to date"}
    assert set(summary.built) == rebuilt
    assert set(summary.skipped) == set(before) - rebuilt
    after = status(root, with_code=kw.get("with_code", False))
    assert {s.state for s in after} == {"up to date"}, [(s.name, s.detail) for s in after]
    return rebuilt


def test_key_covers_every_tool_listed():
    # Every tool the key reads is assigned to the reports it can change.
    assert set(AFFECTED) == {"python", "analysis", *cache_mod.TOOLS}


def test_each_version_marks_exactly_the_affected_reports_stale(tmp_path, pinned):
    root = make_project(tmp_path, REPORTS_YAML)
    assert agree(root) == ALL
    base = cache_mod.environment()
    for tool, expected in AFFECTED.items():
        pinned["env"] = {tool: f"{base.get(tool)}-changed"}
        found = {s.name: s.detail for s in status(root) if s.state != "up to date"}
        assert set(found) == expected, tool
        for detail in found.values():  # the reason names the tool and both versions
            assert f"{tool} {base.get(tool)} -> {base.get(tool)}-changed" in detail
    pinned["env"] = {}
    assert stale(root) == set()


def test_build_rebuilds_what_status_calls_stale(tmp_path, pinned):
    root = make_project(tmp_path, REPORTS_YAML)
    agree(root)
    base = cache_mod.environment()
    # A new pandoc: only the PDF report.
    pinned["env"] = {"pandoc": "99.0"}
    assert agree(root) == {"r-pdf"}
    # A new pint: every report (it changes what notebooks compute).
    pinned["env"] = {"pandoc": "99.0", "pint": f"{base['pint']}.1"}
    assert agree(root) == ALL
    # A changed HTML template: only the HTML report; then the Typst template.
    pinned["templates"] = {"html": "html-2", "pdf": "pdf-1"}
    assert [s.detail for s in status(root) if s.name == "r-html"] == [
        "the html templates changed"]
    assert agree(root) == {"r-html"}
    pinned["templates"] = {"html": "html-2", "pdf": "pdf-2"}
    assert agree(root) == {"r-pdf"}
    # The package's code: every report.
    pinned["code"] = "code-2"
    assert agree(root) == ALL
    # Nothing changed: nothing rebuilt.
    assert agree(root) == set()


def test_adding_a_format_back_is_stale_for_status_and_build(tmp_path, pinned):
    root = make_project(tmp_path, REPORTS_YAML)
    agree(root)
    (root / "reports.yaml").write_text(REPORTS_YAML.replace("formats: [ipynb]",
                                                            "formats: [ipynb, pdf]"))
    states = {s.name: s for s in status(root)}
    assert states["r-nb"].state == "stale"
    assert states["r-nb"].detail == "not yet published as pdf"
    assert agree(root) == {"r-nb"}
    # Dropping it again: the published report still holds what is asked for.
    (root / "reports.yaml").write_text(REPORTS_YAML)
    assert agree(root) == set()


def test_with_code_is_part_of_the_agreement(tmp_path, pinned):
    root = make_project(tmp_path, REPORTS_YAML.split("  - name: r-pdf")[0])
    agree(root)
    states = {s.name: s for s in status(root, with_code=True)}
    assert states["r-html"].detail == "built without the code shown"
    assert agree(root, with_code=True) == {"r-html"}
    assert stale(root) == {"r-html"}  # a plain `analysis build` would rebuild it again


def test_a_failure_fixed_by_going_back_is_up_to_date_for_both(tmp_path, pinned):
    root = make_project(tmp_path, REPORTS_YAML.split("  - name: r-pdf")[0])
    agree(root)
    good = (root / "data/sources/a.yaml").read_text()
    (root / "data/sources/a.yaml").write_text("figures: [not, a, mapping]\n")
    summary = build(root, reporter=Recorder(), jobs=1)
    assert [name for name, _ in summary.failed] == ["r-html"]
    assert {s.name: s.state for s in status(root)} == {"r-html": "failed"}
    # The source file goes back to what the last good build read: nothing to rebuild.
    (root / "data/sources/a.yaml").write_text(good)
    assert {s.name: s.state for s in status(root)} == {"r-html": "up to date"}
    assert agree(root) == set()


def test_pandoc_version_is_cached_by_the_binary(tmp_path, monkeypatch):
    calls = []
    fake = tmp_path / "pandoc"
    fake.write_text("#!/bin/sh\necho 'pandoc 1.2.3'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PYPANDOC_PANDOC", str(fake))
    import pypandoc

    monkeypatch.setattr(pypandoc, "get_pandoc_version",
                        lambda: calls.append(1) or "1.2.3")
    assert cache_mod.pandoc_version(tmp_path / "cache") == "1.2.3"
    assert cache_mod.pandoc_version(tmp_path / "cache") == "1.2.3"
    assert len(calls) == 1  # the second answer came from the cache
    fake.write_text("#!/bin/sh\necho 'pandoc 1.2.4'\n")  # a replaced binary is asked again
    monkeypatch.setattr(pypandoc, "get_pandoc_version", lambda: calls.append(1) or "1.2.4")
    assert cache_mod.pandoc_version(tmp_path / "cache") == "1.2.4"
    assert len(calls) == 2


def test_versions_read_from_folder_names_match_importlib_metadata():
    from importlib.metadata import PackageNotFoundError, version

    env = cache_mod.environment()
    for tool in cache_mod.TOOLS:
        if tool == "pandoc":
            continue
        expected = None
        for dist in cache_mod._DISTRIBUTIONS.get(tool, (tool,)):
            try:
                expected = version(dist)
                break
            except PackageNotFoundError:
                continue
        assert env[tool] == expected, tool
