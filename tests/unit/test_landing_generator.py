"""The landing-zone generator: determinism, dialects, faults, DST, truth (recomputed here)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from platform_tools.cli import main
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.landing import eutime
from platform_tools.landing.dialects import (
    ALL_REGIONS,
    CHANGE_FIELDS,
    DRIFT_FIELD,
    MASTER_FIELDS,
    READINGS_FIELDS,
    SYSTEMS,
)
from platform_tools.landing.faults import (
    FAULT_KINDS,
    REASON_PRECEDENCE,
    applicable_kinds,
    fault_count,
    plan_faults,
)
from platform_tools.landing.generator import GenerateParams, generate
from platform_tools.landing.readings import ReadingGrid
from platform_tools.landing.synthetic import ean18_is_valid, iban_is_valid

DAYS = ("2024-10-26", "2024-10-27", "2024-10-28")
CORRUPT = "dutchgrid/readings/ingest_date=2024-10-27/readings_2024-10-27_retry.parquet"
EXT = {"nordgrid": "csv", "electra": "jsonl", "dutchgrid": "parquet", "luxpower": "csv"}
SEP = {"nordgrid": ",", "luxpower": ";"}


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(GenerateParams(), out)  # the defaults: 200 meters, 3 days from 2024-10-26
    return out


@pytest.fixture(scope="module")
def truth(landing: Path) -> dict[str, dict[str, Any]]:
    return {d: json.loads((landing / "_truth" / f"{d}.json").read_text()) for d in DAYS}


def path_of(system: str, entity: str, day: str, kind: str = "") -> str:
    if entity == "readings":
        name = f"readings_{day}.{EXT[system]}"
    else:
        name = f"{entity}_{kind}_{day}.{EXT[system]}"
    return f"{system}/{entity}/ingest_date={day}/{name}"


def read_text_rows(landing: Path, relative: str, system: str) -> tuple[list[str], list[list[str]]]:
    text = (landing / relative).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=SEP[system]))
    return rows[0], rows[1:]


# -- determinism and layout ---------------------------------------------------------------


def test_same_arguments_give_byte_identical_files(landing: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(GenerateParams(), again)
    first = tree_hashes(landing)
    assert tree_hashes(again) == first
    # 4 systems x 5 entities x 3 days + 1 corrupt file + 3 day truths + billing.json + _world.json
    assert len(first) == 66
    # regenerating over an existing output rewrites the same bytes and leaves no temp files
    generate(GenerateParams(), again)
    assert tree_hashes(again) == first


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(GenerateParams(meters=20, days=1, seed=1), a)
    generate(GenerateParams(meters=20, days=1, seed=2), b)
    rel = path_of("nordgrid", "readings", "2024-10-26")
    assert (a / rel).read_bytes() != (b / rel).read_bytes()
    rel = path_of("electra", "customers", "2024-10-26", "full")
    assert (a / rel).read_bytes() != (b / rel).read_bytes()


def test_layout_has_every_system_entity_and_day(landing: Path) -> None:
    files = set(tree_hashes(landing))
    for system in EXT:
        for i, day in enumerate(DAYS):
            assert path_of(system, "readings", day) in files
            for entity in ("meters", "customers", "contracts", "tariffs"):
                assert path_of(system, entity, day, "full" if i == 0 else "changes") in files
    assert CORRUPT in files
    assert {f"_truth/{d}.json" for d in DAYS} <= files


def test_meters_split_over_systems_and_regions(landing: Path) -> None:
    counts = {}
    regions: set[str] = set()
    for spec in SYSTEMS:
        rows = load_meter_master(landing, spec.name)
        counts[spec.name] = len(rows)
        assert all(ean18_is_valid(ean) for ean, _ in rows.values())
        assert {r for _, r in rows.values()} <= set(spec.regions)
        regions |= {r for _, r in rows.values()}
    assert counts == {"nordgrid": 80, "electra": 60, "dutchgrid": 40, "luxpower": 20}
    assert len(ALL_REGIONS) == 30
    assert len(regions) == 30  # 200 meters cover every region
    codes = {s: list(load_meter_master(landing, s)) for s in EXT}
    assert all(re.fullmatch(r"DE\d{10}", c) for c in codes["nordgrid"])
    assert all(re.fullmatch(r"\d{14}", c) for c in codes["electra"])
    assert all(re.fullmatch(r"\d{18}", c) for c in codes["dutchgrid"])
    assert all(re.fullmatch(r"LU\d{8}", c) for c in codes["luxpower"])


# -- dialects -----------------------------------------------------------------------------


def test_nordgrid_readings_are_comma_csv_in_utc_kwh(landing: Path) -> None:
    header, rows = read_text_rows(landing, path_of("nordgrid", "readings", DAYS[0]), "nordgrid")
    assert header == list(READINGS_FIELDS["nordgrid"])
    good = [r for r in rows if len(r) == 5 and r[3] != "n/a" and "T24:60" not in r[1]]
    assert len(good) > 1800
    for row in good:
        assert re.fullmatch(r"DE\d{10}", row[0])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z", row[1])
        assert row[2] == "60"
        assert re.fullmatch(r"-?\d+\.\d{3}", row[3])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[4])
    assert rows[0] == [
        "DE1000000000", "2024-10-26T00:00:00Z", "60", "0.068", "2024-10-26T01:19:07Z",
    ]


def test_electra_readings_are_french_json_lines_in_local_time(landing: Path) -> None:
    lines = (landing / path_of("electra", "readings", DAYS[0])).read_text().splitlines()
    parsed = []
    broken = 0
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            broken += 1
    not_a_number = sum(1 for p in parsed if not isinstance(p["energie_wh"], int))
    broken_time = sum(1 for p in parsed if "T24:60" in p["horodatage"])
    assert broken + not_a_number + broken_time >= 1  # at least one unparsable row a day
    assert all(list(p) == list(READINGS_FIELDS["electra"]) for p in parsed)
    ints = [p for p in parsed if isinstance(p["energie_wh"], int)]
    assert len(ints) > 1400
    for p in ints:
        assert re.fullmatch(r"\d{14}", p["prm"])
        assert p["saison"] in ("E", "H")
        assert p["duree_min"] == 60
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", p["emis_le"])
    # 2024-10-26 00:00Z is 02:00 in Paris (summer time)
    assert parsed[0]["horodatage"] == "2024-10-26T02:00:00" and parsed[0]["saison"] == "E"


def test_dutchgrid_readings_are_parquet_with_naive_utc_timestamps(landing: Path) -> None:
    table = pq.read_table(landing / path_of("dutchgrid", "readings", DAYS[0]))
    assert table.schema.names == list(READINGS_FIELDS["dutchgrid"])
    assert [str(t) for t in table.schema.types] == [
        "string", "timestamp[us]", "int32", "double", "timestamp[us]",
    ]
    first = table.slice(0, 1).to_pylist()[0]
    assert first["period_start"] == datetime(2024, 10, 26, 0, 0)
    assert len(first["ean"]) == 18 and ean18_is_valid(first["ean"])
    assert first["period_minutes"] == 60


def test_luxpower_readings_are_semicolon_csv_with_decimal_commas(landing: Path) -> None:
    header, rows = read_text_rows(landing, path_of("luxpower", "readings", DAYS[0]), "luxpower")
    assert header == list(READINGS_FIELDS["luxpower"])
    good = [r for r in rows if len(r) == 6 and r[4] != "n/a" and r[2] != "24:60"]
    assert len(good) > 450
    for row in good:
        assert re.fullmatch(r"LU\d{8}", row[0])
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", row[1])
        assert re.fullmatch(r"\d\d:00", row[2])
        assert row[3] in ("+01:00", "+02:00")
        assert re.fullmatch(r"-?\d+,\d{3}", row[4])
        assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d\+0[12]:00", row[5])


def test_master_data_uses_each_systems_conventions(landing: Path) -> None:
    day = DAYS[0]
    rel = path_of("nordgrid", "customers", day, "full")
    header, rows = read_text_rows(landing, rel, "nordgrid")
    assert header == list(MASTER_FIELDS["nordgrid"]["customers"])
    assert len(rows) == 72  # 90 % of 80 meters
    assert all(iban_is_valid(r[6]) and r[6].startswith("DE") for r in rows)
    assert {r[7] for r in rows} <= {"residential", "business", "industrial"}
    assert len({r[2] for r in rows}) == len(rows)  # unique e-mails
    header, rows = read_text_rows(landing, path_of("luxpower", "tariffs", day, "full"), "luxpower")
    assert header == list(MASTER_FIELDS["luxpower"]["tariffs"])
    assert rows[0] == ["LU-STANDARD", "0,1980", "01.01.2023", "26.10.2024", "I"]
    assert rows[1] == ["LU-STANDARD", "0,2105", "27.10.2024", "", "I"]
    rel = path_of("electra", "contracts", day, "full")
    contracts = [json.loads(line) for line in (landing / rel).read_text().splitlines()]
    assert list(contracts[0]) == list(MASTER_FIELDS["electra"]["contracts"])
    assert all(c["date_fin"] is None for c in contracts)
    tariffs = (landing / path_of("electra", "tariffs", day, "full")).read_text().splitlines()
    assert '"prix_eur_kwh": 0.2516' in tariffs[0]
    table = pq.read_table(landing / path_of("dutchgrid", "tariffs", day, "full"))
    assert table.schema.names == list(MASTER_FIELDS["dutchgrid"]["tariffs"])
    assert str(table.schema.field("price_eur_per_kwh").type) == "decimal128(10, 4)"
    assert str(table.schema.field("valid_to").type) == "date32[day]"
    rows_nl = table.to_pylist()
    assert rows_nl[0]["valid_to"] == date(2024, 10, 26)
    assert rows_nl[1]["valid_from"] == date(2024, 10, 27) and rows_nl[1]["valid_to"] is None
    assert rows_nl[0]["price_eur_per_kwh"] != rows_nl[1]["price_eur_per_kwh"]


def test_later_days_land_change_sets(landing: Path, truth: dict[str, dict[str, Any]]) -> None:
    day = DAYS[1]
    header, rows = read_text_rows(
        landing, path_of("nordgrid", "customers", day, "changes"), "nordgrid"
    )
    assert header[-1] == CHANGE_FIELDS["nordgrid"]
    assert sorted(r[-1] for r in rows) == ["D", "U", "U", "U"]
    changes = truth[day]["master_changes"]["nordgrid"]
    assert [r[0] for r in rows if r[-1] == "D"] == changes["customers_deleted"]
    _, contracts = read_text_rows(
        landing, path_of("nordgrid", "contracts", day, "changes"), "nordgrid"
    )
    assert len(contracts) == 1 and contracts[0][5] == day and contracts[0][-1] == "U"
    assert [contracts[0][0]] == changes["contracts_ended"]
    assert [contracts[0][1]] == changes["customers_deleted"]
    _, tariffs = read_text_rows(landing, path_of("nordgrid", "tariffs", day, "changes"), "nordgrid")
    assert tariffs == []
    assert (landing / path_of("electra", "tariffs", day, "changes")).read_bytes() == b""
    assert pq.read_table(landing / path_of("dutchgrid", "tariffs", day, "changes")).num_rows == 0
    assert truth[DAYS[0]]["master_changes"] == {s: {} for s in EXT}


# -- faults, DST, drift, corrupt file -----------------------------------------------------


def test_every_fault_reason_is_injected_and_counted(truth: dict[str, dict[str, Any]]) -> None:
    for day in DAYS:
        faults = truth[day]["faults_by_reason"]
        assert set(faults) == set(REASON_PRECEDENCE) | {"corrupt_files"}
        for reason in ("duplicate", "superseded", "negative", "implausible", "unknown_meter",
                       "too_late", "future_dated"):
            assert faults[reason] >= 4, (day, reason)  # at least one per system
        assert faults["unparsable"] >= 3  # the three text dialects
    assert truth[DAYS[0]]["late_arrivals"] == 0
    assert truth[DAYS[1]]["late_arrivals"] + truth[DAYS[2]]["late_arrivals"] >= 4
    assert [truth[d]["faults_by_reason"]["corrupt_files"] for d in DAYS] == [[], [CORRUPT], []]


def test_fault_planning_covers_every_kind_once_per_system_and_day() -> None:
    rng = np.random.default_rng(7)
    kinds = applicable_kinds(text_format=False, late_possible=False)
    assert "unparsable" not in kinds and "late" not in kinds
    assert applicable_kinds(text_format=True, late_possible=True) == FAULT_KINDS
    positions, kind_index = plan_faults(rng, 100, 0.01, kinds)
    assert len(positions) == len(kinds) == 7  # the rate would give 1; every kind needs one
    assert sorted(kind_index.tolist()) == list(range(7))
    assert len(set(positions.tolist())) == 7
    assert fault_count(500_000, 0.01, 8) == 5000
    assert fault_count(3, 0.01, 8) == 3
    assert fault_count(1000, 0.0, 8) == 0
    assert REASON_PRECEDENCE[:3] == ("unparsable", "unknown_meter", "too_late")


def test_dst_fall_back_hour_appears_twice_with_both_offsets(
    landing: Path, truth: dict[str, dict[str, Any]]
) -> None:
    lines = (landing / path_of("electra", "readings", DAYS[1])).read_text().splitlines()
    repeated: dict[str, set[str]] = defaultdict(set)
    count = 0
    for line in lines:
        if '"horodatage": "2024-10-27T02:' in line:
            count += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            repeated[record["prm"]].add(record["saison"])
    assert sum(1 for s in repeated.values() if s == {"E", "H"}) >= 55
    assert count == truth[DAYS[1]]["dst_repeated_hour_rows"]["electra"] == 120
    _, rows = read_text_rows(landing, path_of("luxpower", "readings", DAYS[1]), "luxpower")
    offsets: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if len(row) == 6 and row[1] == "27.10.2024" and row[2] == "02:00":
            offsets[row[0]].add(row[3])
    assert sum(1 for s in offsets.values() if s == {"+01:00", "+02:00"}) >= 18
    assert truth[DAYS[1]]["dst_repeated_hour_rows"]["luxpower"] == 40
    assert truth[DAYS[0]]["dst_repeated_hour_rows"] == {"electra": 0, "luxpower": 0}


@pytest.mark.parametrize("zone", ["Europe/Paris", "Europe/Luxembourg", "Europe/Berlin"])
def test_central_european_offsets_match_zoneinfo(zone: str) -> None:
    start = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
    instants = np.arange(start, start + 2 * 366 * 86_400, 1800, dtype=np.int64)
    ours = eutime.utc_offset_seconds(instants)
    tz = ZoneInfo(zone)
    expected = [
        int(datetime.fromtimestamp(int(t), tz).utcoffset().total_seconds())  # type: ignore[union-attr]
        for t in instants[::7]
    ]
    assert ours[::7].tolist() == expected
    assert eutime.fall_back_day(2024) == date(2024, 10, 27)


def test_schema_drift_only_on_the_last_day(landing: Path) -> None:
    for day in DAYS[:2]:
        header, _ = read_text_rows(landing, path_of("nordgrid", "readings", day), "nordgrid")
        assert header == list(READINGS_FIELDS["nordgrid"])
    header, rows = read_text_rows(landing, path_of("nordgrid", "readings", DAYS[2]), "nordgrid")
    assert header == [*READINGS_FIELDS["nordgrid"], DRIFT_FIELD]
    assert {r[5] for r in rows if len(r) == 6} == {"A", "E"}
    for system in ("electra", "luxpower"):  # no drift elsewhere
        first = (landing / path_of(system, "readings", DAYS[2])).read_text().splitlines()[0]
        assert DRIFT_FIELD not in first


def test_corrupt_file_is_truncated_parquet(landing: Path) -> None:
    data = (landing / CORRUPT).read_bytes()
    assert len(data) == 100 and data.startswith(b"PAR1")
    with pytest.raises(pa.ArrowException):
        pq.read_table(landing / CORRUPT)


# -- the truth, recomputed from the landed files ------------------------------------------


@dataclass
class Row:
    landed: date
    system: str
    ean: str | None  # None: unknown meter
    interval: datetime | None  # UTC; None: unparsable
    wh: int | None
    sent: datetime | None
    broken: bool


def load_meter_master(landing: Path, system: str) -> dict[str, tuple[str, str]]:
    """local code -> (canonical EAN, region), from the first day's full export."""
    return {
        code: (ean, region)
        for code, (ean, region, _) in meter_master_as_of(landing, system, DAYS[0]).items()
    }


