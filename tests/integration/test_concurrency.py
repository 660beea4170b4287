"""One writer at a time, on the real engine: two builds started together equal one build.

A small world is landed day by day into two lakehouses. In the first, one `dbt build` runs per
day; in the second, two `dbt build`s of the same selection start at the same moment every
day (and a `dbt ls` runs while they do). Every table of the metering domain, bronze to gold,
must hold the same rows in both, apart from the columns that record when the platform loaded
something; no file is loaded into bronze twice.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import BIN, REPO, ProjectRun, assert_ok, engine_env, platform_tools

pytestmark = pytest.mark.engine

DAYS = ["2024-10-26", "2024-10-27", "2024-10-28"]
GENERATE = ["landing", "generate", "--meters", "40", "--days", "3", "--start", DAYS[0],
            "--seed", "11"]  # fmt: skip
SELECT = ("--select", "domain:metering")
# columns that record when the platform loaded or rewrote a row, not what it holds
RECORDED_AT = {"ingested_at", "last_ingested_at", "detected_at", "staged_at"}


def _project(work: Path, name: str) -> ProjectRun:
    return ProjectRun.beside(work, name)


def _stop(run: ProjectRun) -> None:
    server.down(EngineConfig(lakehouse=run.lakehouse, port=run.port, session_id=DEFAULT_SESSION_ID))


def _dbt_process(run: ProjectRun, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "dbt"), "build", *SELECT, "--target-path", str(run.work / f"target_{tag}"),
         "--log-path", str(run.work / f"logs_{tag}")],
        cwd=REPO, env=run.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def tables(run: ProjectRun) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every Delta table of the metering domain as a multiset of rows (recorded-at dropped)."""
    result: dict[str, Counter[tuple[Any, ...]]] = {}
    for path in sorted((run.lakehouse / "warehouse").glob("metering_*/*")):
        if not (path / "_delta_log").is_dir():
            continue
        data = DeltaTable(str(path)).to_pyarrow_table()
        keep = sorted(c for c in data.column_names if c not in RECORDED_AT)
        columns = [data.column(c).to_pylist() for c in keep]
        result[f"{path.parent.name}.{path.name}"] = Counter(zip(*columns, strict=True))
    return result


@pytest.fixture(scope="module")
def lives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("concurrency")
    assert_ok(platform_tools(engine_env(work / "unused", 1), *GENERATE, "--out",
                             str(work / "landing_full")))  # fmt: skip
    single = _project(work, "single")
    try:
        for day in DAYS:
            single.land([day])
            assert_ok(single.dbt("build", *SELECT))
        expected = tables(single)
    finally:
        _stop(single)

    paired = _project(work, "paired")
    outcomes: list[tuple[subprocess.CompletedProcess[str], ...]] = []
    listed: list[bool] = []
    try:
        for day in DAYS:
            paired.land([day])
            first, second = _dbt_process(paired, "a"), _dbt_process(paired, "b")
            time.sleep(3)  # both are parsing or building now: a read-only command never waits
            listing = paired.dbt("ls", *SELECT, "--resource-type", "model")
            assert_ok(listing)
            # it returned while a writer still built (or waited), and never waited itself
            listed.append(
                (first.poll() is None or second.poll() is None)
                and "writer lock" not in listing.stdout + listing.stderr
            )
            results = []
            for process in (first, second):
                stdout, stderr = process.communicate(timeout=900)
                results.append(
                    subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
                )
            outcomes.append(tuple(results))
        yield {
            "expected": expected,
            "actual": tables(paired),
            "outcomes": outcomes,
            "listed": listed,
            "paired": paired,
        }
    finally:
        _stop(paired)


def test_both_builds_succeed_and_the_second_waits_with_a_message(lives: dict[str, Any]) -> None:
    for pair in lives["outcomes"]:
        for result in pair:
            assert_ok(result)
        waited = [
            r for r in pair if "waiting for the lakehouse writer lock held by pid" in r.stderr
        ]
        assert len(waited) == 1, [r.stderr[-2000:] for r in pair]


def test_two_builds_at_once_leave_the_same_tables_as_one_build(lives: dict[str, Any]) -> None:
    expected, actual = lives["expected"], lives["actual"]
    assert set(actual) == set(expected)
    assert len(expected) >= 15  # bronze, silver and gold of the domain
    for name, rows in expected.items():
        assert actual[name] == rows, name


def test_every_staged_file_is_loaded_into_bronze_exactly_once(lives: dict[str, Any]) -> None:
    run: ProjectRun = lives["paired"]
    staged = pq.read_table(run.lakehouse / "staging" / "_manifest" / "manifest.parquet")
    rows_of = {
        (r["system"], r["entity"], r["source_file"]): r["row_count"]
        for r in staged.to_pylist()
        if r["status"] == "staged"
    }
    for (system, entity, source_file), count in rows_of.items():
        table = run.lakehouse / "warehouse" / "metering_bronze" / f"brz_{system}__{entity}"
        if not table.is_dir():
            continue  # master data of other domains' bronze
        loaded = Counter(
            DeltaTable(str(table)).to_pyarrow_table().column("source_file").to_pylist()
        )
        assert loaded[source_file] == count, source_file


def test_read_only_commands_do_not_wait_for_a_writer(lives: dict[str, Any]) -> None:
    # each `dbt ls` returned while the builds held or awaited the lock, without waiting
    assert lives["listed"] == [True] * len(DAYS), lives["listed"]
