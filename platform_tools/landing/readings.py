"""Hourly interval readings of one generated day, and the faults injected into them.

Which meters report: reading ``k`` of ``R`` per day takes grid slot ``k * 24N // R`` of the
``24 x N`` (hour, meter) grid in hour-major order, so ``R = 24N`` means every meter every
hour, and a smaller ``R`` means an evenly spread subset of meters reporting all 24 hours.
Intervals are 60 minutes and start on the whole UTC hours of the generated (UTC) day.
Energy is an integer number of Wh (0..20,000 for a clean reading): a per-meter base load
times an hourly profile times log-normal noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import IntArray
from platform_tools.landing.dialects import DIALECTS, SYSTEMS, ReadingRows, SystemSpec
from platform_tools.landing.faults import (
    FAR_FUTURE_YEAR,
    LABEL,
    MAX_LATE_DAYS,
    VALID,
    applicable_kinds,
    plan_faults,
)
from platform_tools.landing.master import (
    STREAM_FAULTS,
    STREAM_METER_BASE,
    STREAM_READINGS,
    MeterLayout,
    rng_for,
)

MAX_CLEAN_WH = 20_000
HOURLY_PROFILE = np.array(
    [0.55, 0.50, 0.48, 0.47, 0.50, 0.62, 0.85, 1.10, 1.15, 1.05, 1.00, 1.02,
     1.05, 1.00, 0.97, 0.98, 1.08, 1.30, 1.55, 1.60, 1.45, 1.20, 0.90, 0.68]
)
_U64 = np.uint64


def day_start_epoch(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


def _splitmix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = x + _U64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def meter_base_wh(seed: int, global_idx: IntArray) -> npt.NDArray[np.float64]:
    """A stable hourly base load per meter (Wh), independent of the day."""
    salt = int(rng_for(seed, STREAM_METER_BASE).integers(0, 2**62))
    hashed = _splitmix64(global_idx.astype(_U64) ^ _U64(salt))
    u = (hashed >> _U64(11)).astype(np.float64) / float(2**53)
    return 80.0 + 1400.0 * u**2 + np.where(u > 0.99, (u - 0.99) * 900_000.0, 0.0)


@dataclass(frozen=True)
class ReadingGrid:
    """Which (hour, meter) pairs report each day: the same every day."""

    hour: IntArray
    global_idx: IntArray

    @classmethod
    def build(cls, meters: int, readings_per_day: int) -> ReadingGrid:
        k = np.arange(readings_per_day, dtype=np.int64)
        slot = k * (24 * meters) // readings_per_day
        return cls(hour=slot // meters, global_idx=slot % meters)


def base_readings(
    seed: int,
    layout: MeterLayout,
    grid: ReadingGrid,
    base_wh: npt.NDArray[np.float64],
    day: date,
    meter_of_supply: Mapping[str, IntArray] | None = None,
) -> dict[str, ReadingRows]:
    """The clean readings of ``day`` per system, in (hour, meter) order.

    The grid's slots are supply points; ``meter_of_supply`` (per system, the meter index
    measuring each supply point that day; default: meter i at supply point i) names the
    meter whose code reports the slot, so a replaced meter's readings continue under the
    new meter's code with the same load."""
    rng = rng_for(seed, STREAM_READINGS, day.toordinal())
    n = len(grid.hour)
    interval = day_start_epoch(day) + grid.hour * 3600
    noise = rng.lognormal(0.0, 0.25, size=n)
    value = np.clip(np.rint(base_wh * HOURLY_PROFILE[grid.hour] * noise), 0, MAX_CLEAN_WH)
    sent = interval + 3600 + rng.integers(60, 5400, size=n)
    offsets = np.array(layout.offsets, dtype=np.int64)
    system_of = np.searchsorted(offsets, grid.global_idx, side="right") - 1
    result: dict[str, ReadingRows] = {}
    for spec in SYSTEMS:
        mask = system_of == spec.index
        local = grid.global_idx[mask] - offsets[spec.index]
        if meter_of_supply is not None:
            local = meter_of_supply[spec.name][local]
        count = int(mask.sum())
        result[spec.name] = ReadingRows(
            code=DIALECTS[spec.name].meter_codes(local),
            meter_idx=local,
            interval_start=interval[mask],
            value_wh=value[mask].astype(np.int64),
            sent_at=sent[mask].astype(np.int64),
            label=np.full(count, VALID, dtype=np.int64),
            variant=np.full(count, -1, dtype=np.int64),
        )
    return result


@dataclass(frozen=True)
class FaultedDay:
    """One system's readings of one day after fault injection.

    ``own`` lands in the day's own file; ``late[i]`` lands ``i`` generated days later.
    """

    own: ReadingRows
    late: dict[int, ReadingRows]

    def valid_rows(self) -> ReadingRows:
        """The final valid reading of every (meter, interval) of the day, wherever it lands."""
        parts = [self.own.take(np.flatnonzero(self.own.label == VALID))]
        parts += [self.late[k] for k in sorted(self.late)]
        return ReadingRows.concat(parts)


