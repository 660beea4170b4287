"""``manifest.json`` (schema v10-v12, dbt 1.6-1.12) as small frozen objects.

Only what the platform tools use is kept. Every field is optional in practice: a manifest of
any dbt project loads, with or without groups, ``meta``, exposures, versions, unit tests,
semantic models or disabled nodes. Platform conventions read from ``meta`` (merged from the
node's ``meta`` and ``config.meta``, the latter winning):

``meta.domain``
    the data domain (per-domain folders cascade it from ``dbt_project.yml``);
``meta.layer``
    ``bronze``, ``silver``, ``gold`` (or anything else, e.g. ``reference`` for seeds);
``meta.tier``
    business criticality, ``1`` (highest) to ``3``; see the observability severity mapping;
``meta.sla.freshness_hours``
    the freshness SLA of a model in hours;
``meta.upstream_domains``
    the other domains a model is declared to depend on;
``meta.owner``
    a team name used when the node has no dbt ``group``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from platform_tools.artifacts._io import (
    as_dict,
    as_list,
    as_str,
    decode_artifact,
    read_bytes,
    to_doc,
)
from platform_tools.artifacts.cache import as_is, cached_parse
from platform_tools.artifacts.schema import (
    ColumnDoc,
    DependsOn,
    ManifestDoc,
    Metadata,
    NodeConfig,
    NodeDoc,
    TestMetadata,
)
from platform_tools.errors import ArtifactError
from platform_tools.wap import candidate_identifier, is_published_by_view

# Resource types that are tables or views built by dbt (and so have a team, a cost, a run).
BUILDABLE_TYPES = frozenset({"model", "seed", "snapshot"})
TEST_TYPES = frozenset({"test", "unit_test"})
# Materializations without a table of their own in the warehouse.
NON_TABLE_MATERIALIZATIONS = frozenset({"view", "ephemeral", "materialized_view"})


def merged_meta(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``meta`` and ``config.meta`` of a node, the config winning (dbt mirrors them)."""
    meta = dict(as_dict(raw.get("meta")))
    meta.update(as_dict(as_dict(raw.get("config")).get("meta")))
    return meta


def parse_tier(value: Any) -> int | None:
    """``meta.tier`` as an int: ``1``, ``"1"``, ``"tier1"`` and ``"tier-1"`` all give 1."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return int(digits) if digits else None


def parse_hours(value: Any) -> float | None:
    """A positive number of hours, or ``None`` when unset or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        hours = float(value)
    except (TypeError, ValueError):
        return None
    return hours if hours > 0 else None


_EMPTY_CONFIG = NodeConfig()  # a node's config that is not a JSON object reads as {}