def _meter_rows(landing: Path, relative: str, system: str) -> list[tuple[str, str, str, str]]:
    """(local code, EAN, region, change marker) of every row of one meters file."""
    if system == "dutchgrid":
        return [(r["ean"], r["ean"], r["region"], r["mutation_type"])
                for r in pq.read_table(landing / relative).to_pylist()]  # fmt: skip
    if system == "electra":
        records = [json.loads(x) for x in (landing / relative).read_text().splitlines()]
        return [(r["prm"], r["ean"], r["region"], r["type_mouvement"]) for r in records]
    _, rows = read_text_rows(landing, relative, system)
    return [(r[0], r[1], r[2], r[-1]) for r in rows]


def meter_master_as_of(
    landing: Path, system: str, day: str
) -> dict[str, tuple[str, str, date | None]]:
    """local code -> (EAN, region, removed on) after every meters file landed up to ``day``:
    full exports and change sets in order; a ``D`` row removes the meter that day, a meter
    absent from a full export is removed by it."""
    master: dict[str, tuple[str, str, date | None]] = {}
    folder = landing / system / "meters"
    for partition in sorted(folder.glob("ingest_date=*")):
        landed = partition.name.split("=")[1]
        if landed > day:
            break
        for file in sorted(partition.iterdir()):
            rows = _meter_rows(landing, file.relative_to(landing).as_posix(), system)
            on = date.fromisoformat(landed)
            if "_full_" in file.name:
                listed = {row[0] for row in rows}
                for code, (ean, region, removed) in list(master.items()):
                    if code not in listed and removed is None:
                        master[code] = (ean, region, on)
            for code, ean, region, change in rows:
                master[code] = (ean, region, on if change == "D" else None)
    return master


