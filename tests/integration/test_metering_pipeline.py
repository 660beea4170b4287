"""The metering domain end to end on the real engine: landing → bronze → silver → gold.

Everything is reconciled against the generator's truth files, never against what the pipeline
computed. The module lands the first two days, builds, then lands the third day (with late
arrivals for the earlier days) and builds incrementally, as production would.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import ProjectRun, assert_ok, engine_env, free_port, platform_tools

pytestmark = pytest.mark.engine

DAYS = ["2024-10-26", "2024-10-27", "2024-10-28"]
GENERATE = [
    "landing",
    "generate",
    "--meters",
    "80",
    "--days",
    "3",
    "--start",
    DAYS[0],
    "--seed",
    "7",
]


# silver views over slv_readings_classified, and the rows each one keeps
CLASSIFIED_VIEWS = {
    "slv_readings": lambda row: row["quarantine_reason"] is None,
    "slv_readings_quarantine": lambda row: row["quarantine_reason"] is not None,
}


class Pipeline(ProjectRun):
    def dbt(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        """Run dbt on the real project; `build` without a selection builds the metering domain."""
        if args == ("build",):
            args = ("build", "--select", "domain:metering")
        return super().dbt(*args, env=env)

    def rows(self, schema: str, table: str) -> list[dict[str, Any]]:
        """Rows of a table; the silver views are read through the table they filter."""
        keep = CLASSIFIED_VIEWS.get(table)
        if keep is None:
            return super().rows(schema, table)
        return [r for r in super().rows(schema, "slv_readings_classified") if keep(r)]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    work = tmp_path_factory.mktemp("pipeline")
    port = free_port()
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, port)
    result = Pipeline(lakehouse, work, env, port)
    assert_ok(platform_tools(env, *GENERATE, "--out", str(work / "landing_full")))
    result.land(DAYS[:2])
    first = result.dbt("build")
    assert_ok(first)
    result.first_build_output = first.stdout  # type: ignore[attr-defined]
    try:
        yield result
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


def region_totals(pipeline: Pipeline) -> dict[tuple[str, str], Decimal]:
    return {
        (str(r["reading_date"]), r["region_code"]): r["consumption_kwh"]
        for r in pipeline.rows("metering_gold", "fct_region_daily_consumption")
    }


def test_first_two_days_build_and_late_data_is_still_missing(pipeline: Pipeline) -> None:
    gold = region_totals(pipeline)
    assert {day for day, _ in gold} <= set(DAYS[:2])
    # readings of the first days that land on day three are not there yet
    late_for_day_one = sum(
        Decimal(str(v)) for v in pipeline.truth(DAYS[0])["consumption_kwh_by_region"].values()
    ) - sum(v for (day, _), v in gold.items() if day == DAYS[0])
    assert late_for_day_one >= 0


def test_third_day_lands_incrementally_and_matches_truth_exactly(pipeline: Pipeline) -> None:
    # the physical table of the public model (write-audit-publish writes its candidate)
    gold = pipeline.lakehouse / "warehouse" / "metering_gold"
    meter_daily = gold / "fct_meter_daily_consumption__candidate"
    version_before = DeltaTable(str(meter_daily)).version()
    pipeline.land(DAYS[2:])
    third = pipeline.dbt("build")
    assert_ok(third)
    pipeline.third_build_output = third.stdout  # type: ignore[attr-defined]
    # the days of the new batch (and the earlier days its late arrivals belong to) were
    # replaced in place, the table was not rebuilt
    history = DeltaTable(str(meter_daily)).history()
    newer = [h for h in history if h["version"] > version_before]
    assert len(newer) == 1, newer
    predicate = newer[0]["operationParameters"]["predicate"]
    assert newer[0]["operation"] == "WRITE" and "reading_date" in predicate, newer
    # exactly the batch's own day and the days its late arrivals belong to
    late_days = {
        str(r["reading_date"])
        for r in pipeline.rows("metering_silver", "slv_readings")
        if str(r["ingest_date"]) == DAYS[2] and str(r["reading_date"]) < DAYS[2]
    }
    assert late_days, "the generator's late arrivals should land on a later day"
    assert {day for day in DAYS if f"'{day}'" in predicate} == {DAYS[2], *late_days}, predicate
    gold = region_totals(pipeline)
    for day in DAYS:
        expected = pipeline.truth(day)["consumption_kwh_by_region"]
        for region, kwh in expected.items():
            assert gold.get((day, region), Decimal("0.000")) == Decimal(str(kwh)).quantize(
                Decimal("0.001")
            ), (day, region)
    assert {day for day, _ in gold} == set(DAYS)


def test_meter_level_totals_match_truth(pipeline: Pipeline) -> None:
    daily = {
        (str(r["reading_date"]), r["meter_id"]): r["consumption_kwh"]
        for r in pipeline.rows("metering_gold", "fct_meter_daily_consumption")
    }
    for day in DAYS:
        for meter, kwh in pipeline.truth(day)["consumption_kwh_by_meter"].items():
            assert daily.get((day, meter), Decimal("0.000")) == Decimal(str(kwh)).quantize(
                Decimal("0.001")
            ), (day, meter)
    assert len(daily) == len(set(daily))


def test_quarantine_counts_match_injected_faults_by_reason(pipeline: Pipeline) -> None:
    quarantined = Counter(
        (str(r["ingest_date"]), r["quarantine_reason"])
        for r in pipeline.rows("metering_silver", "slv_readings_quarantine")
    )
    for day in DAYS:
        faults = pipeline.truth(day)["faults_by_reason"]
        for reason in (
            "duplicate",
            "superseded",
            "negative",
            "implausible",
            "unknown_meter",
            "unparsable",
            "too_late",
            "future_dated",
        ):
            assert quarantined[(day, reason)] == faults[reason], (day, reason)
    corrupt = {
        r["source_file"]: r
        for r in pipeline.rows("metering_bronze", "brz_landing__quarantined_files")
    }
    expected = {f for day in DAYS for f in pipeline.truth(day)["faults_by_reason"]["corrupt_files"]}
    assert set(corrupt) == expected and expected
    assert all("Parquet" in r["error_message"] for r in corrupt.values())


def test_every_source_format_contributes(pipeline: Pipeline) -> None:
    accepted = Counter(r["source_system"] for r in pipeline.rows("metering_silver", "slv_readings"))
    assert set(accepted) == {"nordgrid", "electra", "dutchgrid", "luxpower"}
    assert min(accepted.values()) > 100


def test_dst_fall_back_day_maps_repeated_local_hour_to_two_utc_hours(pipeline: Pipeline) -> None:
    readings = [
        r
        for r in pipeline.rows("metering_silver", "slv_readings")
        if str(r["reading_date"]) == "2024-10-27" and r["source_system"] in ("electra", "luxpower")
    ]
    hours_per_meter: dict[str, set[Any]] = {}
    for r in readings:
        hours_per_meter.setdefault(r["meter_id"], set()).add(r["interval_start_at"])
    assert hours_per_meter
    # 25 local hours on the fall-back day are exactly the 24 UTC hours of the UTC day
    assert all(len(hours) <= 24 for hours in hours_per_meter.values())
    assert (
        sum(1 for hours in hours_per_meter.values() if len(hours) == 24)
        >= len(hours_per_meter) // 2
    )
    utc_hours = {h.hour for r in readings for h in [r["interval_start_at"]]}
    assert {0, 1} <= utc_hours  # local 02:00 CEST = 00:00 UTC and 02:00 CET = 01:00 UTC


def test_additive_schema_drift_is_reported_and_build_continues(pipeline: Pipeline) -> None:
    output = pipeline.first_build_output  # type: ignore[attr-defined]
    third = pipeline.third_build_output  # type: ignore[attr-defined]
    assert "landing schema drift (additive) in nordgrid/readings" in third
    assert "quality_flag" in third
    assert "landing schema drift" not in output  # the drift starts on the last day only
    # reported once, when the file is loaded; the new column stays in the landed record
    again = pipeline.dbt("build", "--select", "brz_nordgrid__readings")
    assert_ok(again)
    assert "landing schema drift" not in again.stdout
    drifted = [
        r
        for r in pipeline.rows("metering_bronze", "brz_nordgrid__readings")
        if str(r["ingest_date"]) == DAYS[2] and r["parse_error"] is None
    ]
    assert drifted and all('"quality_flag"' in r["landed_record"] for r in drifted)


def test_second_build_and_relanding_change_nothing(pipeline: Pipeline) -> None:
    tables = [
        ("metering_bronze", "brz_nordgrid__readings"),
        ("metering_bronze", "brz_dutchgrid__readings"),
        ("metering_silver", "slv_readings"),
        ("metering_silver", "slv_readings_quarantine"),
        ("metering_gold", "fct_meter_daily_consumption"),
        ("metering_gold", "fct_region_daily_consumption"),
        ("metering_gold", "dim_meters"),
    ]

    def snapshot() -> dict[str, Counter[str]]:
        ignored = {"ingested_at", "last_ingested_at", "last_changed_on"}
        return {
            table: Counter(
                json.dumps(
                    {k: v for k, v in row.items() if k not in ignored}, default=str, sort_keys=True
                )
                for row in pipeline.rows(schema, table)
            )
            for schema, table in tables
        }

    before = snapshot()
    assert_ok(pipeline.dbt("build"))
    assert snapshot() == before
    # re-land every day: regenerate the same files into the landing zone and stage again
    assert_ok(platform_tools(pipeline.env, *GENERATE))
    assert_ok(platform_tools(pipeline.env, "landing", "stage"))
    assert_ok(pipeline.dbt("build"))
    assert snapshot() == before


def test_corrected_resend_in_a_later_batch_replaces_the_accepted_reading(
    pipeline: Pipeline,
) -> None:
    """A re-send landing days later beats the reading accepted in an earlier build: the old
    reading is re-classified `superseded` in its own batch, gold moves by the difference, and
    no other batch or day changes."""
    day, later = DAYS[1], "2024-10-30"
    accepted = sorted(
        (
            r
            for r in pipeline.rows("metering_silver", "slv_readings")
            if r["source_system"] == "nordgrid"
            and str(r["ingest_date"]) == day
            and str(r["reading_date"]) == day
        ),
        key=lambda r: (r["local_meter_code"], r["interval_start_at"]),
    )
    old = accepted[0]
    new_kwh = old["energy_kwh"] + Decimal("1.234")
    classified_before = pipeline.rows("metering_silver", "slv_readings_classified")
    meter_day_before = {
        (str(r["reading_date"]), r["meter_id"]): r["consumption_kwh"]
        for r in pipeline.rows("metering_gold", "fct_meter_daily_consumption")
    }
    folder = pipeline.lakehouse / "landing" / "nordgrid" / "readings" / f"ingest_date={later}"
    folder.mkdir(parents=True)
    start = old["interval_start_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    (folder / f"resend_{later}.csv").write_text(
        "meter_number,interval_start_utc,interval_minutes,energy_kwh,sent_at_utc\n"
        f"{old['local_meter_code']},{start},60,{new_kwh},{later}T06:00:00Z\n"
    )
    assert_ok(platform_tools(pipeline.env, "landing", "stage"))
    assert_ok(pipeline.dbt("build"))

    classified = pipeline.rows("metering_silver", "slv_readings_classified")
    key = (old["meter_id"], old["interval_start_at"])
    versions = {
        str(r["ingest_date"]): r["quarantine_reason"]
        for r in classified
        if (r["meter_id"], r["interval_start_at"]) == key
    }
    assert versions == {day: "superseded", later: None}

    # every other row of every batch is unchanged
    def rest(rows: list[dict[str, Any]]) -> Counter[str]:
        return Counter(
            json.dumps({k: v for k, v in r.items() if k != "quarantine_reason"}, default=str)
            + str(r["quarantine_reason"])
            for r in rows
            if (r["meter_id"], r["interval_start_at"]) != key
        )

    assert rest(classified) == rest(classified_before)
    meter_day = {
        (str(r["reading_date"]), r["meter_id"]): r["consumption_kwh"]
        for r in pipeline.rows("metering_gold", "fct_meter_daily_consumption")
    }
    changed = {k for k in meter_day if meter_day[k] != meter_day_before.get(k)}
    assert changed == {(day, old["meter_id"])}
    assert meter_day[(day, old["meter_id"])] - meter_day_before[(day, old["meter_id"])] == (
        Decimal("1.234")
    )


def test_breaking_schema_change_fails_the_bronze_model_only(pipeline: Pipeline) -> None:
    day = "2024-10-29"
    bad = pipeline.lakehouse / "landing" / "nordgrid" / "readings" / f"ingest_date={day}"
    bad.mkdir(parents=True)
    (bad / f"readings_{day}.csv").write_text(
        "meter_number,interval_start_utc,interval_minutes,sent_at_utc\n"
        "DE1000000000,2024-10-29T00:00:00Z,60,2024-10-29T01:00:00Z\n"
    )
    assert_ok(platform_tools(pipeline.env, "landing", "stage"))
    result = pipeline.dbt("run", "--select", "brz_nordgrid__readings", "brz_electra__readings")
    assert result.returncode != 0
    assert (
        f"landing schema break in nordgrid/readings: file nordgrid/readings/ingest_date={day}/"
        f"readings_{day}.csv has no column 'energy_kwh'" in result.stdout
    )
    assert "OK created sql incremental model metering_bronze.brz_electra__readings" in result.stdout


def test_every_dbt_run_is_in_the_history_and_the_tools_report_on_it(pipeline: Pipeline) -> None:
    """Runs after the failing build above: the failed run is in the history too."""
    from platform_tools.observe.history import load_history

    history = load_history(pipeline.lakehouse / "_history")
    assert not history.problems
    # builds: days 1-2, day 3, drift check, twice in the idempotency test, the failing run
    assert len(history.runs) >= 6
    assert len({run.invocation_id for run in history.runs}) == len(history.runs)
    statuses = {status for run in history.runs for status in run.columns["status"]}
    assert "error" in statuses and "success" in statuses
    target = str(pipeline.work / "target")
    for command in (
        ["deps"],
        ["cost"],
        ["observe"],
        ["report", "--out", str(pipeline.work / "report")],
    ):
        result = platform_tools(pipeline.env, *command, "--target-dir", target)
        assert result.returncode in (0, 1), (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert result.stdout.strip() or command[0] == "report"
    assert (pipeline.work / "report" / "report.html").is_file()


def test_an_ambiguous_local_send_time_is_read_as_summer_time(pipeline: Pipeline) -> None:
    # electra's send time has no offset: 02:30 on the fall-back day is read as its first
    # occurrence (UTC+02:00), as docs/landing.md says
    result = pipeline.dbt(
        "show", "--inline",
        "select cast(to_utc_timestamp(try_to_timestamp('2024-10-27T02:30:00'), 'Europe/Paris')"
        " as string) as sent_at",
    )  # fmt: skip
    assert_ok(result)
    assert "2024-10-27 00:30:00" in result.stdout
