"""Fixtures that run the real embedded engine (Sail) and the real dbt CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_tools.engine import server
from platform_tools.engine.config import EngineConfig
from tests.helpers import copy_fixture_project, engine_env, free_port
from tests.integration.engine_reference import SailReference, build_sail_reference


@dataclass
class MiniEngine:
    """A fixture dbt project bound to its own engine, lakehouse and port."""

    project: Path
    lakehouse: Path
    port: int
    env: dict[str, str]

    @property
    def config(self) -> EngineConfig:
        return EngineConfig(lakehouse=self.lakehouse, port=self.port, session_id=_session())

    def table_path(self, schema: str, table: str) -> Path:
        return self.lakehouse / "warehouse" / schema / table


def _session() -> str:
    from platform_tools.engine.config import DEFAULT_SESSION_ID

    return DEFAULT_SESSION_ID


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniEngine]:
    base = tmp_path_factory.mktemp("mini")
    project = copy_fixture_project(base / "project")
    lakehouse = base / "lakehouse"
    port = free_port()
    engine = MiniEngine(project, lakehouse, port, engine_env(lakehouse, port, project))
    try:
        yield engine
    finally:
        server.down(engine.config)



@pytest.fixture(scope="session")
def sail_reference(tmp_path_factory: pytest.TempPathFactory) -> SailReference:
    """The Sail build the engine-equivalence modules compare with, once per test process."""
    return build_sail_reference(tmp_path_factory.mktemp("engine_reference"))
