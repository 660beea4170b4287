"""What ``platform-tools deps`` reports: findings, breaking changes and team dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from platform_tools.artifacts.ownership import ExposureRef


class Severity(StrEnum):
    ERROR = "error"
    WARN = "warn"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violation on one node."""

    code: str
    rule: str
    severity: Severity
    message: str
    node_id: str | None
    label: str
    team: str | None
    domain: str | None
    path: str | None
    key: str = ""
    related: tuple[str, ...] = ()
    new: bool = True

    @property
    def fingerprint(self) -> tuple[str, str, str]:
        """Stable identity of the violation, for comparing against a baseline."""
        return (self.code, self.node_id or "", self.key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity.value,
            "message": self.message,
            "node_id": self.node_id,
            "model": self.label,
            "team": self.team,
            "domain": self.domain,
            "path": self.path,
            "related": list(self.related),
            "new": self.new,
        }


@dataclass(frozen=True, slots=True)
class BreakingChange:
    """A change against the baseline manifest that can break consumers."""

    code: str
    kind: str
    severity: Severity
    node_id: str
    label: str
    team: str | None
    domain: str | None
    path: str | None
    message: str
    affected_teams: tuple[str, ...]
    affected_models: tuple[str, ...]
    affected_model_labels: tuple[str, ...]
    affected_exposures: tuple[ExposureRef, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "severity": self.severity.value,
            "node_id": self.node_id,
            "model": self.label,
            "team": self.team,
            "domain": self.domain,
            "path": self.path,
            "message": self.message,
            "affected_teams": list(self.affected_teams),
            "affected_models": list(self.affected_models),
            "affected_exposures": [
                {"unique_id": e.unique_id, "name": e.name, "label": e.label, "type": e.type,
                 "team": e.team, "owner": e.owner, "url": e.url}
                for e in self.affected_exposures
            ],
        }


@dataclass(frozen=True, slots=True)
class TeamDependencies:
    """A team's place in the cross-team graph."""

    team: str
    owner: str | None
    domains: tuple[str, ...]
    model_count: int
    public_model_count: int
    upstream_teams: tuple[str, ...]
    upstream_models: tuple[str, ...]
    downstream_teams: tuple[str, ...]
    downstream_models: tuple[str, ...]
    exposures: tuple[ExposureRef, ...]
    transitive_downstream_teams: tuple[str, ...]

    def as_dict(self, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "team": self.team,
            "owner": self.owner,
            "domains": list(self.domains),
            "models": self.model_count,
            "public_models": self.public_model_count,
            "upstream_teams": list(self.upstream_teams),
            "upstream_models": [labels.get(m, m) for m in self.upstream_models],
            "downstream_teams": list(self.downstream_teams),
            "downstream_models": [labels.get(m, m) for m in self.downstream_models],
            "exposures": [
                {"unique_id": e.unique_id, "label": e.label, "team": e.team, "owner": e.owner}
                for e in self.exposures
            ],
            "transitive_downstream_teams": list(self.transitive_downstream_teams),
        }


@dataclass(frozen=True)
class DepsReport:
    project: str | None
    findings: tuple[Finding, ...]
    breaking_changes: tuple[BreakingChange, ...]
    teams: tuple[TeamDependencies, ...]
    rules: tuple[tuple[str, str, Severity, str], ...]  # code, name, severity, summary
    baseline: str | None = None
    new_only: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    checked_models: int | None = None
    """Models of the root project the rules looked at (0: all models are in packages)."""

    @property
    def checked(self) -> str:
        """``12 models of the root project checked``."""
        count = self.checked_models or 0
        return f"{count} model{'' if count == 1 else 's'} of the root project checked"

    @property
    def gating_findings(self) -> tuple[Finding, ...]:
        """The findings that decide the exit code (only new ones with ``--new-only``)."""
        return tuple(f for f in self.findings if f.new or not self.new_only)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.gating_findings if f.severity is Severity.ERROR) + sum(
            1 for b in self.breaking_changes if b.severity is Severity.ERROR
        )

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.gating_findings if f.severity is Severity.WARN) + sum(
            1 for b in self.breaking_changes if b.severity is Severity.WARN
        )

    @property
    def failed(self) -> bool:
        return self.errors > 0

    @property
    def affected_teams(self) -> tuple[str, ...]:
        teams: set[str] = set()
        for change in self.breaking_changes:
            teams.update(change.affected_teams)
        return tuple(sorted(teams))

    def filtered(self, teams: set[str] | None, domains: set[str] | None) -> DepsReport:
        """Keep what concerns the given teams/domains (as owner or as affected consumer)."""
        if not teams and not domains:
            return self

        def keep(team: str | None, domain: str | None, affected: tuple[str, ...] = ()) -> bool:
            if teams and (team in teams or teams.intersection(affected)):
                return True
            return bool(domains and domain in domains)

        return replace(
            self,
            findings=tuple(f for f in self.findings if keep(f.team, f.domain)),
            breaking_changes=tuple(
                b for b in self.breaking_changes if keep(b.team, b.domain, b.affected_teams)
            ),
            teams=tuple(
                t for t in self.teams
                if (teams and t.team in teams) or (domains and domains.intersection(t.domains))
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": "platform-tools deps",
            "project": self.project,
            "baseline": self.baseline,
            "new_only": self.new_only,
            "summary": {
                "errors": self.errors,
                "warnings": self.warnings,
                "findings": len(self.findings),
                "new_findings": sum(1 for f in self.findings if f.new),
                "breaking_changes": len(self.breaking_changes),
                "affected_teams": list(self.affected_teams),
                "failed": self.failed,
                "checked_models": self.checked_models,
            },
            "breaking_changes": [b.as_dict() for b in self.breaking_changes],
            "findings": [f.as_dict() for f in self.findings],
            "teams": [t.as_dict(self.labels) for t in self.teams],
            "rules": [
                {"code": code, "name": name, "severity": sev.value, "summary": summary}
                for code, name, sev, summary in self.rules
            ],
        }
