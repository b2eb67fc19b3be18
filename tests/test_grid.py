"""Parameter grids in reports.yaml: one entry, the product of its lists, plain unique names."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from test_build import PARAMETERS, make_project, run, write_notebook

from analysis.cli import cli
from analysis.reports.reportlist import GridTooLarge, ReportListError, load_report_list

GRID = """\
formats: [ipynb]
reports:
  - name: v-{scale}-{title}
    notebook: notebooks/tiny.ipynb
    parameters: {source: data/sources/a.yaml}
    grid:
      scale: [1, 2.5, 3]
      title: [plain, fancy]
"""


def names_and_parameters(root):
    return [(r.name, r.parameters) for r in load_report_list(root)]


def test_grid_expands_to_the_product_in_the_order_written(tmp_path):
    root = make_project(tmp_path, GRID)
    got = names_and_parameters(root)
    # 3 scales x 2 titles = 6 reports; the first list varies slowest.
    assert [n for n, _ in got] == ["v-1-plain", "v-1-fancy", "v-2.5-plain", "v-2.5-fancy",
                                   "v-3-plain", "v-3-fancy"]
    assert got[2][1] == {"source": "data/sources/a.yaml", "scale": 2.5, "title": "plain"}


def test_generate_rule_with_a_grid(tmp_path):
    root = make_project(tmp_path, """\
formats: [ipynb]
generate:
  - for_each: data/sources/*.yaml
    name: src-{stem}-x{scale}
    notebook: notebooks/tiny.ipynb
    parameters: {source: "{path}"}
    grid: {scale: [1, 2]}
""")
    assert names_and_parameters(root) == [
        ("src-a-x1", {"source": "data/sources/a.yaml", "scale": 1}),
        ("src-a-x2", {"source": "data/sources/a.yaml", "scale": 2}),
        ("src-b-x1", {"source": "data/sources/b.yaml", "scale": 1}),
        ("src-b-x2", {"source": "data/sources/b.yaml", "scale": 2}),
    ]


@pytest.mark.parametrize("entry, expected", [
    # A name that leaves out a parameter that varies: two variants would share it.
    ("name: v-{scale}\n    grid: {scale: [1, 2], title: [a, b]}",
     "reports.yaml, report 'v-{scale}', field 'name': two variants get the name 'v-1' "
     "(they differ in title); put {title} in the name template 'v-{scale}'."),
    ("name: v\n    grid: {scale: [1, 2]}",
     "reports.yaml, report 'v', field 'name': two variants get the name 'v' (they differ "
     "in scale); put {scale} in the name template 'v'."),
    ("name: v-{scale}\n    grid: {scale: []}",
     "reports.yaml, report 'v-{scale}', field 'grid.scale': the list is empty, so the grid "
     "has no report; give at least one value."),
    ("name: v-{scale}\n    grid: {scale: 2}",
     "reports.yaml, report 'v-{scale}', field 'grid.scale': expected a list of values."),
    ("name: v-{scale}\n    grid: {scale: [1, 1]}",
     "reports.yaml, report 'v-{scale}', field 'grid.scale': a value is listed twice."),
    ("name: v-{scale}\n    grid: {scale: [[1], 2]}",
     "reports.yaml, report 'v-{scale}', field 'grid.scale': each value must be a single "
     "text, number or true/false."),
    ("name: v-{title}\n    grid: {title: [a, b]}\n    parameters: {title: c}",
     "reports.yaml, report 'v-{title}', field 'grid.title': given both under parameters "
     "and in the grid; keep one."),
    ("name: v-{scale.real}\n    grid: {scale: [1, 2]}",
     "reports.yaml, report 'v-{scale.real}', field 'name': {scale.real} is not a grid "
     "parameter; the name may use {scale}."),
    # A value that would make a path, not a plain name.
    ("name: v-{title}\n    grid: {title: [a, ../../etc]}",
     "reports.yaml, report 'v-{title}', field 'name': a variant's name 'v-../../etc' is not "
     "plain: use values of letters, digits, '.', '_' or '-' in the name (it names a "
     "folder)."),
])
def test_grid_errors_name_the_entry_and_field(tmp_path, entry, expected):
    root = make_project(tmp_path, "reports:\n  - notebook: notebooks/tiny.ipynb\n    "
                        + entry + "\n")
    with pytest.raises(ReportListError) as err:
        load_report_list(root)
    assert str(err.value) == expected


def test_a_grid_past_the_limit_is_refused_before_anything_starts(tmp_path):
    root = make_project(tmp_path, GRID)
    with pytest.raises(GridTooLarge) as err:
        load_report_list(root, grid_limit=5)
    assert str(err.value) == (
        "reports.yaml, report 'v-{scale}-{title}', field 'grid': the grid expands to 6 "
        "reports, more than the limit of 5; to build them all, run again with --yes (or "
        "raise the limit with --grid-limit).")
    assert len(load_report_list(root, grid_limit=6)) == 6
    assert len(load_report_list(root, grid_limit=None)) == 6


def test_default_limit_is_a_thousand(tmp_path):
    values = ", ".join(str(i) for i in range(1001))
    root = make_project(tmp_path, f"reports:\n  - name: v-{{scale}}\n    notebook: "
                        f"notebooks/tiny.ipynb\n    grid: {{scale: [{values}]}}\n")
    with pytest.raises(GridTooLarge, match="expands to 1,001 reports, more than the limit "
                                           "of 1,000"):
        load_report_list(root)


def test_cli_asks_for_yes_then_builds_the_grid(tmp_path, monkeypatch):
    root = make_project(tmp_path, GRID)
    monkeypatch.chdir(root)
    runner = CliRunner()
    result = runner.invoke(cli, ["build", "--grid-limit", "4"])
    assert result.exit_code == 2
    assert "the grid expands to 6 reports, more than the limit of 4" in result.output
    assert "Traceback" not in result.output
    assert not (root / "reports").exists()  # nothing started
    result = runner.invoke(cli, ["build", "--grid-limit", "4", "--yes", "v-2.5-fancy",
                                 "--quiet"])
    assert result.exit_code == 0, result.output
    figures = json.loads((root / "reports/v-2.5-fancy/figures.json").read_text())
    # The grid's values reached the notebook: x = 2 and y = 3 times 2.5.
    assert figures["parameters"] == {"source": "data/sources/a.yaml", "scale": 2.5,
                                     "title": "fancy"}
    assert figures["figures"] == [{"id": "x", "value": 5.0}, {"id": "y", "value": 7.5}]


def test_grid_parameters_are_checked_against_the_notebook(tmp_path):
    root = make_project(tmp_path, GRID.replace("title: [plain, fancy]", "colour: [red]")
                        .replace("v-{scale}-{title}", "v-{scale}"))
    write_notebook(root / "notebooks" / "tiny.ipynb")
    assert "colour" not in PARAMETERS
    with pytest.raises(Exception, match="parameter 'colour'.*does not declare it"):
        run(root)
