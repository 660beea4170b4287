"""The soak's reconciliation finds a one-row difference in each comparison."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from platform_tools.landing.faults import REASON_PRECEDENCE
from platform_tools.soak.life import blocked_as_expected
from platform_tools.soak.reconcile import (
    reconcile_billing,
    reconcile_metering,
    reconcile_quarantine,
)

DAY = "2024-10-26"


def _truth(kwh: float, superseded: int = 1, corrupt: list[str] | None = None) -> dict[str, Any]:
    faults: dict[str, Any] = dict.fromkeys(REASON_PRECEDENCE, 0)
    faults["superseded"] = superseded
    faults["corrupt_files"] = corrupt or []
    return {DAY: {"consumption_kwh_by_region": {"DE-01": kwh, "DE-02": 0.0},
                  "faults_by_reason": faults}}


def test_metering_equal_and_one_region_off() -> None:
    rows = [{"reading_date": date(2024, 10, 26), "region_code": "DE-01",
             "consumption_kwh": Decimal("12.345")}]
    assert reconcile_metering(_truth(12.345), rows) == []
    assert reconcile_metering(_truth(12.346), rows) == [
        "2024-10-26 DE-01: 12.345 kWh, truth 12.346"
    ]
    extra = [*rows, {"reading_date": date(2024, 10, 27), "region_code": "DE-01",
                     "consumption_kwh": Decimal("1.000")}]
    assert len(reconcile_metering(_truth(12.345), extra)) == 1  # a day the truth lacks


def test_billing_per_country_and_period() -> None:
    truth = {"amount_eur_by_country_and_period": {"DE": {"2024-10": "1.2345670"}}}
    rows = [{"country_code": "DE", "billing_period": "2024-10", "amount_eur": Decimal("1.0")},
            {"country_code": "DE", "billing_period": "2024-10",
             "amount_eur": Decimal("0.234567")}]
    assert reconcile_billing(truth, rows) == []
    assert reconcile_billing(truth, rows[:1]) == ["DE 2024-10: 1.0 EUR, truth 1.2345670"]


def test_quarantine_rows_and_corrupt_files() -> None:
    rows = [{"ingest_date": date(2024, 10, 26), "quarantine_reason": "superseded"},
            {"ingest_date": date(2024, 10, 26), "quarantine_reason": None}]
    files = [{"source_file": "a/b.parquet", "is_withdrawn": False}]
    assert reconcile_quarantine(_truth(0.0, 1, ["a/b.parquet"]), rows, files) == []
    assert reconcile_quarantine(_truth(0.0, 2, ["a/b.parquet"]), rows, files) == [
        "2024-10-26 superseded: 1 row(s), truth 2"
    ]
    assert len(reconcile_quarantine(_truth(0.0, 1, []), rows, files)) == 1


BROKEN = "luxpower/readings/ingest_date=2024-10-29/readings_2024-10-29.csv"
GUARD = (
    "brz_luxpower__readings: Compilation Error in model brz_luxpower__readings: landing schema "
    f"break in luxpower/readings: file {BROKEN} has no column 'Verbrauch_kWh'"
)


def test_a_schema_break_day_must_stop_at_the_guard_naming_the_file() -> None:
    assert blocked_as_expected(False, GUARD, [BROKEN])[0]
    passed, why = blocked_as_expected(True, None, [BROKEN])
    assert not passed and "the build passed" in why
    passed, why = blocked_as_expected(False, "slv_meters: Database Error", [BROKEN])
    assert not passed and "not at the schema guard" in why
    other = BROKEN.replace("luxpower", "nordgrid")
    assert not blocked_as_expected(False, GUARD, [BROKEN, other])[0]
