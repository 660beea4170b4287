"""Quality gates over the real project's manifest (`dbt parse`, no engine needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, assert_ok, dbt, engine_env, free_port, platform_tools

GENERIC_TESTS = {
    "row_count_in_range",
    "recency",
    "accepted_range",
    "expression_is_true",
    "reconciles_with",
    "unique_combination_of_columns",
}


@pytest.fixture(scope="module")
def parsed_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("parse")
    env = engine_env(work / "lakehouse", free_port())
    result = dbt(
        REPO, env, "parse", "--target-path", str(work / "target"), "--log-path", str(work / "logs")
    )
    assert_ok(result)
    return work / "target"


@pytest.fixture(scope="module")
def manifest(parsed_target: Path) -> dict[str, Any]:
    return json.loads((parsed_target / "manifest.json").read_text())


def test_cross_team_dependency_checks_pass_on_the_project(parsed_target: Path) -> None:
    """Every cross-domain read is declared, public, layered right and cycle-free."""
    result = platform_tools(
        engine_env(parsed_target.parent / "lakehouse", free_port()),
        "deps",
        "--target-dir",
        str(parsed_target),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "passed: 0 error(s)" in result.stdout


def expected_severity(tier: int) -> str:
    return "error" if tier == 1 else "warn"


def test_test_severity_follows_the_tier_of_the_tested_model(manifest: dict[str, Any]) -> None:
    nodes = manifest["nodes"]
    checked = 0
    for node in nodes.values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        parent = nodes.get(node["attached_node"])
        if parent is None or parent["resource_type"] != "model":
            continue
        tier = parent["config"]["meta"].get("tier")
        assert tier in (1, 2, 3), f"{parent['name']} has no meta.tier"
        assert node["config"]["severity"].lower() == expected_severity(tier), (
            f"{node['name']} on tier-{tier} model {parent['name']} has severity "
            f"{node['config']['severity']}"
        )
        checked += 1
    assert checked > 20


def test_every_quality_gate_macro_is_used(manifest: dict[str, Any]) -> None:
    used = {
        node["test_metadata"]["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("test_metadata")
    }
    assert used >= GENERIC_TESTS


def test_each_bronze_readings_model_is_reconciled(manifest: dict[str, Any]) -> None:
    reconciled = {
        node["attached_node"].split(".")[-1]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("test_metadata", {}).get("name") == "reconciles_with"
    }
    assert reconciled == {
        f"brz_{s}__readings" for s in ("nordgrid", "electra", "dutchgrid", "luxpower")
    }


def test_landing_sources_declare_format_owner_and_freshness(manifest: dict[str, Any]) -> None:
    sources = [s for s in manifest["sources"].values() if s["source_name"] == "landing"]
    assert len(sources) == 21
    for source in sources:
        assert source["meta"]["landing"]["format"]
        assert source["source_meta"]["owner"] == "platform"
        if source["name"] != "staging_manifest":
            assert source["loaded_at_field"]
            assert source["freshness"]["error_after"]["count"]
            assert len(source["meta"]["landing"]["columns"]) >= 5
