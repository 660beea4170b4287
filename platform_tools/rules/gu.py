"""GU rules: ownership and boundaries, checked on one manifest by ``platform-tools deps``.

Each rule is a small function registered with :func:`~platform_tools.rules.rulebook.rule`
under a code and a default severity; its docstring is its user documentation (summary,
Rationale, Example, Fix), listed by ``platform-tools rules``. A rule receives a
:class:`RuleContext` and yields :class:`Hit` objects; the runner
(:func:`platform_tools.deps.checks.run_rules`) turns them into
:class:`~platform_tools.deps.model.Finding` objects.

Rules look at the models of the root project (installed packages are not the team's to fix).
Where a rule speaks of a *boundary*, it is the domain (``meta.domain``) when both nodes have
one, else the team (dbt group) when both have one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from platform_tools.artifacts.catalog import Catalog
from platform_tools.artifacts.graph import cycle_path, strongly_connected
from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Manifest, Node
from platform_tools.artifacts.ownership import Ownership
from platform_tools.deps.model import Severity
from platform_tools.rules.rulebook import rule


@dataclass(frozen=True, slots=True)
class Hit:
    node_id: str
    message: str
    key: str = ""
    related: tuple[str, ...] = ()


@dataclass
class RuleContext:
    manifest: Manifest
    ownership: Ownership
    catalog: Catalog | None = None
    _tests: dict[str, dict[str, set[str]]] | None = field(default=None, repr=False)

    @cached_property
    def subjects(self) -> list[Node]:
        """Enabled models of the root project, in a stable order."""
        return root_models(self.manifest)

    @cached_property
    def consumers(self) -> list[Node]:
        """Models and snapshots of the root project: the nodes that read other nodes."""
        return sorted(
            (
                n
                for n in self.manifest.nodes.values()
                if n.resource_type in ("model", "snapshot") and in_root_project(self.manifest, n)
            ),
            key=lambda n: n.unique_id,
        )

    @cached_property
    def column_tests(self) -> dict[str, dict[str, set[str]]]:
        """model id -> column (lower case) -> generic test names on it (``unique``...)."""
        tests: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for node in self.manifest.nodes.values():
            if node.resource_type != "test" or not node.test_name:
                continue
            target = node.attached_node or next(iter(node.depends_on), None)
            if target is None:
                continue
            name = node.test_name.split(".")[-1]
            column = (node.column_name or "").lower()
            tests[target][column].add(name)
        return tests

    def parents(self, node: Node) -> Iterator[Node]:
        """The buildable nodes ``node`` reads directly."""
        for uid in node.depends_on:
            parent = self.manifest.nodes.get(uid)
            if parent is not None and parent.resource_type in BUILDABLE_TYPES:
                yield parent


def in_root_project(manifest: Manifest, node: Node) -> bool:
    """Whether ``node`` belongs to the project dbt ran (not to an installed package)."""
    project = manifest.metadata.project_name
    return project is None or node.package_name in ("", project)


def root_models(manifest: Manifest) -> list[Node]:
    """Enabled models of the root project, in a stable order: what the rules check."""
    return sorted(
        (n for n in manifest.models() if in_root_project(manifest, n)),
        key=lambda n: n.unique_id,
    )


def crossing(consumer: Node, producer: Node) -> str | None:
    """The producer's side of the boundary the edge crosses (``"domain billing"``), or None."""
    if consumer.domain and producer.domain:
        if consumer.domain != producer.domain:
            return f"domain {producer.domain}"
        return None
    if consumer.team and producer.team and consumer.team != producer.team:
        return f"team {producer.team}"
    return None


