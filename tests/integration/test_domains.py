"""The six teams' domains end to end on the real engine: ownership, history, billing.

The module generates a landing zone (80 meters, 3 days), lands the first day and runs one
full ``dbt build``; then lands the other two days and builds again one domain at a time with
``dbt build --select domain:<name>`` in dependency order, as the teams would. Billing is
reconciled against the generator's truth and the landing files parsed here in Python
(meter -> supply point -> contract -> tariff valid that day), never against what the
pipeline computed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import ProjectRun, assert_ok, engine_env, free_port, platform_tools

pytestmark = pytest.mark.engine

DAYS = ["2024-10-26", "2024-10-27", "2024-10-28"]
SYSTEMS = ("nordgrid", "electra", "dutchgrid", "luxpower")
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
# dependency order of the domains: each reads only public models of the ones before it
DOMAIN_ORDER = [
    "metering",
    "platform",
    "customers",
    "billing",
    "commercial",
    "regulatory",
    "forecasting",
]
PEPPER = "pytest-pepper-3f1c"
CORRECTION_DAY = "2024-10-29"
NEW_EXPORT_DAY = "2024-10-30"
PII_COLUMNS = {"customer_id", "customer_name", "email", "street", "postal_code", "city", "iban"}


@dataclass
class Domains(ProjectRun):
    domain_builds: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Domains]:
    work = tmp_path_factory.mktemp("domains")
    port = free_port()
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, port)
    env["GRIDUNION_PII_PEPPER"] = PEPPER
    result = Domains(lakehouse, work, env, port)
    try:
        assert_ok(platform_tools(env, *GENERATE, "--out", str(work / "landing_full")))
        result.land(DAYS[:1])
        assert_ok(result.dbt("build"))  # the whole project, first day
        result.land(DAYS[1:])
        for domain in DOMAIN_ORDER:  # then one team's domain at a time
            result.domain_builds[domain] = result.dbt("build", "--select", f"domain:{domain}")
        yield result
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


# -- the landing files, read independently of the pipeline ---------------------------------


def _records(path: Path) -> list[dict[str, str | None]]:
    """A landing file's records as text (dates ISO, decimals as text), in file order."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return [
            {k: (None if v is None else str(v)) for k, v in row.items()}
            for row in table.to_pylist()
        ]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [
            {k: (None if v is None else str(v)) for k, v in json.loads(line).items()}
            for line in text.splitlines()
            if line.strip()
        ]
    delimiter = ";" if path.parts[-4] == "luxpower" else ","
    return [
        {k: (v if v != "" else None) for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text), delimiter=delimiter)
    ]


def current_state(
    lakehouse: Path, system: str, entity: str, key: tuple[str, ...]
) -> list[dict[str, str | None]]:
    """Latest landed row per key (ingest date, then file order); deletes dropped, and keys
    missing from the latest full export (`<entity>_full_<day>.<ext>`) dropped."""
    latest: dict[tuple[str | None, ...], tuple[str, dict[str, str | None]]] = {}
    last_full_export = ""
    root = lakehouse / "landing" / system / entity
    for day_dir in sorted(root.glob("ingest_date=*")):
        day = day_dir.name.split("=")[1]
        for path in sorted(day_dir.iterdir()):
            if path.name.startswith((".", "_")):
                continue
            if "_full_" in path.name:
                last_full_export = day
            for record in _records(path):
                latest[tuple(record[k] for k in key)] = (day, record)
    marker = {
        "nordgrid": "change_type",
        "electra": "type_mouvement",
        "dutchgrid": "mutation_type",
        "luxpower": "Aenderung",
    }[system]
    erased = {k for k, (_, r) in latest.items() if r[marker] == "E"}  # GDPR: gone entirely
    return [
        r
        for k, (day, r) in latest.items()
        if r[marker] != "D" and k not in erased and day >= last_full_export
    ]


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    if "." in text:
        return datetime.strptime(text, "%d.%m.%Y").date()
    return date.fromisoformat(text[:10])


@dataclass(frozen=True)
class Contract:
    system: str
    customer_id: str
    tariff_code: str
    start: date
    end: date | None


