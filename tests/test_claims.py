"""One quantity across sources (figures/claims.py, `analysis claims`, `check`'s quantity
checks): the INVENTED Marrow valley story in tests/story/ against the expectations worked
out by hand in tests/story/expected.yaml, the seed as a one-source story, and one test per
kind of bad input the issue names."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from analysis.cli import cli
from analysis.figures.claims import load_story

STORY = Path(__file__).parent / "story"
EXPECTED = yaml.safe_load((STORY / "expected.yaml").read_text(encoding="utf-8"))


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _num(x):
    return None if x is None or (isinstance(x, float) and x == float("inf")) else float(x)


@pytest.fixture(scope="module")
def story():
    return load_story([STORY / "sources"])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_claims_in_date_order_with_hand_worked_bounds(story, key):
    got = [{"source": c.source_id, "figure": c.figure_id, "date": [c.date_low, c.date_high],
            "value": float(c.result.value), "low": _num(c.low), "high": _num(c.high)}
           for c in story[key].claims]
    want = [{**c, "value": float(c["value"]), "low": _num(c["low"]), "high": _num(c["high"])}
            for c in EXPECTED[key]["claims"]]
    assert got == want


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_the_planted_conflict_and_reversal_and_nothing_else(story, key):
    conflicts = [{"a": c.upper.ref, "b": c.lower.ref, "gap": float(c.gap)}
                 for c in story[key].conflicts]
    assert conflicts == [{**c, "gap": float(c["gap"])} for c in EXPECTED[key]["conflicts"]]
    reversals = [{"earlier": r.earlier.ref, "later": r.later.ref, "change": float(r.change)}
                 for r in story[key].reversals]
    assert reversals == [{**r, "change": float(r["change"])}
                         for r in EXPECTED[key]["reversals"]]


def test_claims_cli_text_names_both_sources_both_wordings_and_the_gap():
    result = invoke("claims", "marrow.esk_reinforcements", "--sources", STORY / "sources")
    assert result.exit_code == 0, result.output
    out = result.stdout
    conflict = next(line for line in out.splitlines() if line.startswith("CONFLICT"))
    # both sources, both wordings, the gap (35,000 - 25,000, worked in expected.yaml)
    assert "Esk's defence ministry (The Esk Ledger (invented)) said about 20,000 troops" in conflict
    assert "Tarvany military intelligence, as quoted by the paper" in conflict
    assert "at least 35,000 troops" in conflict and "at least 10,000 troops apart" in conflict
    assert "14 April 2025" in conflict and "1 to 30 April 2025" in conflict
    assert "REVERSAL" not in out  # no trend declared for the troops


def test_claims_cli_reversal_in_words():
    result = invoke("claims", "marrow.ground_held", "--sources", STORY / "sources")
    assert result.exit_code == 0, result.output
    reversal = next(line for line in result.stdout.splitlines() if line.startswith("REVERSAL"))
    # June's 245..255 then August's 375..385: at least 375 - 255 = 120 km²
    assert "expected only to fall, yet it rose by at least 120 km²" in reversal
    assert "about 250 km² for 1 to 15 June 2025" in reversal
    assert "about 380 km² for 9 August 2025" in reversal


def test_claims_cli_json_and_a_group():
    result = invoke("claims", "marrow", "--sources", STORY / "sources", "--json")
    assert result.exit_code == 0, result.output
    data = {t["quantity"]: t for t in json.loads(result.stdout)}
    assert list(data) == ["marrow.ground_held", "marrow.esk_reinforcements", "marrow.displaced"]
    troops = data["marrow.esk_reinforcements"]
    assert troops["conflicts"] == [{"lower": "marrow-esk-ministry-2025/esk_troops",
                                    "upper": "marrow-tarvany-intelligence-2025/esk_buildup",
                                    "gap": 10000.0}]
    first = troops["claims"][0]
    assert (first["said"], first["low"], first["high"], first["date_low"]) == (
        "at least 35,000 troops", 35000.0, None, "2025-04-01")


def test_unknown_quantity_on_the_command_line_suggests_one():
    result = invoke("claims", "marrow.ground_hold", "--sources", STORY / "sources")
    assert result.exit_code == 1
    assert "no quantity 'marrow.ground_hold'; did you mean marrow.ground_held?" in result.stderr


def test_the_seed_is_a_one_source_story(repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)  # the defaults: data/sources and data/quantities.yaml
    result = invoke("claims", "kursk.ground_held", "--json")
    assert result.exit_code == 0, result.output
    (held,) = json.loads(result.stdout)
    # over 1,000 km² at the launch, about 90 km² (85..95) at the statement (22 June 2025)
    assert [(c["figure"], c["date_low"], c["low"], c["high"]) for c in held["claims"]] == [
        ("captured_area", "2024-08-06", 1000.0, None), ("held_area", "2025-06-22", 85.0, 95.0)]
    assert held["conflicts"] == held["reversals"] == []


def test_a_claim_words_a_headcount_by_its_noun(repo_root, monkeypatch):
    # The Kursk file's nk_killed is "over 1,000" in troops with noun "deaths": the article
    # counts soldiers who died, so the story's "what was said" reads deaths, not troops
    # (it read "over 1,000 troops", a count of soldiers sent). nk_troops's noun is
    # "soldiers"; the Russian reinforcements have no noun and keep their unit.
    monkeypatch.chdir(repo_root)
    result = invoke("claims", "kursk", "--json")
    assert result.exit_code == 0, result.output
    said = {q["quantity"]: [c["said"] for c in q["claims"]] for q in json.loads(result.stdout)}
    assert said["kursk.nk_killed"] == ["over 1,000 deaths"]
    assert said["kursk.nk_troops"] == ["around 11,000 soldiers"]
    assert said["kursk.russian_reinforcements"] == ["an estimated 70,000 troops"]


def test_a_timeline_names_each_date_tick_once_and_a_headcount_by_its_noun(repo_root,
                                                                          monkeypatch):
    # The deaths were counted over 1-31 January 2025; the axis runs 10 days either side
    # (story.timeline_chart's pad), so matplotlib ticks on the 1st and 15th. The "%b %Y"
    # labels read "Jan 2025", "Jan 2025", "Feb 2025"; concise dates name each once, the
    # year at the end. The y axis counts deaths (the claims' noun), not "troops".
    import matplotlib.pyplot as plt

    from analysis.notebook.story import Story

    monkeypatch.chdir(repo_root)
    story = Story.load("data/sources", "data/quantities.yaml", group="kursk")
    fig, _ = story.chart("kursk.nk_killed")
    fig.canvas.draw()
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    labels = [t.get_text() for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert labels == ["1 Jan", "15 Jan", "1 Feb"]
    assert ax.xaxis.get_offset_text().get_text() == "2025"
    assert ax.get_ylabel() == "deaths"
    # written with portable strftime codes only: "%-d" (no leading zero) is glibc's, and
    # Windows' strftime raises ValueError on it
    formatter = ax.xaxis.get_major_formatter()
    codes = formatter.formats + formatter.zero_formats + formatter.offset_formats
    assert not [c for c in codes if "%-" in c or "%#" in c]
    plt.close(fig)


def test_a_figure_in_another_unit_of_the_same_kind_is_converted(tmp_path):
    folder = tmp_path / "story"
    shutil.copytree(STORY, folder)
    path = folder / "sources" / "marrow-summer-claim-2025.yaml"
    text = path.read_text(encoding="utf-8")
    # 100 sq mi = 258.9988110336 km² exactly; "about 100" is 50..150 sq mi (+/-50)
    path.write_text(text.replace("value: 380\n    unit: km²", "value: 100\n    unit: sq mi"),
                    encoding="utf-8")
    claim = load_story([folder / "sources"])["marrow.ground_held"].claims[-1]
    assert float(claim.result.value) == pytest.approx(258.9988110336)
    assert (float(claim.low), float(claim.high)) == pytest.approx((129.4994055168,
                                                                   388.4982165504))
    assert claim.said == "about 100 mi²"


# --- bad input: each names the file, the line, the figure, and what to do -----------------


def _story_copy(tmp_path, name, old, new):
    folder = tmp_path / "story"
    shutil.copytree(STORY, folder)
    path = folder / "sources" / name if name != "quantities.yaml" else folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder, path


def _line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text("utf-8").splitlines(), 1)
                if needle in line)


def test_unknown_quantity_key(tmp_path):
    folder, path = _story_copy(tmp_path, "marrow-crossing-2025.yaml",
                               "quantity: marrow.displaced", "quantity: marrow.displace")
    result = invoke("check", path)
    assert result.exit_code == 1
    line = _line_of(path, "quantity: marrow.displace")
    assert (f"Error: {path}, line {line}: figure 'displaced', field 'quantity': unknown quantity "
            f"'marrow.displace' (not declared in {folder / 'quantities.yaml'}). Did you mean "
            "'marrow.displaced'?") in result.stderr
    assert "Traceback" not in result.output


def test_a_unit_that_does_not_fit_the_quantity(tmp_path):
    _, path = _story_copy(tmp_path, "marrow-crossing-2025.yaml",
                          "value: 4000\n    unit: people", "value: 4000\n    unit: km²")
    result = invoke("check", path)
    assert result.exit_code == 1
    lines = [i for i, text in enumerate(path.read_text("utf-8").splitlines(), 1)
             if "unit: km²" in text]
    line = lines[1]  # the first km² line is held_area's; the second is ours
    assert (f"{path}, line {line}: figure 'displaced', field 'unit': unit km² does not fit "
            "quantity 'marrow.displaced', which is a headcount (people)") in result.stderr


def test_two_quantities_with_the_same_key(tmp_path):
    folder, qpath = _story_copy(tmp_path, "quantities.yaml", "  - key: marrow.displaced",
                                "  - key: marrow.ground_held")
    result = invoke("check", folder / "sources" / "marrow-crossing-2025.yaml")
    assert result.exit_code == 1
    line = _line_of(qpath, "key: marrow.ground_held")
    second = [i for i, text in enumerate(qpath.read_text("utf-8").splitlines(), 1)
              if "key: marrow.ground_held" in text]
    assert (f"{qpath}, line {second[1]}: quantity 'marrow.ground_held': duplicate quantity key "
            f"'marrow.ground_held' (first declared on line {line})") in result.stderr


def test_a_figure_dated_outside_its_sources_coverage(tmp_path):
    _, path = _story_copy(tmp_path, "marrow-summer-claim-2025.yaml", "date: 2025-08-09",
                          "date: 2025-09-09")
    result = invoke("check", path)
    assert result.exit_code == 1
    line = _line_of(path, "date: 2025-09-09")
    assert (f"{path}, line {line}: figure 'held_area', field 'date': dated 2025-09-09, outside "
            "the source's coverage (2025-08-01 to 2025-08-10)") in result.stderr


def test_a_date_figures_range_outside_the_coverage(tmp_path):
    # the survey fortnight reaching into July, past the coverage's 20 June
    _, path = _story_copy(tmp_path, "marrow-monitor-june-2025.yaml", "high: 2025-06-15",
                          "high: 2025-07-15")
    result = invoke("check", path)
    assert result.exit_code == 1
    assert "figure 'held_area', field 'date': dated 2025-06-01 to 2025-07-15" in result.stderr


def test_a_source_naming_a_quantity_with_no_quantities_file(tmp_path):
    path = tmp_path / "lonely.yaml"
    shutil.copy(STORY / "sources" / "marrow-summer-claim-2025.yaml", path)
    result = invoke("check", path)
    assert result.exit_code == 1
    assert "names quantity 'marrow.ground_held' but no quantities file was found" in result.stderr


def test_check_takes_an_explicit_quantities_file(tmp_path):
    path = tmp_path / "lonely.yaml"
    shutil.copy(STORY / "sources" / "marrow-summer-claim-2025.yaml", path)
    result = invoke("check", path, "--quantities", STORY / "quantities.yaml")
    assert result.exit_code == 0, result.output


def test_the_seed_and_the_story_check_clean(repo_root):
    files = sorted((repo_root / "data" / "sources").glob("*.yaml")) + sorted(
        (STORY / "sources").glob("*.yaml"))
    result = invoke("check", *files)
    assert result.exit_code == 0, result.output


def test_dates_in_the_story_are_what_the_files_say(story):
    # the monitor's survey is a fortnight; the summer claim a single day
    june = story["marrow.ground_held"].claims[2]
    assert (june.date_low, june.date_high) == (dt.date(2025, 6, 1), dt.date(2025, 6, 15))


@pytest.mark.parametrize("text, problem", [
    ("quantities:\n  ? [a, b]\n  : 1\n", "line 2: a key must be a plain name"),
    ("a: &x [1]\nquantities: *x\n", "line 2: uses a YAML alias"),  # refused, as in sources
])
def test_a_hostile_quantities_file_is_a_located_error(tmp_path, text, problem):
    # The quantities file is read by the same limited YAML loader as source files.
    bad = tmp_path / "quantities.yaml"
    bad.write_text(text, encoding="utf-8")
    source = Path(__file__).resolve().parents[1] / "data/sources/kursk-incursion-2025.yaml"
    result = CliRunner().invoke(cli, ["check", str(source), "--quantities", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{bad}, {problem}" in result.output
