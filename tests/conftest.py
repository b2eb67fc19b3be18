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