def landed_master(
    lakehouse: Path,
) -> tuple[
    dict[str, str], dict[str, list[Contract]], dict[str, list[tuple[date, date | None, Decimal]]]
]:
    """meter EAN -> supply point; supply point -> contracts; tariff -> validity rows."""
    supply_point_of: dict[str, str] = {}
    contracts: dict[str, list[Contract]] = defaultdict(list)
    tariffs: dict[str, list[tuple[date, date | None, Decimal]]] = defaultdict(list)
    meter_fields = {  # local code, EAN, supply point
        "nordgrid": ("meter_number", "meter_ean", "supply_point_id"),
        "electra": ("prm", "ean", "point_livraison"),
        "dutchgrid": ("ean", "ean", "connection_ean"),
        "luxpower": ("Zaehler", "EAN", "Lieferstelle"),
    }
    contract_fields = {  # id, customer, supply point, tariff, start, end
        "nordgrid": (
            "contract_id",
            "customer_id",
            "supply_point_id",
            "tariff_code",
            "start_date",
            "end_date",
        ),
        "electra": (
            "id_contrat",
            "id_client",
            "point_livraison",
            "code_tarif",
            "date_debut",
            "date_fin",
        ),
        "dutchgrid": (
            "contract_id",
            "customer_id",
            "connection_ean",
            "tariff_code",
            "start_date",
            "end_date",
        ),
        "luxpower": ("Vertrag", "Kunde", "Lieferstelle", "Tarif", "Beginn", "Ende"),
    }
    tariff_fields = {  # code, price, valid from, valid to
        "nordgrid": ("tariff_code", "price_eur_per_kwh", "valid_from", "valid_to"),
        "electra": ("code_tarif", "prix_eur_kwh", "date_debut_validite", "date_fin_validite"),
        "dutchgrid": ("tariff_code", "price_eur_per_kwh", "valid_from", "valid_to"),
        "luxpower": ("Tarif", "Preis_EUR_kWh", "Gueltig_ab", "Gueltig_bis"),
    }
    for system in SYSTEMS:
        code, ean, supply = meter_fields[system]
        for row in current_state(lakehouse, system, "meters", (code,)):
            supply_point_of[str(row[ean])] = str(row[supply])
        cid, cust, sp, tariff, start, end = contract_fields[system]
        for row in current_state(lakehouse, system, "contracts", (cid,)):
            start_date = _date(row[start])
            assert start_date is not None
            contracts[str(row[sp])].append(
                Contract(system, str(row[cust]), str(row[tariff]), start_date, _date(row[end]))
            )
        tcode, price, vfrom, vto = tariff_fields[system]
        for row in current_state(lakehouse, system, "tariffs", (tcode, vfrom)):
            valid_from = _date(row[vfrom])
            assert valid_from is not None and row[price] is not None
            tariffs[str(row[tcode])].append(
                (valid_from, _date(row[vto]), Decimal(str(row[price]).replace(",", ".")))
            )
    return supply_point_of, contracts, tariffs


def customer_key(system: str, customer_id: str, pepper: str = PEPPER) -> str:
    return hashlib.sha256(f"{pepper}:{system}:{customer_id}".encode()).hexdigest()


def expected_invoices(domains: Domains, days: list[str] = DAYS) -> dict[tuple[str, str], Decimal]:
    """(customer_key, billing period) -> exact amount, from truth and landing files."""
    supply_point_of, contracts, tariffs = landed_master(domains.lakehouse)
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for day_text in days:
        day = date.fromisoformat(day_text)
        for meter, kwh in domains.truth(day_text)["consumption_kwh_by_meter"].items():
            supply_point = supply_point_of.get(meter)
            active = [
                c
                for c in contracts.get(supply_point or "", [])
                if c.start <= day and (c.end is None or day <= c.end)
            ]
            if not active:
                continue
            assert len(active) == 1, (meter, day)
            contract = active[0]
            prices = [
                p
                for start, end, p in tariffs[contract.tariff_code]
                if start <= day and (end is None or day <= end)
            ]
            assert len(prices) == 1, (contract.tariff_code, day)
            consumption = Decimal(str(kwh)).quantize(Decimal("0.001"))
            key = (customer_key(contract.system, contract.customer_id), day_text[:7])
            amounts[key] += consumption * prices[0]
    return dict(amounts)