def _version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class Column(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A column declared in a model's properties (not necessarily in the table)."""

    name: str
    description: str
    data_type: str | None
    constraints: tuple[str, ...]

    @classmethod
    def from_doc(cls, name: str, doc: ColumnDoc) -> Column:
        return cls(
            str(doc.name or name),
            str(doc.description or ""),
            as_str(doc.data_type),
            _constraint_types(doc.constraints),
        )


def _constraint_types(value: Any) -> tuple[str, ...]:
    """The ``type`` of each constraint object of a ``constraints`` list."""
    if not isinstance(value, list) or not value:
        return ()
    return tuple(str(c.get("type")) for c in value if isinstance(c, dict))


class Node(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A model, seed, snapshot, test, unit test, analysis or operation."""

    unique_id: str
    name: str
    resource_type: str
    package_name: str
    original_file_path: str
    patch_path: str | None
    database: str | None
    schema: str | None
    alias: str | None
    relation_name: str | None
    group: str | None
    access: str | None
    materialized: str | None
    enabled: bool
    meta: Mapping[str, Any]
    description: str
    columns: tuple[Column, ...]
    contract_enforced: bool
    depends_on: tuple[str, ...]
    version: str | None
    latest_version: str | None
    deprecation_date: str | None
    tags: tuple[str, ...]
    constraints: tuple[str, ...] = ()
    test_name: str | None = None
    column_name: str | None = None
    attached_node: str | None = None
    team: str | None = None
    """The owning team: the dbt ``group``, else ``meta.owner`` (a name), else ``None``."""
    domain: str | None = None
    """``meta.domain``."""
    layer: str | None = None
    """``meta.layer``, lower case."""
    tier: int | None = None
    """``meta.tier`` as an int."""
    sla_freshness_hours: float | None = None
    """``meta.sla.freshness_hours`` (the documented SLA key)."""
    upstream_domains: tuple[str, ...] = ()
    """``meta.upstream_domains``: the other domains this node is declared to read."""

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> Node:
        """A node from its JSON object (as in ``manifest.json``'s ``nodes``)."""
        return cls.from_doc(msgspec.convert(raw, NodeDoc))

    @classmethod
    def from_doc(cls, doc: NodeDoc) -> Node:
        # the hot loop of a large manifest (25,000 nodes): no keyword arguments, and a node
        # without meta (most tests) skips the platform conventions
        text, column = as_str, Column.from_doc
        config = doc.config if isinstance(doc.config, NodeConfig) else _EMPTY_CONFIG
        contract = as_dict(doc.contract) or as_dict(config.contract)
        raw_columns = doc.columns
        columns = tuple([
            column(name, col)
            for name, col in raw_columns.items()
            if isinstance(col, ColumnDoc)
        ]) if isinstance(raw_columns, dict) and raw_columns else ()
        test_metadata = doc.test_metadata
        depends = doc.depends_on
        resource_type = str(doc.resource_type or "")
        attached = text(doc.attached_node)
        depends_on = tuple(map(str, as_list(
            depends.nodes if isinstance(depends, DependsOn) else None)))
        if resource_type == "unit_test" and attached is None and depends_on:
            attached = depends_on[0]
        enabled = config.enabled
        meta = dict(as_dict(doc.meta))  # merged_meta: config.meta wins
        config_meta = config.meta
        if config_meta:
            meta.update(as_dict(config_meta))
        group = text(doc.group) or text(config.group)
        unique_id = doc.unique_id
        if unique_id is msgspec.UNSET:
            raise KeyError("unique_id")
        name = doc.name
        return cls(
            str(unique_id),
            str(name or unique_id),
            resource_type,
            str(doc.package_name or ""),
            str(doc.original_file_path or doc.path or ""),
            text(doc.patch_path),
            text(doc.database),
            text(doc.schema),
            text(doc.alias) or text(name),
            text(doc.relation_name),
            group,
            text(doc.access) or text(config.access),
            text(config.materialized),
            bool(enabled) if enabled is not None else True,
            meta,
            str(doc.description or ""),
            columns,
            bool(contract.get("enforced", False)),
            depends_on,
            _version(doc.version),
            _version(doc.latest_version),
            text(doc.deprecation_date),
            tuple(map(str, as_list(doc.tags))),
            _constraint_types(doc.constraints),
            text(test_metadata.name) if isinstance(test_metadata, TestMetadata) else None,
            text(doc.column_name),
            attached,
            *(_conventions(meta, group) if meta else (group, None, None, None, None, ())),
        )

    # platform conventions (resolved once, in from_doc) are the fields after these
    @property
    def is_public(self) -> bool:
        return self.access == "public"

    @property
    def has_table(self) -> bool:
        """Whether dbt writes a table for this node (models, seeds, snapshots; not views)."""
        return (
            self.resource_type in BUILDABLE_TYPES
            and (self.materialized or "table") not in NON_TABLE_MATERIALIZATIONS
        )

    @property
    def physical_alias(self) -> str | None:
        """The name of the table dbt writes: ``<alias>__candidate`` for a public model written
        by write-audit-publish (its ``alias`` is then a view pinned to the audited version,
        :mod:`platform_tools.wap`), else the alias."""
        alias = self.alias or self.name
        if is_published_by_view(self.resource_type, self.access, self.materialized):
            return candidate_identifier(alias)
        return alias

    @property
    def label(self) -> str:
        """The model name with its version, as people write it (``fct_x.v2``)."""
        return f"{self.name}.v{self.version}" if self.version else self.name

    @property
    def location(self) -> str:
        """The file to point a reviewer at: the SQL file, else the properties file."""
        if self.original_file_path:
            return self.original_file_path
        return (self.patch_path or "").split("://", 1)[-1]


def _conventions(meta: Mapping[str, Any], group: str | None) -> tuple[
    str | None, str | None, str | None, int | None, float | None, tuple[str, ...]
]:
    """The last fields of a :class:`Node`, from its merged ``meta`` and its dbt ``group``:
    team, domain, layer, tier, SLA freshness hours, upstream domains."""
    layer = as_str(meta.get("layer"))
    upstream = meta.get("upstream_domains")
    return (
        group or owner_team(meta.get("owner")),
        as_str(meta.get("domain")),
        layer.lower() if layer else None,
        parse_tier(meta.get("tier")),
        parse_hours(as_dict(meta.get("sla")).get("freshness_hours")),
        (upstream,) if isinstance(upstream, str) else tuple(map(str, as_list(upstream))),
    )


def owner_team(value: Any) -> str | None:
    """``meta.owner`` as a team name: a string, or the ``team``/``name`` of a mapping."""
    if isinstance(value, dict):
        return as_str(value.get("team")) or as_str(value.get("name"))
    return as_str(value)


class Source(msgspec.Struct, frozen=True, array_like=True, gc=False):
    unique_id: str
    source_name: str
    name: str
    schema: str | None
    identifier: str | None
    relation_name: str | None
    original_file_path: str
    meta: Mapping[str, Any]
    loaded_at_field: str | None
    has_freshness: bool

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> Source:
        meta = dict(as_dict(raw.get("source_meta")))
        meta.update(merged_meta(raw))
        freshness = as_dict(raw.get("freshness")) or as_dict(
            as_dict(raw.get("config")).get("freshness")
        )
        return cls(
            unique_id=str(raw["unique_id"]),
            source_name=str(raw.get("source_name") or ""),
            name=str(raw.get("name") or ""),
            schema=as_str(raw.get("schema")),
            identifier=as_str(raw.get("identifier")) or as_str(raw.get("name")),
            relation_name=as_str(raw.get("relation_name")),
            original_file_path=str(raw.get("original_file_path") or ""),
            meta=meta,
            loaded_at_field=as_str(raw.get("loaded_at_field")),
            has_freshness=bool(
                as_dict(freshness.get("warn_after")).get("count")
                or as_dict(freshness.get("error_after")).get("count")
            ),
        )

    @property
    def domain(self) -> str | None:
        return as_str(self.meta.get("domain"))

    @property
    def team(self) -> str | None:
        return as_str(self.meta.get("group")) or owner_team(self.meta.get("owner"))

    @property
    def label(self) -> str:
        return f"{self.source_name}.{self.name}"


class Exposure(msgspec.Struct, frozen=True, array_like=True, gc=False):
    unique_id: str
    name: str
    label: str
    type: str
    maturity: str | None
    url: str | None
    owner_name: str | None
    owner_email: str | None
    original_file_path: str
    group: str | None
    """The dbt group of the exposure (``config.group``, or ``group`` where dbt writes it)."""
    meta: Mapping[str, Any]
    depends_on: tuple[str, ...]

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> Exposure:
        owner = as_dict(raw.get("owner"))
        config = as_dict(raw.get("config"))
        name = str(raw.get("name") or raw["unique_id"])
        return cls(
            unique_id=str(raw["unique_id"]),
            name=name,
            label=str(raw.get("label") or name),
            type=str(raw.get("type") or ""),
            maturity=as_str(raw.get("maturity")),
            url=as_str(raw.get("url")),
            owner_name=as_str(owner.get("name")),
            owner_email=as_str(owner.get("email")),
            original_file_path=str(raw.get("original_file_path") or ""),
            group=as_str(config.get("group")) or as_str(raw.get("group")),
            meta=merged_meta(raw),
            depends_on=tuple(
                str(n) for n in as_list(as_dict(raw.get("depends_on")).get("nodes"))
            ),
        )

    @property
    def domain(self) -> str | None:
        return as_str(self.meta.get("domain"))

    @property
    def declared_team(self) -> str | None:
        """The team the exposure names: its dbt group (``config.group``), else
        ``meta.group``, else ``meta.team``. ``owner.name`` and ``meta.owner`` are people
        (a contact), never a team."""
        return (
            self.group
            or as_str(self.meta.get("group"))
            or as_str(self.meta.get("team"))
        )

    @property
    def owner_person(self) -> str | None:
        """Who to contact about the exposure: ``owner.name``, else ``owner.email``."""
        return self.owner_name or self.owner_email


class Group(msgspec.Struct, frozen=True, array_like=True, gc=False):
    unique_id: str
    name: str
    owner_name: str | None
    owner_email: str | None
    description: str
    meta: Mapping[str, Any]

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> Group:
        owner = as_dict(raw.get("owner"))
        return cls(
            unique_id=str(raw.get("unique_id") or f"group.{raw['name']}"),
            name=str(raw["name"]),
            owner_name=as_str(owner.get("name")),
            owner_email=as_str(owner.get("email")),
            description=str(raw.get("description") or ""),
            meta=as_dict(as_dict(raw.get("config")).get("meta")),
        )

    @property
    def has_owner(self) -> bool:
        return bool(self.owner_name or self.owner_email)


class ManifestMetadata(msgspec.Struct, frozen=True, array_like=True, gc=False):
    schema_version: str
    dbt_version: str
    invocation_id: str | None
    generated_at: str | None
    project_name: str | None
    adapter_type: str | None

    @classmethod
    def from_doc(cls, doc: Metadata) -> ManifestMetadata:
        return cls(
            schema_version=str(doc.dbt_schema_version or ""),
            dbt_version=str(doc.dbt_version or ""),
            invocation_id=as_str(doc.invocation_id),
            generated_at=as_str(doc.generated_at),
            project_name=as_str(doc.project_name),
            adapter_type=as_str(doc.adapter_type),
        )


@dataclass(frozen=True, eq=False)
class Manifest:
    """The parts of a dbt manifest the platform tools read.

    ``nodes`` holds every enabled node, unit tests included (resource type ``unit_test``);
    ``disabled`` holds the first disabled variant of each disabled unique id.
    """

    path: Path
    metadata: ManifestMetadata
    nodes: Mapping[str, Node]
    sources: Mapping[str, Source]
    exposures: Mapping[str, Exposure]
    groups: Mapping[str, Group]
    disabled: Mapping[str, Node]
    semantic_model_count: int = 0
    metric_count: int = 0
    _children: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _buildable: list[Node] = field(default_factory=list, repr=False)

    @property
    def invocation_id(self) -> str | None:
        return self.metadata.invocation_id

    def models(self) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.resource_type == "model")

    def buildable(self) -> Iterator[Node]:
        """Models, seeds and snapshots (listed once: the analyses of a report walk them a
        dozen times, and they are one node in five of a large project)."""
        if not self._buildable:
            self._buildable.extend(
                n for n in self.nodes.values() if n.resource_type in BUILDABLE_TYPES)
        return iter(self._buildable)

    def tests(self) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.resource_type in TEST_TYPES)

    def group_owner(self, team: str | None) -> Group | None:
        return self.groups.get(team) if team else None

    def children(self) -> dict[str, tuple[str, ...]]:
        """Direct dependents of every node and source: nodes and exposures (computed once)."""
        if not self._children:
            children: dict[str, list[str]] = {}
            for node in self.nodes.values():
                for parent in node.depends_on:
                    children.setdefault(parent, []).append(node.unique_id)
            for exposure in self.exposures.values():
                for parent in exposure.depends_on:
                    children.setdefault(parent, []).append(exposure.unique_id)
            self._children.update({k: tuple(v) for k, v in children.items()})
        return self._children

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> Manifest:
        """The manifest of the JSON values ``data`` (a parsed ``manifest.json``)."""
        return cls.from_doc(to_doc(path, data, ManifestDoc), path)

    @classmethod
    def from_doc(cls, doc: ManifestDoc, path: Path) -> Manifest:
        current = "metadata"
        try:
            metadata = ManifestMetadata.from_doc(doc.metadata)
            nodes: dict[str, Node] = {}
            from_doc = Node.from_doc
            for current, node in doc.nodes.items():
                nodes[current] = from_doc(node)
            for current, node in (doc.unit_tests or {}).items():
                nodes[current] = from_doc(node)
            sources = {}
            for current, raw in (doc.sources or {}).items():
                sources[current] = Source.from_node(raw)
            exposures = {}
            for current, raw in (doc.exposures or {}).items():
                exposures[current] = Exposure.from_node(raw)
            groups = {}
            for current, raw in (doc.groups or {}).items():
                group = Group.from_node(raw if "name" in raw else {**raw, "name": current})
                groups[group.name] = group
            disabled: dict[str, Node] = {}
            for current, variants in (doc.disabled or {}).items():
                first = next((v for v in variants if isinstance(v, dict)), None)
                if first is not None and "unique_id" in first:
                    disabled[current] = Node.from_node(first)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ArtifactError(
                f"{path}: unexpected structure at {current!r} ({type(exc).__name__}: {exc}); "
                "regenerate the manifest with dbt"
            ) from None
        return cls(
            path=path,
            metadata=metadata,
            nodes=nodes,
            sources=sources,
            exposures=exposures,
            groups=groups,
            disabled=disabled,
            semantic_model_count=len(doc.semantic_models or {}),
            metric_count=len(doc.metrics or {}),
        )


def load_manifest(path: Path) -> Manifest:
    """Load and check ``manifest.json`` (v10-v12), through the parse cache for large files."""
    return cached_parse(
        path,
        lambda: read_bytes(path, "manifest"),
        lambda raw: Manifest.from_doc(decode_artifact(path, raw, "manifest", ManifestDoc), path),
        _to_cache,
        lambda raw: _from_cache(raw, path),
        dump=as_is,
        load=as_is,
    )


# the parse cache: the manifest's objects as JSON arrays (array-like structs) ---------------
class _Cached(msgspec.Struct, array_like=True, gc=False):
    metadata: ManifestMetadata
    nodes: list[Node]
    sources: list[Source]
    exposures: list[Exposure]
    groups: list[Group]
    disabled: list[tuple[str, Node]]
    counts: tuple[int, int]


_CACHE_DECODER: msgspec.json.Decoder[_Cached] = msgspec.json.Decoder(_Cached)


def _to_cache(manifest: Manifest) -> bytes:
    return msgspec.json.encode(_Cached(
        manifest.metadata,
        list(manifest.nodes.values()),
        list(manifest.sources.values()),
        list(manifest.exposures.values()),
        list(manifest.groups.values()),
        list(manifest.disabled.items()),
        (manifest.semantic_model_count, manifest.metric_count),
    ))


def _from_cache(raw: bytes, path: Path) -> Manifest:
    cached = _CACHE_DECODER.decode(raw)
    return Manifest(
        path=path,
        metadata=cached.metadata,
        nodes={n.unique_id: n for n in cached.nodes},
        sources={s.unique_id: s for s in cached.sources},
        exposures={e.unique_id: e for e in cached.exposures},
        groups={g.name: g for g in cached.groups},
        disabled=dict(cached.disabled),
        semantic_model_count=cached.counts[0],
        metric_count=cached.counts[1],
    )