def _wh(text: str, decimal_mark: str) -> int | None:
    try:
        return int(Decimal(text.replace(decimal_mark, ".")) * 1000)
    except InvalidOperation:
        return None


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


def parse_readings(landing: Path, system: str, day: str) -> list[Row]:
    landed = date.fromisoformat(day)
    master = meter_master_as_of(landing, system, day)
    rel = path_of(system, "readings", day)
    rows: list[Row] = []

    def add(code: str, interval: datetime | None, wh: int | None, sent: datetime | None,
            broken: bool = False) -> None:
        # a removed meter is known for the readings of the days before its removal
        ean, _, removed = master.get(code, (None, None, None))
        if removed is not None and (interval is None or interval.date() >= removed):
            ean = None
        rows.append(Row(landed, system, ean, interval, wh, sent, broken))

    if system == "dutchgrid":
        for r in pq.read_table(landing / rel).to_pylist():
            add(r["ean"], r["period_start"], round(r["volume_kwh"] * 1000), r["received_at"])
    elif system == "electra":
        paris = ZoneInfo("Europe/Paris")
        for line in (landing / rel).read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                rows.append(Row(landed, system, None, None, None, None, True))
                continue
            local = _strptime(r["horodatage"], "%Y-%m-%dT%H:%M:%S")
            utc = None
            if local is not None:
                utc = local - timedelta(hours=2 if r["saison"] == "E" else 1)
            sent_local = datetime.strptime(r["emis_le"], "%Y-%m-%dT%H:%M:%S")
            sent = sent_local.replace(tzinfo=paris).astimezone(UTC).replace(tzinfo=None)
            wh = r["energie_wh"] if isinstance(r["energie_wh"], int) else None
            add(r["prm"], utc, wh, sent)
    elif system == "nordgrid":
        header, body = read_text_rows(landing, rel, system)
        for r in body:
            if len(r) != len(header):
                rows.append(Row(landed, system, None, None, None, None, True))
                continue
            add(r[0], _strptime(r[1], "%Y-%m-%dT%H:%M:%SZ"), _wh(r[3], "."),
                _strptime(r[4], "%Y-%m-%dT%H:%M:%SZ"))
    else:
        header, body = read_text_rows(landing, rel, system)
        for r in body:
            if len(r) != len(header):
                rows.append(Row(landed, system, None, None, None, None, True))
                continue
            local = _strptime(f"{r[1]} {r[2]}{r[3]}", "%d.%m.%Y %H:%M%z")
            utc = local.astimezone(UTC).replace(tzinfo=None) if local else None
            sent = datetime.strptime(r[5], "%d.%m.%Y %H:%M:%S%z").astimezone(UTC)
            add(r[0], utc, _wh(r[4], ","), sent.replace(tzinfo=None))
    return rows