# --------------------------------------------------------------------------------------
# Ownership and boundaries
# --------------------------------------------------------------------------------------
@rule("GU001", "cross-domain-non-public-ref", Severity.ERROR)
def cross_domain_non_public_ref(ctx: RuleContext) -> Iterator[Hit]:
    """A model reads another domain's model that is not public.

    Rationale: only public models are data products with a contract, an owner and an SLA.
    A private or protected model (typically silver) of another domain is an internal table its
    team may change or rebuild at any time; reading it couples two teams through an
    undeclared interface (GridUnion incident 2: three pipelines read a silver table that
    another team's notebook overwrote). Applies to references to models; dbt itself already
    rejects references to another group's private model at parse time, so the common case
    is a protected model.

    Example::

        -- models/commercial/silver/int_customers_enriched.sql  (team commercial_analytics)
        select * from {{ ref('int_invoice_lines_priced') }}  -- billing silver, protected

    Fix: read the public gold product (``fct_invoice_lines``) or ask the owning team to
    publish one.
    """
    for node in ctx.consumers:
        for parent in ctx.parents(node):
            if parent.resource_type != "model" or parent.is_public:
                continue
            side = crossing(node, parent)
            if side:
                team = f", team {parent.team}" if parent.team and side.startswith("domain") else ""
                yield Hit(
                    node.unique_id,
                    f"{node.label} reads {parent.label} ({parent.access or 'no access'} "
                    f"model of {side}{team}); read a public model",
                    key=parent.unique_id,
                    related=(parent.unique_id,),
                )


@rule("GU002", "undeclared-cross-domain-dependency", Severity.ERROR)
def undeclared_cross_domain_dependency(ctx: RuleContext) -> Iterator[Hit]:
    """A model depends on another domain that its ``meta.upstream_domains`` does not declare.

    Rationale: each domain declares the domains it consumes, in ``dbt_project.yml`` by folder
    (``+meta: {upstream_domains: [metering, customers]}``) or on the group
    (``config.meta.upstream_domains``). A new cross-domain dependency is then a visible,
    reviewed change instead of a surprise (GridUnion incident 1: the German billing team did
    not know which French tables it depended on).

    Example::

        # dbt_project.yml
        billing:
          +meta: {domain: billing, upstream_domains: [metering]}
        -- models/billing/gold/fct_invoices.sql reads ref('dim_customers')  (domain customers)

    Fix: add ``customers`` to ``upstream_domains`` of the billing folder (the producing team
    then sees it in the review), or drop the dependency.
    """
    groups = ctx.manifest.groups
    for node in ctx.consumers:
        if not node.domain:
            continue
        declared = set(node.upstream_domains)
        group = groups.get(node.team or "")
        if group is not None:
            value = group.meta.get("upstream_domains")
            declared.update([value] if isinstance(value, str) else list(value or []))
        undeclared: dict[str, list[str]] = defaultdict(list)
        for parent in ctx.parents(node):
            if parent.domain and parent.domain != node.domain and parent.domain not in declared:
                undeclared[parent.domain].append(parent.unique_id)
        for domain, parents in sorted(undeclared.items()):
            labels = ", ".join(ctx.ownership.label(p) for p in parents)
            yield Hit(
                node.unique_id,
                f"{node.label} (domain {node.domain}) depends on domain {domain} ({labels}) "
                f"which {node.domain}'s meta.upstream_domains does not declare",
                key=domain,
                related=tuple(parents),
            )


@rule("GU003", "gold-reads-foreign-bronze", Severity.ERROR)
def gold_reads_foreign_bronze(ctx: RuleContext) -> Iterator[Hit]:
    """A gold model reads another domain's bronze model.

    Rationale: bronze is raw, as landed, and changes with the source system; another domain
    must go through the owner's silver/gold layers, where the data is cleaned and the schema
    is held stable (GridUnion incident 3: a Dutch bronze schema change broke a Luxembourg
    gold dashboard).

    Example::

        -- models/regulatory/gold/rpt_lu_consumption.sql  (domain regulatory)
        select * from {{ ref('stg_dutchgrid__readings') }}  -- metering bronze

    Fix: read the conformed public model (``fct_meter_readings``).
    """
    for node in ctx.consumers:
        if node.layer != "gold":
            continue
        for parent in ctx.parents(node):
            if parent.layer == "bronze" and crossing(node, parent):
                yield Hit(
                    node.unique_id,
                    f"gold model {node.label} (domain {node.domain}) reads bronze model "
                    f"{parent.label} of domain {parent.domain or parent.team}",
                    key=parent.unique_id,
                    related=(parent.unique_id,),
                )


