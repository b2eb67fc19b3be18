"""What changed between builds (reports/history.py, `analysis diff`, the build's "changed"
summary, the index mark), on the INVENTED Marrow valley story of tests/story/ built with
notebooks/story_report.ipynb: editing one figure prints exactly that figure's change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_build import stable_code  # noqa: F401  (fixture)

from analysis.cli import cli
from analysis.reports.history import Change, builds, change_text, compare, record

ROOT = Path(__file__).resolve().parents[1]
STORY = Path(__file__).parent / "story"


def fig(fid, value, low, high, unit="km²"):
    return {"id": fid, "kind": "stated", "value": value, "low": low, "high": high,
            "unit": unit, "formula": None, "inputs": [], "qualifier": None}


# --- comparing two figures.json payloads -------------------------------------------------


def test_a_moved_figure_by_how_much_and_a_changed_finding():
    old = {"figures": [fig("a", 250.0, 245.0, 255.0), fig("b", 10.0, 5.0, 15.0)]}
    new = {"figures": [fig("a", 280.0, 275.0, 285.0), fig("b", 10.0, 5.0, 15.0)]}
    (change,) = compare("r", old, new)  # b is unchanged, so not listed
    # 280 - 250 = +30, 30 / 250 = +12%; 275..285 does not meet 245..255
    assert change_text(change) == ("r: a 250 -> 280 km² (+30, +12%); bounds 245 to 255 -> "
                                   "275 to 285; FINDING CHANGED: the new bounds do not meet "
                                   "the old ones")


def test_overlapping_new_bounds_are_a_change_but_not_a_new_finding():
    (change,) = compare("r", {"figures": [fig("a", 250.0, 245.0, 255.0)]},
                        {"figures": [fig("a", 260.0, 255.0, 265.0)]})
    assert change.finding is None  # 255 is in both ranges
    assert change_text(change) == "r: a 250 -> 260 km² (+10, +4%); bounds 245 to 255 -> 255 to 265"


def test_a_one_sided_figure_that_became_two_sided():
    (change,) = compare("r", {"figures": [fig("a", 600.0, 600.0, None)]},
                        {"figures": [fig("a", 600.0, 550.0, 650.0)]})
    assert change.finding == "a one-sided figure became two-sided"
    assert change_text(change).endswith("bounds at least 600 -> 550 to 650; FINDING CHANGED: "
                                        "a one-sided figure became two-sided")


def test_new_and_dropped_figures():
    changes = compare("r", {"figures": [fig("a", 1.0, 1.0, 1.0)]},
                      {"figures": [fig("b", 2.0, 2.0, 2.0, unit="troops")]})
    assert [change_text(c) for c in changes] == ["r: a dropped (was 1 km²)",
                                                 "r: b new: 2 troops (exact)"]
    assert isinstance(changes[0], Change)


# --- end to end: the story report built, one figure edited, built again --------------------


@pytest.fixture
def story_project(tmp_path):
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "story_report.ipynb", root / "notebooks")
    shutil.copytree(STORY / "sources", root / "data" / "sources")
    shutil.copy(STORY / "quantities.yaml", root / "data" / "quantities.yaml")
    (root / "reports.yaml").write_text("""\
formats: [html, ipynb]
reports:
  - name: story-marrow
    notebook: notebooks/story_report.ipynb
    parameters: {group: marrow, title: "The Marrow valley over time (invented)"}
    inputs: [data/quantities.yaml, "data/sources/*.yaml"]
