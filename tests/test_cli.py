"""The command line: `analysis check` and `analysis figures`, their exit codes, the JSON
contract, and one test per kind of bad input named in the issue."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from analysis.cli import cli

CONTRACT_KEYS = {"id", "kind", "value", "low", "high", "unit", "formula", "inputs", "qualifier",
                 "width_from", "width_from_uncapped", "warnings"}


@pytest.fixture(scope="module")
def harbour_path(repo_root):
    return repo_root / "tests" / "data" / "harbour-flooding-2023.yaml"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def figures_json(*args):
    result = invoke("figures", *args, "--json")
    assert result.exit_code == 0, result.output
    return {obj["id"]: obj for obj in json.loads(result.stdout)}


# --- figures --json: the contract ----------------------------------------------------


def test_figures_json_has_exactly_the_contract_keys(seed_source_path):
    result = invoke("figures", seed_source_path, "--json")
    assert result.exit_code == 0
    objs = json.loads(result.stdout)
    assert objs and all(set(obj) == CONTRACT_KEYS for obj in objs)
    assert [o["id"] for o in objs][:2] == ["held_area", "captured_area"]


def test_figures_json_values(seed_source_path):
    objs = figures_json(seed_source_path)
    # the example in docs/architecture.md
    assert objs["share_held"] == {
        "id": "share_held", "kind": "derived", "value": 0.09, "low": 0.0, "high": 0.095,
        "unit": "dimensionless", "formula": "held_area / captured_area",
        "inputs": ["held_area", "captured_area"], "qualifier": None,
        # 85/1000 to 95/1000 from held_area (width 0.01); 0.09 down to 0 from captured_area
        # (no upper bound), width 0.09: shares 0.1 and 0.9
        "width_from": pytest.approx({"held_area": 0.1, "captured_area": 0.9}),
        "width_from_uncapped": pytest.approx({"held_area": 0.1, "captured_area": 0.9}),
        "warnings": []}
    # "over 1,000 km²": no upper bound -> null
    assert objs["captured_area"] == {
        "id": "captured_area", "kind": "stated", "value": 1000.0, "low": 1000.0, "high": None,
        "unit": "km²", "formula": None, "inputs": [], "qualifier": "over",
        "width_from": None, "width_from_uncapped": None, "warnings": []}
    # dates are ISO strings
    assert objs["launch"]["value"] == "2024-08-06"
    # 10500 / 85500 and 11500 / 76500
    assert objs["nk_share_of_reinforcements"]["low"] == pytest.approx(10500 / 85500)
    assert objs["nk_share_of_reinforcements"]["high"] == pytest.approx(11500 / 76500)


def test_reading_as_of_article_changes_months_elapsed(seed_source_path):
    reported = figures_json(seed_source_path)["months_elapsed"]
    article = figures_json(seed_source_path, "--reading", "as_of=article")["months_elapsed"]
    # 320 days / 30.4375 (reported, 22 June 2025) vs 334 days in [306, 362] (article)
    assert reported["value"] == pytest.approx(320 / 30.4375)
    assert reported["low"] == reported["high"] == reported["value"]
    assert article["value"] == pytest.approx(334 / 30.4375)
    assert (article["low"], article["high"]) == pytest.approx((306 / 30.4375, 362 / 30.4375))


def test_policy_exact_makes_bounds_equal_the_value(seed_source_path):
    default = figures_json(seed_source_path)
    exact = figures_json(seed_source_path, "--policy", "exact")
    for fid, obj in exact.items():
        assert obj["low"] == obj["value"] == obj["high"], fid
        assert obj["value"] == default[fid]["value"], fid
    assert default["held_area"]["low"] == 85.0  # the default policy does widen it


def test_figures_table_for_people(seed_source_path):
    result = invoke("figures", seed_source_path)
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    # the presentation rule (docs/presentation.md): 95 / 1,000 is an upper bound only
    assert "at most 9.5%" in lines["share_held"] and "0% to 9.5%" in lines["share_held"]
    assert "over 1,000 km²" in lines["captured_area"]
    assert "no upper bound stated" in lines["captured_area"]
    # deaths are capped by the soldiers sent, and the cap is named as one
    assert "no upper bound stated; at most all 11,500 soldiers" in lines["nk_killed"]


def test_bad_reading_option(seed_source_path):
    result = invoke("figures", seed_source_path, "--reading", "as_of")
    assert result.exit_code == 2 and "FIGURE=READING" in result.stderr
    result = invoke("figures", seed_source_path, "--reading", "as_of=someday")
    assert result.exit_code == 1
    assert "has no reading 'someday'; choose one of article, reported" in result.stderr


# --- check: exit codes ----------------------------------------------------------------


def test_check_exits_0_on_clean_files(seed_source_path, harbour_path):
    result = invoke("check", seed_source_path, harbour_path)
    # the harbour file's wrong conversion is a warning without --strict
    assert result.exit_code == 0, result.output
    assert f"ok {seed_source_path}: 10 figures" in result.stdout
    assert f"! {harbour_path}:" in result.stdout and "1 inconsistent" in result.stdout


def test_check_strict_fails_on_an_inconsistent_printed_conversion(seed_source_path,
                                                                   harbour_path):
    assert invoke("check", "--strict", seed_source_path).exit_code == 0
    result = invoke("check", "--strict", harbour_path)
    assert result.exit_code == 1
    assert "INCONSISTENT" in result.stdout
    assert "flooded_area: roughly 1,850 ha printed as about 11 mi²" in result.stdout


def test_check_json(harbour_path):
    result = invoke("check", "--json", harbour_path)
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    verdicts = {f["id"]: f["verdict"] for f in report["findings"]}
    assert verdicts["flooded_area"] == "inconsistent"
    assert verdicts["farmland_flooded"] == "consistent"


def test_check_reports_every_file_and_exits_1_on_an_error(tmp_path, seed_source_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("value: 90", "value: lots"), encoding="utf-8")
    result = invoke("check", bad, seed_source_path)
    assert result.exit_code == 1
    assert f"ok {seed_source_path}" in result.stdout  # the good file is still checked
    assert f"Error: {bad}, line 6" in result.stderr


# --- bad input: one test per case of the issue ----------------------------------------

BASE = """\
source:
  id: bad-article
  title: A bad article
