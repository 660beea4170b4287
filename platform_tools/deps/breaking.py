"""Breaking changes between a baseline manifest (e.g. the main branch) and the current one.

The codes (BC001...BC006) and what each catches are rules of
:mod:`platform_tools.rules.bc`; this module finds the nodes to compare (models, seeds and
snapshots of the baseline's root project; nodes of installed packages are not compared) and
what each break reaches.

Every break lists the teams, models and exposures downstream of the changed node, transitively,
in the union of both manifests' lineage. A break is an error when the model is public, or
when anything of another team or any exposure sits downstream; otherwise a warning.
"""

from __future__ import annotations

from collections.abc import Iterator

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Manifest, Node
from platform_tools.artifacts.ownership import ExposureRef, Ownership
from platform_tools.deps.model import BreakingChange, Severity
from platform_tools.rules.bc import Change, compare_node, model_removed, version_removed
from platform_tools.rules.gu import in_root_project


def _versions(manifest: Manifest, node: Node) -> list[Node]:
    return sorted(
        (
            n
            for n in manifest.nodes.values()
            if n.resource_type == node.resource_type
            and n.package_name == node.package_name
            and n.name == node.name
        ),
        key=lambda n: n.unique_id,
    )


def find_changes(baseline: Manifest, current: Manifest) -> Iterator[tuple[Node, list[Change]]]:
    """Baseline nodes of the root project with their breaking changes (nodes without any
    are skipped). Nodes of installed packages are not the project's to break: a package
    upgrade that drops one of its models is not reported."""
    for old in sorted(baseline.nodes.values(), key=lambda n: n.unique_id):
        if old.resource_type not in BUILDABLE_TYPES or not in_root_project(baseline, old):
            continue
        new = current.nodes.get(old.unique_id)
        if new is not None:
            changes = compare_node(old, new)
            if changes:
                yield old, changes
            continue
        if old.unique_id in current.disabled:
            yield old, list(model_removed(old, disabled=True))
            continue
        siblings = _versions(current, old)
        if old.version is not None and siblings:
            yield old, list(version_removed(old, remaining=siblings))
            continue
        if old.version is None and siblings:
            # the model became versioned: fine if one version keeps the old shape
            candidates = [(s, compare_node(old, s)) for s in siblings]
            if any(not changes for _, changes in candidates):
                continue
            latest = next(
                (c for c in candidates if c[0].version == c[0].latest_version), candidates[-1]
            )
            yield old, latest[1]
            continue
        yield old, list(model_removed(old, disabled=False))


def breaking_changes(
    baseline: Manifest, current: Manifest, current_owner: Ownership | None = None
) -> list[BreakingChange]:
    """Every breaking change with the teams, models and exposures it reaches."""
    now = current_owner or Ownership(current)
    before = Ownership(baseline)
    out: list[BreakingChange] = []
    for old, changes in find_changes(baseline, current):
        downstream = now.downstream([old.unique_id]) | before.downstream([old.unique_id])
        teams: set[str] = set()
        models: dict[str, str] = {}
        exposures: dict[str, ExposureRef] = {}
        for uid in downstream:
            for owner in (now, before):
                exposure = owner.exposure_refs.get(uid)
                if exposure is not None:
                    exposures.setdefault(uid, exposure)
                    break
                node = owner.manifest.nodes.get(uid)
                if node is not None:
                    if node.resource_type in BUILDABLE_TYPES:
                        models.setdefault(uid, node.label)
                        if node.team:
                            teams.add(node.team)
                    break
        for exposure in exposures.values():
            if exposure.team:
                teams.add(exposure.team)
        producer = old.team
        current_node = current.nodes.get(old.unique_id)
        public = old.is_public or bool(current_node and current_node.is_public)
        foreign = any(t != producer for t in teams)
        severity = Severity.ERROR if (public or foreign or exposures) else Severity.WARN
        ordered = sorted(models)
        for change in changes:
            out.append(BreakingChange(
                code=change.code,
                kind=change.kind,
                severity=severity,
                node_id=old.unique_id,
                label=old.label,
                team=producer,
                domain=old.domain,
                path=(current_node or old).location,
                message=f"{old.label}: {change.message}",
                affected_teams=tuple(sorted(teams)),
                affected_models=tuple(ordered),
                affected_model_labels=tuple(models[m] for m in ordered),
                affected_exposures=tuple(sorted(exposures.values(), key=lambda e: e.unique_id)),
            ))
    return out
