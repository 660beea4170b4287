"""Central European local time without a time-zone database.

Germany, France, the Netherlands and Luxembourg share one rule since 1996: standard time is
UTC+01:00, summer time (UTC+02:00) runs from the last Sunday of March 01:00 UTC to the last
Sunday of October 01:00 UTC. On the fall-back day the local hour 02:00-02:59 happens twice
(first at +02:00, then at +01:00). The tests cross-check this against ``zoneinfo``.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

STANDARD_OFFSET_S = 3600
SUMMER_OFFSET_S = 7200


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month."""
    last_day = calendar.monthrange(year, month)[1]
    day = date(year, month, last_day)
    return date.fromordinal(day.toordinal() - (day.weekday() + 1) % 7)


def summer_time_bounds(year: int) -> tuple[int, int]:
    """Epoch seconds of the start (inclusive) and end (exclusive) of summer time in ``year``."""
    start = datetime.combine(last_sunday(year, 3), datetime.min.time(), UTC).timestamp() + 3600
    end = datetime.combine(last_sunday(year, 10), datetime.min.time(), UTC).timestamp() + 3600
    return int(start), int(end)


def fall_back_day(year: int) -> date:
    """The day on which the local hour 02:00-02:59 repeats."""
    return last_sunday(year, 10)


def utc_offset_seconds(epoch_s: IntArray) -> IntArray:
    """The Central European UTC offset (3600 or 7200) at each UTC instant."""
    if len(epoch_s) == 0:
        return np.zeros(0, dtype=np.int64)
    years = epoch_s.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    first, last = int(years.min()), int(years.max())
    bounds = np.array([summer_time_bounds(y) for y in range(first, last + 1)], dtype=np.int64)
    starts = bounds[years - first, 0]
    ends = bounds[years - first, 1]
    summer = (epoch_s >= starts) & (epoch_s < ends)
    return np.where(summer, SUMMER_OFFSET_S, STANDARD_OFFSET_S).astype(np.int64)
