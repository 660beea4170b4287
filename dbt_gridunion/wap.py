"""Write-audit-publish of public models inside dbt (rules in :mod:`platform_tools.wap`).

A public Delta ``table``/``incremental`` model keeps its public name in the manifest (docs,
catalog, lineage, ``relation_name`` and every ``platform-tools`` check see
``<schema>.<alias>``), but dbt's stock materializations write it as ``<alias>__candidate``:

* ``this`` of such a model is the candidate (so the materialization, ``is_incremental()``,
  watermarks read from ``{{ this }}`` and the location clause all work on the physical table);
* ``ref()`` to it gives the candidate to data tests (they audit what was written) and, in a
  ``build``/``run``/``retry``, to nodes of the same invocation that selected it (downstream
  models of one build see the new data; dbt skips them when a test of it failed); everyone
  else (other invocations, ``dbt show --inline``, ``compile``, ``docs generate``) gets the
  public name, the view pinned to the last audited version; a unit test's stand-in for such
  a model reads its columns from the candidate (which exists before the first publication);
* ``adapter.gridunion_wap_plan(results, graph)`` decides at ``on-run-end`` which models to
  publish (``macros/system/write_audit_publish.sql`` re-points their views).

Published versions are loaded once per invocation (``on-run-start``) and kept per invocation
id, like :mod:`dbt_gridunion.build_scope`, so a long-running process (the hub) never mixes
two builds.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from platform_tools import wap

WRITING_COMMANDS = frozenset({"build", "run", "retry"})
PASSING = frozenset({"pass", "warn", "success"})

_published: dict[str, dict[tuple[str, str], int]] = {}
_retried: dict[str, dict[str, str]] = {}  # invocation id -> statuses of the invocation it retries
_lock = threading.Lock()


def _value(item: Any) -> str:
    """The string of an enum member or plain value (dbt's access and status enums)."""
    return str(getattr(item, "value", item) or "")


def node_is_wap(node: Any) -> bool:
    """Whether a dbt node object is written as a candidate and published by a view."""
    config = getattr(node, "config", None)
    if config is None:
        return False
    return wap.is_published_by_view(
        _value(getattr(node, "resource_type", "")),
        _value(getattr(node, "access", "")),
        getattr(config, "materialized", None),
        config.get("file_format", None) if hasattr(config, "get") else None,
    )


def candidate_of(relation: Any) -> Any:
    """The same relation under the candidate identifier."""
    return relation.incorporate(path={"identifier": wap.candidate_identifier(relation.identifier)})


def tested_model(test: Any) -> str | None:
    """The model a test belongs to: a generic data test's ``attached_node``, a unit test's
    ``tested_node_unique_id``; ``None`` for a singular test (it may ref several models)."""
    return getattr(test, "attached_node", None) or getattr(test, "tested_node_unique_id", None)


def reads_candidate(referencing: Any, target: Any, command: str | None) -> bool:
    """Whether ``referencing`` reads the candidate of public model ``target`` (else the view).

    A test reads the candidate of the model it tests (a singular test: of every model it
    refs); another model a generic test refs (the ``to`` of ``relationships``) is read as
    the candidate when this build writes it or when it was never published (the candidate
    is then its only copy, e.g. after a build that stopped before ``on-run-end``), else as
    readers see it: an unselected model's candidate may hold unaudited rows.
    """
    if _value(getattr(referencing, "resource_type", "")) == "test":
        tested = tested_model(referencing)
        if not tested or tested == target.unique_id:
            return True
        schema, alias = str(getattr(target, "schema", "")), str(getattr(target, "alias", ""))
        if published_version(schema, alias) is None:
            return True
    if command not in WRITING_COMMANDS:
        return False
    from dbt import selected_resources

    if target.unique_id in selected_resources.SELECTED_RESOURCES:
        return True
    # a retry continues the invocation it retries: every node of that one was built there
    # (and audited; it is published at this retry's end) or is re-run now
    return retried_status(target.unique_id) is not None


def _invocation() -> str:
    from dbt_common.invocation import get_invocation_id

    return str(get_invocation_id())


_wap_ids: set[str] = set()


def remember_published(rows: Any, graph: Any = None) -> None:
    """Keep the published versions read at on-run-start (rows of schema, name, version) and
    the unique ids of the public models written as candidates (from dbt's ``graph``)."""
    versions = {(str(r[0]).lower(), str(r[1]).lower()): int(r[2]) for r in rows}
    nodes = graph.get("nodes", {}) if hasattr(graph, "get") else {}
    ids = {uid for uid, raw in nodes.items() if wap.node_is_published_by_view(raw)}
    with _lock:
        _published.clear()  # one invocation at a time per process
        _published[_invocation()] = versions
        _wap_ids.clear()
        _wap_ids.update(ids)


def is_fixture_of_wap_model(node: Any) -> bool:
    """Whether ``node`` is a unit test's ephemeral stand-in for a public model written as a
    candidate (dbt gives it the model's unique id): its ``this``, from which dbt reads the
    fixture's columns, is the candidate, which exists before the first publication."""
    config = getattr(node, "config", None)
    return getattr(config, "materialized", None) == "ephemeral" and node.unique_id in _wap_ids


def _patch_retry() -> None:
    """Keep, for ``dbt retry``, the node statuses of the invocation it retries.

    A build whose engine died after some public models were written and audited never
    reached ``on-run-end``; the retry continues it: its models read those candidates and its
    ``on-run-end`` publishes them when their tests passed there. (dbt runs a retry under the
    retried command's flags, so ``flags.WHICH`` cannot tell; its task can.)
    """
    from dbt.task.retry import RetryTask

    original = RetryTask.__init__
    if getattr(original, "_gridunion_wap", False):
        return

    def __init__(self: Any, args: Any, config: Any) -> None:
        original(self, args, config)
        statuses = {
            str(r.unique_id): _value(r.status).lower() for r in self.previous_results.results
        }
        with _lock:
            _retried.clear()  # one invocation at a time per process
            _retried[_invocation()] = statuses

    __init__._gridunion_wap = True  # type: ignore[attr-defined]
    RetryTask.__init__ = __init__  # type: ignore[method-assign]


def retried_status(unique_id: str) -> str | None:
    with _lock:
        return _retried.get(_invocation(), {}).get(unique_id)


def published_version(schema: str, name: str) -> int | None:
    with _lock:
        return _published.get(_invocation(), {}).get((schema.lower(), name.lower()))


def candidate_is_ahead(relation: Any, location: str) -> bool:
    """Whether the candidate at ``location`` holds versions readers do not get (a build whose
    audit failed, or a ``dbt run``): its replaced-partition tests must then read the whole
    table, since the unpublished rows may sit in partitions this build does not replace."""
    identifier = str(relation.identifier)
    if not identifier.endswith(wap.CANDIDATE_SUFFIX):
        return False
    current = wap.data_version(Path(location))  # a compaction since publishing adds no rows
    if current is None:
        return False
    public = identifier[: -len(wap.CANDIDATE_SUFFIX)]
    published = published_version(str(relation.schema), public)
    return published is None or published < current


def plan(results: Any, graph: Any) -> list[dict[str, Any]]:
    """Per public model touched by this invocation: publish, hold (with the failing tests or
    the reason) or unaudited (written, no test of it ran)."""
    nodes = graph.get("nodes", {}) if hasattr(graph, "get") else {}
    with _lock:  # a retry: the retried invocation's nodes first, its own results over them
        retried = dict(_retried.get(_invocation(), {}))
    status = {uid: state for uid, state in retried.items() if uid in nodes}
    status.update({r.node.unique_id: _value(r.status).lower() for r in results})
    touched: dict[str, tuple[str, str, list[str], bool]] = {}  # uid -> kind, name, parents, wap
    for uid in status:
        raw = nodes.get(uid)
        if raw is not None:
            parents = (raw.get("depends_on") or {}).get("nodes") or []
            tested = raw.get("attached_node")
            touched[uid] = (
                str(raw.get("resource_type")),
                str(raw.get("name")),
                [tested] if tested else list(parents),
                wap.node_is_published_by_view(raw),
            )
    for result in results:  # unit tests are not in graph.nodes
        node = result.node
        tested = tested_model(node)
        parents = list(getattr(getattr(node, "depends_on", None), "nodes", None) or [])
        touched[node.unique_id] = (
            _value(node.resource_type),
            str(node.name),
            [tested] if tested else parents,
            node_is_wap(node),
        )
    models: set[str] = set()
    audits: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, (kind, name, parents, is_wap) in touched.items():
        if kind == "model" and is_wap:
            models.add(uid)
        elif kind in ("test", "unit_test"):
            for parent in parents:
                raw = nodes.get(parent)
                if raw is not None and wap.node_is_published_by_view(raw):
                    models.add(parent)
                    audits[parent].append((name, status[uid]))
    required: dict[str, list[str]] = defaultdict(list)  # tests of the model alone
    for uid, raw in nodes.items():
        parents = (raw.get("depends_on") or {}).get("nodes") or []
        if raw.get("resource_type") == "test" and len(parents) == 1 and parents[0] in models:
            required[parents[0]].append(uid)
    decisions = []
    for uid in sorted(models):
        raw = nodes.get(uid) or {}
        built = status.get(uid)
        failing = sorted(name for name, state in audits[uid] if state not in PASSING)
        missing = sorted(nodes[t]["name"] for t in required[uid] if t not in status)
        if failing:
            action, reason = "hold", "failing tests " + ", ".join(failing)
        elif built not in (None, "success"):
            action, reason = "hold", f"its build ended {built}"
        elif not audits[uid]:
            action, reason = "unaudited", "written, but no test of it ran in this invocation"
        elif missing:
            action, reason = "hold", "tests not run in this invocation: " + ", ".join(missing)
        else:
            action, reason = "publish", ""
        decisions.append(
            {
                "unique_id": uid,
                "name": raw.get("name", uid),
                "database": raw.get("database"),
                "schema": raw.get("schema"),
                "alias": raw.get("alias"),
                "candidate": wap.candidate_identifier(str(raw.get("alias"))),
                "action": action,
                "reason": reason,
            }
        )
    return decisions


def _patch_model_context() -> None:
    """``this`` and ``model.alias`` of a public model's own context name the candidate
    (dbt-spark's ``table`` materialization takes the identifier from ``model['alias']``,
    ``incremental`` from ``this``); the node in the manifest keeps its public alias."""
    from dbt.context.providers import ModelContext

    members = ModelContext._context_members_
    original_this, original_model = members["this"], members["model"]
    if getattr(original_this.fget, "_gridunion_wap", False):
        return

    def this(self: Any) -> Any:
        relation = original_this.__get__(self)
        if relation is not None and (
            node_is_wap(self.model) or is_fixture_of_wap_model(self.model)
        ):
            return candidate_of(relation)
        return relation

    def model(self: Any) -> Any:
        node = original_model.__get__(self)
        if isinstance(node, dict) and node.get("alias") and node_is_wap(self.model):
            node["alias"] = wap.candidate_identifier(str(node["alias"]))
        return node

    this._gridunion_wap = True  # type: ignore[attr-defined]
    members["this"], members["model"] = property(this), property(model)


def _patch_ref() -> None:
    from dbt.context.providers import RuntimeRefResolver, RuntimeUnitTestRefResolver

    original = RuntimeRefResolver.create_relation
    if getattr(original, "_gridunion_wap", False):
        return

    def create_relation(self: Any, target_model: Any) -> Any:
        relation = original(self, target_model)
        if (
            not isinstance(self, RuntimeUnitTestRefResolver)
            and node_is_wap(target_model)
            and str(relation.identifier) == str(target_model.alias)
            and reads_candidate(self.model, target_model, getattr(self.config.args, "which", None))
        ):
            return candidate_of(relation)
        return relation

    create_relation._gridunion_wap = True  # type: ignore[attr-defined]
    RuntimeRefResolver.create_relation = create_relation  # type: ignore[method-assign]


def _add_adapter_methods() -> None:
    from dbt.adapters.spark.impl import SparkAdapter

    names = {
        "gridunion_wap_plan",
        "gridunion_wap_remember",
        "gridunion_wap_published_version",
        "gridunion_wap_candidate_is_ahead",
        "gridunion_delta_version",
    }
    if names <= SparkAdapter._available_:
        return

    def gridunion_wap_plan(self: Any, results: Any, graph: Any) -> list[dict[str, Any]]:
        del self
        return plan(results, graph)

    def gridunion_wap_remember(self: Any, rows: Any, graph: Any = None) -> str:
        del self
        remember_published(rows, graph)
        return ""

    def gridunion_wap_published_version(self: Any, schema: str, name: str) -> int | None:
        del self
        return published_version(schema, name)

    def gridunion_wap_candidate_is_ahead(self: Any, relation: Any, location: str) -> bool:
        del self
        return candidate_is_ahead(relation, location)

    def gridunion_delta_version(self: Any, location: str) -> int | None:
        del self
        return wap.delta_version(Path(location))

    for name, function in {
        "gridunion_wap_plan": gridunion_wap_plan,
        "gridunion_wap_remember": gridunion_wap_remember,
        "gridunion_wap_published_version": gridunion_wap_published_version,
        "gridunion_wap_candidate_is_ahead": gridunion_wap_candidate_is_ahead,
        "gridunion_delta_version": gridunion_delta_version,
    }.items():
        setattr(SparkAdapter, name, function)
    SparkAdapter._available_ = SparkAdapter._available_ | frozenset(names)


def install_wap() -> None:
    """Patch ``this`` and ``ref`` and add the adapter methods (idempotent)."""
    try:
        import dbt.adapters.spark.impl  # noqa: F401
        import dbt.context.providers  # noqa: F401
    except ImportError:  # dbt-spark is not installed: nothing to extend
        return
    _patch_model_context()
    _patch_ref()
    _patch_retry()
    _add_adapter_methods()
