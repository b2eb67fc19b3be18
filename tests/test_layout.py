"""The package's four rooms and the one direction of imports between them.

docs/architecture.md describes the rooms; this test keeps the code and the doc in step:
the figures engine imports nothing from the other rooms (so `check` and `figures` never
load Jupyter), intake and the notebook helpers build on the figures engine only, the
report pipeline knows nothing of figures, and nothing imports the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "analysis"
ROOT = PACKAGE.parents[1]

#: room -> the rooms (and top-level modules) it may import
ALLOWED = {
    "figures": {"errors", "files", "figures"},
    "intake": {"errors", "files", "figures", "intake"},
    "notebook": {"errors", "files", "figures", "notebook", "outputs", "words"},
    "reports": {"errors", "files", "outputs", "reports", "words"},
    "errors": set(),
    "words": set(),
    "files": {"errors"},
    "outputs": set(),
    "cli": {"errors", "files", "figures", "intake", "notebook", "outputs", "reports", "words"},
    "__main__": {"cli"},
}


def _room(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imported_rooms(path: Path) -> set[str]:
    """The rooms of `analysis` a module imports, at any depth (lazy imports count too)."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "analysis" else [
                f"analysis.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "analysis" and len(parts) > 1 and parts[1] != "__version__":
                rooms.add(parts[1])
    return rooms


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or
                 p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path):
    room = _room(path)
    assert room in ALLOWED, f"{path}: a module outside the four rooms; add it to a room"
    wrong = _imported_rooms(path) - ALLOWED[room] - {room}
    assert not wrong, f"{path.relative_to(PACKAGE)} ({room}) imports {sorted(wrong)}"


def test_the_rooms_are_the_ones_the_architecture_doc_names():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    folders = sorted(p.name for p in PACKAGE.iterdir()
                     if p.is_dir() and (p / "__init__.py").exists())
    assert folders == ["figures", "intake", "notebook", "reports"]
    for folder in folders:
        assert f"analysis/{folder}/" in doc, f"docs/architecture.md does not describe {folder}"
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name == "__init__.py":
            continue
        rel = module.relative_to(PACKAGE).as_posix()
        assert f"`{rel}`" in doc, f"docs/architecture.md does not mention {rel}"


def test_the_reports_readme_is_the_one_the_build_writes():
    from analysis.reports.publish import README

    assert (ROOT / "reports" / "README.md").read_text(encoding="utf-8") == README