def assert_invoices_reconcile(domains: Domains, days: list[str] = DAYS) -> None:
    expected = expected_invoices(domains, days)
    invoices = {
        (r["customer_key"], r["billing_period"]): r
        for r in domains.rows("billing_gold", "fct_invoices")
    }
    line_sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in domains.rows("billing_gold", "fct_invoice_lines"):
        line_sums[(line["customer_key"], line["billing_period"])] += line["amount_eur"]
    assert expected, "the landing zone should produce billable consumption"
    assert set(invoices) == set(expected)
    for key, amount in expected.items():
        assert line_sums[key] == amount, key
        assert invoices[key]["net_amount_eur"] == amount, key
        assert invoices[key]["invoice_amount_eur"] == amount.quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        ), key


# -- builds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("domain", DOMAIN_ORDER)
def test_each_domain_builds_on_its_own(domains: Domains, domain: str) -> None:
    result = domains.domain_builds[domain]
    assert_ok(result)
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout


def test_billing_domain_build_runs_its_snapshot_and_unit_tests(domains: Domains) -> None:
    output = domains.domain_builds["billing"].stdout
    assert "snapshotted billing_snapshots.snp_tariff_prices" in output
    assert "PASS slv_consumption_priced::prices_each_day_with_the_tariff_valid_that_day" in output
    assert (
        "PASS slv_consumption_priced::prices_the_dst_fall_back_day_once_with_the_new_tariff"
        in output
    )
    assert "PASS fct_invoices::rounds_the_invoice_total_once" in output
    # billing reads metering's and customers' public models; it never rebuilds them
    assert " model metering_" not in output and " model customers_" not in output


# -- billing ---------------------------------------------------------------------------------


def test_invoice_totals_reconcile_with_truth_and_landed_tariffs(domains: Domains) -> None:
    assert_invoices_reconcile(domains)


def test_each_day_is_priced_with_the_tariff_valid_that_day(domains: Domains) -> None:
    # the generator's scheduled price change: DE-HH-BASIS 0.3120 until 10-26, 0.3345 from
    # 10-27 (the DST fall-back day), so one billing period holds both prices
    prices = {
        (str(line["reading_date"]), line["price_eur_per_kwh"])
        for line in domains.rows("billing_gold", "fct_invoice_lines")
        if line["tariff_code"] == "DE-HH-BASIS"
    }
    assert prices == {
        ("2024-10-26", Decimal("0.3120")),
        ("2024-10-27", Decimal("0.3345")),
        ("2024-10-28", Decimal("0.3345")),
    }


def test_consumption_that_cannot_be_billed_is_kept_with_a_reason(domains: Domains) -> None:
    unbilled = domains.rows("billing_silver", "slv_unbilled_consumption")
    # a customer deleted on day 2 had its contract end that day: its meter's day 3 is unbilled
    assert {r["unbilled_reason"] for r in unbilled} <= {
        "no_supply_point",
        "no_contract",
        "no_tariff",
    }
    ended = {
        (r["meter_id"], str(r["reading_date"]))
        for r in unbilled
        if r["unbilled_reason"] == "no_contract"
    }
    assert any(day == DAYS[2] for _, day in ended)
    daily = domains.rows("metering_gold", "fct_meter_daily_consumption")
    lines = domains.rows("billing_gold", "fct_invoice_lines")
    assert len(daily) == len(lines) + len(unbilled)


# -- customers: history, deletes, pseudonyms -------------------------------------------------


