"""``build(manifest, health) -> DataProducts``: the pure core of ``platform-tools products``.

A data product is a public model of the root project. For each: its domain, owning team and
the team's owner (the dbt group), product name (``meta.product``), tier and freshness SLA,
contract, version status (current, older, or deprecated with its date), consumers (the other
teams whose models read it directly, and the exposures downstream of it) and its latest
health from the run history (``platform-tools observe``): built within its SLA, stale, never
built, failed, or failing tests — or "no runs recorded" when there is no history at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, TEST_TYPES, Manifest, Node
from platform_tools.artifacts.ownership import ExposureRef, Ownership
from platform_tools.observe import health as observe

NO_RUNS = "no runs recorded"


@dataclass(frozen=True, slots=True)
class ProductHealth:
    status: str
    """``healthy``, ``stale``, ``never built``, ``failed``, ``tests failing``, ``tests
    warning`` or ``no runs recorded``."""
    last_success: str | None = None
    age_hours: float | None = None
    issues: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        """``ok``, ``warn`` or ``error`` (for colours and icons); ``none`` without runs."""
        if self.status == NO_RUNS:
            return "none"
        if self.status == "healthy":
            return "ok"
        return "warn" if self.status == "tests warning" else "error"

    def describe(self) -> str:
        text = self.status
        if self.last_success:
            age = f", {self.age_hours:.1f} h ago" if self.age_hours is not None else ""
            text += f" (last built {self.last_success}{age})"
        return text


@dataclass(frozen=True, slots=True)
class Product:
    unique_id: str
    name: str
    label: str
    product: str | None
    description: str
    domain: str
    layer: str | None
    team: str | None
    owner: str | None
    tier: int | None
    sla_hours: float | None
    contract_enforced: bool
    columns: int
    version: str | None
    latest_version: str | None
    version_status: str
    deprecation_date: str | None
    reader_teams: tuple[str, ...]
    exposures: tuple[ExposureRef, ...]
    health: ProductHealth
    path: str

    @property
    def is_deprecated(self) -> bool:
        return self.deprecation_date is not None


@dataclass(frozen=True, slots=True)
class DomainEntry:
    domain: str
    teams: tuple[str, ...]
    owners: tuple[str, ...]
    status: str
    products: tuple[Product, ...]


@dataclass(frozen=True)
class DataProducts:
    project: str | None
    runs_recorded: int
    latest_run: str | None
    domains: tuple[DomainEntry, ...]

    @property
    def products(self) -> tuple[Product, ...]:
        return tuple(p for d in self.domains for p in d.products)


def first_paragraph(text: str) -> str:
    """The description up to its first blank line, on one line, doc blocks left out."""
    paragraph = text.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def version_status(node: Node, today: date | None = None) -> str:
    """``current``, ``current (v2, latest)``, ``older version (v1; latest v2)``, ``prerelease
    (v3; latest v2)`` — and ``deprecated on <date>`` / ``deprecated since <date>`` first when
    the model carries a ``deprecation_date``."""
    parts = []
    if node.deprecation_date:
        day = node.deprecation_date[:10]
        passed = today is not None and day <= today.isoformat()
        parts.append(f"deprecated {'since' if passed else 'on'} {day}")
    if node.version is None:
        parts.append("current" if not parts else "unversioned")
    elif node.latest_version is None or node.version == node.latest_version:
        parts.append(f"current (v{node.version}, latest)" if not parts
                     else f"v{node.version}, latest")
    else:
        try:
            newer = float(node.version) < float(node.latest_version)
        except ValueError:
            newer = node.version < node.latest_version
        kind = "older version" if newer else "prerelease"
        parts.append(f"{kind} (v{node.version}; latest v{node.latest_version})")
    return "; ".join(parts)


def _owner(manifest: Manifest, team: str | None) -> str | None:
    group = manifest.group_owner(team)
    if group is None:
        return None
    if group.owner_name and group.owner_email:
        return f"{group.owner_name} <{group.owner_email}>"
    return group.owner_name or group.owner_email


def _health(
    node: Node,
    report: observe.HealthReport | None,
    issues_by_model: Mapping[str, Sequence[observe.Issue]],
) -> ProductHealth:
    if report is None or not report.runs:
        return ProductHealth(NO_RUNS)
    fresh = next((f for f in report.freshness if f.unique_id == node.unique_id), None)
    issues = issues_by_model.get(node.unique_id, ())
    kinds = {i.kind for i in issues}
    if "model_failed" in kinds:
        status = "failed"
    elif fresh is not None and fresh.status == "never":
        status = "never built"
    elif "test_failed" in kinds:
        status = "tests failing"
    elif fresh is not None and fresh.status == "stale":
        status = "stale"
    elif "test_warned" in kinds:
        status = "tests warning"
    else:
        status = "healthy"
    return ProductHealth(
        status=status,
        last_success=fresh.last_success if fresh else None,
        age_hours=fresh.age_hours if fresh else None,
        issues=tuple(f"{i.priority} {i.message}" for i in issues),
    )


def _issues_by_model(manifest: Manifest, owner: Ownership,
                     report: observe.HealthReport | None) -> dict[str, list[observe.Issue]]:
    out: dict[str, list[observe.Issue]] = defaultdict(list)
    if report is None:
        return out
    for issue in report.issues:
        node = manifest.nodes.get(issue.unique_id)
        if node is not None and node.resource_type in TEST_TYPES:
            tested = owner.tested_node(node)
            if tested is not None:
                out[tested.unique_id].append(issue)
            continue
        out[issue.unique_id].append(issue)
    return out


def build(
    manifest: Manifest,
    report: observe.HealthReport | None,
    *,
    today: date | None = None,
    ownership: Ownership | None = None,
) -> DataProducts:
    """The data products (public models) of ``manifest``, with health from ``report`` (the
    observe report over the run history; ``None`` or a report without runs: no runs
    recorded)."""
    owner = ownership or Ownership(manifest)
    project = manifest.metadata.project_name
    issues = _issues_by_model(manifest, owner, report)
    by_domain: dict[str, list[Product]] = defaultdict(list)
    for node in manifest.models():
        if not node.is_public or (project and node.package_name and node.package_name != project):
            continue
        readers = set()
        for child in owner.children.get(node.unique_id, ()):
            reader = manifest.nodes.get(child)
            if reader is not None and reader.resource_type in BUILDABLE_TYPES and reader.team:
                readers.add(reader.team)
        readers.discard(node.team or "")
        reach = owner.reach([node.unique_id])
        exposures = tuple(sorted((owner.exposure_refs[e] for e in reach.exposures),
                                 key=lambda e: (e.label, e.unique_id)))
        domain = node.domain or "(no domain)"
        by_domain[domain].append(Product(
            unique_id=node.unique_id,
            name=node.name,
            label=node.label,
            product=str(node.meta["product"]) if node.meta.get("product") else None,
            description=first_paragraph(node.description),
            domain=domain,
            layer=node.layer,
            team=node.team,
            owner=_owner(manifest, node.team),
            tier=node.tier,
            sla_hours=node.sla_freshness_hours,
            contract_enforced=node.contract_enforced,
            columns=len(node.columns),
            version=node.version,
            latest_version=node.latest_version,
            version_status=version_status(node, today),
            deprecation_date=node.deprecation_date[:10] if node.deprecation_date else None,
            reader_teams=tuple(sorted(readers)),
            exposures=exposures,
            health=_health(node, report, issues),
            path=node.location,
        ))
    statuses = {d.domain: d.status for d in report.domains} if report and report.runs else {}
    domains = []
    for domain in sorted(by_domain):
        products = sorted(by_domain[domain], key=lambda p: (p.name, p.version or ""))
        teams = tuple(sorted({p.team for p in products if p.team}))
        owners = tuple(sorted({p.owner for p in products if p.owner}))
        domains.append(DomainEntry(domain, teams, owners, statuses.get(domain, NO_RUNS),
                                   tuple(products)))
    latest = None
    if report is not None and report.runs:
        last = report.runs[-1]
        latest = last.started_at
    return DataProducts(
        project=project,
        runs_recorded=len(report.runs) if report is not None else 0,
        latest_run=latest,
        domains=tuple(domains),
    )