def classify(rows: list[Row]) -> tuple[list[Row], list[tuple[Row, str]]]:
    """A small reference pipeline: row-level checks in precedence order, then de-duplication."""
    passed: list[Row] = []
    rejected: list[tuple[Row, str]] = []
    for row in rows:
        if row.broken or row.interval is None or row.wh is None:
            reason = "unparsable"
        elif row.ean is None:
            reason = "unknown_meter"
        elif row.interval < datetime.combine(row.landed, datetime.min.time()) - timedelta(days=5):
            reason = "too_late"
        elif row.interval >= datetime.combine(row.landed, datetime.min.time()) + timedelta(days=1):
            reason = "future_dated"
        elif row.wh < 0:
            reason = "negative"
        elif row.wh > 50_000:
            reason = "implausible"
        else:
            passed.append(row)
            continue
        rejected.append((row, reason))
    groups: dict[tuple[str, datetime], list[Row]] = defaultdict(list)
    for row in passed:
        assert row.ean is not None and row.interval is not None
        groups[(row.ean, row.interval)].append(row)
    winners = []
    for group in groups.values():
        latest = max(r.sent for r in group if r.sent is not None)
        top = [r for r in group if r.sent == latest]
        assert len({r.wh for r in top}) == 1
        winners.append(top[0])
        rejected += [(r, "duplicate") for r in top[1:]]
        rejected += [(r, "superseded") for r in group if r.sent != latest]
    return winners, rejected