def inject_faults(
    spec: SystemSpec,
    rows: ReadingRows,
    *,
    seed: int,
    day: date,
    fault_rate: float,
) -> FaultedDay:
    """Inject faults into one system's clean readings of ``day``.

    Late arrivals are planned whatever the generated range: the world goes on, and a run
    that ends earlier simply has not landed them yet.
    """
    rng = rng_for(seed, STREAM_FAULTS, spec.index, day.toordinal())
    kinds = applicable_kinds(spec.text_format, late_possible=True)
    positions, kind_index = plan_faults(rng, len(rows), fault_rate, kinds)
    kind_of = np.array(kinds, dtype=object)[kind_index] if len(positions) else np.array([])

    def at(kind: str) -> IntArray:
        return positions[kind_of == kind] if len(positions) else positions

    value = rows.value_wh.copy()
    meter_idx = rows.meter_idx.copy()
    interval = rows.interval_start.copy()
    sent = rows.sent_at.copy()
    label = rows.label.copy()
    variant = rows.variant.copy()
    code = rows.code
    day_start = day_start_epoch(day)

    p = at("negative")
    value[p] = -rng.integers(1, 5001, size=len(p))
    label[p] = LABEL["negative"]

    p = at("implausible")
    value[p] = rng.integers(50_001, 400_001, size=len(p))
    label[p] = LABEL["implausible"]

    p = at("unknown_meter")
    if len(p):
        mask = np.zeros(len(rows), dtype=bool)
        mask[p] = True
        unknown = DIALECTS[spec.name].unknown_meter_codes(rng.integers(0, 2**62, size=len(p)))
        code = pc.replace_with_mask(pc.cast(code, pa.string()), pa.array(mask), unknown)
        meter_idx[p] = -1
        also_implausible = p[::3]
        value[also_implausible] = rng.integers(50_001, 400_001, size=len(also_implausible))
        label[p] = LABEL["unknown_meter"]

    p = at("unparsable")
    # cycle through the three variants, shifted by the day, so that every variant occurs in
    # every text system over any three consecutive days
    variant[p] = (np.arange(len(p)) + day.toordinal()) % 3
    label[p] = LABEL["unparsable"]

    p = at("too_late")
    interval[p] -= 86_400 * rng.integers(6, 9, size=len(p))
    sent[p] = day_start + rng.integers(0, 86_400, size=len(p))
    also_negative = p[::2]
    value[also_negative] = -rng.integers(1, 5001, size=len(also_negative))
    label[p] = LABEL["too_late"]

    p = at("future_dated")
    far = day_start_epoch(date(FAR_FUTURE_YEAR, day.month, min(day.day, 28))) - day_start
    ahead = np.where(
        np.arange(len(p)) % 2 == 0, 86_400 * rng.integers(1, 4, size=len(p)), far
    )
    interval[p] += ahead
    sent[p] += ahead
    also_implausible = p[::3]
    value[also_implausible] = rng.integers(50_001, 400_001, size=len(also_implausible))
    label[p] = LABEL["future_dated"]

    p = at("resend")
    label[p] = LABEL["superseded"]  # the original; the correction follows later in the file

    faulted = ReadingRows(code, meter_idx, interval, value, sent, label, variant)

    corrected = faulted.take(p)
    corrected = ReadingRows(
        code=corrected.code,
        meter_idx=corrected.meter_idx,
        interval_start=corrected.interval_start,
        value_wh=corrected.value_wh + rng.integers(1, 501, size=len(p)),
        sent_at=corrected.sent_at + rng.integers(7200, 6 * 3600 + 1, size=len(p)),
        label=np.full(len(p), VALID, dtype=np.int64),
        variant=corrected.variant,
    )

    p = at("duplicate")
    copies = faulted.take(p)
    copies = ReadingRows(
        copies.code, copies.meter_idx, copies.interval_start, copies.value_wh, copies.sent_at,
        np.full(len(p), LABEL["duplicate"], dtype=np.int64), copies.variant,
    )

    p = at("late")
    delay = rng.integers(1, MAX_LATE_DAYS + 1, size=len(p))
    late_sent = day_start + delay * 86_400 + rng.integers(3600, 20 * 3600, size=len(p))
    late: dict[int, ReadingRows] = {}
    for d in sorted(set(delay.tolist())):
        chosen = p[delay == d]
        moved = faulted.take(chosen)
        late[int(d)] = ReadingRows(
            moved.code, moved.meter_idx, moved.interval_start, moved.value_wh,
            late_sent[delay == d], moved.label, moved.variant,
        )
    keep = np.ones(len(rows), dtype=bool)
    keep[p] = False

    own = ReadingRows.concat([faulted.take(np.flatnonzero(keep)), corrected, copies])
    return FaultedDay(own=own, late=late)
