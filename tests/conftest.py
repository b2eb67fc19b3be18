"""Shared fixtures: where the project is, and the seed article's source file."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def seed_source_path(repo_root) -> Path:
    return repo_root / "data" / "sources" / "kursk-incursion-2025.yaml"


# A source file whose text fields hold markup: it must show as typed in every report.
INJECTED = """\
source:
  id: injected-markup
  title: "Markup <script>alert('title')</script> & *stars* #heading $x$"
  notes: ["A note with <img src=x onerror=alert(1)> in it"]
figures:
  - id: crowd
    description: "Crowd <script>alert('label')</script> at the *square*, tickets $5 and $10"
    value: 2500
    unit: people
    qualifier: about
    attributed_to: "Police <b>spokesperson</b>"
  - id: cost
    description: "Cost between $\\frac and $ now"
    value: 12
    unit: USD
    attributed_to: organisers
derived:
  - id: crowd_share
    description: "Share <script>alert('derived')</script> of the town"
    formula: crowd / quantity(50000, "people")
    format: percent
    domain: share
"""


@pytest.fixture(scope="session")
def built_project(tmp_path_factory):
    """The project's real notebooks and report list, built once into a scratch copy
    with one extra source file full of markup. Returns (root, summary)."""
    import shutil

    from analysis.reports.build import build

    root = tmp_path_factory.mktemp("project")
    for name in ("data", "notebooks"):
        shutil.copytree(REPO_ROOT / name, root / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copy(REPO_ROOT / "reports.yaml", root / "reports.yaml")
    (root / "data" / "sources" / "zz-injected.yaml").write_text(INJECTED, encoding="utf-8")
    # the invented test article with a planted error: a source report that must flag it
    shutil.copy(REPO_ROOT / "tests" / "data" / "harbour-flooding-2023.yaml",
                root / "data" / "sources" / "harbour-flooding-2023.yaml")
    summary = build(root, jobs=2)
    return root, summary
