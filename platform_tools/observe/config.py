"""``[observe]`` of ``platform_tools.toml``.

Example (the defaults)::

    [observe]
    runs = 30                 # recorded runs the statistics look at (most recent)
    recent_runs = 5           # runs averaged as the volume baseline
    volume_threshold = 0.5    # anomaly when rows written differ from the baseline by > 50 %
    slowest = 10              # slowest models listed
    fail_on = "critical"      # exit 1 when a domain is CRITICAL (or: "warning", "never")
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from platform_tools.artifacts.settings import Settings, check_keys, to_float, to_int, to_str

FAIL_ON = ("critical", "warning", "never")


@dataclass(frozen=True)
class ObserveConfig:
    runs: int = 30
    recent_runs: int = 5
    volume_threshold: float = 0.5
    slowest: int = 10
    fail_on: str = "critical"

    @classmethod
    def from_settings(cls, settings: Settings) -> ObserveConfig:
        section = settings.section("observe")
        w = settings.where
        check_keys(section, ("runs", "recent_runs", "volume_threshold", "slowest", "fail_on"),
                   w("[observe]"))
        d = cls()
        return cls(
            runs=to_int(section.get("runs", d.runs), w("observe.runs"), minimum=1),
            recent_runs=to_int(section.get("recent_runs", d.recent_runs),
                               w("observe.recent_runs"), minimum=1),
            volume_threshold=to_float(section.get("volume_threshold", d.volume_threshold),
                                      w("observe.volume_threshold")),
            slowest=to_int(section.get("slowest", d.slowest), w("observe.slowest"), minimum=1),
            fail_on=to_str(section.get("fail_on", d.fail_on), w("observe.fail_on"), FAIL_ON),
        )

    def with_overrides(self, **values: Any) -> ObserveConfig:
        chosen = {k: v for k, v in values.items() if v is not None}
        return replace(self, **chosen) if chosen else self