def test_truth_matches_an_independent_recomputation(
    landing: Path, truth: dict[str, dict[str, Any]]
) -> None:
    rows = [r for day in DAYS for system in EXT for r in parse_readings(landing, system, day)]
    winners, rejected = classify(rows)
    regions = {
        ean: region
        for system in EXT
        for ean, region in load_meter_master(landing, system).values()
    }
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    by_meter: dict[str, Counter[str]] = defaultdict(Counter)
    for row in winners:
        assert row.ean is not None and row.interval is not None and row.wh is not None
        by_region[row.interval.date().isoformat()][regions[row.ean]] += row.wh
        by_meter[row.interval.date().isoformat()][row.ean] += row.wh
    for day in DAYS:
        expected = {region: round(by_region[day][region] / 1000, 3) for region in ALL_REGIONS}
        assert truth[day]["consumption_kwh_by_region"] == expected
        assert truth[day]["consumption_kwh_by_meter"] == {
            ean: round(wh / 1000, 3) for ean, wh in by_meter[day].items()
        }
        assert truth[day]["valid_readings"] == sum(
            1 for r in winners if r.interval is not None and r.interval.date().isoformat() == day
        )
        landed = date.fromisoformat(day)
        reasons = Counter(reason for row, reason in rejected if row.landed == landed)
        faults = truth[day]["faults_by_reason"]
        assert {k: faults[k] for k in REASON_PRECEDENCE} == {
            k: reasons.get(k, 0) for k in REASON_PRECEDENCE
        }
        late = sum(
            1 for r in winners
            if r.landed == landed and r.interval is not None and r.interval.date() < landed
        )
        assert truth[day]["late_arrivals"] == late
        for system in EXT:
            assert truth[day]["rows_landed"][system]["readings"] == sum(
                1 for r in rows if r.landed == landed and r.system == system
            )
    # a concrete anchor, so a silent change of the generator is noticed
    assert truth[DAYS[0]]["consumption_kwh_by_region"]["DE-01"] == pytest.approx(
        by_region[DAYS[0]]["DE-01"] / 1000
    )
    assert truth[DAYS[1]]["valid_readings"] == 4763