@rule("GU004", "bronze-reads-non-source", Severity.ERROR)
def bronze_reads_non_source(ctx: RuleContext) -> Iterator[Hit]:
    """A bronze model reads something other than a source.

    Rationale: bronze holds records as landed, one model per source table; it calls
    ``source()`` only. Joins and lookups belong to silver, so that bronze stays a faithful,
    replayable copy of what arrived.

    Example::

        -- models/metering/bronze/stg_electra__readings.sql
        select * from {{ source('electra', 'readings') }}
        join {{ ref('meters') }} using (meter_id)   -- a model: not allowed in bronze

    Fix: move the join to a silver model.
    """
    for node in ctx.consumers:
        if node.layer != "bronze":
            continue
        others = [p for p in node.depends_on if not p.startswith("source.")]
        others = [p for p in others if p in ctx.manifest.nodes]
        if others:
            labels = ", ".join(ctx.ownership.label(p) for p in others)
            yield Hit(
                node.unique_id,
                f"bronze model {node.label} reads {labels}; bronze may only read sources",
                related=tuple(others),
            )


@rule("GU005", "domain-cycle", Severity.ERROR)
def domain_cycle(ctx: RuleContext) -> Iterator[Hit]:
    """Domains depend on each other in a cycle.

    Rationale: a cycle between domains (billing reads customers, customers reads billing)
    means neither team can change or rebuild alone and there is no order in which to deploy
    them. dbt forbids cycles between models, not between domains.

    Example::

        billing.fct_invoices -> customers.dim_customers
        customers.dim_customer_value -> billing.fct_invoices
        => cycle billing -> customers -> billing

    Fix: move the shared logic to one domain, or publish it from a third one.
    """
    edges: dict[str, set[str]] = defaultdict(set)
    witness: dict[tuple[str, str], tuple[str, str]] = {}
    for node in ctx.consumers:
        if not node.domain:
            continue
        for parent in ctx.parents(node):
            if parent.domain and parent.domain != node.domain:
                edges[node.domain].add(parent.domain)
                pair = (node.domain, parent.domain)
                if pair not in witness or (node.unique_id, parent.unique_id) < witness[pair]:
                    witness[pair] = (node.unique_id, parent.unique_id)
    for component in strongly_connected(edges):
        path = cycle_path(edges, component)
        steps = [witness[(a, b)] for a, b in zip(path, path[1:], strict=False)]
        detail = "; ".join(
            f"{ctx.ownership.label(c)} reads {ctx.ownership.label(p)}" for c, p in steps
        )
        yield Hit(
            steps[0][0],
            f"domain cycle {' -> '.join(path)} ({detail})",
            key="|".join(component),
            related=tuple(uid for step in steps for uid in step),
        )


@rule("GU006", "relation-written-twice", Severity.ERROR)
def relation_written_twice(ctx: RuleContext) -> Iterator[Hit]:
    """Two nodes write the same table.

    Rationale: one table, one writer. Two models (or a model and a seed/snapshot) with the
    same schema and alias overwrite each other's data, whichever runs last wins (GridUnion
    incident 2: an analytics notebook overwrote a silver table three pipelines read). A public
    model written by write-audit-publish writes its view ``<alias>`` and its table
    ``<alias>__candidate``; both names count.

    Example::

        -- models/commercial/silver/invoice_lines.sql
        {{ config(schema='billing_silver', alias='invoice_lines') }}  -- billing's table

    Fix: write into your own domain's schema; per-domain schemas make this the default.
    """
    writers: dict[tuple[str, str, str], list[Node]] = defaultdict(list)
    for node in ctx.manifest.buildable():
        if node.materialized == "ephemeral" or not node.alias:
            continue
        names = {node.alias.lower(), (node.physical_alias or node.alias).lower()}
        for name in names:  # a public model also writes its candidate (write-audit-publish)
            writers[((node.database or "").lower(), (node.schema or "").lower(), name)].append(node)
    for (_, schema, alias), nodes in sorted(writers.items()):
        if len(nodes) < 2:
            continue
        nodes.sort(key=lambda n: n.unique_id)
        owners = ", ".join(f"{n.label} (team {n.team or 'none'})" for n in nodes)
        ours = [n for n in nodes if in_root_project(ctx.manifest, n)]
        # one finding per root-project writer but the first (all of them when a package's
        # model writes the table too); a package's own collisions are not the team's to fix
        for node in ours if len(ours) < len(nodes) else ours[1:]:
            yield Hit(
                node.unique_id,
                f"{schema}.{alias} is written by {owners}",
                key=f"{schema}.{alias}",
                related=tuple(n.unique_id for n in nodes if n is not node),
            )