def test_customer_snapshot_records_deletes_and_segment_changes(domains: Domains) -> None:
    snapshot = domains.rows("customers_snapshots", "snp_customers")
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in snapshot:
        by_key[row["customer_key"]].append(row)
    changes = [domains.truth(day)["master_changes"] for day in DAYS[1:]]
    for day_changes in changes:
        for system, keys in day_changes.items():
            for deleted in keys["customers_deleted"]:
                # hard delete recorded: the only version is closed, none is current
                rows = by_key[customer_key(system, deleted)]
                assert len(rows) == 1 and rows[0]["dbt_valid_to"] is not None, deleted
            for resegmented in keys["customers_resegmented"]:
                rows = sorted(
                    by_key[customer_key(system, resegmented)], key=lambda r: r["dbt_valid_from"]
                )
                assert len(rows) == 2 and rows[0]["segment"] != rows[1]["segment"]
                assert rows[0]["dbt_valid_to"] == rows[1]["dbt_valid_from"]
    dimension = domains.rows("customers_gold", "dim_customers_v2")
    current = [r for r in dimension if r["is_current"]]
    assert len(current) == len({r["customer_key"] for r in current})
    deleted_keys = {
        customer_key(system, d)
        for c in changes
        for system, k in c.items()
        for d in k["customers_deleted"]
    }
    assert deleted_keys and not deleted_keys & {r["customer_key"] for r in current}
    assert deleted_keys <= {r["customer_key"] for r in dimension if r["is_deleted"]}
    v1 = domains.rows("customers_gold", "dim_customers_v1")
    assert {r["customer_key"] for r in v1} == {r["customer_key"] for r in current}


def test_an_erased_customer_disappears_from_every_current_table(domains: Domains) -> None:
    # the generator's erasure request (change marker E) on the third day, one per system
    erased = {
        customer_key(system, customer)
        for system, keys in domains.truth(DAYS[2])["master_changes"].items()
        for customer in keys["customers_erased"]
    }
    assert len(erased) == 4
    holders = [
        ("customers_silver", "slv_customers"),
        ("customers_silver", "slv_customer_history"),
        ("customers_gold", "dim_customers_v1"),
        ("customers_gold", "dim_customers_v2"),  # not even a closed version of its history
        ("commercial_gold", "dim_customer_360"),
    ]
    for schema, table in holders:
        keys = {r["customer_key"] for r in domains.rows(schema, table)}
        assert keys and not erased & keys, table
    current = {
        r["customer_key"]
        for r in domains.rows("customers_snapshots", "snp_customers")
        if r["dbt_valid_to"] is None
    }
    assert not erased & current


def test_contract_snapshot_closes_the_version_of_an_ended_contract(domains: Domains) -> None:
    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in domains.rows("customers_snapshots", "snp_contracts"):
        versions[row["contract_id"]].append(row)
    for day in DAYS[1:]:
        for keys in domains.truth(day)["master_changes"].values():
            for contract_id in keys["contracts_ended"]:
                rows = sorted(versions[contract_id], key=lambda r: r["dbt_valid_from"])
                assert [r["end_date"] for r in rows] == [None, date.fromisoformat(day)]
                assert rows[0]["dbt_valid_to"] is not None and rows[1]["dbt_valid_to"] is None


def test_pseudonyms_are_keyed_and_no_gold_table_holds_personal_data(domains: Domains) -> None:
    customers = domains.rows("customers_silver", "slv_customers")
    sample = customers[0]
    plain = hashlib.sha256(f"{sample['source_system']}:{sample['customer_id']}".encode())
    assert sample["customer_key"] == customer_key(sample["source_system"], sample["customer_id"])
    assert sample["customer_key"] != plain.hexdigest()
    personal = {
        str(r[c])
        for r in customers
        for c in ("customer_id", "customer_name", "email", "iban", "street")
    }
    warehouse = domains.lakehouse / "warehouse"
    gold = [p for p in warehouse.glob("*_gold/*") if (p / "_delta_log").is_dir()]
    assert len(gold) >= 25
    for table in gold:
        rows = DeltaTable(str(table)).to_pyarrow_table().to_pylist()
        assert not PII_COLUMNS & set(rows[0] if rows else {}), table
        values = {str(v) for row in rows for v in row.values()}
        assert not values & personal, table


