"""Build dbt artifacts (manifest v12, run_results v6, sources v3, catalog v1) as plain dicts.

The tests use it to construct scenarios (an incident, a breaking change) in a few lines; the
synthetic generator uses it to produce manifests of any size. Node dicts carry the keys a real
dbt 1.11 manifest has, so that other tools (dbt-score, dbt-bouncer) read them too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
SOURCES_SCHEMA = "https://schemas.getdbt.com/dbt/sources/v3.json"
CATALOG_SCHEMA = "https://schemas.getdbt.com/dbt/catalog/v1.json"
DBT_VERSION = "1.11.16"


def _metadata(schema: str, invocation_id: str, generated_at: str) -> dict[str, Any]:
    return {
        "dbt_schema_version": schema,
        "dbt_version": DBT_VERSION,
        "generated_at": generated_at,
        "invocation_id": invocation_id,
        "invocation_started_at": generated_at,
        "env": {},
    }


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


@dataclass
class ColumnSpec:
    name: str
    data_type: str | None = "string"
    description: str = ""
    constraints: tuple[str, ...] = ()


def column_dict(col: ColumnSpec) -> dict[str, Any]:
    return {
        "name": col.name,
        "description": col.description,
        "meta": {},
        "data_type": col.data_type,
        "constraints": [
            {
                "type": c,
                "name": None,
                "expression": None,
                "warn_unenforced": True,
                "warn_unsupported": True,
                "to": None,
                "to_columns": [],
            }
            for c in col.constraints
        ],
        "quote": None,
        "config": {"meta": {}, "tags": []},
        "tags": [],
        "granularity": None,
        "doc_blocks": [],
    }


@dataclass
class ManifestBuilder:
    """Accumulate nodes, then :meth:`build` a manifest dict.

    Names are model names; ``refs`` may name a versioned model as ``"name.v2"``.
    """

    project: str = "gridunion"
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    generated_at: str = "2026-01-05T06:00:00.000000Z"
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    exposures: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    unit_tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    disabled: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    semantic_models: dict[str, dict[str, Any]] = field(default_factory=dict)

    # ids -------------------------------------------------------------------------------
    def model_id(self, ref: str) -> str:
        name, _, version = ref.partition(".v")
        uid = f"model.{self.project}.{name}"
        return f"{uid}.v{version}" if version else uid

    def _resolve(self, ref: str) -> str:
        for prefix in ("model", "seed", "snapshot"):
            name, _, version = ref.partition(".v")
            uid = f"{prefix}.{self.project}.{name}" + (f".v{version}" if version else "")
            if uid in self.nodes:
                return uid
        uid = self.model_id(ref)
        if uid not in self.nodes:
            # an unversioned ref to a versioned model resolves to its latest version
            versions = [
                n for n in self.nodes.values() if n["name"] == ref and n.get("version") is not None
            ]
            if versions:
                latest = versions[0].get("latest_version") or max(v["version"] for v in versions)
                return f"{uid}.v{latest}"
        return uid

    # resources -------------------------------------------------------------------------
    def group(self, name: str, owner_name: str | None = None, email: str | None = None) -> str:
        uid = f"group.{self.project}.{name}"
        owner: dict[str, Any] = {"email": email, "name": owner_name}
        self.groups[uid] = {
            "name": name,
            "resource_type": "group",
            "package_name": self.project,
            "path": "_groups.yml",
            "original_file_path": "models/_groups.yml",
            "unique_id": uid,
            "owner": owner,
            "description": None,
            "config": {"meta": {}},
        }
        return uid

    def source(
        self,
        source_name: str,
        name: str,
        *,
        domain: str | None = None,
        team: str | None = None,
        freshness_hours: tuple[int, int] | None = None,
        columns: Sequence[ColumnSpec] = (),
    ) -> str:
        uid = f"source.{self.project}.{source_name}.{name}"
        meta: dict[str, Any] = {}
        if domain:
            meta["domain"] = domain
        if team:
            meta["group"] = team
        freshness: dict[str, Any] = {"warn_after": {"count": None, "period": None},
                                     "error_after": {"count": None, "period": None},
                                     "filter": None}
        if freshness_hours:
            freshness = {
                "warn_after": {"count": freshness_hours[0], "period": "hour"},
                "error_after": {"count": freshness_hours[1], "period": "hour"},
                "filter": None,
            }
        path = f"models/{domain or 'sources'}/_{source_name}__sources.yml"
        self.sources[uid] = {
            "database": None,
            "schema": f"landing_{source_name}",
            "name": name,
            "resource_type": "source",
            "package_name": self.project,
            "path": path,
            "original_file_path": path,
            "unique_id": uid,
            "fqn": [self.project, source_name, name],
            "source_name": source_name,
            "source_description": "",
            "loader": "",
            "identifier": name,
            "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
            "loaded_at_field": "ingested_at" if freshness_hours else None,
            "loaded_at_query": None,
            "freshness": freshness,
            "external": None,
            "description": "",
            "columns": {c.name: column_dict(c) for c in columns},
            "meta": meta,
            "source_meta": {},
            "tags": [],
            "config": {"enabled": True, "event_time": None, "freshness": freshness,
                       "loaded_at_field": None, "loaded_at_query": None, "meta": meta,
                       "tags": [], "static_analysis": None},
            "patch_path": None,
            "unrendered_config": {},
            "relation_name": f"landing_{source_name}.{name}",
            "created_at": 1767000000.0,
            "unrendered_database": None,
            "unrendered_schema": f"landing_{source_name}",
            "doc_blocks": [],
        }
        return uid

    def model(
        self,
        name: str,
        *,
        team: str | None = None,
        domain: str | None = None,
        layer: str | None = None,
        access: str = "protected",
        refs: Iterable[str] = (),
        sources: Iterable[str] = (),
        columns: Sequence[ColumnSpec | str] = (),
        contract: bool = False,
        description: str = "",
        meta: Mapping[str, Any] | None = None,
        materialized: str = "table",
        version: int | None = None,
        latest_version: int | None = None,
        resource_type: str = "model",
        schema: str | None = None,
        alias: str | None = None,
        enabled: bool = True,
    ) -> str:
        """Add a model (or a seed/snapshot with ``resource_type``); return its unique id."""
        uid = f"{resource_type}.{self.project}.{name}"
        if version is not None:
            uid += f".v{version}"
        full_meta: dict[str, Any] = {}
        if domain:
            full_meta["domain"] = domain
        if layer:
            full_meta["layer"] = layer
        full_meta.update(meta or {})
        cols = [c if isinstance(c, ColumnSpec) else ColumnSpec(c) for c in columns]
        depends = [self._resolve(r) for r in refs] + list(sources)
        schema = schema or (f"{domain}_{layer}" if domain and layer else "analytics")
        folder = "/".join(p for p in (domain, layer) if p)
        path = f"{folder + '/' if folder else ''}{name}.sql"
        alias = alias or (f"{name}_v{version}" if version is not None else name)
        raw_code = "select * from " + " join ".join(
            [f"{{{{ ref('{r}') }}}}" for r in refs] + ["{{ source('x', 'y') }}" for _ in sources]
        ) if (refs or sources) else "select 1 as id"
        node: dict[str, Any] = {
            "database": None,
            "schema": schema,
            "name": name,
            "resource_type": resource_type,
            "package_name": self.project,
            "path": path,
            "original_file_path": f"models/{path}",
            "unique_id": uid,
            "fqn": [self.project, *(p for p in (domain, layer) if p), name],
            "alias": alias,
            "checksum": {"name": "sha256", "checksum": _short_hash(uid + raw_code)},
            "config": {
                "enabled": enabled,
                "alias": None,
                "schema": None,
                "database": None,
                "tags": [],
                "meta": dict(full_meta),
                "group": team,
                "materialized": materialized,
                "incremental_strategy": None,
                "persist_docs": {},
                "post-hook": [],
                "pre-hook": [],
                "quoting": {},
                "column_types": {},
                "full_refresh": None,
                "unique_key": None,
                "on_schema_change": "ignore",
                "on_configuration_change": "apply",
                "grants": {},
                "packages": [],
                "docs": {"show": True, "node_color": None},
                "contract": {"enforced": contract, "alias_types": True},
                "event_time": None,
                "concurrent_batches": None,
                "access": access,
                "freshness": None,
                "file_format": "delta",
            },
            "tags": [],
            "description": description,
            "columns": {c.name: column_dict(c) for c in cols},
            "meta": full_meta,
            "group": team,
            "docs": {"show": True, "node_color": None},
            "patch_path": f"{self.project}://models/{folder}/_models.yml" if cols else None,
            "build_path": None,
            "unrendered_config": {},
            "created_at": 1767000000.0,
            "relation_name": f"{schema}.{alias}",
            "raw_code": raw_code,
            "doc_blocks": [],
            "language": "sql",
            "refs": [{"name": r.partition(".v")[0], "package": None,
                      "version": r.partition(".v")[2] or None} for r in refs],
            "sources": [],
            "metrics": [],
            "functions": [],
            "depends_on": {"macros": [], "nodes": depends},
            "compiled_path": None,
            "contract": {"enforced": contract, "alias_types": True, "checksum": None},
            "access": access,
            "constraints": [],
            "version": version,
            "latest_version": latest_version,
            "deprecation_date": None,
            "primary_key": [],
            "time_spine": None,
        }
        if resource_type != "model":
            for key in ("access", "version", "latest_version", "deprecation_date", "time_spine",
                        "primary_key", "constraints"):
                node.pop(key, None)
        if enabled:
            self.nodes[uid] = node
        else:
            self.disabled[uid] = [node]
        return uid

    def test(
        self,
        model: str,
        column: str | None,
        kind: str = "unique",
        *,
        severity: str = "ERROR",
        extra_models: Iterable[str] = (),
    ) -> str:
        """Add a generic data test (``unique``, ``not_null``, ``relationships``...)."""
        model_uid = model if "." in model and model.split(".")[0] in (
            "model", "seed", "snapshot") else self._resolve(model)
        model_name = model_uid.split(".")[2]
        base = f"{kind}_{model_name}_{column or 'row'}"
        uid = f"test.{self.project}.{base}.{_short_hash(model_uid + base)}"
        target = self.nodes.get(model_uid, {})
        self.nodes[uid] = {
            "database": None,
            "schema": "dbt_test__audit",
            "name": base,
            "resource_type": "test",
            "package_name": self.project,
            "path": f"{base}.sql",
            "original_file_path": "models/_models.yml",
            "unique_id": uid,
            "fqn": [self.project, base],
            "alias": base,
            "checksum": {"name": "none", "checksum": ""},
            "config": {"enabled": True, "alias": None, "schema": "dbt_test__audit",
                       "database": None, "tags": [], "meta": {},
                       "group": target.get("group"), "materialized": "test",
                       "severity": severity, "store_failures": None,
                       "store_failures_as": None, "where": None, "limit": None,
                       "fail_calc": "count(*)", "warn_if": "!= 0", "error_if": "!= 0"},
            "tags": [],
            "description": "",
            "columns": {},
            "meta": {},
            "group": target.get("group"),
            "docs": {"show": True, "node_color": None},
            "patch_path": None,
            "build_path": None,
            "unrendered_config": {},
            "created_at": 1767000000.0,
            "relation_name": None,
            "raw_code": f"{{{{ test_{kind}(**_dbt_generic_test_kwargs) }}}}",
            "doc_blocks": [],
            "language": "sql",
            "refs": [{"name": model_name, "package": None, "version": None}],
            "sources": [],
            "metrics": [],
            "functions": [],
            "depends_on": {"macros": [f"macro.dbt.test_{kind}"],
                           "nodes": [model_uid, *(self._resolve(m) for m in extra_models)]},
            "compiled_path": None,
            "contract": {"enforced": False, "alias_types": True, "checksum": None},
            "column_name": column,
            "file_key_name": f"models.{model_name}",
            "attached_node": model_uid,
            "test_metadata": {"name": kind, "kwargs": {"column_name": column}, "namespace": None},
        }
        return uid

    def key_tests(self, model: str, column: str) -> None:
        """``unique`` and ``not_null`` on ``column``."""
        self.test(model, column, "unique")
        self.test(model, column, "not_null")

    def unit_test(self, model: str, name: str) -> str:
        model_uid = self._resolve(model)
        uid = f"unit_test.{self.project}.{model_uid.split('.')[2]}.{name}"
        self.unit_tests[uid] = {
            "model": model_uid.split(".")[2],
            "given": [],
            "expect": {"rows": [], "format": "dict", "fixture": None},
            "name": name,
            "resource_type": "unit_test",
            "package_name": self.project,
            "path": "_models.yml",
            "original_file_path": "models/_models.yml",
            "unique_id": uid,
            "fqn": [self.project, name],
            "description": "",
            "overrides": None,
            "depends_on": {"macros": [], "nodes": [model_uid]},
            "config": {"tags": [], "meta": {}, "enabled": True, "static_analysis": None},
            "checksum": _short_hash(uid),
            "schema": "analytics",
            "created_at": 1767000000.0,
            "versions": None,
            "version": None,
        }
        return uid

    def exposure(
        self,
        name: str,
        refs: Iterable[str],
        *,
        team: str | None = None,
        domain: str | None = None,
        label: str | None = None,
        owner_email: str | None = None,
        owner_name: str | None = None,
        kind: str = "dashboard",
    ) -> str:
        uid = f"exposure.{self.project}.{name}"
        meta: dict[str, Any] = {}
        if team:
            meta["group"] = team
        if domain:
            meta["domain"] = domain
        self.exposures[uid] = {
            "name": name,
            "resource_type": "exposure",
            "package_name": self.project,
            "path": "_exposures.yml",
            "original_file_path": f"models/{domain or 'exposures'}/_exposures.yml",
            "unique_id": uid,
            "fqn": [self.project, name],
            "type": kind,
            "owner": {"email": owner_email or f"{name}@example.com", "name": owner_name},
            "description": "",
            "label": label or name,
            "maturity": "high",
            "meta": meta,
            "tags": [],
            "config": {"enabled": True, "tags": [], "meta": meta},
            "unrendered_config": {},
            "url": None,
            "depends_on": {"macros": [], "nodes": [self._resolve(r) for r in refs]},
            "refs": [{"name": r, "package": None, "version": None} for r in refs],
            "sources": [],
            "metrics": [],
            "created_at": 1767000000.0,
        }
        return uid

    def operation(self, name: str = "on-run-start-0") -> str:
        uid = f"operation.{self.project}.{self.project}-{name}"
        self.nodes[uid] = {
            "database": None, "schema": "analytics", "name": f"{self.project}-{name}",
            "resource_type": "operation", "package_name": self.project,
            "path": "hooks/x.sql", "original_file_path": "./dbt_project.yml", "unique_id": uid,
            "fqn": [self.project, "hooks", name], "alias": name,
            "checksum": {"name": "sha256", "checksum": ""}, "config": {"enabled": True},
            "tags": ["on-run-start"], "description": "", "columns": {}, "meta": {},
            "group": None, "docs": {"show": True, "node_color": None}, "patch_path": None,
            "depends_on": {"macros": [], "nodes": []}, "raw_code": "select 1",
        }
        return uid

    def set_meta(self, uid: str, **meta: Any) -> None:
        node = self.nodes[uid]
        node["meta"].update(meta)
        node["config"]["meta"].update(meta)

    def build(self) -> dict[str, Any]:
        """The manifest as a dict (JSON-serialisable)."""
        parent_map: dict[str, list[str]] = {}
        child_map: dict[str, list[str]] = {uid: [] for uid in [*self.nodes, *self.sources]}
        for uid, node in [*self.nodes.items(), *self.exposures.items(),
                          *self.unit_tests.items()]:
            parents = node.get("depends_on", {}).get("nodes", [])
            parent_map[uid] = list(parents)
            for parent in parents:
                child_map.setdefault(parent, []).append(uid)
        group_map: dict[str, list[str]] = {}
        for uid, node in self.nodes.items():
            if node.get("group"):
                group_map.setdefault(node["group"], []).append(uid)
        metadata = _metadata(MANIFEST_SCHEMA, self.invocation_id, self.generated_at)
        metadata.update({
            "project_name": self.project,
            "project_id": _short_hash(self.project),
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "spark",
            "quoting": {"database": False, "schema": False, "identifier": False, "column": None},
            "run_started_at": self.generated_at,
        })
        return {
            "metadata": metadata,
            "nodes": self.nodes,
            "sources": self.sources,
            "macros": {},
            "docs": {},
            "exposures": self.exposures,
            "metrics": {},
            "groups": self.groups,
            "selectors": {},
            "disabled": self.disabled,
            "parent_map": parent_map,
            "child_map": child_map,
            "group_map": group_map,
            "saved_queries": {},
            "semantic_models": self.semantic_models,
            "unit_tests": self.unit_tests,
            "functions": {},
        }


def _iso(moment: Any) -> str:
    return str(moment.isoformat(timespec="microseconds")) + "Z"


@dataclass
class ResultSpec:
    status: str = "success"
    execution_time: float = 1.0
    rows_affected: int | None = None
    message: str | None = None


def run_results_dict(
    invocation_id: str,
    results: Mapping[str, ResultSpec],
    *,
    started_at: str = "2026-01-05T06:00:00.000000Z",
    command: str = "build",
) -> dict[str, Any]:
    """A run_results dict; nodes run one after the other from ``started_at``."""
    from datetime import datetime, timedelta

    clock = datetime.fromisoformat(started_at.replace("Z", "+00:00")).replace(tzinfo=None)
    out = []
    total = 0.0
    for uid, spec in results.items():
        begin = clock
        end = clock + timedelta(seconds=spec.execution_time)
        clock = end
        total += spec.execution_time
        response: dict[str, Any] = {"_message": "OK"}
        if spec.rows_affected is not None:
            response["rows_affected"] = spec.rows_affected
        is_test = uid.startswith(("test.", "unit_test."))
        out.append({
            "status": spec.status,
            "timing": [] if spec.status == "skipped" else [
                {"name": "compile", "started_at": _iso(begin), "completed_at": _iso(begin)},
                {"name": "execute", "started_at": _iso(begin), "completed_at": _iso(end)},
            ],
            "thread_id": "Thread-1",
            "execution_time": spec.execution_time,
            "adapter_response": response,
            "message": spec.message or ("OK" if not is_test else None),
            "failures": (0 if spec.status == "pass" else 1) if is_test else None,
            "unique_id": uid,
            "compiled": True,
            "compiled_code": "",
            "relation_name": None,
            "batch_results": None,
        })
    return {
        "metadata": _metadata(RUN_RESULTS_SCHEMA, invocation_id, started_at),
        "results": out,
        "elapsed_time": total,
        "args": {"which": command, "invocation_command": f"dbt {command}"},
    }


def sources_dict(
    invocation_id: str,
    results: Mapping[str, tuple[str, float]],
    *,
    generated_at: str = "2026-01-05T06:00:00.000000Z",
    warn_hours: int = 12,
    error_hours: int = 24,
) -> dict[str, Any]:
    """A sources.json dict: ``results`` maps a source id to ``(status, age in hours)``."""
    out = []
    for uid, (status, age_hours) in results.items():
        out.append({
            "unique_id": uid,
            "max_loaded_at": generated_at,
            "snapshotted_at": generated_at,
            "max_loaded_at_time_ago_in_s": age_hours * 3600.0,
            "status": status,
            "criteria": {"warn_after": {"count": warn_hours, "period": "hour"},
                         "error_after": {"count": error_hours, "period": "hour"},
                         "filter": None},
            "adapter_response": {},
            "timing": [],
            "thread_id": "Thread-1",
            "execution_time": 0.1,
        })
    return {
        "metadata": _metadata(SOURCES_SCHEMA, invocation_id, generated_at),
        "results": out,
        "elapsed_time": 0.1,
    }


def catalog_dict(
    invocation_id: str, tables: Mapping[str, Mapping[str, str]], manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """A catalog dict: ``tables`` maps a node id to ``{column: type}``."""
    nodes = {}
    for uid, columns in tables.items():
        node = manifest["nodes"].get(uid, {})
        nodes[uid] = {
            "metadata": {"type": "table", "schema": node.get("schema"),
                         "name": node.get("alias"), "database": None, "comment": None,
                         "owner": None},
            "columns": {name: {"type": typ, "index": i, "name": name, "comment": None}
                        for i, (name, typ) in enumerate(columns.items())},
            "stats": {},
            "unique_id": uid,
        }
    return {
        "metadata": _metadata(CATALOG_SCHEMA, invocation_id, "2026-01-05T06:00:00.000000Z"),
        "nodes": nodes,
        "sources": {},
        "errors": None,
    }


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
