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

import json
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
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
from platform_tools.landing.dialects import (
    DIALECTS,
    MASTER_ENTITIES,
    SYSTEMS,
    ReadingRows,
    SystemSpec,
)
from platform_tools.landing.faults import LABEL, MAX_LATE_DAYS, VALID
from platform_tools.landing.master import (
    CYCLE_BACKFILL,
    CYCLE_CORRUPT_FILE,
    CYCLE_LATE_MASTER_FILE,
    CYCLE_READING_CORRECTION,
    CYCLE_REDELIVERY,
    CYCLE_SCHEMA_BREAK,
    FULL_EXPORT_EVERY_DAYS,
    LIFE_CYCLE_DAYS,
    STREAM_CORRECTIONS,
    TARIFFS,
    MeterLayout,
    SystemMaster,
    TariffRow,
    epoch_day,
    rng_for,
)
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
from platform_tools.progress import NoProgress, Progress

MIN_METERS: Final[int] = 10
MAX_METERS: Final[int] = 50_000_000
MAX_DAYS: Final[int] = 366
CORRUPT_FILE_BYTES: Final[int] = 100
DRIFT_SYSTEM: Final[str] = "nordgrid"
DRIFT_FROM_DAY: Final[int] = 2
CORRUPT_SYSTEM: Final[str] = "dutchgrid"
LATE_MASTER_SYSTEM, LATE_MASTER_ENTITY = "electra", "customers"
BACKFILL_SYSTEM: Final[str] = "nordgrid"
REDELIVERY_SYSTEM: Final[str] = "dutchgrid"
# a breaking rename: luxpower's readings file of a schema-break day lands with a renamed
# column, and the source re-delivers it fixed (same path) the next day
SCHEMA_BREAK_SYSTEM: Final[str] = "luxpower"
SCHEMA_BREAK_RENAME: Final[dict[str, str]] = {"Verbrauch_kWh": "Verbrauch"}
DELIVERY_DELAY_DAYS: Final[int] = 2
CORRECTED_READINGS: Final[int] = 2
"""Per system, how many readings a correction day re-sends for the day two days earlier."""
"""How many days after its own day a late master file or a backfilled readings file lands
(a re-delivered copy lands one day after the original)."""
TRUTH_REWRITE_DAYS: Final[int] = MAX_LATE_DAYS + DELIVERY_DELAY_DAYS
"""A file landing on day ``t`` can change the truth of days from ``t - TRUTH_REWRITE_DAYS``."""
WORLD_FILE: Final[str] = "_world.json"
BILLING_TRUTH_FILE: Final[str] = "billing.json"


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

    def world_json(self) -> dict[str, Any]:
        """What identifies the world (everything but the days generated in one run)."""
        return {
            "meters": self.meters,
            "start": self.start.isoformat(),
            "seed": self.seed,
            "readings_per_day": self.readings,
            "fault_rate": self.fault_rate,
        }


