"""One current record per view in the view registry ``platform_catalog.relations``.

On Sail the ``view`` materialization, write-audit-publish and ``drop_relation`` record views
and tombstones in the registry, which ``platform-tools engine up`` reads at every engine
start to re-create the views (``macros/system/view_registry.sql``,
:mod:`platform_tools.engine.catalog`). Appending a record for every view of every build made
it grow by one row per view per build. Instead, ``on-run-start`` reads the newest record of
each relation once (:func:`remember`), and a record is appended only when it differs from the
newest one of its relation (:func:`changed`): a view rebuilt with the same definition adds
nothing. The engine start keeps reading the newest record of each relation, which holds the
same type and definition as before.

The store lives in the dbt process and is keyed by invocation id, like
:mod:`dbt_gridunion.build_scope`: an invocation whose ``on-run-start`` did not read the
registry (``run-operation``, another target) knows nothing and appends every record, as
before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

Key = tuple[str, str]  # (schema, name) as recorded
State = tuple[str, str]  # (relation type, definition)

_newest: dict[str, dict[Key, State]] = {}
_lock = threading.Lock()


def _invocation(invocation_id: str | None) -> str:
    if invocation_id is not None:
        return invocation_id
    from dbt_common.invocation import get_invocation_id

    return str(get_invocation_id())


def _text(value: Any) -> str:
    """A registry value as text; agate reads an empty string as null."""
    return "" if value is None else str(value)


def remember(rows: Iterable[Sequence[Any]], invocation_id: str | None = None) -> None:
    """Keep the newest record of each relation: rows of (schema, name, type, definition).

    Only the current invocation's records are kept (a long-running process, the hub, runs one
    invocation at a time).
    """
    newest = {(_text(r[0]), _text(r[1])): (_text(r[2]), _text(r[3])) for r in rows}
    invocation = _invocation(invocation_id)
    with _lock:
        _newest.clear()
        _newest[invocation] = newest


def changed(
    records: Iterable[Sequence[Any]], invocation_id: str | None = None
) -> list[Sequence[Any]]:
    """The records (relation, type, definition) to append: those differing from the newest
    record of their relation. They become the newest ones, so a relation recorded twice in
    one invocation (dropped, then re-created) gets both records."""
    invocation = _invocation(invocation_id)
    out: list[Sequence[Any]] = []
    with _lock:
        newest = _newest.get(invocation)
        for record in records:
            relation, relation_type, definition = record
            key = (_text(relation.schema), _text(relation.identifier))
            state = (_text(relation_type), _text(definition))
            if newest is not None and newest.get(key) == state:
                continue
            out.append(record)
            if newest is not None:
                newest[key] = state
    return out


def install_view_registry() -> None:
    """``adapter.gridunion_registry_remember(rows)`` and ``adapter.gridunion_registry_changed
    (records)`` for ``macros/system/view_registry.sql`` (idempotent)."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:  # dbt-spark is not installed
        return
    names = {"gridunion_registry_remember", "gridunion_registry_changed"}
    if names <= SparkAdapter._available_:
        return

    def gridunion_registry_remember(self: Any, rows: Any) -> str:
        del self
        remember(rows)
        return ""

    def gridunion_registry_changed(self: Any, records: Any) -> list[Sequence[Any]]:
        del self
        return changed(records)

    SparkAdapter.gridunion_registry_remember = gridunion_registry_remember  # type: ignore[attr-defined]
    SparkAdapter.gridunion_registry_changed = gridunion_registry_changed  # type: ignore[attr-defined]
    SparkAdapter._available_ = SparkAdapter._available_ | frozenset(names)
