"""``[cost]`` of ``platform_tools.toml``: rates, the period and the red-flag thresholds.

Example (every key optional; these are the defaults)::

    [cost]
    currency = "EUR"
    compute_per_hour = "4.00"          # per hour of dbt node execution time
    storage_per_gb_month = "0.023"     # per GB (10^9 bytes) of Delta table files per month
    per_thousand_files_month = "0"     # small-files surcharge per 1,000 files per month
    period_days = 30                   # the statement's period (storage is prorated to it)
    compute_source = "auto"            # auto | history | target
    shared_rule = "equal"              # equal | producer
    unowned_team = ""                  # charge nodes without a team to this team
    max_team_share = 0.30              # red flag above this share of the total
    cost_per_row_rise = 0.25           # red flag when cost per row rose by 25 %...
    cost_per_row_runs = 3              # ...over at least this many runs

    [cost.teams.nordgrid]              # per-team overrides
    compute_per_hour = "3.50"
    cost_centre = "DE-BILL-100"

Money values are best written as strings (exact decimals); numbers are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from platform_tools.artifacts.settings import (
    Settings,
    check_keys,
    to_decimal,
    to_float,
    to_int,
    to_str,
)
from platform_tools.errors import UsageError

COMPUTE_SOURCES = ("auto", "history", "target")
SHARED_RULES = ("equal", "producer")
_RATE_KEYS = ("compute_per_hour", "storage_per_gb_month", "per_thousand_files_month")
_TEAM_KEYS = (*_RATE_KEYS, "cost_centre")
_KEYS = (
    "currency", *_RATE_KEYS, "period_days", "compute_source", "shared_rule", "unowned_team",
    "max_team_share", "cost_per_row_rise", "cost_per_row_runs", "teams",
)


@dataclass(frozen=True)
class Rates:
    compute_per_hour: Decimal = Decimal("4.00")
    storage_per_gb_month: Decimal = Decimal("0.023")
    per_thousand_files_month: Decimal = Decimal("0")


@dataclass(frozen=True)
class TeamOverride:
    compute_per_hour: Decimal | None = None
    storage_per_gb_month: Decimal | None = None
    per_thousand_files_month: Decimal | None = None
    cost_centre: str | None = None


@dataclass(frozen=True)
class CostConfig:
    currency: str = "EUR"
    rates: Rates = field(default_factory=Rates)
    period_days: int = 30
    compute_source: str = "auto"
    shared_rule: str = "equal"
    unowned_team: str | None = None
    max_team_share: float = 0.30
    cost_per_row_rise: float = 0.25
    cost_per_row_runs: int = 3
    teams: Mapping[str, TeamOverride] = field(default_factory=dict)

    def rates_for(self, team: str | None) -> Rates:
        override = self.teams.get(team or "")
        if override is None:
            return self.rates
        return Rates(
            compute_per_hour=_pick(override.compute_per_hour, self.rates.compute_per_hour),
            storage_per_gb_month=_pick(
                override.storage_per_gb_month, self.rates.storage_per_gb_month
            ),
            per_thousand_files_month=_pick(
                override.per_thousand_files_month, self.rates.per_thousand_files_month
            ),
        )

    def cost_centre(self, team: str) -> str | None:
        override = self.teams.get(team)
        return override.cost_centre if override else None

    @classmethod
    def from_settings(cls, settings: Settings) -> CostConfig:
        section = settings.section("cost")
        w = settings.where
        check_keys(section, _KEYS, w("[cost]"))
        defaults = cls()
        rates = Rates(**{
            key: to_decimal(section[key], w(f"cost.{key}"))
            for key in _RATE_KEYS
            if key in section
        })
        teams_raw = section.get("teams", {})
        if not isinstance(teams_raw, dict):
            raise UsageError(f"{w('cost.teams')}: expected tables [cost.teams.<team>]")
        teams = {}
        for team, raw in teams_raw.items():
            where = w(f"[cost.teams.{team}]")
            if not isinstance(raw, dict):
                raise UsageError(f"{where}: expected a table")
            check_keys(raw, _TEAM_KEYS, where)
            teams[team] = TeamOverride(
                cost_centre=to_str(raw["cost_centre"], w(f"cost.teams.{team}.cost_centre"))
                if "cost_centre" in raw else None,
                **{
                    key: to_decimal(raw[key], w(f"cost.teams.{team}.{key}"))
                    for key in _RATE_KEYS
                    if key in raw
                },
            )
        unowned = section.get("unowned_team", "")
        if not isinstance(unowned, str):
            raise UsageError(f"{w('cost.unowned_team')}: expected a string, got {unowned!r}")
        return cls(
            currency=to_str(section.get("currency", defaults.currency), w("cost.currency")),
            rates=rates,
            period_days=to_int(section.get("period_days", defaults.period_days),
                               w("cost.period_days"), minimum=1),
            compute_source=to_str(section.get("compute_source", defaults.compute_source),
                                  w("cost.compute_source"), COMPUTE_SOURCES),
            shared_rule=to_str(section.get("shared_rule", defaults.shared_rule),
                               w("cost.shared_rule"), SHARED_RULES),
            unowned_team=unowned or None,
            max_team_share=to_float(section.get("max_team_share", defaults.max_team_share),
                                    w("cost.max_team_share"), maximum=1.0),
            cost_per_row_rise=to_float(
                section.get("cost_per_row_rise", defaults.cost_per_row_rise),
                w("cost.cost_per_row_rise"),
            ),
            cost_per_row_runs=to_int(
                section.get("cost_per_row_runs", defaults.cost_per_row_runs),
                w("cost.cost_per_row_runs"), minimum=2,
            ),
            teams=teams,
        )

    def with_overrides(self, **values: Any) -> CostConfig:
        """Apply command-line flags (``None`` values are ignored)."""
        rate_values = {k: v for k, v in values.items() if k in _RATE_KEYS and v is not None}
        other = {k: v for k, v in values.items() if k not in _RATE_KEYS and v is not None}
        config = replace(self, **other) if other else self
        if rate_values:
            config = replace(config, rates=replace(config.rates, **rate_values))
        return config


def _pick(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value
