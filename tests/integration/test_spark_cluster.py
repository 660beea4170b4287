"""The `cluster` target: a Spark standalone cluster builds the same project as Sail.

`platform-tools engine up --engine spark-cluster` starts a master, two workers and the Spark
Thrift Server on free ports in a temporary lakehouse; dbt reaches it with dbt-spark's `thrift`
method; the cluster's staged landing files are outside the lakehouse, named by a `file:` URI
(`GRIDUNION_STAGING_DIR` / `GRIDUNION_STAGING_URI`, as shared storage would be). One small world
(two days with every fault, then an incremental third day) is built on Sail (the session's
`sail_reference`) and on the cluster with the stock `dbt build`, and every public model must be
identical, row for row and column for column, read with `deltalake` (the `meta.recorded_at`
columns left out). A worker is SIGKILLed during the third day's build: whatever that build did,
`dbt retry` completes it and the tables equal Sail's (no duplicate, no half-written table).
`engine down` leaves no process behind; a cluster that is down, or a wrong Thrift port, fails
dbt in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    BIN,
    REPO,
    ProjectRun,
    assert_ok,
    assert_same_tables,
    dbt,
    free_port,
    platform_tools,
    public_tables,
    table_contents,
)
from tests.integration.engine_reference import (
    DAYS,
    NEXT_DAY,
    SailReference,
    missing_java_or_jars,
    snapshot_current_rows,
)

pytestmark = [pytest.mark.engine, pytest.mark.spark]

CLUSTER = ["--engine", "spark-cluster"]
UNREACHABLE = "cluster target: no Spark Thrift Server answers at"
# a whole-project build on the 2-core cluster takes ~8 min alone, longer beside other work
BUILD_TIMEOUT_S = 2400


def _missing_prerequisite() -> str | None:
    missing = missing_java_or_jars()
    if missing is not None:
        return missing
    try:
        import pyhive  # noqa: F401
    except ImportError:
        return "PyHive is not installed (the `cluster` extra); run `make install`"
    return None


def _project(work: Path, name: str) -> ProjectRun:
    return ProjectRun.beside(work, name)


def _cluster_dbt(run: ProjectRun, *args: str) -> subprocess.CompletedProcess[str]:
    return dbt(REPO, run.env, *args, "--target-path", str(run.work / "target"),
               "--log-path", str(run.work / "logs"), timeout=BUILD_TIMEOUT_S)  # fmt: skip


def _status(run: ProjectRun) -> tuple[int, dict[str, Any]]:
    result = platform_tools(run.env, "engine", "status", *CLUSTER, "--json")
    return result.returncode, json.loads(result.stdout)


def _on_cluster(run: ProjectRun) -> dict[str, Any]:
    tables = public_tables(run.work / "target", run.lakehouse / "spark-warehouse", ".db")
    return table_contents(tables)


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    missing = _missing_prerequisite()
    if missing is not None:
        pytest.skip(missing)
    sail_reference: SailReference = request.getfixturevalue("sail_reference")
    work = sail_reference.work
    cluster = _project(work, "cluster")
    # the staged files live outside the lakehouse, named by a URI as shared storage would be
    shared = work / "shared-storage" / "staging"
    cluster.env.update(GRIDUNION_STAGING_DIR=str(shared), GRIDUNION_STAGING_URI=shared.as_uri())
    started = time.monotonic()
    up = platform_tools(cluster.env, "engine", "up", *CLUSTER)
    try:
        assert_ok(up)
        print(f"\nspark-cluster up in {time.monotonic() - started:.1f} s")
        _, state = _status(cluster)
        cluster.env.update(
            GRIDUNION_TARGET="cluster",
            SPARK_CLUSTER_HOST="127.0.0.1",
            SPARK_CLUSTER_PORT=str(state["thrift_port"]),
        )
        yield {"sail": sail_reference.tables, "sail_next_day": sail_reference.next_day_tables,
               "sail_snapshots": sail_reference.snapshots,
               "sail_next_day_snapshots": sail_reference.next_day_snapshots,
               "run": cluster, "up": up.stdout, "state": state}  # fmt: skip
    finally:
        platform_tools(cluster.env, "engine", "down", *CLUSTER)
        shutil.rmtree(cluster.work, ignore_errors=True)


def test_up_starts_a_master_two_workers_and_the_thrift_server(world: dict[str, Any]) -> None:
    code, state = _status(world["run"])
    assert code == 0 and state["running"]
    names = [p["name"] for p in state["processes"]]
    assert names == ["master", "worker-1", "worker-2", "thrift"]
    assert state["alive_workers"] == 2
    assert all(p["alive"] and Path(p["log"]).is_file() for p in state["processes"])
    assert len({p["port"] for p in state["processes"]}) == 4
    assert f"GRIDUNION_TARGET=cluster SPARK_CLUSTER_HOST=127.0.0.1 SPARK_CLUSTER_PORT=" \
        f"{state['thrift_port']}" in world["up"]  # fmt: skip


def test_every_public_model_is_identical_on_sail_and_on_the_cluster(
    world: dict[str, Any],
) -> None:
    run: ProjectRun = world["run"]
    run.land(DAYS)
    shared = Path(run.env["GRIDUNION_STAGING_DIR"])
    assert (shared / "_manifest" / "manifest.parquet").is_file()
    assert not (run.lakehouse / "staging").exists()
    started = time.monotonic()
    assert_ok(_cluster_dbt(run, "build"))
    print(f"\ncluster build of {len(DAYS)} days: {time.monotonic() - started:.1f} s")
    on_cluster = _on_cluster(run)
    assert len(world["sail"]) >= 20
    assert_same_tables(world["sail"], on_cluster)
    snapshots = snapshot_current_rows(run.work / "target", run.lakehouse / "spark-warehouse", ".db")
    assert len(world["sail_snapshots"]) >= 2 and all(world["sail_snapshots"].values())
    assert_same_tables(world["sail_snapshots"], snapshots)


def test_a_worker_killed_during_a_build_then_a_retry_leaves_the_tables_of_sail(
    world: dict[str, Any],
) -> None:
    run: ProjectRun = world["run"]
    worker = next(p for p in world["state"]["processes"] if p["name"] == "worker-1")
    run.land([NEXT_DAY])
    command = [str(BIN / "dbt"), "build", "--target-path", str(run.work / "target"),
               "--log-path", str(run.work / "logs")]  # fmt: skip
    build = subprocess.Popen(command, cwd=REPO, env=run.env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert build.stdout is not None
    killed_at = None
    output = []
    for line in build.stdout:
        output.append(line)
        # in the middle of the metering silver models: tasks are running on both workers
        if killed_at is None and "START sql" in line and "slv_readings_classified" in line:
            os.kill(worker["pid"], signal.SIGKILL)
            killed_at = len(output)
    build.wait(timeout=BUILD_TIMEOUT_S)
    summary = [line.strip() for line in output if "Done. PASS=" in line]
    print(f"\nbuild with worker-1 killed: exit {build.returncode}, {summary}")
    assert killed_at is not None, "".join(output[-30:])
    code, state = _status(run)
    assert code == 1 and not state["running"]
    assert {p["name"]: p["alive"] for p in state["processes"]}["worker-1"] is False
    thrift_log = next(p["log"] for p in state["processes"] if p["name"] == "thrift")
    assert "worker lost" in Path(thrift_log).read_text(errors="replace")  # Spark noticed
    # failed or not, `dbt retry` runs whatever did not complete, on the surviving worker
    started = time.monotonic()
    assert_ok(_cluster_dbt(run, "retry"))
    print(f"\nretry after the killed worker: {time.monotonic() - started:.1f} s")
    assert_same_tables(world["sail_next_day"], _on_cluster(run))
    snapshots = snapshot_current_rows(run.work / "target", run.lakehouse / "spark-warehouse", ".db")
    assert_same_tables(world["sail_next_day_snapshots"], snapshots)


def test_a_wrong_thrift_port_fails_in_one_line(world: dict[str, Any]) -> None:
    run: ProjectRun = world["run"]
    env = {**run.env, "SPARK_CLUSTER_PORT": str(free_port())}
    result = run.dbt("show", "--inline", "select 1 as one", env=env)
    assert result.returncode != 0
    assert UNREACHABLE in result.stdout and "engine up --engine spark-cluster" in result.stdout
    # `dbt debug` loads no dbt plugin: dbt's own connection error, and a non-zero exit
    debug = dbt(REPO, env, "debug", "--log-path", str(run.work / "logs"))
    assert debug.returncode != 0 and "Could not connect to any of" in debug.stdout


def test_down_stops_every_process_and_dbt_then_fails_in_one_line(world: dict[str, Any]) -> None:
    run: ProjectRun = world["run"]
    _, state = _status(run)
    result = platform_tools(run.env, "engine", "down", *CLUSTER)
    assert_ok(result)
    for process in state["processes"]:
        assert not Path(f"/proc/{process['pid']}").exists() or _zombie(process["pid"])
        assert not _spark_in_group(process["pid"]), process["name"]
    code, after = _status(run)
    assert code == 1 and not after["running"]
    shown = run.dbt("show", "--inline", "select 1 as one")
    assert shown.returncode != 0 and UNREACHABLE in shown.stdout
    # the metastore and the tables survive: a new cluster sees yesterday's tables
    assert_ok(platform_tools(run.env, "engine", "up", *CLUSTER))
    _, state = _status(run)
    env = {**run.env, "SPARK_CLUSTER_PORT": str(state["thrift_port"])}
    shown = run.dbt("show", "--inline", "select count(*) as n from metering_gold.dim_meters",
                    env=env)  # fmt: skip
    assert_ok(shown)
    assert_ok(platform_tools(run.env, "engine", "down", *CLUSTER))


def _zombie(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _spark_in_group(pgid: int) -> bool:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[2] == str(pgid) and fields[0] != "Z" and (
                b"org.apache.spark" in (proc / "cmdline").read_bytes()
            ):
                return True
        except (OSError, IndexError):
            continue
    return False