@rule("GU007", "writes-into-foreign-schema", Severity.ERROR)
def writes_into_foreign_schema(ctx: RuleContext) -> Iterator[Hit]:
    """A model writes into a schema that belongs to another domain.

    Rationale: schemas are per domain and layer (``billing_silver``); the schema says who owns
    a table. A model of one domain writing into another domain's schema hides an unauthorised
    writer among the owner's tables. A schema belongs to the domain its name starts with
    (``<domain>_<layer>``), else to the domain of most of its tables.

    Example::

        -- models/commercial/silver/churn_flags.sql  (domain commercial)
        {{ config(schema='billing_silver') }}

    Fix: drop the schema override; the folder's ``<domain>_<layer>`` schema applies.
    """
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for node in ctx.manifest.buildable():
        if node.schema and node.domain:
            counts[node.schema.lower()][node.domain] += 1
    domains = sorted({d for per_schema in counts.values() for d in per_schema}, key=len,
                     reverse=True)

    def owner_of(schema: str) -> str | None:
        for domain in domains:  # the naming convention: <domain>_<layer>
            if schema == domain.lower() or schema.startswith(domain.lower() + "_"):
                return domain
        ranked = sorted(counts[schema].items(), key=lambda kv: (-kv[1], kv[0]))
        if len(ranked) > 1 and ranked[0][1] > ranked[1][1]:
            return ranked[0][0]
        return None

    owners = {schema: owner_of(schema) for schema in counts}  # once per schema, not per model
    for node in ctx.consumers:
        schema = (node.schema or "").lower()
        if not node.domain or schema not in counts:
            continue
        owner = owners[schema]
        if owner and owner != node.domain:
            yield Hit(
                node.unique_id,
                f"{node.label} (domain {node.domain}) writes into schema {node.schema} of "
                f"domain {owner}",
                key=schema,
            )


# --------------------------------------------------------------------------------------
# Public data products
# --------------------------------------------------------------------------------------
def _public(ctx: RuleContext) -> Iterator[Node]:
    return (n for n in ctx.subjects if n.is_public)


@rule("GU010", "public-without-contract", Severity.ERROR)
def public_without_contract(ctx: RuleContext) -> Iterator[Hit]:
    """A public model does not enforce its contract.

    Rationale: a public model is an API for other teams. An enforced contract makes dbt check
    the column names and types at build time, so a change that would break consumers fails
    in the producer's build instead of in the consumer's dashboard.

    Example::

        models:
          - name: fct_invoices
            config: {access: public}        # but no contract: {enforced: true}

    Fix: ``contract: {enforced: true}`` (the gold folders cascade it) and declare every
    column with its ``data_type``.
    """
    for node in _public(ctx):
        if not node.contract_enforced:
            yield Hit(node.unique_id, f"public model {node.label} has no enforced contract")


@rule("GU011", "public-without-descriptions", Severity.ERROR)
def public_without_descriptions(ctx: RuleContext) -> Iterator[Hit]:
    """A public model lacks a description, on itself or on any of its columns.

    Rationale: consumers in other teams discover data products in the dbt docs site; a
    column without a description is a column they will misread. With ``catalog.json``
    present, columns that exist in the table but are not declared count as undescribed too.

    Example::

        columns:
          - name: invoice_id
            description: ""      # missing

    Fix: describe the model and every column in its ``_<folder>__models.yml``.
    """
    for node in _public(ctx):
        missing = [c.name for c in node.columns if not c.description.strip()]
        declared = {c.name.lower() for c in node.columns}
        table = ctx.catalog.nodes.get(node.unique_id) if ctx.catalog else None
        if table is not None:
            missing += [c.name for c in table.columns if c.name.lower() not in declared]
        problems = []
        if not node.description.strip():
            problems.append("no model description")
        if not node.columns and table is None:
            problems.append("no columns declared")
        if missing:
            problems.append("columns without description: " + ", ".join(missing))
        if problems:
            yield Hit(node.unique_id, f"public model {node.label}: " + "; ".join(problems))


