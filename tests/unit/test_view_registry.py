"""dbt_gridunion.view_registry: a registry record is appended only when it changes something."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest


@dataclass(frozen=True)
class Relation:
    schema: str
    identifier: str


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    # importing the plugin package outside dbt must not point this process at a lakehouse
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    from dbt_gridunion import view_registry

    return view_registry


V = Relation("metering_silver", "slv_readings")
W = Relation("metering_gold", "fct_readings")


def test_a_view_rebuilt_with_the_same_definition_is_not_appended(registry: ModuleType) -> None:
    registry.remember([("metering_silver", "slv_readings", "view", "select 1")], "inv-1")
    same = (V, "view", "select 1")
    new_definition = (V, "view", "select 2")
    new_view = (W, "view", "select 3")
    assert registry.changed([same], "inv-1") == []
    assert registry.changed([new_definition, new_view], "inv-1") == [new_definition, new_view]
    # what was appended is the newest record now
    assert registry.changed([new_definition, new_view], "inv-1") == []
    assert registry.changed([same], "inv-1") == [same]


def test_a_drop_and_re_creation_are_both_recorded(registry: ModuleType) -> None:
    # the newest record of a dropped relation is its tombstone, with no definition (agate
    # reads the empty string as null)
    registry.remember([("metering_silver", "slv_readings", "dropped", None)], "inv-1")
    assert registry.changed([(V, "dropped", "")], "inv-1") == []
    view = (V, "view", "select 1")
    assert registry.changed([view], "inv-1") == [view]
    tombstone = (V, "dropped", "")
    assert registry.changed([tombstone], "inv-1") == [tombstone]
    assert registry.changed([view], "inv-1") == [view]


def test_without_the_registry_read_every_record_is_appended(registry: ModuleType) -> None:
    # another invocation (run-operation, a command whose on-run-start did not read the
    # registry) knows nothing: every record is appended, as it comes
    registry.remember([("metering_silver", "slv_readings", "view", "select 1")], "inv-1")
    same = (V, "view", "select 1")
    assert registry.changed([same, same], "inv-2") == [same, same]
    # a new invocation's read replaces the earlier one
    registry.remember([], "inv-2")
    assert registry.changed([same], "inv-1") == [same]
    assert registry.changed([same], "inv-2") == [same]
    assert registry.changed([same], "inv-2") == []


def test_the_adapter_exposes_the_store_to_jinja(registry: ModuleType) -> None:
    from dbt.adapters.spark.impl import SparkAdapter
    from dbt_common.invocation import get_invocation_id

    registry.install_view_registry()
    registry.install_view_registry()  # idempotent
    assert {"gridunion_registry_remember", "gridunion_registry_changed"} <= (
        SparkAdapter._available_
    )
    adapter = object.__new__(SparkAdapter)  # the methods use no adapter state
    rows = [("metering_silver", "slv_readings", "view", "select 1")]
    assert adapter.gridunion_registry_remember(rows) == ""  # type: ignore[attr-defined]
    assert registry.changed([(V, "view", "select 1")], str(get_invocation_id())) == []
    assert adapter.gridunion_registry_changed([(V, "view", "select 2")]) == [  # type: ignore[attr-defined]
        (V, "view", "select 2")
    ]


# -- the macros (macros/system/view_registry.sql), rendered with stand-ins for dbt -----------


class MacroReturn(Exception):
    pass


def _return(value: object) -> str:
    raise MacroReturn(value)


def view_registry_macros(registry: ModuleType, which: str, newest: list[tuple[str, ...]],
                            statements: list[str]) -> object:
    """The registry macros as plain Jinja, with the adapter methods of the dbt plugin."""
    import re

    import jinja2

    from tests.helpers import REPO

    source = (REPO / "macros" / "system" / "view_registry.sql").read_text()
    # every macro but the one that only returns a value (dbt's `return` ends a macro; here
    # it raises, so that one is a stand-in)
    macros = "\n".join(m for m in re.findall(r"\{% macro .*?\{% endmacro %\}", source, re.S)
                       if "gridunion_registry_relation()" not in m.split("%}")[0])

    class Adapter:
        def gridunion_registry_remember(self, rows: object) -> str:
            registry.remember(rows, "inv")
            return ""

        def gridunion_registry_changed(self, records: object) -> object:
            return registry.changed(records, "inv")

    class Flags:
        WHICH = which

    class Result:
        rows = newest

    class RegistryTable:
        schema = "platform_catalog"
        identifier = "relations"

        def __str__(self) -> str:
            return "platform_catalog.relations"

    def statement(name: str | None = None, auto_begin: bool = True,
                  caller: object = None) -> str:
        statements.append(" ".join(str(caller()).split()))  # type: ignore[operator]
        return ""

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update(
        adapter=Adapter(), flags=Flags(), execute=True, statement=statement,
        run_query=lambda sql: Result(), gridunion_on_sail=lambda: True,
        gridunion_lakehouse=lambda: "/lh", gridunion_registry_relation=RegistryTable,
    )
    env.globals["return"] = _return
    return env.from_string(macros).module


def test_the_registry_macros_append_only_changed_records(registry: ModuleType) -> None:
    statements: list[str] = []
    module = view_registry_macros(
        registry, "build", [("metering_silver", "slv_readings", "view", "select 1")], statements)
    with pytest.raises(MacroReturn):
        module.gridunion_ensure_registry()  # type: ignore[attr-defined]
    assert len(statements) == 2  # the schema and the table; the newest rows were read
    module.gridunion_record_relation(V, "view", "select 1")  # type: ignore[attr-defined]
    assert len(statements) == 2  # the same view again: nothing appended
    module.gridunion_record_relations(  # type: ignore[attr-defined]
        [(V, "view", "select 1"), (W, "view", "select 2")])
    assert len(statements) == 3
    assert "'fct_readings' as relation_name" in statements[-1]
    assert "slv_readings" not in statements[-1]
    module.gridunion_record_relation(V, "dropped")  # type: ignore[attr-defined]
    assert "'slv_readings' as relation_name, 'dropped'" in statements[-1]


def test_outside_build_run_retry_the_macros_append_every_record(registry: ModuleType) -> None:
    statements: list[str] = []
    module = view_registry_macros(
        registry, "run-operation", [("metering_silver", "slv_readings", "view", "select 1")],
        statements)
    registry.remember([], "other-invocation")  # nothing known for this invocation
    with pytest.raises(MacroReturn):
        module.gridunion_ensure_registry()  # type: ignore[attr-defined]
    module.gridunion_record_relation(V, "view", "select 1")  # type: ignore[attr-defined]
    assert len(statements) == 3 and "'slv_readings' as relation_name" in statements[-1]