def test_the_pepper_is_in_no_compiled_model_artifact_or_log(domains: Domains) -> None:
    written = [
        path
        for folder in (domains.work / "target", domains.work / "logs")
        for path in folder.rglob("*")
        if path.is_file()
    ]
    assert any(p.name == "partial_parse.msgpack" for p in written)
    assert any(p.name == "dbt.log" for p in written)
    compiled = domains.work / "target" / "run" / "gridunion" / "models" / "customers"
    assert "from gridunion_pii_pepper" in (compiled / "silver" / "slv_customers.sql").read_text()
    leaked = [str(p) for p in written if PEPPER.encode() in p.read_bytes()]
    assert not leaked


def test_running_a_pseudonymizing_model_without_the_pepper_fails(domains: Domains) -> None:
    env = {k: v for k, v in domains.env.items() if k != "GRIDUNION_PII_PEPPER"}
    # nor a development pepper file that the dbt plugin would load instead
    assert not (domains.lakehouse / "_secrets" / "pii_pepper").exists()
    result = domains.dbt("run", "--select", "slv_customers", env=env)
    assert result.returncode != 0
    assert "GRIDUNION_PII_PEPPER is not set" in result.stdout


# -- the other domains -----------------------------------------------------------------------


def test_regulator_reports_and_the_cross_border_benchmark(domains: Domains) -> None:
    for report, country, regions in (
        ("rpt_bnetza_monthly_energy", "DE", 12),
        ("rpt_cre_monthly_energy", "FR", 9),
        ("rpt_acm_monthly_energy", "NL", 6),
        ("rpt_ilr_monthly_energy", "LU", 3),
    ):
        rows = domains.rows("regulatory_gold", report)
        assert {r["country_code"] for r in rows} == {country}
        assert len({r["region_code"] for r in rows}) == regions
        truth_kwh = sum(
            Decimal(str(v))
            for day in DAYS
            for region, v in domains.truth(day)["consumption_kwh_by_region"].items()
            if region.startswith(country)
        )
        assert sum(r["delivered_mwh"] for r in rows) * 1000 == truth_kwh, report
    benchmark = domains.rows("regulatory_gold", "rpt_ilr_cross_border_benchmark")
    assert {str(r["reading_date"]) for r in benchmark} == set(DAYS)
    nl_daily: dict[str, Decimal] = defaultdict(Decimal)
    for r in domains.rows("metering_gold", "fct_region_daily_consumption"):
        if r["country_code"] == "NL":
            nl_daily[str(r["reading_date"])] += r["consumption_kwh"]
    assert all(r["nl_consumption_kwh"] == nl_daily[str(r["reading_date"])] for r in benchmark)


def test_forecasting_features_cover_every_region_hour(domains: Domains) -> None:
    hourly = domains.rows("metering_gold", "fct_region_hourly_consumption")
    features = {
        (r["region_code"], r["hour_start_at"]): r
        for r in domains.rows("forecasting_gold", "fct_region_hourly_load_features")
    }
    assert len(features) == len(hourly)
    for row in hourly:
        feature = features[(row["region_code"], row["hour_start_at"])]
        previous = features.get((row["region_code"], row["hour_start_at"] - timedelta(hours=1)))
        assert feature["lag_1h_kwh"] == (previous["consumption_kwh"] if previous else None)
    # 2024-10-27 00:00 UTC is 02:00 CEST and 01:00 UTC is 02:00 CET: the repeated local hour
    for feature in features.values():
        start = feature["hour_start_at"]
        if start.date() == date(2024, 10, 27) and start.hour in (0, 1):
            assert feature["hour_of_day"] == 2, feature
        if start.date() == date(2024, 10, 27) and start.hour < 22:
            assert feature["day_of_week"] == 7 and feature["is_weekend"], feature


def test_platform_regions_and_commercial_360(domains: Domains) -> None:
    regions = domains.rows("platform_gold", "dim_regions")
    assert len(regions) == 30
    assert {r["regulator_code"] for r in regions} == {"BNetzA", "CRE", "ACM", "ILR"}
    customer_360 = domains.rows("commercial_gold", "dim_customer_360")
    assert len(customer_360) == len({r["customer_key"] for r in customer_360})
    assert any(r["is_churned"] and r["is_deleted"] for r in customer_360)
    revenue = sum(
        r["revenue_eur"] for r in domains.rows("commercial_gold", "fct_segment_monthly_revenue")
    )
    invoiced = sum(r["invoice_amount_eur"] for r in domains.rows("billing_gold", "fct_invoices"))
    assert revenue == invoiced


