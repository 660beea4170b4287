"""Breaking changes between a baseline manifest (e.g. the main branch) and the current one.

Codes and what they catch (for models, seeds and snapshots of the baseline's root project;
nodes of installed packages are not compared):

``BC001`` model removed or disabled
``BC002`` column removed (reported as *renamed* when a column of the same declared type
          appeared; with unknown types it stays *removed*)
``BC003`` column data type changed
``BC004`` contract removed (was enforced)
``BC005`` access narrowed (public -> protected -> private)
``BC006`` model version removed while other versions remain

A change is allowed when it ships as a new model version with the old version kept: the old
version is compared with itself and the new one has no baseline. When an unversioned model
becomes versioned, it is unchanged if any of its versions is compatible with the baseline.

Every break lists the teams, models and exposures downstream of the changed node, transitively,
in the union of both manifests' lineage. A break is an error when the model is public, or
when anything of another team or any exposure sits downstream; otherwise a warning.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Column, Manifest, Node
from platform_tools.artifacts.ownership import ExposureRef, Ownership
from platform_tools.deps.model import BreakingChange, Severity
from platform_tools.deps.rules import in_root_project

ACCESS_RANK = {"private": 0, "protected": 1, "public": 2}
_TYPE_SYNONYMS = {
    "integer": "int",
    "long": "bigint",
    "short": "smallint",
    "byte": "tinyint",
    "bool": "boolean",
    "real": "float",
    "text": "string",
    "varchar": "string",
}


def normalise_type(data_type: str | None) -> str | None:
    """Lower case, no spaces, common Spark synonyms folded (``integer`` = ``int``)."""
    if data_type is None:
        return None
    text = data_type.strip().lower().replace(" ", "")
    return _TYPE_SYNONYMS.get(text, text)


@dataclass(frozen=True, slots=True)
class Change:
    code: str
    kind: str
    message: str


def compare_node(old: Node, new: Node) -> list[Change]:
    """The breaking differences between two variants of one node."""
    changes: list[Change] = []
    new_columns = {c.name.lower(): c for c in new.columns}
    old_columns = {c.name.lower(): c for c in old.columns}
    removed = [c for name, c in old_columns.items() if name not in new_columns]
    added = [c for name, c in new_columns.items() if name not in old_columns]
    renamed = _pair_renames(removed, added)
    for col in removed:
        if col.name in renamed:
            changes.append(Change(
                "BC002", "column renamed",
                f"column {col.name} renamed to {renamed[col.name]}",
            ))
        else:
            changes.append(Change("BC002", "column removed", f"column {col.name} removed"))
    for name, col in old_columns.items():
        other = new_columns.get(name)
        if other is None:
            continue
        before, after = normalise_type(col.data_type), normalise_type(other.data_type)
        if before and after and before != after:
            changes.append(Change(
                "BC003", "data type changed",
                f"column {col.name} changed type {col.data_type} -> {other.data_type}",
            ))
    if old.contract_enforced and not new.contract_enforced:
        changes.append(Change("BC004", "contract removed", "enforced contract removed"))
    before_rank = ACCESS_RANK.get(old.access or "")
    after_rank = ACCESS_RANK.get(new.access or "")
    if before_rank is not None and after_rank is not None and after_rank < before_rank:
        changes.append(Change(
            "BC005", "access narrowed", f"access narrowed {old.access} -> {new.access}",
        ))
    return changes


def _pair_renames(removed: list[Column], added: list[Column]) -> dict[str, str]:
    """Pair removed and added columns of the same *known* type, in declaration order.

    Without a declared data type on both sides nothing says the two are one column, so a
    removed column stays *removed* (never "renamed" to an unrelated new column)."""
    pairs: dict[str, str] = {}
    free = list(added)
    for col in removed:
        before = normalise_type(col.data_type)
        if before is None:
            continue
        for candidate in free:
            if normalise_type(candidate.data_type) == before:
                pairs[col.name] = candidate.name
                free.remove(candidate)
                break
    return pairs


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
            yield old, [Change("BC001", "model disabled", f"{old.label} is disabled")]
            continue
        siblings = _versions(current, old)
        if old.version is not None and siblings:
            kept = ", ".join(s.label for s in siblings)
            yield old, [Change(
                "BC006", "version removed", f"version {old.label} removed (remaining: {kept})",
            )]
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
        yield old, [Change("BC001", "model removed", f"{old.label} was removed")]


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