@dataclass(frozen=True)
class World:
    """A landing zone's world (``<out>/_world.json``): its parameters and its days so far."""

    params: GenerateParams  # start = the world's first day; days = the days generated so far

    @classmethod
    def read(cls, out: Path) -> World | None:
        path = out / WORLD_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            params = GenerateParams(
                meters=int(data["meters"]),
                days=int(data["days"]),
                start=date.fromisoformat(data["start"]),
                seed=int(data["seed"]),
                readings_per_day=int(data["readings_per_day"]),
                fault_rate=float(data["fault_rate"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path} is not a world file ({exc}); remove it to start a new world there"
            ) from None
        return cls(params)

    def encode(self) -> bytes:
        data = {**self.params.world_json(), "days": self.params.days}
        return (json.dumps(data, sort_keys=True, indent=2) + "\n").encode("utf-8")

    @property
    def next_day(self) -> date:
        return self.params.start + timedelta(days=self.params.days)


def continuation(out: Path, days: int) -> GenerateParams:
    """The next ``days`` days of the world in ``out``."""
    world = World.read(out)
    if world is None:
        raise UsageError(
            f"--continue: {out} holds no world ({WORLD_FILE} missing); "
            "generate one first (without --continue)"
        )
    return replace(world.params, start=world.next_day, days=days)


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


def partition(system: str, entity: str, day: date) -> str:
    return f"{system}/{entity}/ingest_date={day.isoformat()}"


def is_full_export_day(day_index: int) -> bool:
    return day_index % FULL_EXPORT_EVERY_DAYS == 0


def cycle_of(day_index: int) -> int:
    return day_index % LIFE_CYCLE_DAYS


def master_delivery_delay(system: str, entity: str, day_index: int) -> int:
    late = (system, entity) == (LATE_MASTER_SYSTEM, LATE_MASTER_ENTITY)
    return DELIVERY_DELAY_DAYS if late and cycle_of(day_index) == CYCLE_LATE_MASTER_FILE else 0


def readings_delivery_delay(system: str, day_index: int) -> int:
    backfill = system == BACKFILL_SYSTEM and cycle_of(day_index) == CYCLE_BACKFILL
    return DELIVERY_DELAY_DAYS if backfill else 0


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

    def rows(tariffs: tuple[TariffRow, ...]) -> list[str]:
        epoch = date(1970, 1, 1)
        return [f"{r.code}|{(epoch + timedelta(days=r.valid_from)).isoformat()}" for r in tariffs]

    return {
        "customers_moved": ids(dialect.customer_ids(plan.moved_customers)),
        "customers_resegmented": ids(dialect.customer_ids(plan.segment_changed_customers)),
        "customers_deleted": ids(dialect.customer_ids(plan.deleted_customers)),
        "customers_erased": ids(dialect.customer_ids(plan.erased_customers)),
        "customers_new": ids(dialect.customer_ids(plan.new_customers)),
        "contracts_ended": ids(dialect.contract_ids(plan.ended_contracts)),
        "contracts_started": ids(dialect.contract_ids(plan.started_contracts)),
        "meters_changed": ids(dialect.meter_codes(plan.changed_meters)),
        "meters_removed": ids(dialect.meter_codes(plan.removed_meters)),
        "meters_installed": ids(dialect.meter_codes(plan.installed_meters)),
        "tariff_rows_changed": rows(plan.tariff_rows),
        "tariff_rows_corrected": rows(plan.corrected_tariff_rows),
    }


def redelivered_copy(rows: ReadingRows) -> ReadingRows:
    """The truth labels of a second copy of a readings file: a row-level fault stays what it
    is, a valid row or a duplicate becomes a ``duplicate`` and a superseded row stays
    superseded (the copy loses every tie to the original)."""
    label = rows.label.copy()
    label[(label == VALID) | (label == LABEL["duplicate"])] = LABEL["duplicate"]
    return ReadingRows(
        rows.code,
        rows.meter_idx,
        rows.interval_start,
        rows.value_wh,
        rows.sent_at,
        label,
        rows.variant,
    )


class _Run:
    """One generator run: simulate the world from its first day, write what lands in range."""

    def __init__(
        self, world: GenerateParams, first: int, end: int, known_days: int, out: Path
    ) -> None:
        self.world = world
        self.first, self.end = first, end  # write files landing on world days [first, end)
        self.horizon = max(end, known_days)  # the truth knows every day landed so far
        self.truth_from = max(0, first - TRUTH_REWRITE_DAYS)
        self.readings_from = max(0, self.truth_from - MAX_LATE_DAYS)
        self.out = out
        self.writer = _Writer(out)
        self.rows = 0
        self.corrupt: list[str] = []
        layout = MeterLayout.from_total(world.meters)
        self.layout = layout
        self.masters = {
            spec.name: SystemMaster(spec, layout.count(spec), world.seed, world.start)
            for spec in SYSTEMS
        }
        self.per_meter = world.meters <= MAX_METERS_FOR_PER_METER_TRUTH
        self._eans: dict[str, list[str]] = {spec.name: [] for spec in SYSTEMS}
        self.truths: dict[int, DayTruth] = {}

    def eans(self, spec: SystemSpec) -> list[str]:
        """Per meter index, its EAN (for the per-meter truth; replacements add meters)."""
        known = self._eans[spec.name]
        total = self.masters[spec.name].n_meters
        if self.per_meter and len(known) < total:
            new = np.arange(len(known), total, dtype=np.int64)
            known.extend(DIALECTS[spec.name].meter_ean(new).to_pylist())
        return known

    def day(self, index: int) -> date:
        return self.world.start + timedelta(days=index)

    def truth(self, index: int) -> DayTruth | None:
        if index < self.truth_from or index >= self.horizon:
            return None
        if index not in self.truths:
            self.truths[index] = DayTruth(
                ingest_date=self.day(index),
                parameters=self.world.world_json(),
                per_meter=self.per_meter,
            )
        return self.truths[index]

    def land(self, relative: str, data: bytes, delivered: int, rows: int) -> bool:
        """Write a file landing on world day ``delivered`` when in range; True if it has
        landed by the horizon (so the truth counts it)."""
        if self.first <= delivered < self.end:
            self.writer.write(relative, data)
            self.rows += rows
        return delivered < self.horizon

    def master_files(self, i: int) -> None:
        truth = self.truth(i)
        day = self.day(i)
        full = is_full_export_day(i)
        for spec in SYSTEMS:
            dialect = DIALECTS[spec.name]
            master = self.masters[spec.name]
            for entity in MASTER_ENTITIES:
                delivered = i + master_delivery_delay(spec.name, entity, i)
                if not (self.first <= delivered < self.end or truth is not None):
                    continue
                table = master.full_export(entity) if full else master.change_set(entity, i)
                name = dialect.file_name(entity, day.isoformat(), full_export=full)
                landed = self.land(
                    f"{partition(spec.name, entity, day)}/{name}",
                    dialect.encode_master(entity, table),
                    delivered,
                    table.num_rows,
                )
                if truth is not None and landed:
                    truth.rows_landed[spec.name][entity] = table.num_rows
            if truth is not None:
                truth.master_changes[spec.name] = _describe_changes(master, i) if i else {}

    def readings_file(
        self, spec: SystemSpec, i: int, relative: str, rows: ReadingRows, delivered: int
    ) -> None:
        dialect = DIALECTS[spec.name]
        drift = spec.name == DRIFT_SYSTEM and i >= DRIFT_FROM_DAY
        data = dialect.encode_readings(rows, drift=drift)
        truth = self.truth(i)
        if spec.name == SCHEMA_BREAK_SYSTEM and cycle_of(i) == CYCLE_SCHEMA_BREAK:
            broken = dialect.encode_readings(rows, drift=drift, renamed=SCHEMA_BREAK_RENAME)
            self.land(relative, broken, delivered, 0)
            delivered += 1  # the fixed file replaces it the next day
            if truth is not None and delivered >= self.horizon:
                truth.schema_breaks.append(relative)
        if not self.land(relative, data, delivered, len(rows)):
            return
        if truth is not None:
            truth.add_landed_readings(spec.name, rows)
        master = self.masters[spec.name]
        valid = rows.take(np.flatnonzero(rows.label == VALID))
        reading_day = valid.interval_start // 86_400
        for epoch in np.unique(reading_day).tolist():
            target = self.truth(epoch - epoch_day(self.world.start))
            if target is None:
                continue
            part = valid.take(np.flatnonzero(reading_day == epoch))
            target.add_consumption(
                part, list(spec.regions), master.region_idx, self.eans(spec)
            )
            target.add_billable(
                spec.name,
                part,
                [t.code for t in TARIFFS[spec.name]],
                master.tariff_of_meters_on(epoch),
            )
        if spec.name == CORRUPT_SYSTEM and cycle_of(i) == CYCLE_CORRUPT_FILE:
            folder = partition(spec.name, "readings", self.day(i))
            corrupt = f"{folder}/readings_{self.day(i).isoformat()}_retry.{spec.extension}"
            if self.land(corrupt, data[: min(CORRUPT_FILE_BYTES, len(data) // 2)], i, 0):
                if truth is not None:
                    truth.corrupt_files.append(corrupt)
                if self.first <= i < self.end:
                    self.corrupt.append(corrupt)

    def run(self, progress: Progress) -> None:
        progress.start(self.horizon, "generating", "day")
        try:
            self._run(progress)
        finally:
            progress.close()

    def _run(self, progress: Progress) -> None:
        grid = ReadingGrid.build(self.world.meters, self.world.readings)
        base_wh = meter_base_wh(self.world.seed, grid.global_idx)
        pending: dict[int, dict[str, list[ReadingRows]]] = defaultdict(lambda: defaultdict(list))
        for i in range(self.horizon):
            progress.advance()
            if i:
                for master in self.masters.values():
                    master.advance(i)
            self.master_files(i)
            if i < self.readings_from:
                continue
            day = self.day(i)
            meters = {name: master.meter_of_supply for name, master in self.masters.items()}
            clean = base_readings(self.world.seed, self.layout, grid, base_wh, day, meters)
            for spec in SYSTEMS:
                faulted = inject_faults(
                    spec,
                    clean[spec.name],
                    seed=self.world.seed,
                    day=day,
                    fault_rate=self.world.fault_rate,
                )
                for delay, late_rows in faulted.late.items():
                    pending[i + delay][spec.name].append(late_rows)
                corrections = self.corrections(spec, i, faulted.own)
                if corrections is not None:
                    pending[i + DELIVERY_DELAY_DAYS][spec.name].append(corrections)
                landed = ReadingRows.concat([faulted.own, *pending[i].pop(spec.name, [])])
                folder = partition(spec.name, "readings", day)
                name = DIALECTS[spec.name].file_name("readings", day.isoformat(), False)
                delivered = i + readings_delivery_delay(spec.name, i)
                self.readings_file(spec, i, f"{folder}/{name}", landed, delivered)
                if spec.name == REDELIVERY_SYSTEM and cycle_of(i) == CYCLE_REDELIVERY:
                    copy = f"{folder}/readings_{day.isoformat()}_resend.{spec.extension}"
                    self.readings_file(spec, i, copy, redelivered_copy(landed), i + 1)
            pending.pop(i, None)
        for _index, truth in sorted(self.truths.items()):
            self.writer.write(f"{TRUTH_DIR}/{truth_file_name(truth.ingest_date)}", truth.encode())
        self.writer.write(f"{TRUTH_DIR}/{BILLING_TRUTH_FILE}", self.billing_truth())

    def corrections(self, spec: SystemSpec, i: int, own: ReadingRows) -> ReadingRows | None:
        """A reading corrected after its day was billed: on a correction day the source
        re-sends a few valid readings of two days earlier with another value and a later
        send time, in that day's readings file. Once the correction has landed, the original
        row (in its own day's file) is ``superseded`` (its label changes in place)."""
        if cycle_of(i + DELIVERY_DELAY_DAYS) != CYCLE_READING_CORRECTION:
            return None
        day_start = epoch_day(self.day(i)) * 86_400
        candidates = np.flatnonzero(
            (own.label == VALID)
            & (own.interval_start >= day_start)
            & (own.interval_start < day_start + 86_400)
        )
        if not len(candidates):
            return None
        rng = rng_for(self.world.seed, STREAM_CORRECTIONS, spec.index, i)
        chosen = np.sort(
            rng.choice(candidates, size=min(CORRECTED_READINGS, len(candidates)), replace=False)
        )
        original = own.take(chosen)
        corrected = ReadingRows(
            original.code,
            original.meter_idx,
            original.interval_start,
            original.value_wh + rng.integers(100, 1001, size=len(chosen)),
            day_start
            + DELIVERY_DELAY_DAYS * 86_400
            + rng.integers(3600, 20 * 3600, size=len(chosen)),
            original.label,
            original.variant,
        )
        if i + DELIVERY_DELAY_DAYS < self.horizon:  # landed: the original lost
            own.label[chosen] = LABEL["superseded"]
        return corrected

    def billing_truth(self) -> bytes:
        """Invoice amounts per country and billing period over every landed day, at the
        prices known after the last one (retroactive corrections included)."""
        amounts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for i in range(self.horizon):
            day = self.day(i)
            path = self.out / TRUTH_DIR / truth_file_name(day)
            truth = self.truths.get(i)
            billable = (
                truth.billable_wh_by_tariff
                if truth is not None
                else json.loads(path.read_text(encoding="utf-8"))["billable_wh_by_tariff"]
            )
            for spec in SYSTEMS:
                master = self.masters[spec.name]
                for code, wh in billable.get(spec.name, {}).items():
                    price = master.price_e4_on(code, epoch_day(day))
                    if price is not None and wh:
                        amounts[spec.country][day.strftime("%Y-%m")] += int(wh) * price
        data = {
            "amount_eur_by_country_and_period": {
                country: {period: str(Decimal(e7).scaleb(-7)) for period, e7 in sorted(p.items())}
                for country, p in sorted(amounts.items())
            },
            "tariffs": {
                spec.name: [
                    {
                        "tariff_code": r.code,
                        "price_e4": r.price_e4,
                        "valid_from": (date(1970, 1, 1) + timedelta(days=r.valid_from)).isoformat(),
                        "valid_to": None
                        if r.valid_to is None
                        else (date(1970, 1, 1) + timedelta(days=r.valid_to)).isoformat(),
                    }
                    for r in sorted(
                        self.masters[spec.name].tariffs, key=lambda r: (r.code, r.valid_from)
                    )
                ]
                for spec in SYSTEMS
            },
            "parameters": {**self.world.world_json(), "days": self.horizon},
        }
        return (json.dumps(data, sort_keys=True, indent=2) + "\n").encode("utf-8")


def generate(
    params: GenerateParams,
    out: Path,
    *,
    new_world: bool = False,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Write the files of world days ``params.dates`` and the truth under ``out``
    (``progress`` hears of each world day computed; the CLI draws a bar on a terminal).

    ``out`` may hold a world already (``_world.json``): then ``params`` must describe the
    same world (seed, meters, readings per day, fault rate) and start within it or on its
    next day, and the run continues it. ``new_world`` starts a new world at ``params.start``
    whatever ``out`` holds (files of the earlier world stay).
    """
    params.validate()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a directory")
    world = None if new_world else World.read(out)
    if world is None:
        world_params, first, known = params, 0, 0
    else:
        world_params, known = world.params, world.params.days
        mine = replace(params, start=world.params.start, days=known)
        if mine.world_json() != world.params.world_json():
            raise UsageError(
                f"--out {out} holds another world ({_describe(world.params)}); give the same "
                "arguments, use --continue to add its next days, or --new-world"
            )
        first = (params.start - world.params.start).days
        if not 0 <= first <= known:
            raise UsageError(
                f"--start {params.start} is outside the world in {out} (days "
                f"{world.params.start}..{world.next_day - timedelta(days=1)}); start on or "
                f"before {world.next_day} (or use --continue)"
            )
    end = first + params.days
    run = _Run(replace(world_params, days=max(end, known)), first, end, known, out)
    run.run(progress or NoProgress())
    run.writer.write(WORLD_FILE, World(replace(world_params, days=max(end, known))).encode())
    return GenerateSummary(
        out=out,
        dates=tuple(d.isoformat() for d in params.dates),
        files=run.writer.files,
        rows=run.rows,
        bytes=run.writer.bytes,
        corrupt_files=tuple(run.corrupt),
    )


def _describe(params: GenerateParams) -> str:
    return (
        f"--seed {params.seed} --meters {params.meters} --start {params.start} "
        f"--readings-per-day {params.readings} --fault-rate {params.fault_rate}"
    )
