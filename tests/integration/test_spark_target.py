"""The `spark` target: local JVM Spark with Delta Lake builds the same project as Sail.

One small world (two days, every fault) is landed into two lakehouses and built with the stock
`dbt build`: once on the embedded Sail engine (`local`, the session's `sail_reference`), once on
classic PySpark with the Delta jars `make install` resolved (`spark`), seeds, snapshots,
incremental models and contracts enforced as Delta constraints included. Every public model must
be identical, row for row and column for column, read with `deltalake` (the columns marked
`meta.recorded_at` record when each engine loaded a row and are left out). A `not_null` contract
constraint is a Delta CHECK constraint on both engines.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from tests.helpers import (
    REPO,
    ProjectRun,
    assert_ok,
    assert_same_tables,
    dbt,
    public_tables,
    table_contents,
)
from tests.integration.engine_reference import DAYS, SailReference, missing_java_or_jars

pytestmark = [pytest.mark.engine, pytest.mark.spark]


def _project(work: Path, name: str, target: str) -> ProjectRun:
    run = ProjectRun.beside(work, name)
    run.env["GRIDUNION_TARGET"] = target
    return run


@pytest.fixture(scope="module")
def engines(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    missing = missing_java_or_jars()
    if missing is not None:
        pytest.skip(missing)
    reference: SailReference = request.getfixturevalue("sail_reference")
    work = reference.work
    spark = _project(work, "spark", "spark")
    spark.land(DAYS)
    build = spark.dbt("build")
    assert_ok(build)
    tables = public_tables(spark.work / "target", spark.lakehouse / "spark-warehouse", ".db")
    yield {"sail": reference.tables, "spark": table_contents(tables), "tables": tables,
           "run": spark}  # fmt: skip
    shutil.rmtree(spark.work, ignore_errors=True)


def test_every_public_model_is_identical_on_sail_and_on_spark(engines: dict[str, Any]) -> None:
    assert len(engines["sail"]) >= 20
    assert_same_tables(engines["sail"], engines["spark"])


def test_contracts_are_delta_check_constraints_on_spark(engines: dict[str, Any]) -> None:
    path, _, _ = engines["tables"]["billing_gold.fct_invoice_lines"]
    configuration = DeltaTable(str(path)).metadata().configuration
    constraints = {k: v for k, v in configuration.items() if k.startswith("delta.constraints.")}
    assert (
        constraints.get("delta.constraints.not_null_meter_id", "").lower() == "meter_id is not null"
    )


def test_a_spark_command_fails_in_one_line_without_the_delta_jars(
    engines: dict[str, Any], tmp_path: Path
) -> None:
    run: ProjectRun = engines["run"]
    env = {**run.env, "GRIDUNION_SPARK_JARS": str(tmp_path / "no-jars")}
    # (`dbt debug` loads no dbt plugin: it only shows that a Spark session answers)
    result = dbt(REPO, env, "show", "--inline", "select 1 as one")
    assert result.returncode != 0
    assert f"the Delta Lake jars are missing in {tmp_path / 'no-jars'}" in result.stdout
