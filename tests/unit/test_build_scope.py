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


def _node(kind: str, parents: tuple[str, ...] = (), materialized: str = "table",
          meta: dict[str, str] | None = None) -> dict[str, object]:
    return {"resource_type": kind, "name": "", "depends_on": {"nodes": list(parents)},
            "config": {"materialized": materialized, "meta": meta or {}}}


NODES = {
    "model.p.a": {**_node("model"), "name": "a"},
    "model.p.v": {**_node("model", ("model.p.a",), "view"), "name": "v"},
    "model.p.f": {**_node("model", ("model.p.x",), "view", {"replaced_partitions_of": "a"}),
                  "name": "f"},
    "model.p.t": {**_node("model", ("model.p.a",)), "name": "t"},  # a table: rewritten itself
    "model.p.c": {**_node("model"), "name": "c"},
    "test.p.on_a": _node("test", ("model.p.a",)),
    "test.p.on_v": _node("test", ("model.p.v",)),
    "test.p.on_f": _node("test", ("model.p.f",)),
    "test.p.on_t": _node("test", ("model.p.t",)),
    "test.p.on_c": _node("test", ("model.p.c",)),
    "test.p.on_c_and_a": _node("test", ("model.p.c", "model.p.a")),
}


def test_the_tests_of_a_written_model_and_of_views_over_it_are_doubted(
    build_scope: ModuleType,
) -> None:
    assert build_scope.doubted_tests(NODES, ["model.p.a"]) == {
        "test.p.on_a", "test.p.on_v", "test.p.on_f", "test.p.on_c_and_a"}
    # a table built from `a` is written (and doubted) only when it is selected itself
    assert build_scope.doubted_tests(NODES, ["model.p.t"]) == {"test.p.on_t"}
    assert build_scope.doubted_tests(NODES, []) == set()


def test_a_pass_makes_a_test_clean_and_any_other_outcome_doubts_it(build_scope: ModuleType) -> None:
    clean = {"test.p.kept", "test.p.failed", "test.p.skipped"}
    outcomes = [("test.p.failed", "fail"), ("test.p.skipped", "skipped"),
                ("test.p.new", "pass"), ("test.p.warned", "warn")]
    assert build_scope.settle(clean, outcomes) == {"test.p.kept", "test.p.new"}


def test_an_invocation_scopes_the_tests_clean_at_its_start_and_stores_its_outcomes(
    build_scope: ModuleType, tmp_path: Path,
) -> None:
    lakehouse = tmp_path / "lh"
    path = build_scope.clean_tests_path(lakehouse)
    build_scope.write_clean_tests(path, ["test.p.on_a", "test.p.on_c"])

    build_scope.begin_scope(str(lakehouse), NODES, ["model.p.a", "test.p.on_a"], "build")
    assert build_scope.may_scope("test.p.on_a") and build_scope.may_scope("test.p.on_c")
    assert not build_scope.may_scope("test.p.on_v")
    # before anything is written, the tests of what this build writes are doubted on disk:
    # a build that dies half-way leaves them to read everything next time
    assert build_scope.read_clean_tests(path) == {"test.p.on_c"}

    class Result:
        def __init__(self, uid: str, status: str) -> None:
            self.node, self.status = type("Node", (), {"unique_id": uid})(), status

    build_scope.finish_scope(str(lakehouse), [Result("test.p.on_a", "pass"),
                                              Result("test.p.on_v", "fail"),
                                              Result("model.p.a", "success")])
    assert build_scope.read_clean_tests(path) == {"test.p.on_a", "test.p.on_c"}

    # a `dbt test` writes nothing: nothing is doubted at its start
    build_scope.begin_scope(str(lakehouse), NODES, ["test.p.on_a"], "test")
    assert build_scope.read_clean_tests(path) == {"test.p.on_a", "test.p.on_c"}


def test_a_missing_or_unreadable_record_scopes_nothing(
    build_scope: ModuleType, tmp_path: Path,
) -> None:
    path = build_scope.clean_tests_path(tmp_path / "lh")
    assert build_scope.read_clean_tests(path) == set()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert build_scope.read_clean_tests(path) == set()
    build_scope.begin_scope(str(tmp_path / "lh"), NODES, [], "build")
    assert not build_scope.may_scope("test.p.on_a")
