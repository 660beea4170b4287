"""Money: ``Decimal`` rounded to the cent, and largest-remainder allocation."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)


def to_cents(amount: Decimal) -> Decimal:
    """Round half up to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Split ``total`` (a whole number of cents) in proportion to ``weights``, in cents, so
    that the parts sum to ``total`` exactly (largest-remainder method).

    Every part is first rounded down to the cent; the cents left over go one each to the
    parts with the largest remainders (ties: larger weight first, then key order). With all
    weights zero the parts are zero and ``total`` must be zero.
    """
    total = to_cents(total)
    weight_sum = sum(weights.values(), ZERO)
    if weight_sum <= 0:
        if total != 0 and weights:
            raise ValueError("cannot allocate a non-zero total over zero weights")
        return {key: ZERO.quantize(CENT) for key in weights}
    floors: dict[str, Decimal] = {}
    remainders: list[tuple[Decimal, Decimal, str]] = []
    for key, weight in weights.items():
        exact = total * weight / weight_sum
        floor = exact.quantize(CENT, rounding=ROUND_DOWN)
        floors[key] = floor
        remainders.append((exact - floor, weight, key))
    left = int((total - sum(floors.values(), ZERO)) / CENT)
    remainders.sort(key=lambda item: (-item[0], -item[1], item[2]))
    for _, _, key in remainders[:left]:
        floors[key] += CENT
    return floors
