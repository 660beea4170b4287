"""The truth file: what a correct pipeline must compute from one day of landed files.

``<out>/_truth/<YYYY-MM-DD>.json`` (sorted keys, indent 2, no wall-clock values):

``consumption_kwh_by_region``
    For readings whose interval starts on that UTC date: the final valid value of every
    (meter, interval) (a corrected re-send wins, a duplicate counts once; negative,
    implausible, unknown-meter, unparsable and too-late rows and corrupt files excluded),
    summed per region. Every one of the 30 regions is present (0.0 when none). Includes late
    arrivals that land on later generated days. Values are exact Wh sums divided by 1000,
    i.e. kWh rounded to 3 decimals (precision: 1 Wh).
``consumption_kwh_by_meter``
    The same per canonical meter EAN (only meters with a valid reading), present only when
    the run has at most 1,000 meters.
``valid_readings``
    How many final valid readings those sums hold.
``faults_by_reason``
    For the rows in files landed on that ingest date: the count per quarantine reason
    (every reason of ``faults.REASON_PRECEDENCE``, 0 when none), plus ``corrupt_files``:
    the landing-relative paths of the unreadable files landed that day.
``rows_landed``
    ``{system: {entity: rows}}`` of the files landed that day (data rows, header excluded,
    corrupt files excluded; every system and entity present).
``late_arrivals``
    Rows landed that day whose interval is on an earlier day and which are valid.
``dst_repeated_hour_rows``
    electra/luxpower rows landed that day whose local interval start falls in the repeated
    02:00-02:59 hour of the fall-back day.
``master_changes``
    Per system, the keys the day's master-data change set touches (empty on the first day).
``schema_breaks``
    The landing-relative paths of the files landed that day with a breaking schema change
    (a renamed column) that the source has not re-delivered fixed yet: a build of that day
    must stop at the bronze schema guard. Their rows are not counted anywhere until the fix
    lands (the same path, fixed, the next day).
``billable_wh_by_tariff``
    ``{system: {tariff_code: Wh}}``: of the readings counted in ``consumption_kwh_by_region``,
    those of a meter whose supply point had a contract on that date, per the contract's
    tariff. ``billing.json`` prices them.
``parameters``
    The world's parameters (not the days of one run).

Every count is as of the world's last landed day: a file landing later (a late master
file, a backfilled or re-delivered readings file, late arrivals) updates the truth of the
days it belongs to, so a continued world rewrites the truth of its last few days.

``<out>/_truth/billing.json`` holds ``amount_eur_by_country_and_period`` (exact amounts,
7 decimals: the billable Wh of every landed day x the price valid that day, as known after
the last landed day, retroactive corrections included) and the final ``tariffs``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np

from platform_tools.landing import eutime
from platform_tools.landing.dialects import ALL_REGIONS, ENTITIES, SYSTEMS, ReadingRows
from platform_tools.landing.faults import LABEL, REASON_PRECEDENCE, VALID

TRUTH_DIR = "_truth"
MAX_METERS_FOR_PER_METER_TRUTH = 1000


def wh_to_kwh(wh: int) -> float:
    """Exact Wh to kWh with 3 decimals."""
    return round(wh / 1000, 3)


@dataclass
class DayTruth:
    """Accumulates the truth of one ingest date while its files are written."""

    ingest_date: date
    parameters: dict[str, Any]
    per_meter: bool
    consumption_wh_by_region: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(ALL_REGIONS, 0)
    )
    consumption_wh_by_meter: dict[str, int] = field(default_factory=dict)
    valid_readings: int = 0
    faults: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASON_PRECEDENCE, 0))
    corrupt_files: list[str] = field(default_factory=list)
    schema_breaks: list[str] = field(default_factory=list)
    rows_landed: dict[str, dict[str, int]] = field(
        default_factory=lambda: {s.name: dict.fromkeys(ENTITIES, 0) for s in SYSTEMS}
    )
    late_arrivals: int = 0
    dst_repeated_hour_rows: dict[str, int] = field(
        default_factory=lambda: {"electra": 0, "luxpower": 0}
    )
    master_changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    billable_wh_by_tariff: dict[str, dict[str, int]] = field(
        default_factory=lambda: {s.name: {} for s in SYSTEMS}
    )

    def add_consumption(
        self, valid: ReadingRows, regions: list[str], region_idx: np.ndarray, eans: list[str]
    ) -> None:
        """Add the final valid readings of this date of one system.

        ``regions`` are the system's region names, ``region_idx``/``eans`` are per meter.
        """
        if len(valid) == 0:
            return
        idx = valid.meter_idx
        sums = np.bincount(
            region_idx[idx], weights=valid.value_wh.astype(np.float64), minlength=len(regions)
        )
        for name, total in zip(regions, sums.tolist(), strict=True):
            self.consumption_wh_by_region[name] += int(round(total))
        self.valid_readings += len(valid)
        if self.per_meter:
            meter_sums = np.bincount(idx, weights=valid.value_wh.astype(np.float64))
            for meter in np.flatnonzero(np.bincount(idx)).tolist():
                ean = eans[meter]
                self.consumption_wh_by_meter[ean] = self.consumption_wh_by_meter.get(ean, 0) + int(
                    round(meter_sums[meter])
                )

    def add_billable(
        self, system: str, valid: ReadingRows, codes: list[str], tariff_of_supply: np.ndarray
    ) -> None:
        """Add valid readings of this date of one system to the consumption of the tariff
        that prices them (``tariff_of_supply``: per meter, the tariff index of its contract
        on this date, -1 for none; ``codes``: the system's tariff codes)."""
        if len(valid) == 0:
            return
        tariff = tariff_of_supply[valid.meter_idx]
        billed = tariff >= 0
        sums = np.bincount(
            tariff[billed],
            weights=valid.value_wh[billed].astype(np.float64),
            minlength=len(codes),
        )
        totals = self.billable_wh_by_tariff[system]
        for code, total in zip(codes, sums.tolist(), strict=True):
            totals[code] = totals.get(code, 0) + int(round(total))

    def add_landed_readings(self, system: str, rows: ReadingRows) -> None:
        """Count the rows of one landed readings file."""
        self.rows_landed[system]["readings"] += len(rows)
        counts = np.bincount(rows.label, minlength=len(REASON_PRECEDENCE) + 1)
        for reason in REASON_PRECEDENCE:
            self.faults[reason] += int(counts[LABEL[reason]])
        day_start = datetime.combine(self.ingest_date, time(), UTC).timestamp()
        self.late_arrivals += int(((rows.label == VALID) & (rows.interval_start < day_start)).sum())
        if system in self.dst_repeated_hour_rows:
            fall_back = eutime.fall_back_day(self.ingest_date.year)
            first = datetime.combine(fall_back, time(), UTC).timestamp()
            repeated = (rows.interval_start >= first) & (rows.interval_start < first + 7200)
            self.dst_repeated_hour_rows[system] += int(repeated.sum())

    def to_json(self) -> dict[str, Any]:
        faults: dict[str, Any] = dict(self.faults)
        faults["corrupt_files"] = sorted(self.corrupt_files)
        result: dict[str, Any] = {
            "ingest_date": self.ingest_date.isoformat(),
            "consumption_kwh_by_region": {
                k: wh_to_kwh(v) for k, v in self.consumption_wh_by_region.items()
            },
            "valid_readings": self.valid_readings,
            "faults_by_reason": faults,
            "rows_landed": self.rows_landed,
            "late_arrivals": self.late_arrivals,
            "dst_repeated_hour_rows": self.dst_repeated_hour_rows,
            "master_changes": self.master_changes,
            "schema_breaks": sorted(self.schema_breaks),
            "billable_wh_by_tariff": self.billable_wh_by_tariff,
            "parameters": self.parameters,
        }
        if self.per_meter:
            result["consumption_kwh_by_meter"] = {
                k: wh_to_kwh(v) for k, v in self.consumption_wh_by_meter.items()
            }
        return result

    def encode(self) -> bytes:
        return (json.dumps(self.to_json(), sort_keys=True, indent=2) + "\n").encode("utf-8")


def truth_file_name(day: date) -> str:
    return f"{day.isoformat()}.json"