def test_truth_file_is_sorted_and_free_of_wall_clock(landing: Path) -> None:
    text = (landing / "_truth" / f"{DAYS[0]}.json").read_text()
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2) + "\n"
    assert data["parameters"] == {  # the world's, not one run's (no "days")
        "fault_rate": 0.01, "meters": 200, "readings_per_day": 4800, "seed": 42,
        "start": "2024-10-26",
    }


def test_large_runs_skip_per_meter_truth_and_readings_subset(tmp_path: Path) -> None:
    generate(GenerateParams(meters=1200, days=1, readings_per_day=2400, fault_rate=0.0), tmp_path)
    data = json.loads((tmp_path / "_truth" / "2024-10-26.json").read_text())
    assert "consumption_kwh_by_meter" not in data
    assert data["valid_readings"] == 2400
    assert sum(v["readings"] for v in data["rows_landed"].values()) == 2400
    assert all(v == 0 for k, v in data["faults_by_reason"].items() if k != "corrupt_files")
    assert data["faults_by_reason"]["corrupt_files"] == []  # world day 1, 11, 21, ...
    grid = ReadingGrid.build(1200, 2400)  # 100 meters reporting all 24 hours
    assert len(set(grid.global_idx.tolist())) == 100
    assert Counter(grid.hour.tolist()) == dict.fromkeys(range(24), 100)


# -- arguments and the CLI ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (GenerateParams(meters=5), "--meters 5"),
        (GenerateParams(days=0), "--days 0"),
        (GenerateParams(meters=10, readings_per_day=241), "--readings-per-day 241"),
        (GenerateParams(fault_rate=0.9), "--fault-rate 0.9"),
        (GenerateParams(seed=-1), "--seed -1"),
    ],
)
def test_bad_parameters_are_usage_errors(params: GenerateParams, fragment: str) -> None:
    with pytest.raises(UsageError, match=re.escape(fragment)):
        params.validate()


def test_cli_generate_writes_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "lz"
    code = main(["landing", "generate", "--meters", "20", "--days", "2", "--seed", "3",
                 "--out", str(out)])
    assert code == 0
    stdout = capsys.readouterr().out
    assert f"generated 2 day(s) from 2024-10-26 into {out}" in stdout
    assert (out / "_truth" / "2024-10-27.json").is_file()
    assert (out / path_of("luxpower", "readings", "2024-10-27")).is_file()


