"""Master data of each system: meters, customers, contracts, tariffs, and their daily changes.

Master data lands as a full export (change marker ``I`` on every row) on the first generated
day. Every later day lands a change set in the same columns: changed rows as complete rows
with marker ``U`` (upsert by key) and deleted keys as their last complete row with marker
``D``. Per system and later day: two customers move (new street, postal code, city), one
customer changes segment, one meter changes ``meter_type``, one single-meter customer is
deleted and its contract ends that day (``end_date`` = the ingest date, the last day of
supply). Tariffs never change after the full export (its change set is empty): the full export
already holds the scheduled mid-range price change of the first tariff of every system (old
row ``valid_to`` = the day before, new row ``valid_from`` = start + days // 2).
A key changes at most once over the generated range. The life cycle (``LIFE_CYCLE_DAYS``)
adds the recurring behaviours of ``docs/landing.md``; among them a meter replacement: a supply
point gets a new meter (the next meter index) and the old one is removed that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import IntArray
from platform_tools.landing.dialects import (
    CHANGE_DELETE,
    CHANGE_ERASE,
    CHANGE_INITIAL,
    CHANGE_UPSERT,
    DIALECTS,
    SYSTEMS,
    SystemSpec,
)
from platform_tools.landing.synthetic import addresses, emails, ibans, person_names

SEGMENTS: Final[tuple[str, ...]] = ("residential", "business", "industrial")
SEGMENT_WEIGHTS: Final[tuple[float, ...]] = (0.85, 0.12, 0.03)
METER_TYPES: Final[tuple[str, ...]] = ("single_phase", "three_phase", "ct_industrial")
METER_TYPE_WEIGHTS: Final[tuple[float, ...]] = (0.70, 0.27, 0.03)

# Random streams (the second entry of every seed sequence).
STREAM_MASTER: Final[int] = 1
STREAM_CHANGES: Final[int] = 2
STREAM_READINGS: Final[int] = 3
STREAM_FAULTS: Final[int] = 4
STREAM_METER_BASE: Final[int] = 5
STREAM_MOVES: Final[int] = 6

# The life of a world: besides the daily changes, source behaviours recur every
# LIFE_CYCLE_DAYS world days, on the day whose index modulo the cycle is given here.
LIFE_CYCLE_DAYS: Final[int] = 10
CYCLE_CORRUPT_FILE: Final[int] = 1
CYCLE_ERASURE: Final[int] = 2
CYCLE_PRICE_CHANGE: Final[int] = 3
CYCLE_CONTRACT_START: Final[int] = 4
CYCLE_PRICE_CORRECTION: Final[int] = 5
CYCLE_LATE_MASTER_FILE: Final[int] = 6
CYCLE_BACKFILL: Final[int] = 7
CYCLE_REDELIVERY: Final[int] = 8
CYCLE_READING_CORRECTION: Final[int] = 9
# a meter is replaced on the same day as the late master file (another system's customers)
CYCLE_METER_REPLACEMENT: Final[int] = 6
# a breaking column rename in one system's readings, fixed by the source the next day
CYCLE_SCHEMA_BREAK: Final[int] = 3
STREAM_CORRECTIONS: Final[int] = 7
STREAM_METER_REPLACEMENT: Final[int] = 8
FULL_EXPORT_EVERY_DAYS: Final[int] = 7


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """An independent, reproducible random stream for ``(seed, *keys)``."""
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))


def epoch_day(day: date) -> int:
    return (day - date(1970, 1, 1)).days


@dataclass(frozen=True)
class Tariff:
    code: str
    price_e4: int  # EUR per kWh x 10,000
    new_price_e4: int | None  # the mid-range price change, if any
    business: bool  # offered to business and industrial customers


TARIFFS: Final[dict[str, tuple[Tariff, ...]]] = {
    "nordgrid": (
        Tariff("DE-HH-BASIS", 3120, 3345, False),
        Tariff("DE-HH-OEKO", 3290, None, False),
        Tariff("DE-GEWERBE", 2480, None, True),
    ),
    "electra": (
        Tariff("FR-BLEU-BASE", 2516, 2276, False),
        Tariff("FR-BLEU-HPHC", 2700, None, False),
        Tariff("FR-PRO", 2190, None, True),
    ),
    "dutchgrid": (
        Tariff("NL-VAST", 2950, 3080, False),
        Tariff("NL-VARIABEL", 2810, None, False),
        Tariff("NL-ZAKELIJK", 2330, None, True),
    ),
    "luxpower": (
        Tariff("LU-STANDARD", 1980, 2105, False),
        Tariff("LU-NATUR", 2140, None, False),
        Tariff("LU-PRO", 1720, None, True),
    ),
}


@dataclass(frozen=True)
class MeterLayout:
    """How the generated meters are split over the systems (in :data:`SYSTEMS` order)."""

    total: int
    counts: tuple[int, ...]

    @classmethod
    def from_total(cls, total: int) -> MeterLayout:
        counts = [total * s.share_percent // 100 for s in SYSTEMS[:-1]]
        counts.append(total - sum(counts))
        return cls(total=total, counts=tuple(counts))

    @property
    def offsets(self) -> tuple[int, ...]:
        return tuple(int(v) for v in np.concatenate([[0], np.cumsum(self.counts)[:-1]]))

    def count(self, system: SystemSpec) -> int:
        return self.counts[system.index]


def customer_count(meters: int) -> int:
    """Customers per system: 90 % of the meters; the first ``meters - customers`` customers
    hold two meters, the others one."""
    return max(1, meters * 9 // 10)


@dataclass(frozen=True)
class DayChanges:
    """The master-data changes landing on one later day (indexes within the system)."""

    moved_customers: IntArray
    segment_changed_customers: IntArray
    deleted_customers: IntArray
    erased_customers: IntArray
    ended_contracts: IntArray
    changed_meters: IntArray
    removed_meters: IntArray
    installed_meters: IntArray
    new_customers: IntArray
    started_contracts: IntArray
    tariff_rows: tuple[TariffRow, ...]
    corrected_tariff_rows: tuple[TariffRow, ...]


@dataclass(frozen=True)
class TariffRow:
    """One validity row of a price list (prices in EUR/kWh x 10,000; days since the epoch)."""

    code: str
    price_e4: int
    valid_from: int
    valid_to: int | None


def _empty() -> IntArray:
    return np.zeros(0, dtype=np.int64)


class SystemMaster:
    """The master data of one system and how it evolves, day by day.

    The state of world day ``i`` depends only on the seed, the start and ``i``: every day's
    changes come from a random stream of their own (``STREAM_CHANGES``, system, day index)
    applied to the state of the day before, so a world continued day by day equals the same
    world generated at once. Call :meth:`advance` for day 1, 2, ... in order.
    """

    def __init__(self, spec: SystemSpec, meters: int, seed: int, start: date) -> None:
        self.spec = spec
        self.seed = seed
        self.start = start
        # supply points are fixed (0..n-1); meters are indexed in the order they were
        # installed: meter i measures supply point i until it is replaced, and a replacement
        # gets the next index
        self.n_supply = meters
        self.n_customers = customer_count(meters)
        n, c = meters, self.n_customers
        rng = rng_for(seed, STREAM_MASTER, spec.index)
        start_day = epoch_day(start)
        self.region_idx = rng.integers(0, spec.region_count, size=n).astype(np.int64)
        self.regions = pc.take(
            pa.array(spec.regions, pa.string()), pa.array(self.region_idx, pa.int64())
        )
        self.installed_on = rng.integers(start_day - 12 * 365, start_day - 90, size=n).astype(
            np.int32
        )
        self.meter_type_idx = rng.choice(len(METER_TYPES), size=n, p=METER_TYPE_WEIGHTS)
        self.meter_supply = np.arange(n, dtype=np.int64)  # per meter: its supply point
        self.removed_on = np.full(n, -1, dtype=np.int64)  # per meter: day removed, -1: in use
        self.meter_of_supply = np.arange(n, dtype=np.int64)  # per supply point: its meter now
        names, first, last = person_names(rng, spec.country, c)
        self.customer_name = names
        self.customer_email = emails(spec.country, first, last, np.arange(1, c + 1))
        self.customer_address = addresses(rng, spec.country, c)
        self.customer_iban = ibans(rng, spec.country, c)
        self.segment_idx = rng.choice(len(SEGMENTS), size=c, p=SEGMENT_WEIGHTS).astype(np.int64)
        meter_idx = np.arange(n, dtype=np.int64)
        customer_of = np.where(meter_idx < c, meter_idx, meter_idx - c)
        residential = self.segment_idx[customer_of] == 0
        tariff_of = np.where(residential, rng.integers(0, 2, size=n), 2).astype(np.int64)
        contract_start = rng.integers(start_day - 6 * 365, start_day - 30, size=n).astype(np.int64)
        # contracts: the first n supply meter i; later ones are appended by move-ins
        self.contract_customer = customer_of
        self.contract_supply = meter_idx.copy()
        self.contract_tariff_idx = tariff_of
        self.contract_start = contract_start
        self.contract_end = np.full(n, -1, dtype=np.int64)  # -1: open-ended
        self.alive = np.ones(c, dtype=bool)
        self.tariffs = self._initial_tariffs()
        self.day_index = 0
        self.plans: dict[int, DayChanges] = {}

    # -- evolution -----------------------------------------------------------------------

    def _initial_tariffs(self) -> list[TariffRow]:
        """The price lists of the first full export: one open row per tariff, and the first
        tariff's scheduled price change from the second world day on."""
        first_valid = epoch_day(date(self.start.year - 1, 1, 1))
        change_day = epoch_day(self.tariff_change_day())
        rows: list[TariffRow] = []
        for tariff in TARIFFS[self.spec.name]:
            if tariff.new_price_e4 is None:
                rows.append(TariffRow(tariff.code, tariff.price_e4, first_valid, None))
            else:
                rows.append(TariffRow(tariff.code, tariff.price_e4, first_valid, change_day - 1))
                rows.append(TariffRow(tariff.code, tariff.new_price_e4, change_day, None))
        return rows

    def tariff_change_day(self) -> date:
        """The day the first tariff's new price applies from: the second world day."""
        return self.start + timedelta(days=1)

    def _replace_tariff(self, old: TariffRow, new: TariffRow) -> None:
        self.tariffs = [new if row == old else row for row in self.tariffs]

    def _open_contract_of(self, supply: int) -> int | None:
        found = np.flatnonzero((self.contract_supply == supply) & (self.contract_end < 0))
        return int(found[-1]) if len(found) else None

    def advance(self, day_index: int) -> DayChanges:
        """Apply the changes of world day ``day_index`` (the next one) and return them."""
        if day_index != self.day_index + 1:
            raise ValueError(f"advance to day {day_index} after day {self.day_index}")
        self.day_index = day_index
        day = epoch_day(self.start) + day_index
        cycle = day_index % LIFE_CYCLE_DAYS
        rng = rng_for(self.seed, STREAM_CHANGES, self.spec.index, day_index)
        n, c = self.n_supply, self.n_customers
        alive = np.flatnonzero(self.alive[:c])
        # a customer can be deleted when it is one of the original single-meter customers
        # whose one contract is still open (its contract index equals its customer index)
        single = alive[(alive >= n - c) & (self.contract_end[alive] < 0)]
        deleted = rng.choice(single, size=min(1, len(single)), replace=False).astype(np.int64)
        others = alive[~np.isin(alive, deleted)]
        updates = rng.choice(others, size=min(3, len(others)), replace=False).astype(np.int64)
        meters = self.meter_of_supply[rng.choice(n, size=1, replace=False).astype(np.int64)]
        self.alive[deleted] = False
        self.contract_end[deleted] = day
        self.meter_type_idx[meters] = (self.meter_type_idx[meters] + 1) % len(METER_TYPES)
        resegmented = np.sort(updates[2:3])
        self.segment_idx[resegmented] = (self.segment_idx[resegmented] + 1) % len(SEGMENTS)

        new_customers, started = _empty(), _empty()
        if cycle == CYCLE_CONTRACT_START:
            # a new customer moves in where a contract ended earlier: a new contract from today
            free = [
                int(s)
                # supply points whose contract ended before today (not today: a contract
                # covers its end date)
                for s in np.unique(
                    self.contract_supply[(self.contract_end >= 0) & (self.contract_end < day)]
                )
                if self._open_contract_of(int(s)) is None
            ]
            if free:
                supply = free[int(rng.integers(0, len(free)))]
                customer = self._add_customer(rng)
                new_customers = np.array([customer], dtype=np.int64)
                started = np.array([len(self.contract_supply)], dtype=np.int64)
                self.contract_customer = np.append(self.contract_customer, customer)
                self.contract_supply = np.append(self.contract_supply, supply)
                self.contract_tariff_idx = np.append(
                    self.contract_tariff_idx, int(rng.integers(0, 2))
                )
                self.contract_start = np.append(self.contract_start, day)
                self.contract_end = np.append(self.contract_end, -1)

        removed, installed = _empty(), _empty()
        if cycle == CYCLE_METER_REPLACEMENT:
            removed, installed = self._replace_meter(day_index, day, exclude=meters)

        changed_rows: list[TariffRow] = []
        corrected: list[TariffRow] = []
        codes = [t.code for t in TARIFFS[self.spec.name]]
        if cycle == CYCLE_PRICE_CHANGE:
            # the second tariff changes price from three days ahead: its open row closes
            code = codes[1]
            current = next(r for r in self.tariffs if r.code == code and r.valid_to is None)
            closed = TariffRow(code, current.price_e4, current.valid_from, day + 2)
            opened = TariffRow(code, current.price_e4 * 103 // 100, day + 3, None)
            self._replace_tariff(current, closed)
            self.tariffs.append(opened)
            changed_rows = [closed, opened]
        if cycle == CYCLE_PRICE_CORRECTION:
            # a retroactive correction: the first tariff's row valid two days ago is re-priced
            code, when = codes[0], day - 2
            current = next(
                r
                for r in self.tariffs
                if r.code == code
                and r.valid_from <= when
                and (r.valid_to is None or when <= r.valid_to)
            )
            fixed = TariffRow(code, current.price_e4 + 70, current.valid_from, current.valid_to)
            self._replace_tariff(current, fixed)
            corrected = [fixed]

        plan = DayChanges(
            moved_customers=np.sort(updates[:2]),
            segment_changed_customers=resegmented,
            deleted_customers=deleted if cycle != CYCLE_ERASURE else _empty(),
            erased_customers=deleted if cycle == CYCLE_ERASURE else _empty(),
            ended_contracts=deleted.copy(),  # a deleted customer's one meter
            changed_meters=meters,
            removed_meters=removed,
            installed_meters=installed,
            new_customers=new_customers,
            started_contracts=started,
            tariff_rows=tuple(changed_rows),
            corrected_tariff_rows=tuple(corrected),
        )
        self._apply_moves(plan.moved_customers, day_index)
        self.plans[day_index] = plan
        return plan

    def _replace_meter(
        self, day_index: int, day: int, exclude: IntArray
    ) -> tuple[IntArray, IntArray]:
        """A supply point gets a new meter (new code and EAN) from ``day`` on: the old meter
        is removed that day (its last readings are of the day before); the new one inherits
        the supply point, its region and the meter type. Returns (removed, installed)."""
        rng = rng_for(self.seed, STREAM_METER_REPLACEMENT, self.spec.index, day_index)
        candidates = np.flatnonzero(~np.isin(self.meter_of_supply, exclude))
        if not len(candidates):
            return _empty(), _empty()
        supply = int(candidates[int(rng.integers(0, len(candidates)))])
        old, new = int(self.meter_of_supply[supply]), len(self.meter_supply)
        self.removed_on[old] = day
        self.meter_supply = np.append(self.meter_supply, supply)
        self.removed_on = np.append(self.removed_on, -1)
        self.region_idx = np.append(self.region_idx, self.region_idx[old])
        self.regions = pa.concat_arrays([self.regions, self.regions.slice(old, 1)])
        self.installed_on = np.append(self.installed_on, np.int32(day))
        self.meter_type_idx = np.append(self.meter_type_idx, self.meter_type_idx[old])
        self.meter_of_supply[supply] = new
        return np.array([old], dtype=np.int64), np.array([new], dtype=np.int64)

    def _add_customer(self, rng: np.random.Generator) -> int:
        names, first, last = person_names(rng, self.spec.country, 1)
        idx = len(self.alive)
        self.customer_name = pa.concat_arrays([self.customer_name, names])
        self.customer_email = pa.concat_arrays(
            [self.customer_email, emails(self.spec.country, first, last, np.array([idx + 1]))]
        )
        new_address = addresses(rng, self.spec.country, 1)
        self.customer_address = {
            key: pa.concat_arrays([self.customer_address[key], new_address[key]])
            for key in self.customer_address
        }
        self.customer_iban = pa.concat_arrays(
            [self.customer_iban, ibans(rng, self.spec.country, 1)]
        )
        self.segment_idx = np.append(self.segment_idx, 0)
        self.alive = np.append(self.alive, True)
        return idx

    def _apply_moves(self, moved: IntArray, day_index: int) -> None:
        if not len(moved):
            return
        rng = rng_for(self.seed, STREAM_MOVES, self.spec.index, day_index)
        new_address = addresses(rng, self.spec.country, len(moved))
        mask = np.zeros(len(self.alive), dtype=bool)
        mask[moved] = True
        positions = np.cumsum(mask) - 1
        for key in self.customer_address:
            spread = pc.take(new_address[key], pa.array(np.where(mask, positions, 0)))
            self.customer_address[key] = pc.if_else(
                pa.array(mask), spread, self.customer_address[key]
            )

    def changes_on(self, day_index: int) -> DayChanges:
        """The change set of world day ``day_index`` (>= 1), once :meth:`advance` ran it."""
        return self.plans[day_index]

    # -- tables --------------------------------------------------------------------------

    def meters_table(self, idx: IntArray, changes: list[str]) -> pa.Table:
        take = pa.array(idx, pa.int64())
        return pa.table(
            {
                "meter_idx": pa.array(idx, pa.int64()),
                "meter_ean": DIALECTS[self.spec.name].meter_ean(idx),
                "region": pc.take(self.regions, take),
                "supply_idx": pa.array(self.meter_supply[idx], pa.int64()),
                "installed_on": pa.array(self.installed_on[idx], pa.date32()),
                "meter_type": pc.take(pa.array(METER_TYPES), pa.array(self.meter_type_idx[idx])),
                "change": pa.array(changes, pa.string()),
            }
        )

    def customers_table(
        self,
        idx: IntArray,
        changes: list[str],
        segment_idx: IntArray,
        address: dict[str, pa.Array],
    ) -> pa.Table:
        take = pa.array(idx, pa.int64())
        return pa.table(
            {
                "customer_idx": pa.array(idx, pa.int64()),
                "name": pc.take(self.customer_name, take),
                "email": pc.take(self.customer_email, take),
                "street": address["street"],
                "postal_code": address["postal_code"],
                "city": address["city"],
                "iban": pc.take(self.customer_iban, take),
                "segment": pc.take(pa.array(SEGMENTS), pa.array(segment_idx, pa.int64())),
                "country": pa.array([self.spec.country] * len(idx), pa.string()),
                "change": pa.array(changes, pa.string()),
            }
        )

    def contracts_table(self, idx: IntArray, change: str) -> pa.Table:
        tariffs = TARIFFS[self.spec.name]
        codes = pa.array([t.code for t in tariffs], pa.string())
        end = self.contract_end[idx]
        return pa.table(
            {
                "contract_idx": pa.array(idx, pa.int64()),
                "customer_idx": pa.array(self.contract_customer[idx], pa.int64()),
                "supply_idx": pa.array(self.contract_supply[idx], pa.int64()),
                "tariff_code": pc.take(codes, pa.array(self.contract_tariff_idx[idx])),
                "start_date": pa.array(self.contract_start[idx].astype(np.int32), pa.date32()),
                "end_date": pa.array(
                    [int(e) if e >= 0 else None for e in end.tolist()], pa.date32()
                ),
                "change": pa.array([change] * len(idx), pa.string()),
            }
        )

    def tariffs_table(self, rows: list[TariffRow] | tuple[TariffRow, ...], change: str) -> pa.Table:
        order = {t.code: i for i, t in enumerate(TARIFFS[self.spec.name])}
        ordered = sorted(rows, key=lambda r: (order[r.code], r.valid_from))
        return pa.table(
            {
                "tariff_code": pa.array([r.code for r in ordered], pa.string()),
                "price_e4": pa.array([r.price_e4 for r in ordered], pa.int64()),
                "valid_from": pa.array([r.valid_from for r in ordered], pa.date32()),
                "valid_to": pa.array([r.valid_to for r in ordered], pa.date32()),
                "change": pa.array([change] * len(ordered), pa.string()),
            }
        )

    def full_export(self, entity: str) -> pa.Table:
        """Every current row of ``entity`` (deleted customers are absent; ended contracts
        and closed price rows stay: they are business history the source keeps)."""
        if entity == "meters":
            idx = np.flatnonzero(self.removed_on < 0).astype(np.int64)
            return self.meters_table(idx, [CHANGE_INITIAL] * len(idx))
        if entity == "customers":
            idx = np.flatnonzero(self.alive).astype(np.int64)
            return self.customers_table(
                idx,
                [CHANGE_INITIAL] * len(idx),
                self.segment_idx[idx],
                {k: pc.take(v, pa.array(idx)) for k, v in self.customer_address.items()},
            )
        if entity == "contracts":
            return self.contracts_table(
                np.arange(len(self.contract_supply), dtype=np.int64), CHANGE_INITIAL
            )
        if entity == "tariffs":
            return self.tariffs_table(self.tariffs, CHANGE_INITIAL)
        raise ValueError(f"unknown entity {entity!r}")

    def change_set(self, entity: str, day_index: int) -> pa.Table:
        plan = self.changes_on(day_index)
        if entity == "meters":
            idx = np.sort(
                np.concatenate([plan.changed_meters, plan.removed_meters, plan.installed_meters])
            )
            removed = set(plan.removed_meters.tolist())
            changes = [CHANGE_DELETE if i in removed else CHANGE_UPSERT for i in idx.tolist()]
            return self.meters_table(idx, changes)
        if entity == "customers":
            idx = np.sort(
                np.concatenate(
                    [
                        plan.moved_customers,
                        plan.segment_changed_customers,
                        plan.deleted_customers,
                        plan.erased_customers,
                        plan.new_customers,
                    ]
                )
            )
            take = pa.array(idx, pa.int64())
            deleted = set(plan.deleted_customers.tolist())
            erased = set(plan.erased_customers.tolist())
            changes = [
                CHANGE_ERASE if i in erased else CHANGE_DELETE if i in deleted else CHANGE_UPSERT
                for i in idx.tolist()
            ]
            table = self.customers_table(
                idx,
                changes,
                self.segment_idx[idx],
                {k: pc.take(v, take) for k, v in self.customer_address.items()},
            )
            # an erasure request carries the key only
            keep = pa.array([i not in erased for i in idx.tolist()])
            for column in ("name", "email", "street", "postal_code", "city", "iban", "segment"):
                position = table.schema.get_field_index(column)
                blanked = pc.if_else(keep, table.column(column), pa.scalar(None, pa.string()))
                table = table.set_column(position, column, blanked)
            return table
        if entity == "contracts":
            idx = np.sort(np.concatenate([plan.ended_contracts, plan.started_contracts]))
            return self.contracts_table(idx, CHANGE_UPSERT)
        if entity == "tariffs":
            return self.tariffs_table(plan.tariff_rows + plan.corrected_tariff_rows, CHANGE_UPSERT)
        raise ValueError(f"unknown entity {entity!r}")

    # -- what billing needs -------------------------------------------------------------

    @property
    def n_meters(self) -> int:
        """Every meter ever installed (removed ones included)."""
        return len(self.meter_supply)

    def tariff_of_meters_on(self, day: int) -> IntArray:
        """Per meter: the tariff index of the contract of its supply point on ``day``, -1
        when no contract covers that day."""
        return self.tariff_of_supply_on(day)[self.meter_supply]

    def tariff_of_supply_on(self, day: int) -> IntArray:
        """Per supply point: the tariff index of its contract on ``day`` (days since the
        epoch), -1 when no contract covers that day."""
        result = np.full(self.n_supply, -1, dtype=np.int64)
        end = np.where(self.contract_end < 0, np.iinfo(np.int64).max, self.contract_end)
        active = np.flatnonzero((self.contract_start <= day) & (day <= end))
        result[self.contract_supply[active]] = self.contract_tariff_idx[active]
        return result

    def price_e4_on(self, code: str, day: int) -> int | None:
        for row in self.tariffs:
            if (
                row.code == code
                and row.valid_from <= day
                and (row.valid_to is None or day <= row.valid_to)
            ):
                return row.price_e4
        return None
