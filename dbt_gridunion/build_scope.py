"""The partitions each incremental model replaced in this dbt invocation, for scoped tests.

On Sail, ``insert_overwrite`` with a ``partition_by`` replaces exactly the partitions of the
new data (``macros/system/incremental_strategy.sql``); it notes the replaced partitions here,
as the SQL predicate it used. A data test configured with
``where: "__partitions_replaced_in_this_build__"`` then checks only those partitions when the
same invocation built its model (``macros/system/where_subquery.sql``), and the whole table
otherwise (a ``dbt test`` on its own, a first build or full refresh, another target).

The store lives in the dbt process and is keyed by invocation id, so a second invocation in
the same process (``dbtRunner``) never sees the first one's partitions. dbt exposes adapter
methods to jinja only when they are marked available; :func:`install_build_scope` adds two.
"""

from __future__ import annotations

import threading
from typing import Any

_replaced: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def relation_key(relation: object) -> str:
    """``schema.table`` as rendered, without quoting, lower case."""
    return str(relation).replace("`", "").replace('"', "").strip().lower()


def _key(relation: object, invocation_id: str | None) -> tuple[str, str]:
    """(invocation id, relation), the invocation defaulting to dbt's current one."""
    if invocation_id is None:
        try:
            from dbt_common.invocation import get_invocation_id

            invocation_id = str(get_invocation_id())
        except ImportError:  # pragma: no cover - dbt-common always ships it
            invocation_id = ""
    return invocation_id, relation_key(relation)


def note_replaced(relation: object, predicate: str, invocation_id: str | None = None) -> None:
    """Record that ``relation``'s partitions matching ``predicate`` were replaced.

    Notes of earlier invocations are dropped: a long-running process (the hub) runs one
    invocation at a time, and must not keep every build's predicates.
    """
    key = _key(relation, invocation_id)
    with _lock:
        for stale in [k for k in _replaced if k[0] != key[0]]:
            del _replaced[stale]
        _replaced[key] = predicate


def replaced(relation: object, invocation_id: str | None = None) -> str | None:
    """The predicate of the partitions ``relation`` got in this invocation, else ``None``."""
    with _lock:
        return _replaced.get(_key(relation, invocation_id))


def install_build_scope() -> None:
    """Add ``adapter.gridunion_note_replaced_partitions`` and
    ``adapter.gridunion_replaced_partitions`` to dbt-spark's adapter (idempotent)."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:  # dbt-spark is not installed: nothing to extend
        return
    names = {"gridunion_note_replaced_partitions", "gridunion_replaced_partitions"}
    if names <= SparkAdapter._available_:
        return

    def gridunion_note_replaced_partitions(self: Any, relation: object, predicate: str) -> str:
        del self
        note_replaced(relation, predicate)
        return ""

    def gridunion_replaced_partitions(self: Any, relation: object) -> str | None:
        del self
        return replaced(relation)

    SparkAdapter.gridunion_note_replaced_partitions = gridunion_note_replaced_partitions  # type: ignore[attr-defined]
    SparkAdapter.gridunion_replaced_partitions = gridunion_replaced_partitions  # type: ignore[attr-defined]
    SparkAdapter._available_ = SparkAdapter._available_ | frozenset(names)
