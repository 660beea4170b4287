"""`platform-tools engine` against the real Sail engine: lifecycle and bad input."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.helpers import REPO, assert_ok, engine_env, free_port, platform_tools

pytestmark = pytest.mark.engine


def test_up_status_down_cycle(tmp_path: Path) -> None:
    env = engine_env(tmp_path / "lakehouse", free_port())
    try:
        up = platform_tools(env, "engine", "up")
        assert_ok(up)
        assert "engine is up" in up.stdout
        assert "catalog rebuilt" in up.stdout
        status = platform_tools(env, "engine", "status", "--json")
        assert_ok(status)
        assert '"running": true' in status.stdout
        # a second `up` is a no-op on the running engine
        again = platform_tools(env, "engine", "up")
        assert_ok(again)
        assert (tmp_path / "lakehouse" / "_engine" / "engine.pid").is_file()
        assert (tmp_path / "lakehouse" / "_engine" / "engine.log").is_file()
    finally:
        down = platform_tools(env, "engine", "down")
    assert_ok(down)
    assert down.stdout.strip() == "engine stopped"
    status = platform_tools(env, "engine", "status")
    assert status.returncode == 1
    assert "engine is down" in status.stdout
    assert platform_tools(env, "engine", "down").stdout.strip() == "engine was not running"


def test_port_in_use_is_one_line_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        result = platform_tools(engine_env(tmp_path / "lakehouse", port), "engine", "up")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "GRIDUNION_ENGINE_PORT" in lines[0]
    assert "Traceback" not in result.stderr


def test_unwritable_lakehouse_is_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the lakehouse's parent should be")
    result = platform_tools(engine_env(blocker / "lakehouse", free_port()), "engine", "up")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "is not writable" in lines[0] and "GRIDUNION_LAKEHOUSE" in lines[0]


def test_bad_port_setting_is_one_line_error(tmp_path: Path) -> None:
    env = engine_env(tmp_path / "lakehouse", 1)
    env["GRIDUNION_ENGINE_PORT"] = "fifty"
    result = platform_tools(env, "engine", "status")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "platform-tools: error: GRIDUNION_ENGINE_PORT='fifty' is not a port number; "
        "set it to a free TCP port such as 50051"
    )


def test_dbt_reports_engine_start_failure_in_one_line(tmp_path: Path) -> None:
    """dbt starts the engine on demand; a port held by another program is reported, not hung."""
    from tests.helpers import dbt

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        env = engine_env(tmp_path / "lakehouse", port)
        result = dbt(
            REPO,
            env,
            "run",
            "--select",
            "dim_meters",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        )
    assert result.returncode != 0
    assert f"embedded engine: port {port} on 127.0.0.1 is already in use" in result.stdout


def test_a_writing_command_restarts_an_engine_over_its_memory_limit(tmp_path: Path) -> None:
    """Sail keeps memory it freed; after a writing command the plugin stops an engine that
    holds more than GRIDUNION_ENGINE_RECYCLE_MB, and the next command starts it afresh with
    the catalog rebuilt from the lakehouse."""
    from tests.helpers import copy_fixture_project, dbt

    project = copy_fixture_project(tmp_path / "project")
    env = engine_env(tmp_path / "lakehouse", free_port(), project)
    try:
        kept = dbt(project, env, "seed")  # default limit (2048 MB): the engine stays up
        assert_ok(kept)
        assert "embedded engine: stopped" not in kept.stderr
        assert platform_tools(env, "engine", "status").returncode == 0
        small = {**env, "GRIDUNION_ENGINE_RECYCLE_MB": "1"}
        recycled = dbt(project, small, "seed")
        assert_ok(recycled)
        assert re.search(
            r"embedded engine: stopped after this command, holding [\d,]+ MB "
            r"\(over GRIDUNION_ENGINE_RECYCLE_MB=1\); the next command starts it afresh",
            recycled.stderr,
        ), recycled.stderr
        assert platform_tools(env, "engine", "status").returncode == 1
        count = "select count(*) as n from {{ ref('tariffs') }}"
        shown = dbt(project, env, "show", "--inline", count, "--output", "json")
        assert_ok(shown)
        assert '"n": ' in shown.stdout and '"n": 0' not in shown.stdout, shown.stdout
        never = dbt(project, {**env, "GRIDUNION_ENGINE_RECYCLE_MB": "lots"}, "seed")
        assert never.returncode != 0
        assert "GRIDUNION_ENGINE_RECYCLE_MB='lots' is not a whole number" in never.stdout
    finally:
        platform_tools(env, "engine", "down")
