"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lakehouse and project directory of the test's own (no repo config, no .lakehouse);
    modules that need it for every test use ``pytestmark = pytest.mark.usefixtures(...)``."""
    lakehouse = tmp_path / "lh"
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(lakehouse))
    monkeypatch.setenv("GRIDUNION_PROJECT_DIR", str(tmp_path))
    monkeypatch.delenv("PLATFORM_TOOLS_CONFIG", raising=False)
    monkeypatch.delenv("DBT_TARGET_PATH", raising=False)
    return lakehouse
