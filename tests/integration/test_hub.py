"""The ingestion hub on the real engine: batches staged and built warm as they land.

The hub serves a copy of the project (so that a project file can be edited under it) and a
lakehouse of its own. Day 1 is pending when it starts (its catch-up batch); day 2 lands
while it waits and is built without parsing the project again; a model file is then edited
and day 3 lands while the engine is down: that batch parses first and starts the engine
again. SIGTERM stops it cleanly; a second hub on the same lakehouse is refused.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from platform_tools.hub.service import read_batches
from tests.helpers import BIN, REPO, assert_ok, delta_source, engine_env, free_port, platform_tools

pytestmark = pytest.mark.engine

DAYS = ["2024-10-26", "2024-10-27", "2024-10-28"]
PROJECT_PARTS = (
    "dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "snapshots", "analyses",
    "docs/dbt", "tests/data_tests",
)  # fmt: skip
BATCH_TIMEOUT_S = 420


@dataclass
class Served:
    work: Path
    project: Path
    lakehouse: Path
    env: dict[str, str]
    process: subprocess.Popen[str]
    output: Path

    def batches(self) -> list[dict[str, Any]]:
        return read_batches(self.lakehouse)

    def wait_for_batch(self, number: int) -> dict[str, Any]:
        deadline = time.monotonic() + BATCH_TIMEOUT_S
        while time.monotonic() < deadline:
            batches = self.batches()
            if len(batches) >= number:
                return batches[number - 1]
            assert self.process.poll() is None, self.output.read_text()[-4000:]
            time.sleep(0.2)
        raise AssertionError(f"no batch {number} in time:\n{self.output.read_text()[-4000:]}")

    def land(self, day: str) -> None:
        """Land one ingest day the way writers must: complete files, renamed into place."""
        source = self.work / "landing_full"
        for day_dir in sorted(source.glob(f"*/*/ingest_date={day}")):
            target = self.lakehouse / "landing" / day_dir.relative_to(source)
            hidden = target.parent / f".incoming-{day_dir.name}"
            shutil.copytree(day_dir, hidden)
            hidden.rename(target)

    def gold_days(self) -> set[str]:
        # the published version: what readers of the public model get (write-audit-publish)
        table, version = delta_source(
            self.lakehouse / "warehouse", "metering_gold", "fct_region_daily_consumption"
        )
        rows = (
            DeltaTable(str(table), version=version)
            .to_pyarrow_table(columns=["reading_date"])
            .to_pylist()
        )
        return {str(row["reading_date"]) for row in rows}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("hub")
    project = work / "project"
    for part in PROJECT_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        elif source.exists():  # (empty folders such as analyses/ are not in a clone)
            (project / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, project / part)
    port = free_port()
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, port, profiles_dir=project)
    generate = ["landing", "generate", "--meters", "60", "--days", "3", "--start", DAYS[0]]
    assert_ok(platform_tools(env, *generate, "--out", str(work / "landing_full")))
    output = work / "hub.out"
    served = Served(work, project, lakehouse, env, None, output)  # type: ignore[arg-type]
    served.land(DAYS[0])
    command = [
        str(BIN / "platform-tools"), "hub", "--select", "domain:metering", "--interval", "0.2",
        "--settle", "0.3", "--quiet", "--project-dir", str(project),
    ]  # fmt: skip
    with output.open("w") as sink:
        served.process = subprocess.Popen(
            command, cwd=work, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True
        )
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


def test_pending_files_are_caught_up_when_the_hub_starts(served: Served) -> None:
    first = served.wait_for_batch(1)
    assert first["reason"] == "catch-up" and first["success"], first
    assert first["files_staged"] > 0 and first["parse_s"] is not None
    assert first["counts"]["PASS"] > 20 and first["counts"].get("ERROR", 0) == 0
    assert served.gold_days() <= {DAYS[0]} and served.gold_days()
    assert "hub: batch 1 (catch-up)" in served.output.read_text()


def test_a_landed_day_is_built_without_parsing_again(served: Served) -> None:
    served.wait_for_batch(1)
    time.sleep(1.0)  # a poll with nothing new makes no batch
    assert len(served.batches()) == 1
    served.land(DAYS[1])
    second = served.wait_for_batch(2)
    assert second["reason"] == "landed" and second["success"], second
    assert second["files_staged"] > 0 and second["parse_s"] is None
    assert DAYS[1] in served.gold_days()
    # the run went to the run history like any dbt build
    runs = list((served.lakehouse / "_history" / "runs").iterdir())
    assert len(runs) == 2


def test_an_edited_project_is_parsed_before_the_next_batch(served: Served) -> None:
    served.wait_for_batch(2)
    model = served.project / "models" / "metering" / "gold" / "fct_region_daily_consumption.sql"
    model.write_text(model.read_text() + "\n-- edited while the hub runs\n")
    # the engine stopped between batches (an operator, a crash) is started again by the build
    assert_ok(platform_tools(served.env, "engine", "down"))
    served.land(DAYS[2])
    third = served.wait_for_batch(3)
    assert third["success"] and third["parse_s"] is not None, third
    assert DAYS[2] in served.gold_days()
    compiled = served.project / "target" / "compiled" / "gridunion" / "models" / "metering" / "gold"
    edited = (compiled / "fct_region_daily_consumption.sql").read_text()
    assert "edited while the hub runs" in edited


def test_a_second_hub_is_refused_and_sigterm_stops_the_first(served: Served) -> None:
    served.wait_for_batch(3)
    second = platform_tools(
        served.env, "hub", "--once", "--project-dir", str(served.project), cwd=served.work
    )
    assert second.returncode == 2, second.stdout + second.stderr
    assert "another hub (pid" in second.stderr and "Traceback" not in second.stderr
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=120) == 0
    assert "hub: stopped after 3 batch(es)" in served.output.read_text()
    assert not (served.lakehouse / "_hub" / "batches.jsonl").read_text().endswith("\n\n")
