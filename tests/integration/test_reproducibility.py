"""Same files, same answers: a life built day by day, at once, and rebuilt from bronze.

One world is generated (three days with every fault, then the same world exported again a
day later, whose full exports are authoritative) and built three ways on the real engine:

- day by day: each day landed and built as it arrives (the whole project);
- at once: every file landed, one build;
- from bronze: the day-by-day lakehouse loses everything downstream of bronze (disaster
  recovery, a backfill) and is rebuilt from its bronze tables;
- engine lost: the build at once, whose engine is killed mid-way, finished by `dbt retry`.

Every public model must hold the same rows in all of them, except the columns documented as
recording when the platform learned something (`meta.recorded_at` in the properties files).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import (
    BIN,
    REPO,
    ProjectRun,
    assert_ok,
    assert_same_tables,
    delta_source,
    engine_env,
    platform_tools,
    public_tables,
    table_contents,
)

pytestmark = pytest.mark.engine

DAYS = ["2024-10-26", "2024-10-27", "2024-10-28"]
LATER_EXPORT_DAY = "2024-10-30"
SEED_ARGS = ["--meters", "40", "--seed", "13"]


def _project(work: Path, name: str) -> ProjectRun:
    return ProjectRun.beside(work, name)


def _stop(run: ProjectRun) -> None:
    config = EngineConfig(lakehouse=run.lakehouse, port=run.port, session_id=DEFAULT_SESSION_ID)
    server.down(config)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("reproducibility")
    env = engine_env(work / "unused", 1)
    out = ["--out", str(work / "landing_full")]
    assert_ok(platform_tools(env, "landing", "generate", *SEED_ARGS, "--days", "3", *out))
    assert_ok(platform_tools(env, "landing", "generate", *SEED_ARGS, "--days", "1",
                             "--start", LATER_EXPORT_DAY, "--new-world", *out))  # fmt: skip
    every_day = [*DAYS, LATER_EXPORT_DAY]
    result: dict[str, Any] = {}

    daily = _project(work, "daily")
    try:
        for day in every_day:
            daily.land([day])
            assert_ok(daily.dbt("build"))
        models = public_tables(daily.work / "target", daily.lakehouse / "warehouse")
        result["models"] = models
        result["daily"] = table_contents(models)
    finally:
        _stop(daily)

    # disaster recovery: everything downstream of bronze is lost, then rebuilt from bronze
    for folder in (daily.lakehouse / "warehouse").iterdir():
        if not folder.name.endswith("_bronze") and folder.name != "platform_catalog":
            shutil.rmtree(folder)
    try:
        assert_ok(daily.dbt("build"))
        result["from_bronze"] = table_contents(
            public_tables(daily.work / "target", daily.lakehouse / "warehouse")
        )
    finally:
        _stop(daily)

    at_once = _project(work, "at_once")
    try:
        at_once.land(every_day)
        assert_ok(at_once.dbt("build"))
        result["at_once"] = table_contents(
            public_tables(at_once.work / "target", at_once.lakehouse / "warehouse")
        )
    finally:
        _stop(at_once)

    # the engine dies in the middle of that build; `dbt retry` (which starts it again) ends it
    lost = _project(work, "engine_lost")
    try:
        lost.land(every_day)
        result["lost_build"] = _build_killing_the_engine(lost, after_models=40)
        result["retry"] = lost.dbt("retry")
        assert_ok(result["retry"])
        result["engine_lost"] = table_contents(
            public_tables(lost.work / "target", lost.lakehouse / "warehouse")
        )
        # then someone deletes a table's Delta log: the build names it and the way out
        table = lost.lakehouse / "warehouse" / "metering_silver" / "slv_meters"
        shutil.rmtree(table / "_delta_log")
        result["log_deleted"] = lost.dbt("build", "--select", "slv_meters")
        shutil.rmtree(table)  # the way out the message gives
        result["log_rebuilt"] = lost.dbt("build", "--full-refresh", "--select", "slv_meters")
    finally:
        _stop(lost)
    yield result


def _build_killing_the_engine(run: ProjectRun, after_models: int) -> dict[str, Any]:
    """``dbt build`` whose engine is killed (SIGKILL) once ``after_models`` models are built;
    the build's output, exit code and seconds from the kill to its end."""
    log = run.work / "logs" / "dbt.log"
    command = [str(BIN / "dbt"), "build", "--target-path", str(run.work / "target"),
               "--log-path", str(run.work / "logs")]  # fmt: skip
    config = EngineConfig(lakehouse=run.lakehouse, port=run.port, session_id=DEFAULT_SESSION_ID)
    with subprocess.Popen(command, cwd=REPO, env=run.env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as build:  # fmt: skip
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and build.poll() is None:
            built = log.read_text().count(" OK created sql ") if log.exists() else 0
            if built >= after_models:
                break
            time.sleep(0.2)
        pid = server.status(config).pid
        assert pid is not None and build.poll() is None, "the build ended before the kill"
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        output, _ = build.communicate(timeout=300)
        return {
            "output": output,
            "returncode": build.returncode,
            "seconds_after_kill": time.monotonic() - killed_at,
        }


@pytest.mark.parametrize("other", ["at_once", "from_bronze"])
def test_every_public_model_is_the_same_however_the_life_was_built(
    builds: dict[str, Any], other: str
) -> None:
    assert len(builds["daily"]) >= 20
    assert_same_tables(builds["daily"], builds[other])


def test_an_engine_lost_mid_build_fails_fast_in_one_line_and_retry_finishes_it(
    builds: dict[str, Any],
) -> None:
    lost = builds["lost_build"]
    assert lost["returncode"] != 0
    assert lost["seconds_after_kill"] < 20, lost["seconds_after_kill"]
    assert "embedded engine: it stopped during this command" in lost["output"]
    assert "then run `dbt retry`" in lost["output"]
    assert "_InactiveRpcError" not in lost["output"], lost["output"][-3000:]
    assert "WAP: published" in builds["retry"].stdout  # what the lost build audited, too
    assert_same_tables(builds["at_once"], builds["engine_lost"])


def test_a_table_whose_delta_log_was_deleted_is_named_with_the_way_out(
    builds: dict[str, Any],
) -> None:
    deleted = builds["log_deleted"]
    assert deleted.returncode != 0
    lines = [line for line in deleted.stdout.splitlines() if "Delta log missing" in line]
    assert len(lines) == 1, deleted.stdout[-3000:]
    assert "metering_silver.slv_meters (" in lines[0]
    assert "dbt build --full-refresh --select slv_meters" in lines[0]
    assert_ok(builds["log_rebuilt"])


def test_customer_history_follows_the_sources_change_days(builds: dict[str, Any]) -> None:
    candidate, _, _ = builds["models"]["customers_gold.dim_customers_v2"]
    # the published version of the lakehouse as it is now (rebuilt from bronze)
    path, version = delta_source(candidate.parent.parent, "customers_gold", "dim_customers_v2")
    versions = DeltaTable(str(path), version=version).to_pyarrow_table().to_pylist()
    # more versions than customers: segment changes and deletions are history, not overwrites
    per_customer = Counter(row["customer_key"] for row in versions)
    assert any(count > 1 for count in per_customer.values())
    # a customer deleted on day 2 or 3 and listed again by the later full export: its history
    # has a gap (closed at the deletion, a new version from the export's day)
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(versions, key=lambda r: r["valid_from"]):
        by_customer.setdefault(row["customer_key"], []).append(row)
    assert any(
        earlier["valid_to"] is not None and earlier["valid_to"] < later["valid_from"]
        for rows in by_customer.values()
        for earlier, later in zip(rows, rows[1:], strict=False)
    )
    # a version starts at 00:00 UTC of a day its source exported a change
    days = {f"{day} 00:00:00" for day in [*DAYS, LATER_EXPORT_DAY]}
    later = [row for row in versions if str(row["valid_from"])[:10] >= DAYS[0]]
    assert later and all(str(row["valid_from"])[:19] in days for row in later)
