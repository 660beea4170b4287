"""dbt-spark materializations on the embedded Sail engine, against the real engine and dbt CLI.

The tests in this module share one fixture project, engine and lakehouse and run in file
order: each step builds on the state the previous one left (as a user's successive builds do).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from tests.helpers import assert_ok, dbt, platform_tools
from tests.integration.conftest import MiniEngine

pytestmark = pytest.mark.engine


def rows(
    engine: MiniEngine, schema: str, table: str, version: int | None = None
) -> list[dict[str, Any]]:
    path = str(engine.table_path(schema, table))
    table_obj = DeltaTable(path) if version is None else DeltaTable(path, version=version)
    return sorted(
        table_obj.to_pyarrow_table().to_pylist(), key=lambda r: json.dumps(r, default=str)
    )


def sql(engine: MiniEngine, query: str) -> list[dict[str, Any]]:
    """Query through a Spark Connect client of the shared session.

    The client is never stopped: stopping a client ends the shared server-side session.
    """
    from platform_tools.engine.catalog import connect

    session = connect(engine.config, new_client=True)
    return [r.asDict() for r in session.sql(query).collect()]


def run_results(engine: MiniEngine) -> dict[str, Any]:
    return json.loads((engine.project / "target" / "run_results.json").read_text())


def test_first_build_writes_valid_delta_tables(mini: MiniEngine) -> None:
    result = dbt(mini.project, mini.env, "build")
    assert_ok(result)
    merged = rows(mini, "fixture_silver", "readings_merged")
    assert [r["reading_id"] for r in merged] == [1, 2, 3]
    assert {r["meter_id"] for r in merged} == {"m1", "m2"}
    assert len(rows(mini, "fixture_reference", "tariffs")) == 3
    assert len(rows(mini, "snapshots", "meters_snapshot")) == 2
    # the notice about skipped statements is printed once per run
    assert result.stdout.count("local engine (Sail)") == 1
    # four dbt threads against one engine
    assert "Concurrency: 4 threads" in result.stdout
    threads = {r["thread_id"] for r in run_results(mini)["results"]}
    assert len(threads) > 1


def test_second_build_changes_nothing(mini: MiniEngine) -> None:
    before = {
        t: rows(mini, s, t)
        for s, t in [
            ("fixture_silver", "readings_merged"),
            ("fixture_silver", "readings_appended"),
            ("fixture_reference", "tariffs"),
            ("snapshots", "meters_snapshot"),
            ("fixture_silver", "meter_totals"),
        ]
    }
    assert_ok(dbt(mini.project, mini.env, "build"))
    after = {
        t: rows(mini, s, t)
        for s, t in [
            ("fixture_silver", "readings_merged"),
            ("fixture_silver", "readings_appended"),
            ("fixture_reference", "tariffs"),
            ("snapshots", "meters_snapshot"),
            ("fixture_silver", "meter_totals"),
        ]
    }
    for table in ("readings_merged", "readings_appended", "tariffs", "meter_totals"):
        assert after[table] == before[table], table
    # the snapshot keeps one current row per meter and no new history
    assert len(after["meters_snapshot"]) == 2


def test_incremental_merge_and_append_add_only_new_rows(mini: MiniEngine) -> None:
    assert_ok(dbt(mini.project, mini.env, "build", "--vars", "{readings_batch: 2}"))
    merged = [r["reading_id"] for r in rows(mini, "fixture_silver", "readings_merged")]
    appended = [r["reading_id"] for r in rows(mini, "fixture_silver", "readings_appended")]
    assert sorted(merged) == [1, 2, 3, 4, 5, 6]
    assert sorted(appended) == [1, 2, 3, 4, 5, 6]
    # the merge strategy re-processed rows 2..3 (lookback) without duplicating them
    assert len(merged) == len(set(merged))


def test_view_is_queryable(mini: MiniEngine) -> None:
    result = sql(
        mini, "select meter_id, total_kwh from fixture_silver.meter_totals_view order by meter_id"
    )
    assert [r["meter_id"] for r in result] == ["m1", "m2"]


def test_changed_columns_rebuild_and_old_version_stays_readable(mini: MiniEngine) -> None:
    path = mini.table_path("fixture_silver", "tariff_prices")
    version_before = DeltaTable(str(path)).version()
    model = mini.project / "models" / "tariff_prices.sql"
    original = model.read_text()
    model.write_text(
        "select tariff_id, price_eur_per_kwh, price_eur_per_kwh * 100 as price_cents_per_kwh\n"
        "from {{ ref('tariffs') }}\n"
    )
    try:
        assert_ok(dbt(mini.project, mini.env, "build", "--select", "tariff_prices"))
    finally:
        model.write_text(original)
    new_rows = rows(mini, "fixture_silver", "tariff_prices")
    assert set(new_rows[0]) == {"tariff_id", "price_eur_per_kwh", "price_cents_per_kwh"}
    old_rows = rows(mini, "fixture_silver", "tariff_prices", version=version_before)
    assert set(old_rows[0]) == {"tariff_id", "country_code", "price_eur_per_kwh"}
    # and through the engine, by path, with VERSION AS OF
    via_sql = sql(mini, f"select * from delta.`{path}` version as of {version_before}")
    assert {r["country_code"] for r in via_sql} == {"DE", "FR", "NL"}
    assert_ok(dbt(mini.project, mini.env, "build", "--select", "tariff_prices"))


@pytest.mark.parametrize(
    ("bad_reading", "constraint"),
    [("null_meter", "meter_id"), ("negative", "kwh_not_negative")],
)
def test_contract_violation_fails_and_keeps_previous_version(
    mini: MiniEngine, bad_reading: str, constraint: str
) -> None:
    path = str(mini.table_path("fixture_silver", "contracted_readings"))
    version_before = DeltaTable(path).version()
    rows_before = rows(mini, "fixture_silver", "contracted_readings")
    result = dbt(
        mini.project,
        mini.env,
        "build",
        "--select",
        "contracted_readings",
        "--vars",
        f"{{readings_batch: 2, bad_reading: {bad_reading}}}",
    )
    assert result.returncode != 0
    assert constraint in result.stdout
    assert DeltaTable(path).version() == version_before
    assert rows(mini, "fixture_silver", "contracted_readings") == rows_before


# the config of the day-partitioned models the tests below write
DAY_PARTITIONED = (
    "{{ config(materialized='incremental', incremental_strategy='insert_overwrite',\n"
    "          partition_by=['day']) }}\n"
)


@contextmanager
def models_written(mini: MiniEngine, files: Mapping[str, str]) -> Iterator[None]:
    """``models/<name>`` with the given text, for one test; removed afterwards."""
    paths = [mini.project / "models" / name for name in files]
    for path, text in zip(paths, files.values(), strict=True):
        path.write_text(text)
    try:
        yield
    finally:
        for path in paths:
            path.unlink()


def dbt_with_day_rows(mini: MiniEngine, command: str, select: str, day_rows: str) -> Any:
    """`dbt <command> --select <select>` with the `day_rows` var the day-partitioned test
    models read their rows from (`values <day_rows>`)."""
    return dbt(
        mini.project, mini.env, command, "--select", select, "--vars", f"{{day_rows: '{day_rows}'}}"
    )


def compiled_run_sql(mini: MiniEngine, name: str) -> str:
    """The SQL dbt last ran for the node whose file name starts with ``name``."""
    found = sorted((mini.project / "target" / "run").rglob(f"{name}*"))
    assert found, f"no compiled {name}"
    return found[0].read_text()


def test_insert_overwrite_replaces_only_the_partitions_in_the_new_data(mini: MiniEngine) -> None:
    """Dynamic partition overwrite on Sail (REPLACE WHERE over the new data's partitions),
    also after an engine restart (the catalog re-declares the table's partitioning)."""
    model = (
        DAY_PARTITIONED
        + "select cast(day as int) as day, cast(kwh as int) as kwh\n"
        "from (values {{ var('day_rows') }}) as t (day, kwh)\n"
        "where day > 0\n"
    )
    path = str(mini.table_path("fixture_silver", "daily_partitions"))

    def build(day_rows: str) -> list[tuple[int, int]]:
        assert_ok(dbt_with_day_rows(mini, "run", "daily_partitions", day_rows))
        return sorted(
            (r["day"], r["kwh"]) for r in rows(mini, "fixture_silver", "daily_partitions")
        )

    with models_written(mini, {"daily_partitions.sql": model}):
        assert build("(1, 10), (2, 20), (3, 30)") == [(1, 10), (2, 20), (3, 30)]
        assert build("(2, 200), (2, 201), (4, 40)") == [
            (1, 10),
            (2, 200),
            (2, 201),
            (3, 30),
            (4, 40),
        ]
        write = DeltaTable(path).history(1)[0]
        assert write["operation"] == "WRITE", write
        predicate = write["operationParameters"]["predicate"]
        assert "'2'" in predicate and "'4'" in predicate and "'1'" not in predicate, predicate
        assert_ok(platform_tools(mini.env, "engine", "down"))
        assert_ok(platform_tools(mini.env, "engine", "up"))
        assert build("(3, 300)") == [(1, 10), (2, 200), (2, 201), (3, 300), (4, 40)]
        version = DeltaTable(path).version()
        assert build("(0, 0)") == [(1, 10), (2, 200), (2, 201), (3, 300), (4, 40)]  # no rows
        assert DeltaTable(path).version() == version


def test_a_scoped_test_checks_the_replaced_partitions_in_a_build_and_all_in_dbt_test(
    mini: MiniEngine,
) -> None:
    """`where: "__partitions_replaced_in_this_build__"`: within the build that replaced
    partitions, only those are tested; a `dbt test` on its own tests the whole table, and so
    does the next build after a run of the test that did not pass or a write without it."""
    files = {
        "scoped_partitions.sql": DAY_PARTITIONED
        + "select cast(day as int) as day, cast(nullif(kwh, -1) as int) as kwh  -- -1: null\n"
        "from (values {{ var('day_rows') }}) as t (day, kwh)\n",
        "scoped_partitions.yml": "version: 2\n"
        "models:\n"
        "  - name: scoped_partitions\n"
        "    columns:\n"
        "      - name: kwh\n"
        "        data_tests:\n"
        "          - not_null:\n"
        "              config: {where: __partitions_replaced_in_this_build__}\n",
    }

    def build(day_rows: str) -> Any:
        return dbt_with_day_rows(mini, "build", "scoped_partitions", day_rows)

    def compiled_test() -> str:
        return compiled_run_sql(mini, "not_null_scoped_partitions_kwh")

    with models_written(mini, files):
        assert_ok(build("(1, 10), (2, 20)"))  # first build: the whole (new) table is tested
        assert "where true" in compiled_test()
        # a defect in an old partition, written behind dbt's back
        sql(mini, "insert into fixture_silver.scoped_partitions values (1, null)")
        result = build("(3, 30)")
        assert_ok(result)  # only day 3 was replaced, and only day 3 is tested
        assert "cast('3' as int)" in compiled_test() and "'1'" not in compiled_test()
        alone = dbt(mini.project, mini.env, "test", "--select", "scoped_partitions")
        assert alone.returncode == 1, alone.stdout  # on its own: the whole table, day 1's null
        assert "FAIL 1 not_null_scoped_partitions_kwh" in alone.stdout
        bad = build("(4, -1)")
        assert bad.returncode == 1, bad.stdout  # a defect in a replaced partition is caught
        # and, since the test's last run failed, this build read the whole table again
        assert "FAIL 2 not_null_scoped_partitions_kwh" in bad.stdout
        assert "where true" in compiled_test()
        assert_ok(build("(1, 10), (4, 40)"))  # repaired: read whole, the test is clean again
        assert "where true" in compiled_test()
        assert_ok(build("(5, 50)"))  # clean: scoped again
        assert "cast('5' as int)" in compiled_test()
        # a failure is not forgotten: the next build reads the whole table until it passes
        assert build("(6, -1)").returncode == 1
        again = build("(7, 70)")
        assert again.returncode == 1 and "FAIL 1 not_null_scoped_partitions_kwh" in again.stdout
        assert_ok(build("(6, 60)"))
        # neither are rows a `dbt run` wrote without the test: the next build reads them
        ran = dbt_with_day_rows(mini, "run", "scoped_partitions", "(8, -1)")
        assert_ok(ran)
        after_run = build("(9, 90)")
        assert after_run.returncode == 1, after_run.stdout
        assert "FAIL 1 not_null_scoped_partitions_kwh" in after_run.stdout


def test_a_key_across_partitions_and_a_filter_view_are_scoped_to_the_build(
    mini: MiniEngine,
) -> None:
    """`__this__`: a key crossing partitions is checked for every row sharing a key with a
    replaced partition; `meta.replaced_partitions_of`: a filter view's tests (or a test
    declaring it itself) read the partitions its model replaced. Outside the build both test
    everything."""
    files = {
        "scoped_keys.sql": (
            DAY_PARTITIONED
            + "select cast(day as int) as day, cast(nullif(k, -1) as int) as k  -- -1: null\n"
            "from (values {{ var('day_rows') }}) as t (day, k)\n"
        ),
        "scoped_keys_view.sql": (
            "{{ config(materialized='view') }}\n"
            "select day, k from {{ ref('scoped_keys') }} where day > 0\n"
        ),
        "scoped_other.sql": (  # its own partitions are day + 100
            DAY_PARTITIONED
            + "select cast(day as int) + 100 as day, cast(k as int) as k\n"
            "from (values {{ var('day_rows') }}) as t (day, k)\n"
        ),
        "scoped_keys.yml": (
            "version: 2\n"
            "models:\n"
            "  - name: scoped_keys\n"
            "    columns:\n"
            "      - name: k\n"
            "        data_tests:\n"
            "          - unique:\n"
            "              config:\n"
            "                where: >-\n"
            "                  k in (select k from __this__\n"
            "                  where __partitions_replaced_in_this_build__)\n"
            "  - name: scoped_keys_view\n"
            "    config: {meta: {replaced_partitions_of: scoped_keys}}\n"
            "    columns:\n"
            "      - name: k\n"
            "        data_tests:\n"
            "          - not_null: {config: {where: __partitions_replaced_in_this_build__}}\n"
            "  - name: scoped_other\n"
            "    columns:\n"
            "      - name: k\n"
            "        data_tests:\n"
            "          - not_null:\n"
            "              config:\n"
            "                where: __partitions_replaced_in_this_build__\n"
            "                meta: {replaced_partitions_of: scoped_keys}\n"
        ),
    }

    def build(day_rows: str) -> Any:
        return dbt_with_day_rows(mini, "build", "scoped_keys+ scoped_other", day_rows)

    def compiled(name: str) -> str:
        return compiled_run_sql(mini, name)

    with models_written(mini, files):
        assert_ok(build("(1, 10), (2, 20)"))
        # defects in old partitions, behind dbt's back: a duplicate key and a null
        sql(mini, "insert into fixture_silver.scoped_keys values (1, 20), (2, null)")
        assert_ok(build("(3, 30)"))  # day 3 shares no key with them: not rescanned
        assert "cast('3' as int)" in compiled("unique_scoped_keys_k")
        assert "cast('3' as int)" in compiled("not_null_scoped_keys_view_k")
        # a test's own meta.replaced_partitions_of wins over its model's own partitions
        assert "cast('3' as int)" in compiled("not_null_scoped_other_k")
        assert "'103'" not in compiled("not_null_scoped_other_k")
        crossing = build("(4, 10)")  # a new row duplicating day 1's key, in another partition
        assert crossing.returncode == 1, crossing.stdout
        assert "FAIL 1 unique_scoped_keys_k" in crossing.stdout  # key 10, not key 20
        assert "FAIL 1 not_null_scoped_keys_view_k" not in crossing.stdout  # day 2 not read
        alone = dbt(mini.project, mini.env, "test", "--select", "scoped_keys+")
        assert alone.returncode == 1, alone.stdout  # on their own: everything
        assert "FAIL 2 unique_scoped_keys_k" in alone.stdout
        assert "FAIL 1 not_null_scoped_keys_view_k" in alone.stdout


def test_a_key_whose_twin_shares_a_value_is_scoped_from_the_earliest_value_written(
    mini: MiniEngine,
) -> None:
    """`slv_readings`' pattern: a (meter, interval) key crosses batches, but a twin of a
    written row has the same interval, so the test reads the intervals from the earliest one
    the build wrote: a duplicate across batches is found, older intervals are not read."""
    files = {
        "scoped_twins.sql": DAY_PARTITIONED
        + "select cast(day as int) as day, cast(t as int) as t, 1 as m\n"
        "from (values {{ var('day_rows') }}) as v (day, t)\n",
        "scoped_twins.yml": "version: 2\n"
        "models:\n"
        "  - name: scoped_twins\n"
        "    data_tests:\n"
        "      - unique:\n"
        "          arguments: {column_name: \"m * 1000 + t\"}\n"
        "          config:\n"
        "            where: >-\n"
        "              t >= (select min(t) from __this__\n"
        "              where __partitions_replaced_in_this_build__)\n",
    }

    def build(day_rows: str) -> Any:
        return dbt_with_day_rows(mini, "build", "scoped_twins", day_rows)

    with models_written(mini, files):
        assert_ok(build("(1, 10), (1, 20)"))
        sql(mini, "insert into fixture_silver.scoped_twins values (1, 5, 1), (1, 5, 1)")
        assert_ok(build("(2, 30)"))  # reads t >= 30: the old twins at t = 5 are not read
        twin = build("(3, 20)")  # the same (m, t) as a row of day 1
        assert twin.returncode == 1, twin.stdout
        assert "FAIL 1 unique_scoped_twins_m_1000_t" in twin.stdout  # t = 20 only
        assert "min(t)" in compiled_run_sql(mini, "unique_scoped_twins")


def test_a_not_null_constraint_holds_on_the_incremental_partition_replacement(
    mini: MiniEngine,
) -> None:
    """An enforced contract's not_null is checked by the REPLACE WHERE of a later build too:
    the statement fails and the table keeps its version (why gold keys need no not_null test)."""
    files = {
        "contracted_partitions.sql": (
            "{{ config(materialized='incremental', incremental_strategy='insert_overwrite',\n"
            "          partition_by=['day'], on_schema_change='fail') }}\n"
            "select cast(day as int) as day, cast(nullif(kwh, -1) as int) as kwh  -- -1: null\n"
            "from (values {{ var('day_rows') }}) as t (day, kwh)\n"
        ),
        "contracted_partitions.yml": "version: 2\n"
        "models:\n"
        "  - name: contracted_partitions\n"
        "    config: {contract: {enforced: true}}\n"
        "    columns:\n"
        "      - {name: day, data_type: int}\n"
        "      - {name: kwh, data_type: int, constraints: [{type: not_null}]}\n",
    }
    path = str(mini.table_path("fixture_silver", "contracted_partitions"))

    def build(day_rows: str) -> Any:
        return dbt_with_day_rows(mini, "run", "contracted_partitions", day_rows)

    with models_written(mini, files):
        assert_ok(build("(1, 10), (2, 20)"))
        version = DeltaTable(path).version()
        assert_ok(build("(2, 21)"))  # the incremental path: day 2 replaced
        assert DeltaTable(path).version() == version + 1
        bad = build("(2, 22), (3, -1)")
        assert bad.returncode == 1, bad.stdout
        assert "not_null_kwh" in bad.stdout and "violated" in bad.stdout, bad.stdout
        assert DeltaTable(path).version() == version + 1
        stored = sorted(
            (r["day"], r["kwh"]) for r in rows(mini, "fixture_silver", "contracted_partitions")
        )
        assert stored == [(1, 10), (2, 21)]


def test_snapshot_records_change_and_survives_restart(mini: MiniEngine) -> None:
    seed = mini.project / "seeds" / "meter_changes.csv"
    original = seed.read_text()
    seed.write_text(original.replace("m1,north,2024-01-01 00:00:00", "m1,east,2024-02-01 00:00:00"))
    try:
        assert_ok(
            dbt(mini.project, mini.env, "build", "--select", "meter_changes", "meters_snapshot")
        )
    finally:
        seed.write_text(original)
    history = [r for r in rows(mini, "snapshots", "meters_snapshot") if r["meter_id"] == "m1"]
    assert len(history) == 2
    closed = [r for r in history if r["dbt_valid_to"] is not None]
    current = [r for r in history if r["dbt_valid_to"] is None]
    assert [r["region"] for r in closed] == ["north"]
    assert [r["region"] for r in current] == ["east"]

    assert_ok(platform_tools(mini.env, "engine", "down"))
    assert not server.status(mini.config).running
    assert_ok(platform_tools(mini.env, "engine", "up"))
    after = sql(
        mini,
        "select region, dbt_valid_to is null as is_current from snapshots.meters_snapshot "
        "where meter_id = 'm1' order by region",
    )
    assert after == [
        {"region": "east", "is_current": True},
        {"region": "north", "is_current": False},
    ]
    # tables and views built before the restart are all back in the catalog
    assert len(sql(mini, "select * from fixture_silver.readings_merged")) == 6
    assert len(sql(mini, "select * from fixture_silver.meter_totals_view")) == 2


def test_lost_session_catalog_is_rebuilt_on_next_connection(mini: MiniEngine) -> None:
    """A new Spark Connect session (e.g. after Sail's idle timeout) starts with an empty catalog."""
    env = dict(mini.env, GRIDUNION_SESSION_ID="0b5f2b55-2f1c-4d8e-9a59-6c2d2f9e0c01")
    assert_ok(dbt(mini.project, env, "build", "--select", "meter_totals_view"))
    result = dbt(
        mini.project,
        env,
        "show",
        "--inline",
        "select count(*) as n from fixture_silver.readings_merged",
    )
    assert_ok(result)
    assert "6" in result.stdout


def test_engine_killed_mid_build_then_rebuild_is_clean(mini: MiniEngine) -> None:
    import os
    import signal
    import subprocess

    from tests.helpers import BIN

    process = subprocess.Popen(
        [str(BIN / "dbt"), "build", "--vars", "{readings_batch: 3}"],
        cwd=mini.project,
        env=mini.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if "START sql incremental model" in line:
            status = server.status(mini.config)
            assert status.pid is not None
            os.kill(status.pid, signal.SIGKILL)
            break
    process.stdout.read()
    assert process.wait(timeout=300) != 0
    time.sleep(0.2)
    assert_ok(dbt(mini.project, mini.env, "build", "--vars", "{readings_batch: 3}"))
    merged = [r["reading_id"] for r in rows(mini, "fixture_silver", "readings_merged")]
    appended = [r["reading_id"] for r in rows(mini, "fixture_silver", "readings_appended")]
    assert sorted(merged) == list(range(1, 10))
    assert sorted(appended) == list(range(1, 10))
    assert len(rows(mini, "fixture_reference", "tariffs")) == 3


def test_build_with_unknown_target_fails_with_one_line(mini: MiniEngine) -> None:
    result = dbt(mini.project, mini.env, "build", "--target", "nope")
    assert result.returncode != 0
    assert "does not have a target named 'nope'" in result.stdout + result.stderr
