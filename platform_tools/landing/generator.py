"""Deterministic landing-zone generator: four source systems, faults included, plus the truth.

Layout: ``<out>/<system>/<entity>/ingest_date=YYYY-MM-DD/<file>`` and
``<out>/_truth/YYYY-MM-DD.json``. The same arguments give byte-identical files: every value
derives from the seed through fixed random streams (numpy ``SeedSequence``), nothing reads
the clock, Parquet uses fixed writer settings, and every file is written atomically (temp
file + rename), so regenerating over an existing output rewrites identical bytes. The
generator never deletes: files of an earlier run with other arguments stay, so generate into
an empty directory when the arguments change.

Per generated day ``d`` (UTC):

* ``<system>/readings/ingest_date=d/readings_d.<ext>``: hourly readings whose intervals start
  on ``d`` (see :mod:`.readings`), with faults (see :mod:`.faults`), followed by the late
  arrivals of earlier days that land on ``d``;
* master data (see :mod:`.master`): ``<entity>_full_d.<ext>`` on the first day,
  ``<entity>_changes_d.<ext>`` after (an empty change set is a header-only CSV, an empty
  JSON-lines file or a zero-row Parquet file);
* on the second generated day (the first when only one day is generated) an extra corrupt
  file ``dutchgrid/readings/ingest_date=d/readings_d_retry.parquet``: the first 100 bytes of
  that day's Parquet readings file;
* on the last generated day nordgrid readings gain the trailing column ``quality_flag``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np

from platform_tools.errors import UsageError
from platform_tools.landing.arrowtext import atomic_write_bytes
from platform_tools.landing.defaults import (  # re-exported for callers
    DEFAULT_DAYS,
    DEFAULT_FAULT_RATE,
    DEFAULT_METERS,
    DEFAULT_SEED,
    DEFAULT_START,
)
from platform_tools.landing.formats import (
    DIALECTS,
    MASTER_ENTITIES,
    SYSTEMS,
    ReadingRows,
)
from platform_tools.landing.master import MeterLayout, SystemMaster
from platform_tools.landing.readings import (
    ReadingGrid,
    base_readings,
    inject_faults,
    meter_base_wh,
)
from platform_tools.landing.truth import (
    MAX_METERS_FOR_PER_METER_TRUTH,
    TRUTH_DIR,
    DayTruth,
    truth_file_name,
)

MIN_METERS: Final[int] = 10
MAX_METERS: Final[int] = 50_000_000
MAX_DAYS: Final[int] = 366
CORRUPT_FILE_BYTES: Final[int] = 100
DRIFT_SYSTEM: Final[str] = "nordgrid"
CORRUPT_SYSTEM: Final[str] = "dutchgrid"


@dataclass(frozen=True)
class GenerateParams:
    """The generator's arguments (``readings_per_day=None`` means 24 x meters)."""

    meters: int = DEFAULT_METERS
    days: int = DEFAULT_DAYS
    start: date = DEFAULT_START
    seed: int = DEFAULT_SEED
    readings_per_day: int | None = None
    fault_rate: float = DEFAULT_FAULT_RATE

    @property
    def readings(self) -> int:
        return self.readings_per_day if self.readings_per_day is not None else 24 * self.meters

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def validate(self) -> None:
        if not MIN_METERS <= self.meters <= MAX_METERS:
            raise UsageError(
                f"--meters {self.meters} is out of range; use {MIN_METERS}..{MAX_METERS:,} "
                "(every system needs at least one meter)"
            )
        if not 1 <= self.days <= MAX_DAYS:
            raise UsageError(f"--days {self.days} is out of range; use 1..{MAX_DAYS}")
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"--seed {self.seed} is out of range; use 0..2**63-1")
        if not 1 <= self.readings <= 24 * self.meters:
            raise UsageError(
                f"--readings-per-day {self.readings} is out of range; use 1..{24 * self.meters} "
                "(hourly readings: at most 24 per meter and day)"
            )
        if not 0.0 <= self.fault_rate <= 0.5:
            raise UsageError(f"--fault-rate {self.fault_rate} is out of range; use 0..0.5")
        if not 1990 <= self.start.year <= 2100 - 2:
            raise UsageError(f"--start {self.start} is out of range; use a date in 1990..2098")

    def as_json(self) -> dict[str, Any]:
        return {
            "meters": self.meters,
            "days": self.days,
            "start": self.start.isoformat(),
            "seed": self.seed,
            "readings_per_day": self.readings,
            "fault_rate": self.fault_rate,
        }


@dataclass(frozen=True)
class GenerateSummary:
    out: Path
    dates: tuple[str, ...]
    files: int
    rows: int
    bytes: int
    corrupt_files: tuple[str, ...]

    @property
    def truth_dir(self) -> Path:
        return self.out / TRUTH_DIR


def corrupt_day_index(days: int) -> int:
    """The generated day that gets the corrupt dutchgrid file."""
    return min(1, days - 1)


