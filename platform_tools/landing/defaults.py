"""Default arguments of the generator, importable without numpy or pyarrow (fast CLI start)."""

from __future__ import annotations

from datetime import date
from typing import Final

DEFAULT_METERS: Final[int] = 200
DEFAULT_DAYS: Final[int] = 3
DEFAULT_START: Final[date] = date(2024, 10, 26)
DEFAULT_SEED: Final[int] = 42
DEFAULT_FAULT_RATE: Final[float] = 0.01
