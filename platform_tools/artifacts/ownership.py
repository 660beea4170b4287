"""Who owns what: teams, domains and layers of nodes, sources and exposures, and the lineage
between them. Built once per manifest and shared by ``deps``, ``cost``, ``observe`` and
``report``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from platform_tools.artifacts.graph import invert, reachable
from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Exposure, Manifest, Node

UNASSIGNED = "(unassigned)"


@dataclass(frozen=True, slots=True)
class ExposureRef:
    """An exposure as a reader sees it in a report."""

    unique_id: str
    name: str
    label: str
    type: str
    team: str | None
    url: str | None
    owner: str | None = None
    """The person to contact (``owner.name`` or ``owner.email``): never a team."""

    def describe(self) -> str:
        """``label (team)``; without a team ``label (unowned; owner <person>)``."""
        if self.team:
            return f"{self.label} ({self.team})"
        if self.owner:
            return f"{self.label} (unowned; owner {self.owner})"
        return f"{self.label} (unowned)"


class Ownership:
    """Team, domain and lineage lookups for one manifest."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.children: Mapping[str, tuple[str, ...]] = manifest.children()
        self._parents: dict[str, list[str]] | None = None
        self._rollup: dict[str, Reach] | None = None
        self._tested: dict[int, Node | None] = {}
        teams_by_domain: dict[str, Counter[str]] = {}
        for node in manifest.buildable():
            if node.domain and node.team:
                teams_by_domain.setdefault(node.domain, Counter())[node.team] += 1
        self.domain_team: dict[str, str] = {
            domain: sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for domain, counter in teams_by_domain.items()
        }
        email_team = {
            g.owner_email.lower(): g.name for g in manifest.groups.values() if g.owner_email
        }
        self.exposure_refs: dict[str, ExposureRef] = {}
        for exposure in manifest.exposures.values():
            team = self._exposure_team(exposure, email_team)
            self.exposure_refs[exposure.unique_id] = ExposureRef(
                unique_id=exposure.unique_id,
                name=exposure.name,
                label=exposure.label,
                type=exposure.type,
                team=team,
                url=exposure.url,
                owner=exposure.owner_person,
            )

    def _exposure_team(self, exposure: Exposure, email_team: Mapping[str, str]) -> str | None:
        """What dbt says: the exposure's group (``config.group``, ``meta.group``,
        ``meta.team``), else the team owning its ``meta.domain``, else the dbt group whose
        owner email is the exposure owner's; else unowned (``None``). A person's name
        (``owner.name``) is a contact, never a team."""
        declared = exposure.declared_team
        if declared:
            return declared
        if exposure.domain and exposure.domain in self.domain_team:
            return self.domain_team[exposure.domain]
        if exposure.owner_email and exposure.owner_email.lower() in email_team:
            return email_team[exposure.owner_email.lower()]
        return None

    # lookups ---------------------------------------------------------------------------
    def node(self, unique_id: str) -> Node | None:
        return self.manifest.nodes.get(unique_id)

    def team_of(self, unique_id: str) -> str | None:
        """The team of a node, source or exposure (``None`` when nobody owns it)."""
        node = self.manifest.nodes.get(unique_id)
        if node is not None:
            return node.team
        exposure = self.exposure_refs.get(unique_id)
        if exposure is not None:
            return exposure.team
        source = self.manifest.sources.get(unique_id)
        if source is not None:
            return source.team or (self.domain_team.get(source.domain) if source.domain else None)
        return None

    def domain_of(self, unique_id: str) -> str | None:
        node = self.manifest.nodes.get(unique_id)
        if node is not None:
            return node.domain
        source = self.manifest.sources.get(unique_id)
        if source is not None:
            return source.domain
        exposure = self.manifest.exposures.get(unique_id)
        return exposure.domain if exposure is not None else None

    def charged_team(self, unique_id: str) -> str | None:
        """The team a node's cost and health belong to: tests go to the tested model's team."""
        node = self.manifest.nodes.get(unique_id)
        if node is None:
            return None
        if node.resource_type in ("test", "unit_test"):
            tested = self.tested_node(node)
            if tested is not None and tested.team:
                return tested.team
        return node.team

    def tested_node(self, test: Node) -> Node | None:
        """The model (or seed/snapshot) a test is attached to (kept per test of the manifest:
        cost and health both ask for every test)."""
        key = id(test)  # a node of the manifest, which lives as long as this object
        tested = self._tested.get(key, test)
        if tested is not test:
            return tested
        tested = self._find_tested(test)
        if self.manifest.nodes.get(test.unique_id) is test:
            self._tested[key] = tested
        return tested

    def _find_tested(self, test: Node) -> Node | None:
        candidates = [test.attached_node] if test.attached_node else []
        candidates += list(test.depends_on)
        for candidate in candidates:
            node = self.manifest.nodes.get(candidate) if candidate else None
            if node is not None and node.resource_type in BUILDABLE_TYPES:
                return node
        return None

    def label(self, unique_id: str) -> str:
        node = self.manifest.nodes.get(unique_id)
        if node is not None:
            return node.label
        exposure = self.exposure_refs.get(unique_id)
        if exposure is not None:
            return exposure.label
        source = self.manifest.sources.get(unique_id)
        if source is not None:
            return source.label
        return unique_id

    # lineage ---------------------------------------------------------------------------
    @property
    def parents(self) -> dict[str, list[str]]:
        if self._parents is None:
            self._parents = invert(self.children)
        return self._parents

    def downstream(self, start: Iterable[str]) -> set[str]:
        """Everything that depends on ``start``, transitively (nodes and exposures)."""
        return reachable(self.children, start)

    def upstream(self, start: Iterable[str]) -> set[str]:
        return reachable(self.parents, start)

    def reach(self, start: Iterable[str]) -> Reach:
        """Teams, exposures and most critical tier downstream of ``start`` (nodes,
        sources); from a roll-up over the whole DAG computed once, so it is cheap to ask
        for many nodes."""
        rollup = self._reach_rollup()
        teams: set[str] = set()
        exposures: set[str] = set()
        tiers: list[int] = []
        for uid in start:
            entry = rollup.get(uid)
            if entry is None:
                continue
            teams |= entry.teams
            exposures |= entry.exposures
            if entry.min_tier is not None:
                tiers.append(entry.min_tier)
        return Reach(frozenset(teams), frozenset(exposures), min(tiers) if tiers else None)

    def _reach_rollup(self) -> dict[str, Reach]:
        if self._rollup is not None:
            return self._rollup
        nodes = self.manifest.nodes
        # tests and the like carry no team, tier or exposure
        relevant = {uid for uid, n in nodes.items() if n.resource_type in BUILDABLE_TYPES}
        relevant.update(uid for uid in self.exposure_refs if uid not in nodes)
        children: dict[str, list[str]] = {}
        for parent, all_kids in self.children.items():
            kept = [kid for kid in all_kids if kid in relevant]
            if kept:
                children[parent] = kept
        indegree: dict[str, int] = {}
        for parent, parent_kids in children.items():
            indegree.setdefault(parent, 0)
            for kid in parent_kids:
                indegree[kid] = indegree.get(kid, 0) + 1
        order = [uid for uid, degree in indegree.items() if degree == 0]
        position = 0
        while position < len(order):
            current = order[position]
            position += 1
            for kid in children.get(current, ()):
                indegree[kid] -= 1
                if indegree[kid] == 0:
                    order.append(kid)
        empty = Reach(frozenset(), frozenset(), None)
        rollup: dict[str, Reach] = {}
        interned: dict[Reach, Reach] = {empty: empty}
        for uid in reversed(order):
            kids = children.get(uid, [])
            if not kids:
                rollup[uid] = empty
                continue
            teams: set[str] = set()
            exposures: set[str] = set()
            tier: int | None = None
            for kid in kids:
                below = rollup.get(kid, empty)
                teams |= below.teams
                exposures |= below.exposures
                if below.min_tier is not None:
                    tier = below.min_tier if tier is None else min(tier, below.min_tier)
                ref = self.exposure_refs.get(kid)
                if ref is not None:
                    exposures.add(kid)
                    if ref.team:
                        teams.add(ref.team)
                    continue
                node = nodes.get(kid)
                if node is None or node.resource_type not in BUILDABLE_TYPES:
                    continue
                if node.team:
                    teams.add(node.team)
                if node.tier is not None:
                    tier = node.tier if tier is None else min(tier, node.tier)
            entry = Reach(frozenset(teams), frozenset(exposures), tier)
            rollup[uid] = interned.setdefault(entry, entry)
        self._rollup = rollup
        return rollup

    def impact(self, start: Iterable[str], producer_team: str | None = None) -> Impact:
        """The teams, models and exposures downstream of ``start``."""
        return self.impact_of(self.downstream(start), producer_team)

    def impact_of(self, downstream: Iterable[str], producer_team: str | None = None) -> Impact:
        teams: set[str] = set()
        models: list[str] = []
        exposures: list[ExposureRef] = []
        for uid in downstream:
            exposure = self.exposure_refs.get(uid)
            if exposure is not None:
                exposures.append(exposure)
                if exposure.team:
                    teams.add(exposure.team)
                continue
            node = self.manifest.nodes.get(uid)
            if node is None or node.resource_type not in BUILDABLE_TYPES:
                continue
            models.append(uid)
            if node.team:
                teams.add(node.team)
        return Impact(
            teams=tuple(sorted(teams)),
            other_teams=tuple(sorted(t for t in teams if t != producer_team)),
            models=tuple(sorted(models)),
            exposures=tuple(sorted(exposures, key=lambda e: e.unique_id)),
        )


@dataclass(frozen=True, slots=True)
class Reach:
    """What depends on a node, rolled up: teams, exposure ids and the lowest ``meta.tier``."""

    teams: frozenset[str]
    exposures: frozenset[str]
    min_tier: int | None


@dataclass(frozen=True, slots=True)
class Impact:
    """What sits downstream of a node: teams, buildable nodes and exposures."""

    teams: tuple[str, ...]
    other_teams: tuple[str, ...]
    models: tuple[str, ...]
    exposures: tuple[ExposureRef, ...]