def test_cli_generate_defaults_to_the_lakehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    assert main(["landing", "generate", "--meters", "10", "--days", "1"]) == 0
    assert (tmp_path / "lh" / "landing" / "_truth" / "2024-10-26.json").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--meters", "3"], "platform-tools: error: --meters 3 is out of range"),
        (["--meters", "10", "--readings-per-day", "9999"], "--readings-per-day 9999"),
        (["--start", "2024-13-01"], "is not a date YYYY-MM-DD"),
        (["--fault-rate", "x"], "invalid float value"),
    ],
)
def test_cli_generate_rejects_bad_arguments_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = main(["landing", "generate", "--out", str(tmp_path / "x"), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert not (tmp_path / "x").exists()
    if "platform-tools: error: --" in message:
        assert err.count("\n") == 1


def test_cli_generate_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["landing", "generate", "--meters", "10", "--out", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"platform-tools: error: --out {target} is a file; give a directory\n"
    )


def test_cli_help_texts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["landing", "generate", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--meters", "--days", "--start", "--seed", "--readings-per-day",
                   "--fault-rate", "--out", "--continue", "--new-world", "day by day"):
        assert option in text
    assert main(["landing", "stage", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--landing" in text and "--staging" in text and "_manifest/manifest.parquet" in text


# -- a world that goes on -----------------------------------------------------------------

LIFE = GenerateParams(meters=40, days=10, seed=11)


def _life_day(index: int) -> str:
    return (LIFE.start + timedelta(days=index)).isoformat()


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("life")
    generate(LIFE, out)
    return out


def test_a_world_continued_day_by_day_equals_the_world_landed_at_once(
    life: Path, tmp_path: Path
) -> None:
    daily = tmp_path / "daily"
    generate(replace(LIFE, days=3), daily)
    for _ in range(7):
        assert main(["landing", "generate", "--continue", "--out", str(daily)]) == 0
    assert tree_hashes(daily) == tree_hashes(life)
    world = json.loads((life / "_world.json").read_text())
    assert world["days"] == 10 and world["seed"] == 11 and world["start"] == _life_day(0)


def test_a_ten_day_life_holds_every_source_behaviour(life: Path, tmp_path: Path) -> None:
    truth = {
        _life_day(i): json.loads((life / "_truth" / f"{_life_day(i)}.json").read_text())
        for i in range(10)
    }
    # a weekly full export of every master entity of every system (world day 7)
    for system in EXT:
        for entity in ("meters", "customers", "contracts", "tariffs"):
            assert (life / path_of(system, entity, _life_day(7), "full")).is_file()
    changes = {day: t["master_changes"] for day, t in truth.items()}
    for system in EXT:
        assert len(changes[_life_day(3)][system]["tariff_rows_changed"]) == 2  # price change
        assert len(changes[_life_day(5)][system]["tariff_rows_corrected"]) == 1  # retroactive
        assert changes[_life_day(4)][system]["contracts_started"]  # a move-in
        assert changes[_life_day(4)][system]["customers_new"]
        assert len(changes[_life_day(2)][system]["customers_erased"]) == 1  # GDPR request
        assert any(changes[_life_day(i)][system]["contracts_ended"] for i in range(1, 10))
    # the electra customer change set of day 6 lands two days late, into its own partition;
    # nordgrid's readings of day 7 are backfilled two days later; dutchgrid's readings of
    # day 8 are re-delivered under another name the next day
    late_master = path_of("electra", "customers", _life_day(6), "changes")
    backfill = f"nordgrid/readings/ingest_date={_life_day(7)}/readings_{_life_day(7)}.csv"
    resend = (
        f"dutchgrid/readings/ingest_date={_life_day(8)}/readings_{_life_day(8)}_resend.parquet"
    )
    short = tmp_path / "short"
    generate(replace(LIFE, days=8), short)
    assert not (short / late_master).exists() and (life / late_master).is_file()
    assert not (short / backfill).exists() and (life / backfill).is_file()
    assert (life / resend).is_file()
    short_truth = json.loads((short / "_truth" / f"{_life_day(7)}.json").read_text())
    assert short_truth["rows_landed"]["nordgrid"]["readings"] == 0  # not landed yet
    assert truth[_life_day(7)]["rows_landed"]["nordgrid"]["readings"] > 0
    assert truth[_life_day(8)]["faults_by_reason"]["duplicate"] > len(
        pq.read_table(life / resend)
    ) // 2  # every valid row of the copy is a duplicate
    # billing truth: amounts per country and period, at the corrected prices
    billing = json.loads((life / "_truth" / "billing.json").read_text())
    assert set(billing["amount_eur_by_country_and_period"]) == {"DE", "FR", "NL", "LU"}
    assert billing["parameters"]["days"] == 10


def test_a_breaking_rename_lands_one_day_and_the_source_fixes_it_the_next(
    life: Path, tmp_path: Path
) -> None:
    day = _life_day(3)
    relative = path_of("luxpower", "readings", day)
    broken = tmp_path / "broken"
    generate(replace(LIFE, days=4), broken)  # the world's last day is the break day
    header = (broken / relative).read_text(encoding="utf-8").splitlines()[0].split(";")
    assert "Verbrauch" in header and "Verbrauch_kWh" not in header
    truth = json.loads((broken / "_truth" / f"{day}.json").read_text())
    assert truth["schema_breaks"] == [relative]
    assert truth["rows_landed"]["luxpower"]["readings"] == 0  # nothing counts until fixed
    # the next day the source re-delivers the same path fixed: continued or landed at once
    assert main(["landing", "generate", "--continue", "--out", str(broken)]) == ExitCode.OK
    for landing in (broken, life):
        header = (landing / relative).read_text(encoding="utf-8").splitlines()[0].split(";")
        assert "Verbrauch_kWh" in header and "Verbrauch" not in header
        truth = json.loads((landing / "_truth" / f"{day}.json").read_text())
        assert truth["schema_breaks"] == [] and truth["rows_landed"]["luxpower"]["readings"] > 0
    assert (broken / relative).read_bytes() == (life / relative).read_bytes()


def test_a_replaced_meter_hands_its_supply_point_to_a_new_meter(life: Path) -> None:
    day = _life_day(6)
    before, after = _life_day(5), _life_day(6)
    for system in EXT:
        changes = json.loads((life / "_truth" / f"{day}.json").read_text())["master_changes"]
        removed, installed = changes[system]["meters_removed"], changes[system]["meters_installed"]
        assert len(removed) == 1 and len(installed) == 1 and removed != installed
        old, new = removed[0], installed[0]
        rows = _meter_rows(life, path_of(system, "meters", day, "changes"), system)
        markers = {code: change for code, _, _, change in rows}
        assert markers[old] == "D" and markers[new] == "U"
        region = {code: region for code, _, region, _ in rows}
        assert region[old] == region[new]  # the same supply point, so the same region
        # the new meter reports from that day on, the old one until the day before
        def reporting(landed: str, system: str = system) -> set[str | None]:
            return {
                r.ean for r in parse_readings(life, system, landed)
                if r.interval is not None and r.interval.date().isoformat() == landed
            }

        reported_before, reported_after = reporting(before), reporting(after)
        ean_old = meter_master_as_of(life, system, before)[old][0]
        ean_new = meter_master_as_of(life, system, after)[new][0]
        assert ean_new not in reported_before and ean_new in reported_after
        assert ean_old in reported_before and ean_old not in reported_after
        # the next full export no longer lists the old meter
        master = meter_master_as_of(life, system, _life_day(7))
        assert master[old][2] == date.fromisoformat(day) and master[new][2] is None


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--seed", "12"], "holds another world"),
        (["--seed", "11", "--meters", "40", "--start", "2024-11-20"], "outside the world"),
        (["--continue", "--seed", "12"], "--seed 12 differs from the world"),
        (["--continue", "--start", "2024-11-20"], "drop --start"),
    ],
)
def test_cli_generate_guards_an_existing_world(
    life: Path, argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["landing", "generate", *argv, "--out", str(life)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_cli_generate_continue_needs_a_world(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["landing", "generate", "--continue", "--out", str(tmp_path)]) == ExitCode.USAGE
    assert "holds no world" in capsys.readouterr().err


def test_the_truth_of_a_life_matches_an_independent_recomputation(life: Path) -> None:
    # every readings file of the ten days (late, backfilled and corrected readings included;
    # the re-delivered copy only adds losers) classified independently of the generator
    days = [_life_day(i) for i in range(10)]
    rows = [r for day in days for system in EXT for r in parse_readings(life, system, day)]
    winners, rejected = classify(rows)
    regions = {
        ean: region
        for system in EXT
        for ean, region, _ in meter_master_as_of(life, system, days[-1]).values()
    }
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for row in winners:
        assert row.ean is not None and row.interval is not None and row.wh is not None
        by_region[row.interval.date().isoformat()][regions[row.ean]] += row.wh
    for day in days:
        truth = json.loads((life / "_truth" / f"{day}.json").read_text())
        expected = {region: round(by_region[day][region] / 1000, 3) for region in ALL_REGIONS}
        assert truth["consumption_kwh_by_region"] == expected, day
    # the readings of day 7 that day 9 corrected: superseded in their own batch
    superseded_7 = sum(
        1 for row, reason in rejected
        if reason == "superseded" and row.landed.isoformat() == days[7]
    )
    truth_7 = json.loads((life / "_truth" / f"{days[7]}.json").read_text())
    assert truth_7["faults_by_reason"]["superseded"] == superseded_7
    corrected = [
        r for r in winners
        if r.landed.isoformat() == days[9] and r.interval is not None
        and r.interval.date().isoformat() == days[7]
    ]
    replaced = {
        (row.ean, row.interval) for row, reason in rejected
        if reason == "superseded" and row.landed.isoformat() == days[7]
    }
    # two readings per system corrected two days later, each replacing its day-7 original
    assert len([r for r in corrected if (r.ean, r.interval) in replaced]) == 2 * len(EXT)