@rule("GU012", "public-without-owner", Severity.ERROR)
def public_without_owner(ctx: RuleContext) -> Iterator[Hit]:
    """A public model has no owner: no dbt group, or a group without an owner.

    Rationale: a consumer must know whom to call when the data is late or wrong. Ownership
    is a dbt group with an owner (name and/or email), assigned by folder.

    Example::

        groups:
          - name: nordgrid
            owner: {name: NordGrid Billing, email: billing@nordgrid.example}

    Fix: put the model in a group (``+group:`` on its domain folder) whose owner is set.
    """
    for node in _public(ctx):
        if not node.group:
            yield Hit(node.unique_id, f"public model {node.label} belongs to no dbt group")
            continue
        group = ctx.manifest.groups.get(node.group)
        if group is None or not group.has_owner:
            yield Hit(
                node.unique_id,
                f"public model {node.label}: group {node.group} has no owner name or email",
            )


@rule("GU013", "public-without-sla", Severity.ERROR)
def public_without_sla(ctx: RuleContext) -> Iterator[Hit]:
    """A public model has no freshness SLA (``meta.sla.freshness_hours``).

    Rationale: a data product promises how fresh it is; ``platform-tools observe`` checks the
    promise against the last successful build and pages the owner by tier.

    Example::

        config:
          meta:
            tier: 1
            sla: {freshness_hours: 24}

    Fix: set ``meta.sla.freshness_hours`` (a positive number of hours).
    """
    for node in _public(ctx):
        if node.sla_freshness_hours is None:
            yield Hit(
                node.unique_id,
                f"public model {node.label} has no meta.sla.freshness_hours",
            )


@rule("GU014", "public-without-key-tests", Severity.ERROR)
def public_without_key_tests(ctx: RuleContext) -> Iterator[Hit]:
    """A public model has no key test: no column with both ``unique`` and ``not_null``.

    Rationale: consumers join on the key; a duplicated or null key silently multiplies or
    drops rows downstream. A ``not_null`` constraint of an enforced contract counts as the
    ``not_null`` half; a ``unique_combination_of_columns`` test counts as a whole key.

    Example::

        columns:
          - name: invoice_id
            data_tests: [unique, not_null]

    Fix: add ``unique`` and ``not_null`` tests on the key column.
    """
    for node in _public(ctx):
        tests = ctx.column_tests.get(node.unique_id, {})
        if any("unique_combination_of_columns" in names for names in tests.values()):
            continue
        not_null_constraint = {
            c.name.lower() for c in node.columns if "not_null" in c.constraints
        } if node.contract_enforced else set()
        ok = any(
            "unique" in names and ("not_null" in names or column in not_null_constraint)
            for column, names in tests.items()
            if column
        )
        if not ok:
            yield Hit(
                node.unique_id,
                f"public model {node.label} has no column with both unique and not_null tests",
            )


# --------------------------------------------------------------------------------------
# Every model
# --------------------------------------------------------------------------------------
@rule("GU020", "model-without-team", Severity.ERROR)
def model_without_team(ctx: RuleContext) -> Iterator[Hit]:
    """A model belongs to no team: no dbt group and no ``meta.owner``.

    Rationale: every table has one owning team, so that cost, failures and changes reach
    someone. The domain folder sets ``+group:`` once for all its models.

    Example::

        models/billing/gold/fct_invoices.sql outside any folder with +group

    Fix: move the model into its domain folder, or set ``+group`` on its folder.
    """
    for node in ctx.subjects:
        if not node.team:
            yield Hit(node.unique_id, f"model {node.label} has no group (team)")


@rule("GU021", "model-without-domain", Severity.ERROR)
def model_without_domain(ctx: RuleContext) -> Iterator[Hit]:
    """A model has no ``meta.domain`` (or no ``meta.layer``).

    Rationale: the domain and layer drive the boundary rules, the schema name, cost
    breakdowns and ``dbt build --select domain:<name>``. They are set by folder in
    ``dbt_project.yml``, so a model without them sits outside the per-domain folders.

    Example::

        models/scratch/tmp_invoices.sql   -- no meta.domain

    Fix: move the model into ``models/<domain>/<layer>/``.
    """
    for node in ctx.subjects:
        missing = [k for k, v in (("domain", node.domain), ("layer", node.layer)) if not v]
        if missing:
            yield Hit(
                node.unique_id,
                f"model {node.label} has no " + " and no ".join(f"meta.{m}" for m in missing),
            )
