"""Write-audit-publish rules: which models are published by a view, what a build publishes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dbt_gridunion import wap as plugin
from platform_tools import wap


def model(name: str, access: str = "public", materialized: str = "table") -> dict[str, Any]:
    return {
        "unique_id": f"model.p.{name}",
        "name": name,
        "resource_type": "model",
        "access": access,
        "database": None,
        "schema": "s_gold",
        "alias": name,
        "config": {"materialized": materialized, "file_format": "delta"},
        "depends_on": {"nodes": []},
    }


def data_test(name: str, *parents: str) -> dict[str, Any]:
    return {
        "unique_id": f"test.p.{name}",
        "name": name,
        "resource_type": "test",
        "config": {},
        "depends_on": {"nodes": [f"model.p.{p}" for p in parents]},
    }


def result(raw: dict[str, Any], status: str) -> Any:
    node = SimpleNamespace(
        unique_id=raw["unique_id"],
        name=raw["name"],
        resource_type=raw["resource_type"],
        access=raw.get("access"),
        config=SimpleNamespace(materialized=raw["config"].get("materialized"), get=lambda *a: None),
        depends_on=SimpleNamespace(nodes=raw["depends_on"]["nodes"]),
    )
    return SimpleNamespace(node=node, status=status)


@pytest.fixture
def graph() -> dict[str, Any]:
    nodes = [
        model("fct_a"),
        model("fct_b", materialized="incremental"),
        model("slv_c", access="private"),
        data_test("unique_a", "fct_a"),
        data_test("not_null_a", "fct_a"),
        data_test("unique_b", "fct_b"),
        data_test("rel_b_a", "fct_b", "fct_a"),
    ]
    return {"nodes": {n["unique_id"]: n for n in nodes}}


def decisions(graph: dict[str, Any], statuses: dict[str, str]) -> dict[str, tuple[str, str]]:
    results = [result(graph["nodes"][uid], status) for uid, status in statuses.items()]
    return {d["name"]: (d["action"], d["reason"]) for d in plugin.plan(results, graph)}


def test_public_table_and_incremental_models_are_published_by_a_view() -> None:
    assert wap.is_published_by_view("model", "public", "table")
    assert wap.is_published_by_view("model", "public", "incremental")
    assert not wap.is_published_by_view("model", "public", "view")
    assert not wap.is_published_by_view("model", "protected", "table")
    assert not wap.is_published_by_view("seed", "public", "table")
    assert not wap.is_published_by_view("model", "public", "table", "parquet")
    assert wap.candidate_identifier("fct_a") == "fct_a__candidate"


def test_a_build_whose_tests_pass_publishes_and_a_failing_test_holds(graph: Any) -> None:
    statuses = {
        "model.p.fct_a": "success",
        "model.p.fct_b": "success",
        "model.p.slv_c": "success",
        "test.p.unique_a": "pass",
        "test.p.not_null_a": "warn",
        "test.p.unique_b": "fail",
        "test.p.rel_b_a": "pass",
    }
    found = decisions(graph, statuses)
    assert found == {
        "fct_a": ("publish", ""),
        "fct_b": ("hold", "failing tests unique_b"),
    }


def test_a_multi_parent_test_failing_holds_both_models(graph: Any) -> None:
    found = decisions(
        graph,
        {"model.p.fct_a": "success", "test.p.unique_a": "pass", "test.p.not_null_a": "pass",
         "test.p.rel_b_a": "fail"},
    )  # fmt: skip
    assert found["fct_a"] == ("hold", "failing tests rel_b_a")
    assert found["fct_b"] == ("hold", "failing tests rel_b_a")


def test_dbt_run_publishes_nothing_and_a_partial_dbt_test_holds(graph: Any) -> None:
    assert decisions(graph, {"model.p.fct_a": "success"})["fct_a"][0] == "unaudited"
    partial = decisions(graph, {"test.p.unique_a": "pass"})
    assert partial["fct_a"] == ("hold", "tests not run in this invocation: not_null_a")
    full = decisions(graph, {"test.p.unique_a": "pass", "test.p.not_null_a": "pass"})
    assert full["fct_a"] == ("publish", "")


def test_a_failed_or_skipped_build_holds(graph: Any) -> None:
    found = decisions(graph, {"model.p.fct_a": "error", "test.p.unique_a": "skipped"})
    assert found["fct_a"] == ("hold", "failing tests unique_a")
    assert decisions(graph, {"model.p.fct_a": "skipped"})["fct_a"] == (
        "hold",
        "its build ended skipped",
    )


def test_delta_version_is_the_newest_commit_file(tmp_path: Path) -> None:
    assert wap.delta_version(tmp_path / "missing") is None
    log = tmp_path / "t" / "_delta_log"
    log.mkdir(parents=True)
    for name in ("00000000000000000000.json", "00000000000000000011.json",
                 "00000000000000000010.checkpoint.parquet", "_last_checkpoint"):  # fmt: skip
        (log / name).write_text("{}")
    assert wap.delta_version(tmp_path / "t") == 11


def test_the_newest_publication_is_what_readers_get(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    from deltalake import write_deltalake

    at = dt.datetime(2024, 10, 27, tzinfo=dt.UTC)
    rows = pa.table(
        {
            "relation_schema": ["g", "g", "g"],
            "relation_name": ["fct_a", "fct_a", "fct_b"],
            "candidate_name": ["fct_a__candidate", "fct_a__candidate", "fct_b__candidate"],
            "version": pa.array([3, 5, 1], pa.int64()),
            "published_at": [at, at + dt.timedelta(seconds=1), at],
            "invocation_id": ["i1", "i2", "i1"],
        }
    )
    write_deltalake(str(tmp_path / "platform_catalog" / "publications"), rows)
    assert wap.published_table(tmp_path, "g", "fct_a") == (tmp_path / "g" / "fct_a__candidate", 5)
    assert wap.published_table(tmp_path, "g", "fct_c") is None


def test_platform_tools_find_a_public_models_table_under_its_candidate_name() -> None:
    from platform_tools.artifacts.manifest import Node
    from platform_tools.cost.storage import table_path

    public = Node.from_node(model("fct_a"))
    private = Node.from_node(model("slv_c", access="private"))
    assert public.physical_alias == "fct_a__candidate"
    assert private.physical_alias == "slv_c"
    assert table_path(Path("/w"), public) == Path("/w/s_gold/fct_a__candidate")


def test_a_generic_test_reads_the_candidate_of_its_model_and_others_only_when_built() -> None:
    from types import SimpleNamespace

    from dbt import selected_resources

    from dbt_gridunion.wap import reads_candidate, remember_published

    tested = SimpleNamespace(unique_id="model.p.fct_a", schema="gold", alias="fct_a")
    other = SimpleNamespace(unique_id="model.p.dim_b", schema="gold", alias="dim_b")
    never = SimpleNamespace(unique_id="model.p.dim_c", schema="gold", alias="dim_c")
    remember_published([("gold", "fct_a", 3), ("gold", "dim_b", 5)])
    generic = SimpleNamespace(resource_type="test", attached_node=tested.unique_id)
    singular = SimpleNamespace(resource_type="test", attached_node=None)
    downstream = SimpleNamespace(resource_type="model")
    saved = selected_resources.SELECTED_RESOURCES
    try:
        selected_resources.set_selected_resources({tested.unique_id})
        assert reads_candidate(generic, tested, "test")
        assert not reads_candidate(generic, other, "build")  # not built here: the view
        assert not reads_candidate(generic, other, "test")
        assert reads_candidate(generic, never, "build")  # never published: its only copy
        assert reads_candidate(singular, other, "test")
        assert reads_candidate(downstream, tested, "build")
        assert not reads_candidate(downstream, tested, "show")
        selected_resources.set_selected_resources({tested.unique_id, other.unique_id})
        assert reads_candidate(generic, other, "build")  # built in this invocation
    finally:
        selected_resources.set_selected_resources(saved)


def test_a_retry_publishes_what_the_lost_build_audited_and_hooks_are_ignored(graph: Any) -> None:
    hook = SimpleNamespace(
        node=SimpleNamespace(
            unique_id="operation.p.hook", name="hook", resource_type="operation", access=None,
            config=SimpleNamespace(materialized=None, get=lambda *a: None),
            depends_on=SimpleNamespace(macros=["macro.p.m"]),  # a hook depends on macros only
        ),
        status="success",
    )  # fmt: skip
    nodes = graph["nodes"]
    lost_build = {  # fct_a built and audited, then the engine died before fct_b was written
        "model.p.fct_a": "success", "test.p.unique_a": "pass", "test.p.not_null_a": "pass",
        "model.p.fct_b": "error", "test.p.unique_b": "skipped", "test.p.rel_b_a": "skipped",
    }  # fmt: skip
    retry = [hook] + [
        result(nodes[uid], status)
        for uid, status in {
            "model.p.fct_b": "success", "test.p.unique_b": "pass", "test.p.rel_b_a": "pass",
        }.items()
    ]  # fmt: skip
    assert {d["name"] for d in plugin.plan(retry, graph) if d["action"] == "publish"} == {"fct_b"}
    with plugin._lock:
        plugin._retried[plugin._invocation()] = lost_build
    try:
        published = {d["name"] for d in plugin.plan(retry, graph) if d["action"] == "publish"}
        assert published == {"fct_a", "fct_b"}
    finally:
        with plugin._lock:
            plugin._retried.clear()
