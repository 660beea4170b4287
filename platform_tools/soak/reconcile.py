"""Reconcile a built lakehouse with the generator's truth (pure reads, no engine).

Compared exactly, for every landed day:

* metering: ``metering_gold.fct_region_daily_consumption`` kWh per region and reading day
  against ``consumption_kwh_by_region`` of the day's truth file (a region without
  consumption has no row; the truth says 0.0);
* billing: ``billing_gold.fct_invoice_lines`` amounts per country and billing period against
  ``_truth/billing.json``;
* quarantine: the rejected rows of ``metering_silver.slv_readings_classified`` per ingest day
  and reason against ``faults_by_reason``, and the unreadable files of
  ``metering_bronze.brz_landing__quarantined_files`` against ``corrupt_files``;
* duplicates: no public table holds the same row twice.

Tables are read with ``deltalake`` as SQL readers see them: a public model at the version its
view is pinned to (write-audit-publish, :mod:`platform_tools.wap`), other tables at their
newest version.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from platform_tools.landing.faults import REASON_PRECEDENCE
from platform_tools.landing.generator import BILLING_TRUTH_FILE
from platform_tools.landing.truth import TRUTH_DIR
from platform_tools.wap import reader_source

REGION_DAILY = ("metering_gold", "fct_region_daily_consumption")
INVOICE_LINES = ("billing_gold", "fct_invoice_lines")
CLASSIFIED = ("metering_silver", "slv_readings_classified")
QUARANTINED_FILES = ("metering_bronze", "brz_landing__quarantined_files")


@dataclass
class Reconciliation:
    """What differs from the truth (empty lists: everything reconciles)."""

    metering: list[str] = field(default_factory=list)
    billing: list[str] = field(default_factory=list)
    quarantine: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.metering or self.billing or self.quarantine or self.duplicates)

    def summary(self, limit: int = 3) -> str:
        if self.ok:
            return "reconciled"
        parts = []
        for name in ("metering", "billing", "quarantine", "duplicates"):
            found: list[str] = getattr(self, name)
            if found:
                parts.append(f"{name}: {len(found)} difference(s), e.g. {'; '.join(found[:limit])}")
        return " | ".join(parts)


def open_table(warehouse: Path, schema: str, table: str) -> Any:
    """The ``deltalake`` table SQL readers of ``schema.table`` get (a public model: its
    last published version, write-audit-publish), or None when there is none."""
    from deltalake import DeltaTable

    path, version = reader_source(warehouse, schema, table)
    if not (path / "_delta_log").is_dir():
        return None
    return DeltaTable(str(path), version=version)


def read_table(
    warehouse: Path, schema: str, table: str, columns: list[str]
) -> list[dict[str, Any]]:
    delta = open_table(warehouse, schema, table)
    return [] if delta is None else delta.to_pyarrow_table(columns=columns).to_pylist()


def truth_days(landing: Path) -> dict[str, dict[str, Any]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((landing / TRUTH_DIR).glob("????-??-??.json"))
    }


def reconcile_metering(truth: dict[str, dict[str, Any]], rows: list[dict[str, Any]]) -> list[str]:
    actual = {
        (str(r["reading_date"]), r["region_code"]): Decimal(r["consumption_kwh"]) for r in rows
    }
    found = []
    for day, data in truth.items():
        for region, kwh in data["consumption_kwh_by_region"].items():
            want = Decimal(str(kwh)).quantize(Decimal("0.001"))
            got = actual.pop((day, region), Decimal("0.000"))
            if got != want:
                found.append(f"{day} {region}: {got} kWh, truth {want}")
    found += [
        f"{day} {region}: {kwh} kWh for a day without truth"
        for (day, region), kwh in sorted(actual.items())
    ]
    return found


def reconcile_billing(billing: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    actual: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        actual[(r["country_code"], r["billing_period"])] += Decimal(r["amount_eur"])
    expected = {
        (country, period): Decimal(amount)
        for country, periods in billing["amount_eur_by_country_and_period"].items()
        for period, amount in periods.items()
    }
    return [
        f"{country} {period}: {actual.get((country, period), Decimal(0))} EUR, "
        f"truth {expected.get((country, period), Decimal(0))}"
        for country, period in sorted(set(actual) | set(expected))
        if actual.get((country, period), Decimal(0)) != expected.get((country, period), Decimal(0))
    ]


def reconcile_quarantine(
    truth: dict[str, dict[str, Any]],
    classified: list[dict[str, Any]],
    files: list[dict[str, Any]],
) -> list[str]:
    counts = Counter(
        (str(r["ingest_date"]), r["quarantine_reason"])
        for r in classified
        if r["quarantine_reason"] is not None
    )
    found = []
    for day, data in truth.items():
        for reason in REASON_PRECEDENCE:
            want = data["faults_by_reason"][reason]
            got = counts.pop((day, reason), 0)
            if got != want:
                found.append(f"{day} {reason}: {got} row(s), truth {want}")
    found += [
        f"{day} {reason}: {n} row(s) for a day without truth"
        for (day, reason), n in sorted(counts.items())
    ]
    want_files = sorted(
        f for data in truth.values() for f in data["faults_by_reason"]["corrupt_files"]
    )
    got_files = sorted(r["source_file"] for r in files if not r.get("is_withdrawn"))
    if got_files != want_files:
        found.append(f"corrupt files {got_files}, truth {want_files}")
    return found


def public_tables(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node.get("access") == "public"
        and node["config"]["materialized"] in ("table", "incremental")
    )


def duplicate_rows(warehouse: Path, tables: list[tuple[str, str]]) -> list[str]:
    found = []
    for schema, table in tables:
        delta = open_table(warehouse, schema, table)
        if delta is None:
            continue
        data = delta.to_pyarrow_table()
        rows = Counter(zip(*(data.column(c).to_pylist() for c in data.column_names), strict=True))
        twice = sum(n - 1 for n in rows.values() if n > 1)
        if twice:
            found.append(f"{schema}.{table}: {twice} duplicate row(s)")
    return found


def reconcile(lakehouse: Path, landing: Path, manifest_path: Path) -> Reconciliation:
    warehouse = lakehouse / "warehouse"
    truth = truth_days(landing)
    billing = json.loads((landing / TRUTH_DIR / BILLING_TRUTH_FILE).read_text(encoding="utf-8"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Reconciliation(
        metering=reconcile_metering(
            truth,
            read_table(
                warehouse, *REGION_DAILY, ["reading_date", "region_code", "consumption_kwh"]
            ),
        ),
        billing=reconcile_billing(
            billing,
            read_table(warehouse, *INVOICE_LINES, ["country_code", "billing_period", "amount_eur"]),
        ),
        quarantine=reconcile_quarantine(
            truth,
            read_table(warehouse, *CLASSIFIED, ["ingest_date", "quarantine_reason"]),
            read_table(warehouse, *QUARANTINED_FILES, ["source_file", "is_withdrawn"]),
        ),
        duplicates=duplicate_rows(warehouse, public_tables(manifest)),
    )