def drift_day_index(days: int) -> int:
    """The first generated day whose nordgrid readings carry ``quality_flag``."""
    return days - 1


def partition(system: str, entity: str, day: date) -> str:
    return f"{system}/{entity}/ingest_date={day.isoformat()}"


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.files = 0
        self.bytes = 0

    def write(self, relative: str, data: bytes) -> None:
        atomic_write_bytes(self.out / relative, data)
        self.files += 1
        self.bytes += len(data)


def _describe_changes(master: SystemMaster, day_index: int) -> dict[str, list[str]]:
    dialect = DIALECTS[master.spec.name]
    plan = master.changes_on(day_index)

    def ids(values: Any) -> list[str]:
        return [str(v) for v in values.to_pylist()]

    return {
        "customers_moved": ids(dialect.customer_ids(plan.moved_customers)),
        "customers_resegmented": ids(dialect.customer_ids(plan.segment_changed_customers)),
        "customers_deleted": ids(dialect.customer_ids(plan.deleted_customers)),
        "contracts_ended": ids(dialect.contract_ids(plan.ended_contracts)),
        "meters_changed": ids(dialect.meter_codes(plan.changed_meters)),
    }


def generate(params: GenerateParams, out: Path) -> GenerateSummary:
    """Write the landing zone and the truth files for ``params`` under ``out``."""
    params.validate()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    layout = MeterLayout.from_total(params.meters)
    masters = {
        spec.name: SystemMaster(
            spec, layout.count(spec), params.seed, params.start, params.days
        )
        for spec in SYSTEMS
    }
    per_meter = params.meters <= MAX_METERS_FOR_PER_METER_TRUTH
    eans = {
        spec.name: (
            DIALECTS[spec.name].meter_ean(np.arange(layout.count(spec), dtype=np.int64))
            .to_pylist()
            if per_meter
            else []
        )
        for spec in SYSTEMS
    }
    grid = ReadingGrid.build(params.meters, params.readings)
    base_wh = meter_base_wh(params.seed, grid.global_idx)
    writer = _Writer(out)
    pending: dict[int, dict[str, list[ReadingRows]]] = defaultdict(lambda: defaultdict(list))
    rows_total = 0
    corrupt: list[str] = []

    for i, day in enumerate(params.dates):
        truth = DayTruth(ingest_date=day, parameters=params.as_json(), per_meter=per_meter)
        for spec in SYSTEMS:
            dialect = DIALECTS[spec.name]
            master = masters[spec.name]
            for entity in MASTER_ENTITIES:
                table = master.full_export(entity) if i == 0 else master.change_set(entity, i, day)
                name = dialect.file_name(entity, day.isoformat(), full_export=i == 0)
                writer.write(
                    f"{partition(spec.name, entity, day)}/{name}",
                    dialect.encode_master(entity, table),
                )
                truth.rows_landed[spec.name][entity] = table.num_rows
                rows_total += table.num_rows
            truth.master_changes[spec.name] = (
                _describe_changes(master, i) if i > 0 else {}
            )

        clean = base_readings(params.seed, layout, grid, base_wh, day)
        for spec in SYSTEMS:
            dialect = DIALECTS[spec.name]
            master = masters[spec.name]
            faulted = inject_faults(
                spec,
                clean[spec.name],
                seed=params.seed,
                day=day,
                days_after=params.days - 1 - i,
                fault_rate=params.fault_rate,
            )
            for delay, late_rows in faulted.late.items():
                pending[i + delay][spec.name].append(late_rows)
            landed = ReadingRows.concat([faulted.own, *pending[i].pop(spec.name, [])])
            drift = spec.name == DRIFT_SYSTEM and i >= drift_day_index(params.days)
            folder = partition(spec.name, "readings", day)
            data = dialect.encode_readings(landed, drift=drift)
            writer.write(f"{folder}/{dialect.file_name('readings', day.isoformat(), False)}", data)
            rows_total += len(landed)
            truth.add_landed_readings(spec.name, landed)
            truth.add_consumption(
                faulted.valid_rows(),
                list(spec.regions),
                master.region_idx,
                eans[spec.name],
            )
            if spec.name == CORRUPT_SYSTEM and i == corrupt_day_index(params.days):
                relative = f"{folder}/readings_{day.isoformat()}_retry.{spec.extension}"
                writer.write(relative, data[: min(CORRUPT_FILE_BYTES, len(data) // 2)])
                truth.corrupt_files.append(relative)
                corrupt.append(relative)
        pending.pop(i, None)
        writer.write(f"{TRUTH_DIR}/{truth_file_name(day)}", truth.encode())

    return GenerateSummary(
        out=out,
        dates=tuple(d.isoformat() for d in params.dates),
        files=writer.files,
        rows=rows_total,
        bytes=writer.bytes,
        corrupt_files=tuple(corrupt),
    )
