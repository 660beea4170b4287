"""``checks.run(manifest, config) -> DepsReport``: the pure core of ``platform-tools deps``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from platform_tools.artifacts.catalog import Catalog
from platform_tools.artifacts.graph import reachable
from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Manifest
from platform_tools.artifacts.ownership import ExposureRef, Ownership
from platform_tools.artifacts.settings import Settings, check_keys, to_str, to_str_list
from platform_tools.deps.model import DepsReport, Finding, Severity, TeamDependencies
from platform_tools.errors import UsageError
from platform_tools.rules import gu
from platform_tools.rules.rulebook import rules

# The rules deps runs: the GU family of the rulebook (platform_tools/rules/gu.py).
RULES = rules("GU")


@dataclass(frozen=True)
class DepsConfig:
    """``[deps]`` of ``platform_tools.toml``::

        [deps]
        disable = ["GU013"]            # rule codes not to run
        [deps.severity]
        GU021 = "warn"                 # override a rule's default severity
    """

    disable: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> DepsConfig:
        section = settings.section("deps")
        check_keys(section, ("disable", "severity"), settings.where("[deps]"))
        disable = to_str_list(section.get("disable", []), settings.where("deps.disable"))
        raw_severity = section.get("severity", {})
        if not isinstance(raw_severity, dict):
            raise UsageError(f"{settings.where('deps.severity')}: expected a table of codes")
        severity = {
            code: Severity(to_str(value, settings.where(f"deps.severity.{code}"),
                                  ("error", "warn")))
            for code, value in raw_severity.items()
        }
        config = cls(disable=frozenset(disable), severity=severity)
        config.check_codes(str(settings.path or "platform_tools.toml"))
        return config

    def check_codes(self, where: str) -> None:
        for code in [*self.disable, *self.severity]:
            if code not in RULES:
                raise UsageError(
                    f"{where}: unknown rule code {code!r}; see `platform-tools deps --list-rules`"
                )

    def with_disabled(self, codes: list[str]) -> DepsConfig:
        config = replace(self, disable=self.disable | frozenset(codes))
        config.check_codes("--disable")
        return config


def run_rules(
    manifest: Manifest,
    config: DepsConfig,
    *,
    ownership: Ownership | None = None,
    catalog: Catalog | None = None,
) -> list[Finding]:
    """Run every enabled rule; findings sorted by code, then node."""
    owner = ownership or Ownership(manifest)
    ctx = gu.RuleContext(manifest=manifest, ownership=owner, catalog=catalog)
    findings: list[Finding] = []
    for code, rule in sorted(RULES.items()):
        if code in config.disable:
            continue
        severity = config.severity.get(code, rule.severity or Severity.ERROR)
        for hit in rule.func(ctx):
            node = manifest.nodes.get(hit.node_id)
            findings.append(Finding(
                code=code,
                rule=rule.name,
                severity=severity,
                message=hit.message,
                node_id=hit.node_id,
                label=owner.label(hit.node_id),
                team=node.team if node else None,
                domain=node.domain if node else None,
                path=node.location if node else None,
                key=hit.key,
                related=hit.related,
            ))
    return findings


def team_dependencies(manifest: Manifest, ownership: Ownership) -> list[TeamDependencies]:
    """Per team: whom it reads, who reads it, and the exposures that sit downstream of it."""
    members: dict[str, list[str]] = defaultdict(list)
    domains: dict[str, set[str]] = defaultdict(set)
    public: dict[str, int] = defaultdict(int)
    for node in manifest.buildable():
        if not node.team:
            continue
        members[node.team].append(node.unique_id)
        if node.domain:
            domains[node.team].add(node.domain)
        if node.is_public:
            public[node.team] += 1
    upstream_teams: dict[str, set[str]] = defaultdict(set)
    upstream_models: dict[str, set[str]] = defaultdict(set)
    downstream_teams: dict[str, set[str]] = defaultdict(set)
    downstream_models: dict[str, set[str]] = defaultdict(set)
    for node in manifest.buildable():
        for parent_id in node.depends_on:
            parent = manifest.nodes.get(parent_id)
            if parent is None or parent.resource_type not in BUILDABLE_TYPES:
                continue
            if node.team and parent.team and node.team != parent.team:
                upstream_teams[node.team].add(parent.team)
                upstream_models[node.team].add(parent_id)
                downstream_teams[parent.team].add(node.team)
                downstream_models[parent.team].add(node.unique_id)
    for exposure in ownership.exposure_refs.values():
        raw = manifest.exposures[exposure.unique_id]
        for parent_id in raw.depends_on:
            read = manifest.nodes.get(parent_id)
            if read and read.team and exposure.team and exposure.team != read.team:
                downstream_teams[read.team].add(exposure.team)
    # the walks below read exposures and owned models, seeds and snapshots: leaves that are
    # neither (tests, mostly: 4 of 5 nodes of a large project) are left out of the graph
    children = ownership.children
    kept = {uid for uid, n in manifest.nodes.items()
            if n.resource_type in BUILDABLE_TYPES and n.team}
    kept.update(children, ownership.exposure_refs)
    edges = {parent: kids for parent, all_kids in children.items()
             if (kids := [kid for kid in all_kids if kid in kept])}
    result = []
    for team in sorted(members):
        reach = reachable(edges, members[team])
        exposures: list[ExposureRef] = []
        far_teams: set[str] = set()
        for uid in reach:
            ref = ownership.exposure_refs.get(uid)
            if ref is not None:
                exposures.append(ref)
                if ref.team:
                    far_teams.add(ref.team)
                continue
            reached = manifest.nodes.get(uid)
            if reached is not None and reached.resource_type in BUILDABLE_TYPES and reached.team:
                far_teams.add(reached.team)
        far_teams.discard(team)
        group = manifest.groups.get(team)
        owner = (group.owner_name or group.owner_email) if group else None
        result.append(TeamDependencies(
            team=team,
            owner=owner,
            domains=tuple(sorted(domains[team])),
            model_count=len(members[team]),
            public_model_count=public[team],
            upstream_teams=tuple(sorted(upstream_teams[team])),
            upstream_models=tuple(sorted(upstream_models[team])),
            downstream_teams=tuple(sorted(downstream_teams[team])),
            downstream_models=tuple(sorted(downstream_models[team])),
            exposures=tuple(sorted(exposures, key=lambda e: e.unique_id)),
            transitive_downstream_teams=tuple(sorted(far_teams)),
        ))
    return result


def run(
    manifest: Manifest,
    config: DepsConfig | None = None,
    *,
    baseline: Manifest | None = None,
    new_only: bool = False,
    catalog: Catalog | None = None,
    ownership: Ownership | None = None,
) -> DepsReport:
    """Rules, team dependencies and (with a baseline) breaking changes for ``manifest``;
    ``ownership`` (of ``manifest``) shares its graph roll-ups with the caller's other
    analyses."""
    config = config or DepsConfig()
    if new_only and baseline is None:
        raise UsageError("--new-only needs --baseline <manifest.json> to compare against")
    ownership = ownership or Ownership(manifest)
    findings = run_rules(manifest, config, ownership=ownership, catalog=catalog)
    breaks = []
    if baseline is not None:
        old = {f.fingerprint for f in run_rules(baseline, config)}
        findings = [replace(f, new=f.fingerprint not in old) for f in findings]
        from platform_tools.deps.breaking import breaking_changes  # with a baseline only

        breaks = breaking_changes(baseline, manifest, ownership)
    teams = tuple(team_dependencies(manifest, ownership))
    # the labels of the models the team sections name (DepsReport.as_dict reads no others)
    named = {uid for t in teams for uid in (*t.upstream_models, *t.downstream_models)}
    labels = {uid: manifest.nodes[uid].label for uid in sorted(named) if uid in manifest.nodes}
    return DepsReport(
        project=manifest.metadata.project_name,
        findings=tuple(findings),
        breaking_changes=tuple(breaks),
        teams=teams,
        rules=tuple(
            (code, r.name, config.severity.get(code, r.severity or Severity.ERROR), r.summary)
            for code, r in sorted(RULES.items())
            if code not in config.disable
        ),
        baseline=str(baseline.path) if baseline is not None else None,
        new_only=new_only,
        labels=labels,
        checked_models=len(gu.root_models(manifest)),
    )