figures:
  - id: held_area
    value: 90
    unit: km²
    qualifier: about
    description: ground still held
    attributed_to: someone
"""
# line 5 is '- id: held_area', 6 value, 7 unit, 8 qualifier, 9 description, 10 attributed_to


def derived(*pairs):
    # 'derived:' is line 11, the first '- id:' line 12, each entry three lines
    out = "derived:\n"
    for did, formula in pairs:
        out += f"  - id: {did}\n    formula: '{formula}'\n    description: x\n"
    return out


# name -> (file text, line or None, figure or None, field or None, problem, fix)
BAD = {
    "malformed_yaml": (
        BASE.replace("    qualifier: about\n", '    qualifier: "about\n'),
        None, None, None, "is not valid YAML", "check the indentation and quoting"),
    "missing_field": (
        BASE.replace("    description: ground still held\n", ""),
        5, "held_area", "description", "missing required field 'description'",
        "add 'description: ...' to it"),
    "non_numeric_value": (
        BASE.replace("value: 90", "value: ninety"),
        6, "held_area", "value", "'value' must be a number, not 'ninety'",
        "write a plain number"),
    "negative_count": (
        BASE.replace("value: 90", "value: -500").replace("unit: km²", "unit: troops"),
        6, "held_area", "value", "'value' is negative (-500)",
        "give the size as a positive number"),
    "unknown_unit": (
        BASE.replace("unit: km²", "unit: parsecs"),
        7, "held_area", "unit", "unknown unit 'parsecs'", "spell it as one of those"),
    "unknown_qualifier": (
        BASE.replace("qualifier: about", "qualifier: give or take"),
        8, "held_area", "qualifier", "unknown qualifier 'give or take'",
        "see the qualifier policy in docs/data-format.md"),
    "duplicate_id": (
        BASE + BASE[BASE.index("  - id: held_area"):],
        11, "held_area", "id", "duplicate id 'held_area' (first defined on line 5)",
        "give each figure its own id"),
    "formula_unknown_figure": (
        BASE + derived(("share", "held_aera / 2")),
        12, "share", "formula", "the formula names an unknown figure 'held_aera'",
        "did you mean 'held_area'?"),
    "attribute_access": (
        BASE + derived(("share", "held_area.__class__")),
        12, "share", "formula", "attribute access (x.y) is not allowed",
        "formulas may use figure ids, numbers, + - * / and days_between, quantity, min, max"),
    "call_outside_whitelist": (
        BASE + derived(("share", 'open("x")')),
        12, "share", "formula", "the function 'open' is not allowed",
        "formulas may use figure ids"),
    "dunder_import": (
        BASE + derived(("share", '__import__("os")')),
        12, "share", "formula", "the function '__import__' is not allowed",
        "formulas may use figure ids"),
    "lambda": (
        BASE + derived(("share", "(lambda: held_area)()")),
        12, "share", "formula", "calling lambda is not allowed", "formulas may use figure ids"),
    "subscript": (
        BASE + derived(("share", "held_area[0]")),
        12, "share", "formula", "indexing (x[...]) is not allowed",
        "formulas may use figure ids"),
    "circular_definition": (
        BASE + derived(("first", "second * 2"), ("second", "first / 2")),
        12, "first", "formula", "circular definition: first -> second -> first",
        "define one of them from stated figures only"),
    "date_does_not_parse": (
        BASE + "  - id: as_of\n    kind: date\n    value: 22 June 2025\n"
               "    description: day of the statement\n    attributed_to: someone\n",
        13, "as_of", "value", "'value' is not a date: '22 June 2025'",
        "write dates as YYYY-MM-DD"),
}


def _assert_reported(result, path, line, figure, field, problem, fix):
    # a handled error: click's SystemExit(1), not an exception escaping the command
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    message = result.stderr
    assert message.startswith(f"Error: {path}")
    if line is not None:
        assert f"{path}, line {line}:" in message
    if figure is not None:
        assert f"figure '{figure}'" in message
    if field is not None:
        assert f"field '{field}'" in message
    assert problem in message
    assert fix in message or fix[:1].upper() + fix[1:] in message  # may start a sentence
    assert len(message.strip().splitlines()) == 1  # one paragraph


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_reported_with_file_line_figure_field_and_fix(tmp_path, case):
    text, line, figure, field, problem, fix = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    for command in ("check", "figures"):
        _assert_reported(invoke(command, path), path, line, figure, field, problem, fix)


def test_malformed_yaml_names_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BASE.replace("    unit: km²\n", "    unit: km²\n   oops: [\n"),
                    encoding="utf-8")
    result = invoke("check", path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert f"Error: {path}, line " in result.stderr and "is not valid YAML" in result.stderr


def test_file_that_does_not_exist(tmp_path):
    path = tmp_path / "missing.yaml"
    for command in ("check", "figures"):
        result = invoke(command, path)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"Error: {path}: no such file.")
        assert "source files live in data/sources/" in result.stderr


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    # saved as Latin-1: the first byte that is not UTF-8 is the '²' of 'km²' (0xB2) on
    # line 7, before the 'é' (0xE9) on line 9
    path.write_bytes(BASE.replace("ground still held", "terrain tenu à l'été").encode("latin-1"))
    for command in ("check", "figures"):
        result = invoke(command, path)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert f"Error: {path}, line 7: is not UTF-8 text" in result.stderr
        assert "Save it as UTF-8" in result.stderr


def test_impossible_calendar_date(tmp_path):
    path = tmp_path / "baddate.yaml"
    path.write_text(BASE + "  - id: as_of\n    kind: date\n    value: 2025-06-31\n"
                           "    description: day\n    attributed_to: someone\n",
                    encoding="utf-8")
    _assert_reported(invoke("check", path), path, 13, "as_of", "value", "is not a date",
                     "write dates as YYYY-MM-DD")


def test_bad_input_never_shows_a_traceback_in_a_real_process(tmp_path):
    # the installed entry point, in its own process: the same cases, all at once
    paths = []
    for case, (text, *_rest) in sorted(BAD.items()):
        path = tmp_path / f"{case}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    paths.append(str(tmp_path / "missing.yaml"))
    proc = subprocess.run([sys.executable, "-m", "analysis", "check", *paths],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == len(paths)  # one error paragraph per file


# --- text fields are data ----------------------------------------------------------------


def test_script_label_stays_plain_text(tmp_path):
    label = "<script>alert('x')</script> & \"quotes\""
    text = (BASE.replace("ground still held", json.dumps(label))
            + "checks:\n  - id: c\n    assert: held_area <= held_area\n"
            f"    description: {json.dumps(label)}\n")
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("figures", path, "--json")
    assert result.exit_code == 0
    objs = json.loads(result.stdout)  # still valid JSON, contract keys only
    assert all(set(o) == CONTRACT_KEYS for o in objs)
    assert "&lt;" not in result.stdout and "\\u003c" not in result.stdout
    # the audit's JSON carries the label as a JSON string, unchanged
    result = invoke("check", path, "--json")
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    assert report["findings"][0]["description"] == label
    # and the library keeps it as given
    from analysis.figures.derive import evaluate
    from analysis.figures.source import load_source
    assert evaluate(load_source(path))["held_area"].description == label


def test_check_reading_for_no_figure_is_a_usage_error(seed_source_path):
    result = invoke("check", seed_source_path, "--reading", "as_off=article")
    assert result.exit_code == 2
    assert "--reading names as_off, which no checked file has as a figure" in result.stderr


def test_every_command_is_documented_in_the_readme(repo_root):
    from analysis.cli import cli

    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"analysis {name}" in readme, f"README does not show `analysis {name}`"
        assert command.help and "Example:" in command.help, f"{name} has no Example: block"
