"""analysis build: the report list, parameter checks, the exact cache, outputs, status, lock.

Each test makes a tiny project in tmp_path (a notebook that reads a YAML source
and writes its figures, two source files, reports.yaml) so a kernel run takes
about a second. test_faults.py and test_distributed.py import these helpers.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from analysis.cli import cli
from analysis.errors import LockTimeout, ParameterError, ReportListError, UsageError
from analysis.reports import build as build_mod
from analysis.reports import cache as cache_mod
from analysis.reports import runners as runners_mod
from analysis.reports.build import build, status
from analysis.reports.cache import cache_key, stripped_notebook
from analysis.reports.progress import Reporter
from analysis.reports.publish import read_manifest
from analysis.reports.reportlist import (
    ReportSpec,
    declared_parameters,
    file_parameters,
    load_report_list,
    parse_overrides,
    with_declared_inputs,
)

ROOT = Path(__file__).resolve().parents[1]

PARAMETERS = '''source = "data/sources/a.yaml"  # input file
scale = 1.0
title = ""
delay_env = ""
figures_out = ""'''

BODY = '''import json, os, time
import yaml
if delay_env:
    time.sleep(float(os.environ.get(delay_env, "0")))
data = yaml.safe_load(open(source))
figs = [{"id": k, "value": v * scale} for k, v in sorted(data["figures"].items())]
print(figs)
if figures_out:  # the figures it used, and (optionally) the source it read, for the title
    with open(figures_out, "w") as f:
        json.dump({"figures": figs, "source": data.get("source")}, f)'''

REPORTS_YAML = """\
formats: [ipynb]
reports:
  - name: main
    notebook: notebooks/tiny.ipynb
    parameters: {source: data/sources/a.yaml, scale: 2, title: "Main <script>x</script>"}
