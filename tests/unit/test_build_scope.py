"""dbt_gridunion.build_scope: the partitions replaced per relation and invocation."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def build_scope(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    # importing the plugin package outside dbt must not point this process at a lakehouse
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    from dbt_gridunion import build_scope

    return build_scope


def test_replaced_partitions_are_kept_per_invocation_and_relation(build_scope: ModuleType) -> None:
    build_scope.note_replaced("`metering_gold`.`fct_x`", "(day = 3)", invocation_id="inv-1")
    assert build_scope.replaced("metering_gold.fct_x", invocation_id="inv-1") == "(day = 3)"
    assert build_scope.replaced("METERING_GOLD.FCT_X", invocation_id="inv-1") == "(day = 3)"
    # another invocation in the same process, or another table: nothing known, test it all
    assert build_scope.replaced("metering_gold.fct_x", invocation_id="inv-2") is None
    assert build_scope.replaced("metering_gold.fct_y", invocation_id="inv-1") is None


def test_a_new_invocation_drops_the_notes_of_earlier_ones(build_scope: ModuleType) -> None:
    # a long-running process (the hub) runs many builds: only the current one's notes stay
    build_scope.note_replaced("s.a", "(day = 1)", invocation_id="inv-1")
    build_scope.note_replaced("s.b", "(day = 2)", invocation_id="inv-1")
    build_scope.note_replaced("s.a", "(day = 3)", invocation_id="inv-2")
    assert build_scope.replaced("s.a", invocation_id="inv-2") == "(day = 3)"
    assert build_scope.replaced("s.b", invocation_id="inv-1") is None
    assert build_scope.replaced("s.a", invocation_id="inv-1") is None


def test_the_adapter_exposes_the_store_to_jinja(build_scope: ModuleType) -> None:
    from dbt.adapters.spark.impl import SparkAdapter

    build_scope.install_build_scope()
    build_scope.install_build_scope()  # idempotent
    assert {
        "gridunion_note_replaced_partitions",
        "gridunion_replaced_partitions",
    } <= SparkAdapter._available_
    adapter = object.__new__(SparkAdapter)  # the methods use no adapter state
    adapter.gridunion_note_replaced_partitions("s.t", "false")  # type: ignore[attr-defined]
    assert adapter.gridunion_replaced_partitions("s.t") == "false"  # type: ignore[attr-defined]
