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
A key changes at most once over the generated range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import IntArray
from platform_tools.landing.formats import (
    CHANGE_DELETE,
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
    "nordgrid": (Tariff("DE-HH-BASIS", 3120, 3345, False), Tariff("DE-HH-OEKO", 3290, None, False),
                 Tariff("DE-GEWERBE", 2480, None, True)),
    "electra": (Tariff("FR-BLEU-BASE", 2516, 2276, False),
                Tariff("FR-BLEU-HPHC", 2700, None, False), Tariff("FR-PRO", 2190, None, True)),
    "dutchgrid": (Tariff("NL-VAST", 2950, 3080, False), Tariff("NL-VARIABEL", 2810, None, False),
                  Tariff("NL-ZAKELIJK", 2330, None, True)),
    "luxpower": (Tariff("LU-STANDARD", 1980, 2105, False), Tariff("LU-NATUR", 2140, None, False),
                 Tariff("LU-PRO", 1720, None, True)),
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
    ended_contracts: IntArray
    changed_meters: IntArray


class SystemMaster:
    """All master data of one system, built once per run."""

    def __init__(
        self, spec: SystemSpec, meters: int, seed: int, start: date, days: int
    ) -> None:
        self.spec = spec
        self.seed = seed
        self.start = start
        self.days = days
        self.n_meters = meters
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
        names, first, last = person_names(rng, spec.country, c)
        self.customer_name = names
        self.customer_email = emails(spec.country, first, last, np.arange(1, c + 1))
        self.customer_address = addresses(rng, spec.country, c)
        self.customer_iban = ibans(rng, spec.country, c)
        self.segment_idx = rng.choice(len(SEGMENTS), size=c, p=SEGMENT_WEIGHTS).astype(np.int64)
        meter_idx = np.arange(n, dtype=np.int64)
        self.contract_customer = np.where(meter_idx < c, meter_idx, meter_idx - c)
        residential = self.segment_idx[self.contract_customer] == 0
        self.contract_tariff_idx = np.where(
            residential, rng.integers(0, 2, size=n), 2
        ).astype(np.int64)
        self.contract_start = rng.integers(start_day - 6 * 365, start_day - 30, size=n).astype(
            np.int32
        )
        self.plan = self._plan_changes()

    # -- change plan ---------------------------------------------------------------------

    def _plan_changes(self) -> list[DayChanges]:
        later_days = self.days - 1
        n, c = self.n_meters, self.n_customers
        rng = rng_for(self.seed, STREAM_CHANGES, self.spec.index)
        order = rng.permutation(c).astype(np.int64)
        single_meter = order[order >= n - c]  # these customers hold exactly one meter
        deleted = single_meter[:later_days]
        rest = order[~np.isin(order, deleted)]
        meters = rng.permutation(n)[:later_days].astype(np.int64)
        plan = []
        for day in range(later_days):
            updates = rest[3 * day : 3 * day + 3]
            plan.append(
                DayChanges(
                    moved_customers=np.sort(updates[:2]),
                    segment_changed_customers=np.sort(updates[2:3]),
                    deleted_customers=deleted[day : day + 1],
                    ended_contracts=deleted[day : day + 1],  # a deleted customer's one meter
                    changed_meters=meters[day : day + 1],
                )
            )
        return plan

    def changes_on(self, day_index: int) -> DayChanges:
        """The change set landing on generated day ``day_index`` (>= 1)."""
        return self.plan[day_index - 1]

    # -- tables --------------------------------------------------------------------------

    def meters_table(self, idx: IntArray, change: str, meter_type_idx: IntArray) -> pa.Table:
        take = pa.array(idx, pa.int64())
        return pa.table(
            {
                "meter_idx": pa.array(idx, pa.int64()),
                "meter_ean": DIALECTS[self.spec.name].meter_ean(idx),
                "region": pc.take(self.regions, take),
                "installed_on": pa.array(self.installed_on[idx], pa.date32()),
                "meter_type": pc.take(pa.array(METER_TYPES), pa.array(meter_type_idx)),
                "change": pa.array([change] * len(idx), pa.string()),
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

    def contracts_table(self, idx: IntArray, change: str, end_day: int | None) -> pa.Table:
        tariffs = TARIFFS[self.spec.name]
        codes = pa.array([t.code for t in tariffs], pa.string())
        return pa.table(
            {
                "contract_idx": pa.array(idx, pa.int64()),
                "customer_idx": pa.array(self.contract_customer[idx], pa.int64()),
                "supply_idx": pa.array(idx, pa.int64()),
                "tariff_code": pc.take(codes, pa.array(self.contract_tariff_idx[idx])),
                "start_date": pa.array(self.contract_start[idx], pa.date32()),
                "end_date": pa.array([end_day] * len(idx), pa.date32()),
                "change": pa.array([change] * len(idx), pa.string()),
            }
        )

    def tariff_change_day(self) -> date:
        """The day the first tariff's new price applies from (start + days // 2)."""
        return self.start + timedelta(days=self.days // 2)

    def tariffs_table(self, full_export: bool) -> pa.Table:
        rows: list[tuple[str, int, int, int | None]] = []
        if full_export:
            first_valid = epoch_day(date(self.start.year - 1, 1, 1))
            change_day = epoch_day(self.tariff_change_day())
            for tariff in TARIFFS[self.spec.name]:
                if tariff.new_price_e4 is None:
                    rows.append((tariff.code, tariff.price_e4, first_valid, None))
                else:
                    rows.append((tariff.code, tariff.price_e4, first_valid, change_day - 1))
                    rows.append((tariff.code, tariff.new_price_e4, change_day, None))
        return pa.table(
            {
                "tariff_code": pa.array([r[0] for r in rows], pa.string()),
                "price_e4": pa.array([r[1] for r in rows], pa.int64()),
                "valid_from": pa.array([r[2] for r in rows], pa.date32()),
                "valid_to": pa.array([r[3] for r in rows], pa.date32()),
                "change": pa.array([CHANGE_INITIAL] * len(rows), pa.string()),
            }
        )

    def full_export(self, entity: str) -> pa.Table:
        if entity == "meters":
            idx = np.arange(self.n_meters, dtype=np.int64)
            return self.meters_table(idx, CHANGE_INITIAL, self.meter_type_idx)
        if entity == "customers":
            idx = np.arange(self.n_customers, dtype=np.int64)
            return self.customers_table(
                idx, [CHANGE_INITIAL] * len(idx), self.segment_idx, self.customer_address
            )
        if entity == "contracts":
            return self.contracts_table(
                np.arange(self.n_meters, dtype=np.int64), CHANGE_INITIAL, None
            )
        if entity == "tariffs":
            return self.tariffs_table(full_export=True)
        raise ValueError(f"unknown entity {entity!r}")

    def change_set(self, entity: str, day_index: int, day: date) -> pa.Table:
        plan = self.changes_on(day_index)
        if entity == "meters":
            idx = plan.changed_meters
            new_type = (self.meter_type_idx[idx] + 1) % len(METER_TYPES)
            return self.meters_table(idx, CHANGE_UPSERT, new_type)
        if entity == "customers":
            idx = np.sort(
                np.concatenate(
                    [plan.moved_customers, plan.segment_changed_customers, plan.deleted_customers]
                )
            )
            rng = rng_for(self.seed, STREAM_CHANGES, self.spec.index, day_index)
            new_address = addresses(rng, self.spec.country, len(idx))
            take = pa.array(idx, pa.int64())
            moved = np.isin(idx, plan.moved_customers)
            address = {
                key: pc.if_else(
                    pa.array(moved), new_address[key], pc.take(self.customer_address[key], take)
                )
                for key in ("street", "postal_code", "city")
            }
            segment = self.segment_idx[idx].copy()
            resegmented = np.isin(idx, plan.segment_changed_customers)
            segment[resegmented] = (segment[resegmented] + 1) % len(SEGMENTS)
            changes = [
                CHANGE_DELETE if i in set(plan.deleted_customers.tolist()) else CHANGE_UPSERT
                for i in idx.tolist()
            ]
            return self.customers_table(idx, changes, segment, address)
        if entity == "contracts":
            return self.contracts_table(plan.ended_contracts, CHANGE_UPSERT, epoch_day(day))
        if entity == "tariffs":
            return self.tariffs_table(full_export=False)
        raise ValueError(f"unknown entity {entity!r}")
