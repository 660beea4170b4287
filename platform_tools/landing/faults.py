"""The faults the generator injects into the readings feeds, and how each row is classified.

Fault kinds (what the generator does to a reading picked for a fault):

``duplicate``      the row is landed twice, byte for byte (the second copy is the fault).
``resend``         a corrected re-send: the same meter and interval is sent again, later in the
                   same file, with a different value and a send time 2-6 h later (always more
                   than one hour, so the local send time of electra/luxpower is later too, even
                   across the fall-back hour). The later row is the truth; the original is
                   ``superseded``.
``late``           the reading is removed from its own day's file and lands 1-3 days later (in
                   a later ``ingest_date`` folder, only if that day is generated). It is valid.
``negative``       the energy value is negative.
``implausible``    the energy exceeds 50 kWh per 60 minutes (``> 50 * minutes / 60`` kWh).
``unknown_meter``  the meter code is not in the system's meter master (a third of these rows
                   also carry an implausible value: still ``unknown_meter`` by precedence).
``unparsable``     text files only (nordgrid, electra, luxpower): energy ``n/a``, an
                   impossible time (``24:60``), or a structurally broken row (CSV row with
                   only its first three fields, JSON line cut after 45 characters); the three
                   variants take turns, so each occurs in every text system over any three
                   consecutive days.
``too_late``       the interval starts more than 5 days before the ingest date, i.e.
                   ``interval_start_utc < ingest_date 00:00 UTC - 5 days`` (the generator moves
                   it back 6-8 days; half of these rows also carry a negative value: still
                   ``too_late`` by precedence).
``future_dated``   the interval starts after the ingest day, i.e.
                   ``interval_start_utc >= ingest_date 00:00 UTC + 1 day`` (a clock or
                   formatting error of the source: the generator moves half of these rows
                   1-3 days ahead and the other half into the year 2099; a third also carry an
                   implausible value: still ``future_dated`` by precedence).

Row classification (the reason a pipeline quarantines a row under, exactly one per row):
the row-level checks run in :data:`REASON_PRECEDENCE` order and the first that fails wins::

    unparsable > unknown_meter > too_late > future_dated > negative > implausible
    > duplicate > superseded

Only rows that pass every row-level check take part in de-duplication on
``(meter_ean, interval_start_utc)``: the row with the latest send time wins; a row equal to
the winner in every field is a ``duplicate``; a row with an earlier send time is
``superseded``.

With ``fault_rate > 0`` every applicable fault kind occurs at least once per system and day
(when the day has that many readings), so even a small demo run exercises every path; at
scale the rate dominates.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

# Quarantine reasons, highest precedence first.
REASON_PRECEDENCE: Final[tuple[str, ...]] = (
    "unparsable",
    "unknown_meter",
    "too_late",
    "future_dated",
    "negative",
    "implausible",
    "duplicate",
    "superseded",
)
REASONS: Final[frozenset[str]] = frozenset(REASON_PRECEDENCE)

# Row labels used internally: 0 = valid, i + 1 = REASON_PRECEDENCE[i].
VALID: Final[int] = 0
LABEL: Final[dict[str, int]] = {reason: i + 1 for i, reason in enumerate(REASON_PRECEDENCE)}

FAULT_KINDS: Final[tuple[str, ...]] = (
    "duplicate",
    "resend",
    "late",
    "negative",
    "implausible",
    "unknown_meter",
    "unparsable",
    "too_late",
    "future_dated",
)

TOO_LATE_DAYS: Final[int] = 5
"""A reading is too late when its interval starts more than this many days before the
start of its ingest date (UTC)."""
FAR_FUTURE_YEAR: Final[int] = 2099
IMPLAUSIBLE_KWH_PER_HOUR: Final[int] = 50
"""A reading is implausible above this many kWh per 60 minutes of interval."""
MAX_LATE_DAYS: Final[int] = 3

# Unparsable variants.
UNPARSABLE_ENERGY: Final[int] = 0  # energy field "n/a"
UNPARSABLE_TIME: Final[int] = 1  # an impossible time of day (24:60)
UNPARSABLE_STRUCTURE: Final[int] = 2  # too few CSV fields / JSON line cut short


def applicable_kinds(text_format: bool, late_possible: bool) -> tuple[str, ...]:
    """The fault kinds a system's feed can carry on a given day."""
    return tuple(
        kind
        for kind in FAULT_KINDS
        if (kind != "unparsable" or text_format) and (kind != "late" or late_possible)
    )


def fault_count(n_rows: int, fault_rate: float, n_kinds: int) -> int:
    """How many of ``n_rows`` readings get a fault: the rate (rounded half up), but at least
    one per kind while there are rows enough."""
    if n_rows == 0 or fault_rate <= 0 or n_kinds == 0:
        return 0
    wanted = int(n_rows * fault_rate + 0.5)
    return min(n_rows, max(wanted, n_kinds))


def plan_faults(
    rng: np.random.Generator, n_rows: int, fault_rate: float, kinds: tuple[str, ...]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Pick the rows that get a fault and the kind of each (an index into ``kinds``).

    Returns ``(positions, kind_index)``, positions sorted ascending and distinct.
    """
    count = fault_count(n_rows, fault_rate, len(kinds))
    if count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    positions = np.sort(rng.choice(n_rows, size=count, replace=False)).astype(np.int64)
    every_kind = rng.permutation(len(kinds))
    extra = rng.integers(0, len(kinds), size=max(0, count - len(kinds)))
    sequence = np.concatenate([every_kind, extra])[:count]
    return positions, rng.permutation(sequence).astype(np.int64)