generate:
  - for_each: data/sources/*.yaml
    name: source-{stem}
    notebook: notebooks/tiny.ipynb
    parameters: {source: "{path}"}
"""


def write_notebook(path: Path, *, extra_cells=(), markdown="# A tiny report",
                   parameters=PARAMETERS, body=BODY) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), params,
                nbformat.v4.new_code_cell(body)]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra_cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def make_project(tmp_path: Path, reports_yaml: str = REPORTS_YAML) -> Path:
    root = tmp_path / "proj"
    write_notebook(root / "notebooks" / "tiny.ipynb")
    src = root / "data" / "sources"
    src.mkdir(parents=True)
    (src / "a.yaml").write_text("source: {title: A, publisher: null, url: null}\n"
                                "figures: {x: 2, y: 3}\n")
    (src / "b.yaml").write_text("source: {title: B}\nfigures: {z: 5}\n")
    (root / "reports.yaml").write_text(reports_yaml)
    return root


class Recorder(Reporter):
    """Collects what a build did, for asserts."""

    def __init__(self):
        self.events = []

    def started(self, name):
        self.events.append(("started", name))

    def skipped(self, name):
        self.events.append(("skipped", name))

    def failed(self, name, message):
        self.events.append(("failed", name, message))

    def waiting(self, lock, timeout):
        self.events.append(("waiting", str(lock)))

    def started_names(self):
        return sorted(e[1] for e in self.events if e[0] == "started")


@pytest.fixture
def stable_code(monkeypatch):
    """Other engineers edit src/analysis while tests run; pin the package hash."""
    monkeypatch.setattr(cache_mod, "code_hash", lambda: "pinned-for-tests")
    monkeypatch.setattr(cache_mod, "template_hashes",
                        lambda: {"html": "pinned-html", "pdf": "pinned-pdf"})


def run(root, *names, **kw):
    rec = Recorder()
    kw.setdefault("jobs", 1)
    summary = build(root, names, reporter=rec, **kw)
    return summary, rec


# --- the report list ----------------------------------------------------------------


def test_report_list_generates_one_source_report_per_file(tmp_path):
    root = make_project(tmp_path)
    reports = {r.name: r for r in load_report_list(root)}
    assert sorted(reports) == ["main", "source-a", "source-b"]
    assert reports["source-b"].parameters == {"source": "data/sources/b.yaml"}
    assert reports["main"].formats == ("ipynb",)
    # which parameters name files the notebook says (test_the_notebook_declares_its_input_files)
    assert reports["main"].input_paths() == ["notebooks/tiny.ipynb"]


@pytest.mark.parametrize("text, expected", [
    ("reports: [{name: x, notebook: notebooks/nope.ipynb}]",
     "reports.yaml, report 'x', field 'notebook': no notebook at notebooks/nope.ipynb."),
    ("reports: [{name: x, notebook: notebooks/tiny.ipynb, formats: [docx]}]",
     "reports.yaml, report 'x', field 'formats': unknown format docx; choose from html, pdf, "
     "ipynb."),
    ("reports: [{name: 'a b', notebook: notebooks/tiny.ipynb}]",
     "reports.yaml, report 'a b', field 'name': a name is required: letters, digits, '.', '_' "
     "or '-' (it names a folder)."),
    ("reports: [{name: x, notebook: notebooks/tiny.ipynb}, {name: x, "
     "notebook: notebooks/tiny.ipynb}]", "reports.yaml, report 'x': two reports share this name."),
    ("reports: [{name: x, notebook: notebooks/tiny.ipynb, parameters: {1x: 2}}]",
     "reports.yaml, report 'x', field 'parameters': parameter name '1x' is not a Python "
     "identifier."),
    ("reports: {name: x", "reports.yaml: not valid YAML at line 1: expected ',' or '}', but got "
     "'<stream end>'."),
])
def test_report_list_errors_name_file_entry_and_field(tmp_path, text, expected):
    root = make_project(tmp_path, text)
    with pytest.raises(ReportListError) as err:
        load_report_list(root)
    assert str(err.value) == expected
    assert err.value.exit_code == 2


@pytest.mark.skipif(not (ROOT / "notebooks" / "kursk_report.ipynb").exists()
                    or not (ROOT / "notebooks" / "source_report.ipynb").exists(),
                    reason="the project's notebooks are not written yet")
def test_project_report_list_has_the_default_reports():
    reports = {r.name: r for r in load_report_list(ROOT)}
    assert reports["kursk-km2"].parameters["area_unit"] == "km2"
    assert reports["kursk-mi2"].parameters["area_unit"] == "mi2"
    for path in sorted((ROOT / "data" / "sources").glob("*.yaml")):
        assert reports[f"source-{path.stem}"].parameters["source"] == (
            f"data/sources/{path.name}")


def test_overrides_are_yaml_scalars():
    assert parse_overrides(["a=2", "b=2.5", "c=km2", "d=true", "e='2'", "f=2025-06-22"]) == {
        "a": 2, "b": 2.5, "c": "km2", "d": True, "e": "2", "f": "2025-06-22"}
    with pytest.raises(UsageError, match="expected key=value"):
        parse_overrides(["novalue"])


# --- one rule for paths: relative to the folder holding reports.yaml -------------------


def test_the_notebook_declares_its_input_files(tmp_path):
    root = make_project(tmp_path)
    declared = declared_parameters(root / "notebooks/tiny.ipynb")
    assert file_parameters(declared) == ["source"]  # the one line with "# input file"
    main = {r.name: r for r in load_report_list(root)}["main"]
    assert with_declared_inputs(main, declared).input_paths() == [
        "notebooks/tiny.ipynb", "data/sources/a.yaml"]
    # left at the notebook's default, the parameter still names an input file
    bare = ReportSpec("bare", "notebooks/tiny.ipynb", {"scale": 3})
    assert with_declared_inputs(bare, declared).input_paths() == [
        "notebooks/tiny.ipynb", "data/sources/a.yaml"]


def test_a_parameter_not_declared_an_input_file_is_not_shipped(tmp_path, stable_code):
    root = make_project(tmp_path)
    write_notebook(root / "notebooks/tiny.ipynb",
                   parameters=PARAMETERS.replace("  # input file", ""))
    summary, _ = run(root, "main")
    # the task's copy of the project holds only the notebook, so the source is missing
    assert [name for name, _ in summary.failed] == ["main"]
    assert "FileNotFoundError" in summary.failed[0][1]
    assert "data/sources/a.yaml" in summary.failed[0][1]


def test_the_build_and_a_notebook_find_the_same_root(tmp_path, monkeypatch):
    from analysis.notebook import locate

    root = make_project(tmp_path).resolve()
    (root / "notebooks/data/sources").mkdir(parents=True)
    (root / "notebooks/data/sources/a.yaml").write_text("a file nearer the notebook\n")
    monkeypatch.chdir(root / "notebooks")  # where JupyterLab runs a notebook
    assert build_mod.find_root() == root
    # relative to the root, not to the first folder up that happens to hold the path
    assert locate("data/sources/a.yaml") == root / "data/sources/a.yaml"
    assert locate("data/sources/nope.yaml") == Path("data/sources/nope.yaml")  # named as given


def test_a_build_task_is_its_own_root_even_inside_another_project(
        tmp_path, monkeypatch, stable_code):
    import tempfile

    root = make_project(tmp_path)
    # the task's temporary folder inside another project, whose a.yaml says otherwise
    outer = tmp_path / "outer"
    (outer / "tmp").mkdir(parents=True)
    (outer / "reports.yaml").write_text("reports: []\n")
    (outer / "data/sources").mkdir(parents=True)
    (outer / "data/sources/a.yaml").write_text("source: {title: Outer}\nfigures: {w: 100}\n")
    monkeypatch.setattr(tempfile, "tempdir", str(outer / "tmp"))
    body = BODY.replace("open(source)", "open(locate(source))")
    write_notebook(root / "notebooks/tiny.ipynb",
                   body="from analysis.notebook import locate\n" + body)
    summary, _ = run(root, "main")
    assert summary.built == ["main"], summary.failed
    figures = json.loads((root / "reports/main/figures.json").read_text())
    assert figures["figures"] == [{"id": "x", "value": 4.0}, {"id": "y", "value": 6.0}]


# --- parameters are checked before any kernel starts ---------------------------------


@pytest.mark.parametrize("override, expected", [
    ("colour=red", "report 'main', parameter 'colour': notebooks/tiny.ipynb does not declare "
     "it; its parameters are: delay_env, scale, source, title."),
    ("scale=lots", "report 'main', parameter 'scale': expects float (its default is 1.0), "
     "got str 'lots'."),
    ("title=2025", "report 'main', parameter 'title': expects str (its default is \"\"), got "
     "int 2025; quote it to pass text: -p 'title=\"2025\"'."),
    ("my-scale=2", "report 'main', parameter 'my-scale': not a Python identifier."),
    ("figures_out=x.json", "report 'main', parameter 'figures_out': set by the build itself; "
     "do not pass it."),
])
def test_bad_parameter_is_a_usage_error_before_any_kernel(tmp_path, monkeypatch, override,
                                                          expected):
    root = make_project(tmp_path)
    monkeypatch.setattr(runners_mod, "run_task", lambda *a, **k: pytest.fail("kernel started"))
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["build", "main", "-p", override])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == f"Error: {expected}"
    assert not (root / "reports" / "manifest.json").exists()


def test_int_is_accepted_for_a_float_parameter(tmp_path):
    root = make_project(tmp_path)
    reports = build_mod.plan(root, ["main"], overrides={"scale": 3})
    assert reports[0].parameters["scale"] == 3
    with pytest.raises(ParameterError):
        build_mod.plan(root, ["main"], overrides={"scale": True})


def test_unknown_report_name_lists_the_known_ones(tmp_path):
    root = make_project(tmp_path)
    with pytest.raises(UsageError, match="no report named 'nope'.*known: main, source-a"):
        build_mod.plan(root, ["nope"])


# --- the exact cache ----------------------------------------------------------------


def test_stripped_notebook_ignores_outputs_but_not_markdown(tmp_path):
    path = tmp_path / "n.ipynb"
    write_notebook(path)
    before = stripped_notebook(path.read_bytes())
    nb = nbformat.read(path, 4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    nb.cells[2].execution_count = 7
    nb.cells[2].metadata["execution"] = {"iopub.status.idle": "2025-01-01T00:00:00Z"}
    nb.metadata["papermill"] = {"duration": 1.5}
    nbformat.write(nb, path)
    assert stripped_notebook(path.read_bytes()) == before
    write_notebook(path, markdown="# A tiny report, edited")
    assert stripped_notebook(path.read_bytes()) != before


def test_cache_skips_unchanged_and_rebuilds_exactly_what_changed(tmp_path, stable_code):
    root = make_project(tmp_path)
    summary, rec = run(root, jobs=2)
    assert sorted(summary.built) == ["main", "source-a", "source-b"]

    summary, rec = run(root)
    assert summary.built == [] and sorted(summary.skipped) == ["main", "source-a", "source-b"]

    # Touching files without changing them rebuilds nothing.
    for path in [root / "data/sources/a.yaml", root / "notebooks/tiny.ipynb"]:
        os.utime(path, (1e9, 1e9))
    summary, rec = run(root)
    assert summary.built == []

    # Changing one source rebuilds only the reports that read it.
    (root / "data/sources/b.yaml").write_text("source: {title: B}\nfigures: {z: 6}\n")
    states = {s.name: s for s in status(root)}
    assert states["source-b"].state == "stale"
    assert states["source-b"].detail == "data/sources/b.yaml changed"
    assert states["main"].state == "up to date"
    summary, rec = run(root)
    assert summary.built == ["source-b"]
    figures = json.loads((root / "reports/source-b/figures.json").read_text())
    assert figures["figures"] == [{"id": "z", "value": 6.0}]

    # Running the notebook interactively and saving it (outputs, counts) changes nothing ...
    path = root / "notebooks/tiny.ipynb"
    nb = nbformat.read(path, 4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="[...]")]
    nb.cells[2].execution_count = 3
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    nbformat.write(nb, path)
    assert run(root)[0].built == []
    # ... but editing its markdown rebuilds every report that uses it.
    write_notebook(root / "notebooks/tiny.ipynb", markdown="# Edited")
    summary, rec = run(root, jobs=2)
    assert sorted(summary.built) == ["main", "source-a", "source-b"]

    # A new -p value is a different report; --force rebuilds what is up to date.
    assert run(root, "main", overrides={"scale": 3})[0].built == ["main"]
    assert run(root, "main", overrides={"scale": 3}, force=True)[0].built == ["main"]


def test_key_covers_parameters_code_versions_and_with_code(tmp_path):
    root = make_project(tmp_path)
    report = build_mod.plan(root, ["main"])[0]
    inputs, _ = cache_mod.input_hashes(report, root)
    fp = cache_mod.Fingerprint("code", {"html": "h", "pdf": "p"}, cache_mod.environment())
    key = cache_key(report, inputs, fp, False)
    assert set(fp.env) == {"python", "analysis", *cache_mod.TOOLS}
    # Versions the issue names, each of which can change an output.
    assert {"pint", "matplotlib", "pyyaml", "pandas", "pypandoc", "pandoc", "typst",
            "nbconvert", "nbclient", "papermill", "bleach", "ipykernel"} <= set(fp.env)
    assert fp.env["pandoc"] and fp.env["typst"]  # both are installed with the project
    variants = [
        cache_key(build_mod.with_overrides([report], {"scale": 5})[0], inputs, fp, False),
        cache_key(report, inputs, cache_mod.Fingerprint("other code", fp.templates, fp.env),
                  False),
        cache_key(report, inputs, cache_mod.Fingerprint(
            "code", fp.templates, {**fp.env, "papermill": "0.0"}), False),
        cache_key(report, inputs, fp, True),
        cache_key(report, {**inputs, "data/sources/a.yaml": "0" * 64}, fp, False),
    ]
    assert len({key, *variants}) == 6


def test_code_and_template_hashes_change_when_a_package_file_changes(tmp_path, monkeypatch):
    pkg = tmp_path / "analysis"
    for folder in ("report_html", "typst"):
        (pkg / "reports" / "templates" / folder).mkdir(parents=True)
        (pkg / "reports" / "templates" / folder / "t.css").write_text("a{}\n")
    (pkg / "reports" / "cache.py").write_text("x = 1\n")
    monkeypatch.setattr(cache_mod, "__file__", str(pkg / "reports" / "cache.py"))
    code, templates, whole = (cache_mod.code_hash(), cache_mod.template_hashes(),
                              cache_mod.package_hash())
    (pkg / "reports" / "templates" / "typst" / "t.css").write_text("a{color:red}\n")
    # A template is not code: it changes its own format's hash, and the whole package's.
    assert cache_mod.code_hash() == code
    assert cache_mod.template_hashes() == {**templates, "pdf": cache_mod.template_hashes()["pdf"]}
    assert cache_mod.template_hashes()["pdf"] != templates["pdf"]
    assert cache_mod.package_hash() != whole
    (pkg / "reports" / "cache.py").write_text("x = 2\n")
    assert cache_mod.code_hash() != code


# --- outputs ------------------------------------------------------------------------


def test_outputs_figures_manifest_and_index(tmp_path, stable_code):
    root = make_project(tmp_path, REPORTS_YAML.replace("formats: [ipynb]",
                                                       "formats: [html, pdf, ipynb]"))
    summary, _ = run(root, "main")
    assert summary.exit_code == 0
    out = root / "reports"
    assert sorted(p.name for p in (out / "main").iterdir()) == [
        "figures.json", "main.html", "main.ipynb", "main.pdf"]
    assert json.loads((out / "main/figures.json").read_text()) == {
        "report": "main",
        "parameters": {"source": "data/sources/a.yaml", "scale": 2,
                       "title": "Main <script>x</script>"},
        "figures": [{"id": "x", "value": 4.0}, {"id": "y", "value": 6.0}],
    }
    assert (out / "main/main.pdf").read_bytes().startswith(b"%PDF")
    executed = nbformat.read(out / "main/main.ipynb", 4)
    assert executed.metadata["analysis"]["title"] == "Main <script>x</script>"
    assert executed.metadata["analysis"]["source"] == {"title": "A", "publisher": None,
                                                       "url": None}

    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["reports"]["main"]
    assert entry["status"] == "ok" and len(entry["key"]) == 64
    assert entry["files"] == {"html": "main.html", "pdf": "main.pdf", "ipynb": "main.ipynb",
                              "figures": "figures.json"}
    assert set(entry["inputs"]) == {"notebooks/tiny.ipynb", "data/sources/a.yaml"}
    assert entry["duration"] > 0

    index = (out / "index.html").read_text()
    assert "<script>x</script>" not in index and "&lt;script&gt;x&lt;/script&gt;" in index
    # the title links to the page; the PDF comes next
    assert '<a href="main/main.html">Main &lt;script&gt;x&lt;/script&gt;</a>' in index
    assert '<a href="main/main.pdf">PDF</a>' in index
    assert not re.search(r"(https?:)?//", index.replace("<!DOCTYPE html>", ""))
    assert "generated by `analysis build`" in (out / "README.md").read_text()
    log = (out / "build.log").read_text().splitlines()
    assert [line.split("\t")[1] for line in log] == ["start", "execute", "built", "end"]


def test_format_subset_of_last_build_is_up_to_date(tmp_path, stable_code):
    root = make_project(tmp_path)
    run(root, "main")
    assert run(root, "main", formats=("ipynb",))[0].skipped == ["main"]
    assert run(root, "main", formats=("html",))[0].built == ["main"]


# --- status and the CLI --------------------------------------------------------------


def test_status_names_never_built_up_to_date_and_stale(tmp_path, stable_code):
    root = make_project(tmp_path)
    assert {s.state for s in status(root)} == {"never built"}
    run(root, "main")
    (root / "data/sources/a.yaml").write_text("figures: {x: 1}\n")
    states = {s.name: s for s in status(root)}
    assert states["main"].state == "stale"
    assert states["main"].detail == "data/sources/a.yaml changed"
    assert states["source-b"].state == "never built"


def test_cli_build_quiet_prints_nothing_and_status_lists_reports(tmp_path, monkeypatch,
                                                                 stable_code):
    root = make_project(tmp_path)
    monkeypatch.chdir(root / "notebooks")  # the project is found from a subfolder
    runner = CliRunner()
    result = runner.invoke(cli, ["build", "source-a", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    result = runner.invoke(cli, ["build", "source-a"])
    assert "up to date  source-a" in result.output
    result = runner.invoke(cli, ["status"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line[:1] != " "}
    assert "up to date  built" in lines["source-a"]
    assert lines["main"].split()[1:] == ["never", "built"]


def test_second_build_waits_for_the_lock_then_exits_2(tmp_path):
    from filelock import FileLock

    root = make_project(tmp_path)
    (root / "reports").mkdir()
    with FileLock(str(root / "reports" / ".build.lock")):
        with pytest.raises(LockTimeout) as err:
            run(root, "main", lock_timeout=0.3)
    assert err.value.exit_code == 2
    assert "another build is running" in str(err.value)
    assert "--lock-timeout" in str(err.value)


def test_corrupt_manifest_is_detected_and_rebuilt(tmp_path, stable_code):
    root = make_project(tmp_path)
    run(root, "source-a")
    (root / "reports/manifest.json").write_text('{"version": 1, "reports": {"source-a": ')
    summary, rec = run(root, "source-a")
    assert summary.built == ["source-a"]
    manifest, problem = read_manifest(root / "reports")
    assert problem is None and manifest["reports"]["source-a"]["status"] == "ok"


def test_corrupt_published_file_is_a_stale_cache_entry(tmp_path, stable_code):
    root = make_project(tmp_path)
    run(root, "source-a", "source-b", jobs=2)
    (root / "reports/source-a/source-a.ipynb").write_text("{not json")
    (root / "reports/.cache/parameters.json").write_text("garbage")
    states = {s.name: s.state for s in status(root)}
    assert states["source-a"] == "stale"
    summary, _ = run(root, "source-a", "source-b")
    assert summary.built == ["source-a"] and summary.skipped == ["source-b"]
    nbformat.read(root / "reports/source-a/source-a.ipynb", 4)


def test_manifest_is_written_as_json_indents_it(tmp_path):
    # write_manifest encodes with orjson (a build rewrites the manifest after every
    # report); the file must be what json.dumps(indent=2, sort_keys=True,
    # ensure_ascii=False) writes, byte for byte, but for a float's exponent (orjson's
    # 2.5e-7 is json's 2.5e-07, the same number); and a value orjson refuses (an integer
    # past 64 bits, which YAML reads happily) must still be written, by json
    from analysis.reports import publish

    manifest = {"reports": {"z-report": {"title": "Kursk – “held” 90 km²", "duration": 1.25,
                                         "parameters": {"b": [1, 0.5, None, True],
                                                        "a": "é"}, "files": {}},
                            "a-report": {"key": None, "nested": {"x": {"y": []}}}},
                "built": "2026-11-26T18:00:00+00:00"}

    def as_json(m):
        return json.dumps({**m, "version": publish.MANIFEST_VERSION}, indent=2,
                          sort_keys=True, ensure_ascii=False) + "\n"

    publish.write_manifest(tmp_path, manifest)
    assert (tmp_path / publish.MANIFEST).read_text(encoding="utf-8") == as_json(manifest)
    manifest["reports"]["z-report"]["parameters"]["b"].append(2.5e-07)
    publish.write_manifest(tmp_path, manifest)
    written = (tmp_path / publish.MANIFEST).read_text(encoding="utf-8")
    assert written == as_json(manifest).replace("2.5e-07", "2.5e-7")
    manifest["reports"]["a-report"]["parameters"] = {"n": 2 ** 70}
    publish.write_manifest(tmp_path, manifest)
    assert (tmp_path / publish.MANIFEST).read_text(encoding="utf-8") == as_json(manifest)
    # -p x=.inf: orjson would write null, and the index would show "null"
    manifest["reports"]["a-report"]["parameters"] = {"x": float("inf"), "y": [float("nan")]}
    publish.write_manifest(tmp_path, manifest)
    assert (tmp_path / publish.MANIFEST).read_text(encoding="utf-8") == as_json(manifest)


def test_a_local_build_runs_one_worker_more_than_its_cores(monkeypatch):
    # the spare worker fills the gaps while a worker's kernel starts (README, Speed)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert build_mod.default_jobs() == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5}, raising=False)
    assert build_mod.default_jobs() == 2