# -- a later price correction (changes the lakehouse: runs after the checks above) ---


def test_tariff_correction_closes_the_old_version_and_reprices_invoices(
    domains: Domains,
) -> None:
    # a later price-list change set: a correction of the price valid from 2024-10-27, and a
    # new price for DE-HH-OEKO from 2024-10-28 (its open row gets an end of validity)
    tariffs = domains.lakehouse / "landing" / "nordgrid" / "tariffs"
    folder = tariffs / f"ingest_date={CORRECTION_DAY}"
    folder.mkdir(parents=True)
    (folder / f"tariffs_changes_{CORRECTION_DAY}.csv").write_text(
        "tariff_code,price_eur_per_kwh,valid_from,valid_to,change_type\n"
        "DE-HH-BASIS,0.3399,2024-10-27,,U\n"
        "DE-HH-OEKO,0.3290,2023-01-01,2024-10-27,U\n"
        "DE-HH-OEKO,0.3500,2024-10-28,,I\n"
    )
    assert_ok(platform_tools(domains.env, "landing", "stage"))
    assert_ok(domains.dbt("build", "--select", "domain:billing"))

    versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in domains.rows("billing_snapshots", "snp_tariff_prices"):
        versions[row["tariff_validity_key"]].append(row)
    corrected = sorted(versions["DE-HH-BASIS|2024-10-27"], key=lambda r: r["dbt_valid_from"])
    assert [(r["price_eur_per_kwh"], r["dbt_valid_to"] is None) for r in corrected] == [
        (Decimal("0.3345"), False),  # closed
        (Decimal("0.3399"), True),  # new current version
    ]
    assert corrected[0]["dbt_valid_to"] == corrected[1]["dbt_valid_from"]
    shortened = sorted(versions["DE-HH-OEKO|2023-01-01"], key=lambda r: r["dbt_valid_from"])
    assert [(r["valid_to"], r["dbt_valid_to"] is None) for r in shortened] == [
        (None, False),
        (date(2024, 10, 27), True),
    ]
    assert [r["dbt_valid_to"] for r in versions["DE-HH-OEKO|2024-10-28"]] == [None]
    # untouched validity rows keep one version
    assert len(versions["DE-HH-BASIS|2023-01-01"]) == 1

    prices: dict[tuple[str, str], set[Decimal]] = defaultdict(set)
    for line in domains.rows("billing_gold", "fct_invoice_lines"):
        prices[(line["tariff_code"], str(line["reading_date"]))].add(line["price_eur_per_kwh"])
    assert prices[("DE-HH-BASIS", "2024-10-26")] == {Decimal("0.3120")}  # before the change
    assert prices[("DE-HH-BASIS", "2024-10-27")] == {Decimal("0.3399")}  # corrected price
    assert prices[("DE-HH-BASIS", "2024-10-28")] == {Decimal("0.3399")}
    assert prices[("DE-HH-OEKO", "2024-10-27")] == {Decimal("0.3290")}
    assert prices[("DE-HH-OEKO", "2024-10-28")] == {Decimal("0.3500")}
    current = {
        (r["tariff_code"], r["valid_from"]): r
        for r in domains.rows("billing_gold", "dim_tariff_prices")
    }
    assert current[("DE-HH-BASIS", date(2024, 10, 27))]["version_count"] == 2
    assert current[("DE-HH-BASIS", date(2024, 10, 27))]["price_eur_per_kwh"] == Decimal("0.3399")
    # and the invoices still equal consumption x the (now corrected) landed tariffs
    assert_invoices_reconcile(domains)

    # the re-priced lines are recorded as corrections of this build, exactly those, each with
    # the price before and after and the difference; nothing else changed in this build
    lines = domains.rows("billing_gold", "fct_invoice_lines")
    repriced = {
        line["invoice_line_id"]: line
        for line in lines
        if (line["tariff_code"], line["tariff_valid_from"])
        in {("DE-HH-BASIS", date(2024, 10, 27)), ("DE-HH-OEKO", date(2024, 10, 28))}
    }
    assert repriced
    corrections = domains.rows("billing_gold", "fct_invoice_line_corrections")
    latest = max(r["corrected_at"] for r in corrections)
    this_build = {r["invoice_line_id"]: r for r in corrections if r["corrected_at"] == latest}
    assert set(this_build) == set(repriced)
    before = {"DE-HH-BASIS": Decimal("0.3345"), "DE-HH-OEKO": Decimal("0.3290")}
    for line_id, line in repriced.items():
        correction = this_build[line_id]
        assert correction["correction_kind"] == "price"
        assert correction["previous_price_eur_per_kwh"] == before[line["tariff_code"]]
        assert correction["corrected_amount_eur"] == line["amount_eur"]
        assert correction["amount_delta_eur"] == line["consumption_kwh"] * (
            line["price_eur_per_kwh"] - before[line["tariff_code"]]
        )


