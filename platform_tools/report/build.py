"""``platform-tools report``: dependencies, cost and observability in one place.

:func:`build` runs the three analyses through their public functions; rendering the
:class:`PlatformReport` is :mod:`platform_tools.report.render`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_tools import __version__
from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.ownership import Ownership
from platform_tools.artifacts.settings import Settings
from platform_tools.artifacts.target import TargetArtifacts
from platform_tools.cost import chargeback
from platform_tools.cost.config import CostConfig
from platform_tools.cost.storage import warehouse_storage
from platform_tools.cost.usage import choose_usage
from platform_tools.deps import checks
from platform_tools.deps.model import DepsReport
from platform_tools.errors import ArtifactError
from platform_tools.observe import health
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import History, runs_with_target


@dataclass(frozen=True)
class PlatformReport:
    project: str | None
    generated_at: str
    deps: DepsReport
    cost: chargeback.CostReport | None
    cost_error: str | None
    health: health.HealthReport
    team_edges: tuple[tuple[str, str, int], ...]

    @property
    def teams(self) -> list[str]:
        names = {t.team for t in self.deps.teams}
        if self.cost is not None:
            names.update(t.team for t in self.cost.teams)
        names.update(t.team for t in self.health.tests)
        return sorted(names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": "platform-tools report",
            "version": __version__,
            "project": self.project,
            "generated_at": self.generated_at,
            "deps": self.deps.as_dict(),
            "cost": self.cost.as_dict() if self.cost is not None else None,
            "cost_error": self.cost_error,
            "observe": self.health.as_dict(),
        }


def team_edges(manifest: Manifest) -> tuple[tuple[str, str, int], ...]:
    """``(consumer team, producer team, models read)`` for every cross-team dependency."""
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in manifest.buildable():
        for parent_id in node.depends_on:
            parent = manifest.nodes.get(parent_id)
            if parent and node.team and parent.team and node.team != parent.team:
                pairs[(node.team, parent.team)].add(parent_id)
    return tuple(sorted((c, p, len(m)) for (c, p), m in pairs.items()))


@dataclass(frozen=True)
class ReportBasis:
    """A :class:`PlatformReport` before the clock is read: a pure function of the target, the
    history, the warehouse and the settings, so it can be cached (see answers.py)."""

    project: str | None
    deps: DepsReport
    cost: chargeback.CostReport | None
    cost_error: str | None
    health: health.HealthBasis
    team_edges: tuple[tuple[str, str, int], ...]


def build(
    target: TargetArtifacts,
    history: History,
    warehouse: Path,
    settings: Settings,
    *,
    now: datetime | None = None,
    baseline: Manifest | None = None,
) -> PlatformReport:
    """Run deps, cost and observe on one target and its lakehouse."""
    return finish(basis(target, history, warehouse, settings, baseline=baseline),
                  now or datetime.now(UTC))


def basis(
    target: TargetArtifacts,
    history: History,
    warehouse: Path,
    settings: Settings,
    *,
    baseline: Manifest | None = None,
) -> ReportBasis:
    """What :func:`build` computes before it reads the clock."""
    manifest = target.manifest
    ownership = Ownership(manifest)
    deps = checks.run(manifest, checks.DepsConfig.from_settings(settings), baseline=baseline,
                      catalog=target.catalog, ownership=ownership)
    cost_config = CostConfig.from_settings(settings)
    cost: chargeback.CostReport | None = None
    cost_error: str | None = None
    try:
        usage, described = choose_usage(cost_config.compute_source, manifest,
                                        target.run_results, history, cost_config.period_days)
        storage = warehouse_storage(warehouse, manifest.buildable())
        cost = chargeback.run(manifest, cost_config, usage, storage, compute_source=described,
                              ownership=ownership)
    except ArtifactError as exc:
        cost_error = exc.message
    observe_config = ObserveConfig.from_settings(settings)
    runs = runs_with_target(history, target.run_results, manifest, target.target_dir,
                            warehouse)[-observe_config.runs:]
    report = health.basis(manifest, runs, observe_config, sources=target.sources,
                          ownership=ownership)
    return ReportBasis(
        project=manifest.metadata.project_name,
        deps=deps,
        cost=cost,
        cost_error=cost_error,
        health=report,
        team_edges=team_edges(manifest),
    )


def finish(basis: ReportBasis, now: datetime) -> PlatformReport:
    """The :class:`PlatformReport` of ``basis`` with freshness evaluated at ``now``."""
    return PlatformReport(
        project=basis.project,
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
        deps=basis.deps,
        cost=basis.cost,
        cost_error=basis.cost_error,
        health=health.finish(basis.health, now),
        team_edges=basis.team_edges,
    )