""", encoding="utf-8")
    return root


def test_builds_within_one_second_keep_their_order(tmp_path):
    # three builds stamped in the same second are <stamp>, <stamp>-2 and <stamp>-3; as
    # names "-2.json" sorts before ".json", which made the second build look like the
    # first (found when the suite's two builds fell in one second)
    time = "2026-11-26T16:27:10+00:00"
    for value in (1, 2, 3):
        payload = json.dumps({"figures": [fig("a", value, value, value)]}).encode()
        record(tmp_path, {"r": payload}, ["r"], time)
    ids = [b["build"] for b in builds(tmp_path)]
    assert ids == ["20261126T162710Z", "20261126T162710Z-2", "20261126T162710Z-3"]


def test_editing_one_figure_prints_exactly_that_change(story_project, monkeypatch,
                                                       stable_code):  # noqa: F811
    root = story_project
    monkeypatch.chdir(root)
    runner = CliRunner()
    first = runner.invoke(cli, ["build", "--quiet"])
    assert first.exit_code == 0, first.output
    assert first.output == ""  # the first build has nothing to compare with
    page = (root / "reports" / "story-marrow" / "story-marrow.html").read_text("utf-8")
    # the planted conflict and reversal, with the gaps worked in tests/story/expected.yaml
    assert "at least 10,000 troops apart" in page
    assert "yet it rose by at least 120 km²" in page
    assert "1 conflict: figures for the same dates that cannot both be right" in page
    assert page.count("<svg") >= 3  # a timeline a quantity

    path = root / "data" / "sources" / "marrow-monitor-june-2025.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("value: 250\n", "value: 280\n").replace(
        "value: 97\n", "value: 108\n"), encoding="utf-8")  # 280 km² = 108.1 sq mi
    second = runner.invoke(cli, ["build", "--quiet"])
    assert second.exit_code == 0, second.output
    head, *rest = second.output.splitlines()
    first_id, second_id = [b["build"] for b in builds(root / "reports")]
    assert head == f"changed: 1 figure since build {first_id} (now {second_id})"
    # about 250 (245..255) -> about 280 (275..285): +30, 30 / 250 = +12%, disjoint
    assert rest == ["  story-marrow: marrow-monitor-june-2025/held_area 250 -> 280 km² (+30, "
                    "+12%); bounds 245 to 255 -> 275 to 285; FINDING CHANGED: the new bounds "
                    "do not meet the old ones"]

    index = (root / "reports" / "index.html").read_text("utf-8")
    assert "1 figure changed in the last build, 1 finding" in index
    # the report carries its changes since the previous version, linked from the index
    note = (root / "reports" / "story-marrow" / "changes.txt").read_text("utf-8").splitlines()
    assert note[0].startswith(f"Changes in the figures of story-marrow since its previous "
                              f"version (build {first_id}, ")
    assert note[2:] == [rest[0].removeprefix("  story-marrow: ")]
    assert 'href="story-marrow/changes.txt"' in index
    manifest = json.loads((root / "reports" / "manifest.json").read_text("utf-8"))
    assert manifest["reports"]["story-marrow"]["changed"] == {
        "build": second_id, "figures": 1, "findings": 1}

    diff = runner.invoke(cli, ["diff", "story-marrow"])
    assert diff.exit_code == 0, diff.output
    assert diff.output.splitlines() == [
        f"report story-marrow: build {first_id} -> {second_id}: 1 figure changed",
        rest[0]]
    as_json = json.loads(runner.invoke(cli, ["diff", "--json"]).output)
    (change,) = as_json["changes"]
    assert (change["old"]["low"], change["new"]["low"]) == (245.0, 275.0)

    # nothing changed: no new record, no new object (an unchanged report costs nothing)
    objects = sorted((root / "reports" / ".history" / "objects").iterdir())
    third = runner.invoke(cli, ["build", "--quiet", "--force"])
    assert third.exit_code == 0 and third.output == ""
    assert len(builds(root / "reports")) == 2
    assert sorted((root / "reports" / ".history" / "objects").iterdir()) == objects
    assert not (root / "reports" / "story-marrow" / "changes.txt").exists()  # none since


def test_diff_against_a_build_that_does_not_exist_lists_the_builds(story_project, monkeypatch,
                                                                   stable_code):  # noqa: F811
    root = story_project
    monkeypatch.chdir(root)
    runner = CliRunner()
    result = runner.invoke(cli, ["diff"])
    assert result.exit_code == 2
    assert "no build has been recorded yet; run `analysis build` first" in result.output
    assert runner.invoke(cli, ["build", "--quiet"]).exit_code == 0
    (only,) = [b["build"] for b in builds(root / "reports")]
    result = runner.invoke(cli, ["diff", "--since", "20200101T000000Z"])
    assert result.exit_code == 2
    assert f"no build '20200101T000000Z'; builds: {only}" in result.output
    result = runner.invoke(cli, ["diff", "--since", "2020-01-01"])
    assert result.exit_code == 2
    assert f"no build before 2020-01-01; builds: {only}" in result.output
    result = runner.invoke(cli, ["diff"])
    assert f"only one build is recorded ({only}); nothing to compare it with yet" in result.output
    result = runner.invoke(cli, ["diff", "--since", only, "nonesuch"])
    assert result.exit_code == 2
    assert "no report named 'nonesuch'; known: story-marrow" in result.output
    result = runner.invoke(cli, ["diff", "--since", only])
    assert result.exit_code == 0
    assert result.output == f"all reports: build {only} -> {only}: 0 figures changed\n"