def test_a_later_full_export_is_authoritative_and_every_day_is_priced_once(
    domains: Domains,
) -> None:
    # The same world exported again from a later day (issue 12's day-4 reproduction): the new
    # full price lists date each system's price change on its next day, so the validity rows the
    # earlier exports (and the correction above) held from 2024-10-27 are absent from them.
    assert_ok(
        platform_tools(
            domains.env,
            "landing",
            "generate",
            "--meters",
            "80",
            "--days",
            "1",
            "--start",
            NEW_EXPORT_DAY,
            "--seed",
            "7",
            "--new-world",  # a fresh full export of the same seed, not the world's day 5
            "--out",
            str(domains.work / "landing_full"),
        )
    )
    domains.land([NEW_EXPORT_DAY])
    assert_ok(domains.dbt("build"))

    validity: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for row in domains.rows("billing_gold", "dim_tariff_prices"):
        validity[row["tariff_code"]].append((row["valid_from"], row["valid_to"]))
    assert len(validity) == 12
    for code, intervals in validity.items():
        intervals.sort()
        for (_, end), (next_start, _) in zip(intervals, intervals[1:], strict=False):
            assert end is not None and end < next_start, (code, intervals)  # no overlap
    current = {
        r["tariff_validity_key"]
        for r in domains.rows("billing_snapshots", "snp_tariff_prices")
        if r["dbt_valid_to"] is None
    }
    assert "DE-HH-BASIS|2024-10-27" not in current  # absent from the new export: closed
    assert "DE-HH-BASIS|2024-10-31" in current  # a new world's price change: its second day

    # every consumption day is either priced exactly once or kept with a reason
    lines = [
        (r["meter_id"], r["reading_date"])
        for r in domains.rows("billing_gold", "fct_invoice_lines")
    ]
    assert len(lines) == len(set(lines))
    unbilled = [
        (r["meter_id"], r["reading_date"])
        for r in domains.rows("billing_silver", "slv_unbilled_consumption")
    ]
    consumption = [
        (r["meter_id"], r["reading_date"])
        for r in domains.rows("metering_gold", "fct_meter_daily_consumption")
    ]
    assert sorted(lines + unbilled) == sorted(consumption)
    assert_invoices_reconcile(domains, [*DAYS, NEW_EXPORT_DAY])


# -- docs ------------------------------------------------------------------------------------


def test_docs_generate_catalogs_every_built_table_with_its_columns(domains: Domains) -> None:
    assert_ok(domains.dbt("docs", "generate"))
    catalog = json.loads((domains.work / "target" / "catalog.json").read_text())
    manifest = json.loads((domains.work / "target" / "manifest.json").read_text())
    assert not catalog.get("errors")
    built = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node["config"].get("materialized") != "ephemeral"
    }
    assert len(built) > 60
    for uid, node in built.items():
        assert uid in catalog["nodes"], uid
        columns = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        assert columns, uid
        assert {c.lower() for c in node["columns"]} <= columns, uid
    overview = manifest["docs"]["doc.gridunion.__overview__"]["block_contents"]
    assert "billing@nordgrid.gridunion.example" in overview and "fct_invoices" in overview
