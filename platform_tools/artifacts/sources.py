"""``sources.json`` (schema v3, written by ``dbt source freshness``) as small frozen objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tools.artifacts._io import as_dict, as_list, as_str, read_artifact
from platform_tools.errors import ArtifactError


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    unique_id: str
    status: str
    max_loaded_at: str | None
    snapshotted_at: str | None
    age_seconds: float | None
    warn_after_seconds: float | None
    error_after_seconds: float | None
    message: str | None

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> SourceFreshness:
        criteria = as_dict(raw.get("criteria"))
        age = raw.get("max_loaded_at_time_ago_in_s")
        message = as_str(raw.get("error")) or as_str(raw.get("message"))
        return cls(
            unique_id=str(raw["unique_id"]),
            status=str(raw.get("status") or "").lower(),
            max_loaded_at=as_str(raw.get("max_loaded_at")),
            snapshotted_at=as_str(raw.get("snapshotted_at")),
            age_seconds=float(age) if isinstance(age, int | float) else None,
            warn_after_seconds=_period_seconds(criteria.get("warn_after")),
            error_after_seconds=_period_seconds(criteria.get("error_after")),
            message=message.splitlines()[0][:500] if message else None,
        )


_PERIOD_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}


def _period_seconds(raw: Any) -> float | None:
    spec = as_dict(raw)
    count = spec.get("count")
    period = _PERIOD_SECONDS.get(str(spec.get("period") or ""))
    if not isinstance(count, int | float) or period is None:
        return None
    return float(count) * period


@dataclass(frozen=True)
class SourcesResults:
    path: Path
    invocation_id: str | None
    generated_at: str | None
    results: tuple[SourceFreshness, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> SourcesResults:
        metadata = as_dict(data.get("metadata"))
        try:
            results = tuple(
                SourceFreshness.from_node(r)
                for r in as_list(data.get("results"))
                if isinstance(r, dict)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"{path}: unexpected structure in 'results' ({type(exc).__name__}: {exc}); "
                "re-run `dbt source freshness`"
            ) from None
        return cls(
            path=path,
            invocation_id=as_str(metadata.get("invocation_id")),
            generated_at=as_str(metadata.get("generated_at")),
            results=results,
        )


def load_sources(path: Path) -> SourcesResults:
    """Load and check ``sources.json`` (v3)."""
    return SourcesResults.from_dict(read_artifact(path, "sources"), path)
