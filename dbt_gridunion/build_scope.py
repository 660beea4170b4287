"""The partitions each incremental model replaced in this dbt invocation, for scoped tests.

On Sail, ``insert_overwrite`` with a ``partition_by`` replaces exactly the partitions of the
new data (``macros/system/incremental_strategy.sql``); it notes the replaced partitions here,
as the SQL predicate it used (a bronze model notes the landing files it appends,
``macros/ingestion/bronze_from_landing.sql``). A data test configured with
``where: "__partitions_replaced_in_this_build__"`` then checks only those partitions when the
same invocation built its model and the test is clean (its last run passed with nothing
written after it, see the second half of this module), and the whole table otherwise (a
``dbt test`` on its own, a first build or full refresh, another target, a test that is not
clean).

The store lives in the dbt process and is keyed by invocation id, so a second invocation in
the same process (``dbtRunner``) never sees the first one's partitions. dbt exposes adapter
methods to jinja only when they are marked available; :func:`install_build_scope` adds them.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_replaced: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def relation_key(relation: object) -> str:
    """``schema.table`` as rendered, without quoting, lower case."""
    return str(relation).replace("`", "").replace('"', "").strip().lower()


def _invocation(invocation_id: str | None = None) -> str:
    """``invocation_id``, defaulting to dbt's current one."""
    if invocation_id is None:
        try:
            from dbt_common.invocation import get_invocation_id

            invocation_id = str(get_invocation_id())
        except ImportError:  # pragma: no cover - dbt-common always ships it
            invocation_id = ""
    return invocation_id


def _key(relation: object, invocation_id: str | None) -> tuple[str, str]:
    """(invocation id, relation), the invocation defaulting to dbt's current one."""
    return _invocation(invocation_id), relation_key(relation)


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


def _note_for_jinja(relation: object, predicate: str) -> str:
    """:func:`note_replaced` for ``{% do adapter.gridunion_note_replaced_partitions(...) %}``."""
    note_replaced(relation, predicate)
    return ""


def install_build_scope() -> None:
    """Add the ``adapter.gridunion_*`` methods of this module to dbt-spark's adapter
    (idempotent): noting and reading replaced partitions, and the clean-test record."""
    from dbt_gridunion.adapter_methods import add_adapter_methods

    add_adapter_methods({
        "gridunion_note_replaced_partitions": _note_for_jinja,
        "gridunion_replaced_partitions": replaced,
        "gridunion_scope_begin": begin_scope,
        "gridunion_scope_finish": finish_scope,
        "gridunion_test_may_scope": may_scope,
    })


# --- which tests may read only what this build wrote -------------------------------------
#
# A scoped test is exact only if everything its model held before this build was already
# checked: an earlier run of the test that failed (or warned), or a write that no run of the
# test followed (`dbt run`, a test that was skipped or deselected, a crash), leaves rows that
# a scoped run would never read again. So the lakehouse keeps the ids of the tests whose
# last run passed with nothing written after it (`<lakehouse>/_state/clean_tests.json`):
#
# - at the start of an invocation (on-run-start) the set is read; only those tests may be
#   scoped in this invocation. The tests that read a node the invocation may write (or a view
#   over one, or a model whose tests use its partitions) are then removed from the file, so a
#   build that stops half-way leaves them doubted;
# - at its end (on-run-end) every test that passed is added, every other result removed.
#
# A test not in the set reads the whole table; the first build of a lakehouse therefore
# checks everything once.

CLEAN_TESTS_FILE = ("_state", "clean_tests.json")
WRITING_COMMANDS = frozenset({"build", "run", "seed", "snapshot", "retry"})
_allowed: dict[str, frozenset[str]] = {}


def clean_tests_path(lakehouse: str | Path) -> Path:
    """Where the lakehouse keeps the ids of its clean tests."""
    return Path(lakehouse).joinpath(*CLEAN_TESTS_FILE)


def read_clean_tests(path: Path) -> set[str]:
    """The stored set; empty when missing or unreadable (every test then reads everything)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    tests = stored.get("clean_tests") if isinstance(stored, dict) else None
    return {str(test) for test in tests} if isinstance(tests, list) else set()


def write_clean_tests(path: Path, tests: Iterable[str]) -> None:
    """Replace the stored set atomically (readers see the old or the new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"clean_tests": sorted(tests)}, indent=0) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the stored set between processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _get(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else getattr(node, key, None)
        if node is None:
            return None
    return node


def doubted_tests(nodes: Mapping[str, Any], written: Iterable[str]) -> set[str]:
    """The tests that read what writing ``written`` may change.

    A test reads its ``depends_on`` nodes; a view (or ephemeral model) over a written node
    changes with it, and so does a model whose tests use the replaced partitions of a
    written model (``meta.replaced_partitions_of``)."""
    changed = set(written)
    names = {_get(nodes[uid], "name") for uid in changed if uid in nodes}
    grew = True
    while grew:
        grew = False
        for uid, node in nodes.items():
            if uid in changed or _get(node, "resource_type") != "model":
                continue
            derived = _get(node, "config", "materialized") in {"view", "ephemeral"} and any(
                parent in changed for parent in _get(node, "depends_on", "nodes") or ())
            of = _get(node, "config", "meta", "replaced_partitions_of")
            if derived or (of is not None and of in names):
                changed.add(uid)
                names.add(_get(node, "name"))
                grew = True
    return {
        uid for uid, node in nodes.items()
        if _get(node, "resource_type") == "test"
        and any(parent in changed for parent in _get(node, "depends_on", "nodes") or ())
    }


def settle(clean: set[str], results: Iterable[tuple[str, str]]) -> set[str]:
    """``clean`` after an invocation's test results (unique id, status): passes join it,
    every other outcome (fail, warn, error, skipped) leaves it."""
    outcome = dict(results)
    return {uid for uid in clean if outcome.get(uid, "pass") == "pass"} | {
        uid for uid, status in outcome.items() if status == "pass"}


def begin_scope(lakehouse: str, nodes: Mapping[str, Any], selected: Iterable[str],
                command: str) -> None:
    """on-run-start: remember which tests may be scoped, then doubt the ones this
    invocation may make stale (before anything is written)."""
    path = clean_tests_path(lakehouse)
    written = [uid for uid in selected if not str(uid).startswith(("test.", "unit_test."))
               ] if command in WRITING_COMMANDS else []
    with _locked(path):
        clean = read_clean_tests(path)
        with _lock:
            _allowed.clear()
            _allowed[_invocation()] = frozenset(clean)
        doubted = doubted_tests(nodes, written) if written else set()
        if clean & doubted:
            write_clean_tests(path, clean - doubted)


def finish_scope(lakehouse: str, results: Iterable[Any]) -> None:
    """on-run-end: store the outcome of every test this invocation ran."""
    outcomes = []
    for result in results:
        uid = str(_get(result, "node", "unique_id") or "")
        if uid.startswith("test."):
            status = _get(result, "status")
            outcomes.append((uid, str(getattr(status, "value", status)).lower()))
    path = clean_tests_path(lakehouse)
    with _locked(path):
        clean = read_clean_tests(path)
        settled = settle(clean, outcomes)
        if settled != clean or not path.exists():
            write_clean_tests(path, settled)


def may_scope(test_unique_id: str) -> bool:
    """Whether the test passed with nothing written after it, as of this invocation's start."""
    with _lock:
        return test_unique_id in _allowed.get(_invocation(), frozenset())
