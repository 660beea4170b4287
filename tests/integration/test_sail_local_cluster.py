"""Sail's distributed mode (``SAIL_MODE=local-cluster``), pinned as a minimal reproduction.

``platform-tools engine up`` refuses this mode on Sail <= ``SAIL_CLUSTER_MODE_BROKEN_UP_TO``
because it gave wrong or failing results on this project. The reproduction below is the
smallest found: a ``CREATE TABLE … AS SELECT upper(x) FROM <table>`` — the function is
evaluated on a worker, which has no such function ("no UDF found for upper"); the same
``SELECT`` alone, or a CTAS over literals, works. It is an expected failure tied to the Sail
version, on that exact message only: when an upgrade fixes it, the test fails with a line
asking to re-examine the refusal (docs/decisions.md); any other error fails it too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_tools.engine.config import SAIL_CLUSTER_MODE_BROKEN_UP_TO, sail_version
from platform_tools.engine.ports import free_port, port_open
from tests.helpers import BIN

pytestmark = pytest.mark.engine

BROKEN = (sail_version() or (0, 0, 0)) <= SAIL_CLUSTER_MODE_BROKEN_UP_TO


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("sail_local_cluster")
    (work / "server").mkdir()
    port = free_port()
    env = {**os.environ, "SAIL_MODE": "local-cluster"}
    with (work / "sail.log").open("w") as log:
        server = subprocess.Popen(
            [str(BIN / "sail"), "spark", "server", "--ip", "127.0.0.1", "--port", str(port),
             "--directory", str(work / "server")],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not port_open("127.0.0.1", port) and time.monotonic() < deadline:
            assert server.poll() is None, (work / "sail.log").read_text()[-2000:]
            time.sleep(0.2)
        yield f"sc://127.0.0.1:{port}", work
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_function_in_create_table_as_select_from_a_table_runs_on_the_workers(
    local_cluster: tuple[str, Path],
) -> None:
    from pyspark.sql import SparkSession

    remote, work = local_cluster
    # create(), not getOrCreate(): another test of this process may hold a session elsewhere
    spark = SparkSession.builder.remote(remote).create()
    try:
        # `create or replace`: the Spark Connect client may re-send a statement (its retry
        # policy), which must not turn into "table already exists"
        spark.sql(
            f"create or replace table src using delta location '{work}/src' as "
            "select * from values ('a'), ('b') as v(x)"
        ).collect()
        assert [r[0] for r in spark.sql("select upper(x) from src order by x").collect()] == [
            "A", "B"
        ]  # the query alone works in this mode
        ctas = (
            f"create or replace table t using delta location '{work}/t' as "
            "select upper(x) as u from src"
        )
        try:
            spark.sql(ctas).collect()
        except Exception as exc:
            if BROKEN and "no UDF found for upper" in str(exc):
                pytest.xfail(f"Sail <= {SAIL_CLUSTER_MODE_BROKEN_UP_TO}: {str(exc)[:80]}")
            raise
        assert sorted(r[0] for r in spark.sql("select u from t").collect()) == ["A", "B"]
        assert not BROKEN, (
            "fixed in this Sail: re-examine the local-cluster refusal "
            "(SAIL_CLUSTER_MODE_BROKEN_UP_TO, docs/decisions.md)"
        )
    finally:
        spark.stop()
