"""platform_tools.artifacts: loading real and synthetic artifacts, tolerance, errors, cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from platform_tools.artifacts import (
    Need,
    Ownership,
    load_catalog,
    load_manifest,
    load_run_results,
    load_sources,
    load_target,
)
from platform_tools.artifacts import cache as artifact_cache
from platform_tools.artifacts.graph import cycle_path, reachable, strongly_connected
from platform_tools.errors import ArtifactError
from platform_tools.exit_codes import ExitCode
from tests.support.builder import ManifestBuilder, write_json
from tests.support.scenarios import gridunion

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"


def test_real_build_artifacts_load() -> None:
    target = load_target(FIXTURES / "mini_build")
    manifest, run_results = target.manifest, target.run_results
    assert run_results is not None
    assert manifest.metadata.project_name == "mini"
    assert manifest.invocation_id == run_results.invocation_id
    assert run_results.command == "build" and not run_results.has_errors
    model = manifest.nodes["model.mini.contracted_readings"]
    assert model.contract_enforced and model.domain == "fixture" and model.layer == "silver"
    assert [c.name for c in model.columns] == ["reading_id", "meter_id", "kwh"]
    assert model.columns[0].constraints == ("not_null",)
    test = manifest.nodes["test.mini.unique_contracted_readings_reading_id.336e3c5ab2"]
    assert test.test_name == "unique" and test.attached_node == model.unique_id
    seed = next(r for r in run_results.results if r.unique_id == "seed.mini.tariffs")
    assert seed.rows_affected == 3 and seed.is_ok


def test_real_failed_run_loads() -> None:
    run_results = load_run_results(FIXTURES / "mini_failed" / "run_results.json")
    assert run_results.has_errors
    statuses = {r.unique_id: r.status for r in run_results.results}
    assert statuses["model.mini.contracted_readings"] == "error"
    assert statuses["test.mini.unique_contracted_readings_reading_id.336e3c5ab2"] == "skipped"


def test_real_rich_manifest_groups_exposures_versions_unit_tests_disabled() -> None:
    manifest = load_manifest(FIXTURES / "rich" / "manifest.json")
    assert manifest.groups["platform"].owner_email == "platform@gridunion.eu"
    v1 = manifest.nodes["model.mini.meter_readings.v1"]
    assert (v1.version, v1.latest_version, v1.label) == ("1", "2", "meter_readings.v1")
    assert v1.tier == 1 and v1.sla_freshness_hours == 24
    assert "model.mini.disabled_model" in manifest.disabled
    unit = manifest.nodes["unit_test.mini.invoices.test_invoices_passthrough"]
    assert unit.resource_type == "unit_test" and unit.attached_node == "model.mini.invoices"
    source = manifest.sources["source.mini.dutchgrid.readings"]
    assert source.domain == "metering" and source.has_freshness
    owner = Ownership(manifest)
    assert owner.exposure_refs["exposure.mini.lu_regulator_dashboard"].team == (
        "regulatory_reporting")
    assert owner.charged_team("unit_test.mini.invoices.test_invoices_passthrough") == "nordgrid"
    impact = owner.impact(["model.mini.meter_readings.v1"], "platform")
    assert impact.other_teams == ("nordgrid", "regulatory_reporting")


def test_catalog_and_sources_load() -> None:
    catalog = load_catalog(FIXTURES / "mini_docs" / "catalog.json")
    table = catalog.nodes["model.mini.contracted_readings"]
    assert [c.name for c in table.columns] == ["reading_id", "meter_id", "kwh"]
    assert load_sources(FIXTURES / "mini_docs" / "sources.json").results == ()


def test_any_project_is_tolerated(tmp_path: Path) -> None:
    """No meta, no groups, no exposures, semantic models, odd versions, null sections."""
    b = ManifestBuilder(project="acme")
    b.model("orders")
    b.model("orders_v", version=2, latest_version=2)
    b.unit_test("orders", "test_orders")
    b.semantic_models["semantic_model.acme.orders"] = {"name": "orders", "anything": [1]}
    data = b.build()
    data["exposures"] = None
    data["groups"] = None
    data["parent_map"] = None
    node = data["nodes"]["model.acme.orders"]
    del node["meta"], node["config"]["meta"], node["columns"], node["group"]
    data["nodes"]["model.acme.orders_v.v2"]["version"] = 2.0
    path = write_json(tmp_path / "manifest.json", data)
    manifest = load_manifest(path)
    assert manifest.semantic_model_count == 1
    assert manifest.nodes["model.acme.orders"].team is None
    assert manifest.nodes["model.acme.orders_v.v2"].version == "2"
    assert Ownership(manifest).children["model.acme.orders"] == (
        "unit_test.acme.orders.test_orders",)


def test_odd_values_inside_a_node_read_as_before(tmp_path: Path) -> None:
    """The typed decoder (artifacts/schema.py) is as lenient as the readers: a nested value
    that is not an object reads as an empty one, a leaf of another type through ``str``."""
    b = ManifestBuilder(project="acme")
    plain = b.model("plain")
    odd = b.model("odd")
    data = b.build()
    node = data["nodes"][odd]
    node.update(config="table", columns={"a": "x", "b": {"name": None, "data_type": 5}},
                depends_on=None, test_metadata=[1], tags="x", contract={}, version=3.0)
    data["nodes"][plain]["config"]["contract"] = {"enforced": True}
    data["nodes"][plain]["contract"] = {}
    manifest = load_manifest(write_json(tmp_path / "manifest.json", data))
    got = manifest.nodes[odd]
    assert (got.enabled, got.materialized, got.depends_on, got.test_name, got.tags) == (
        True, None, (), None, ())
    assert [(c.name, c.description, c.data_type) for c in got.columns] == [("b", "", "5")]
    assert got.version == "3" and not got.contract_enforced
    assert manifest.nodes[plain].contract_enforced  # an empty contract falls to config's


def test_a_node_without_unique_id_is_an_unexpected_structure(tmp_path: Path) -> None:
    b = ManifestBuilder(project="acme")
    uid = b.model("orders")
    data = b.build()
    del data["nodes"][uid]["unique_id"]
    path = write_json(tmp_path / "manifest.json", data)
    with pytest.raises(ArtifactError) as info:
        load_manifest(path)
    assert info.value.message == (
        f"{path}: unexpected structure at {uid!r} (KeyError: 'unique_id'); regenerate the "
        "manifest with dbt"
    )


def test_bad_utf8_in_a_field_the_tools_skip_is_still_not_valid_json(tmp_path: Path) -> None:
    b = ManifestBuilder(project="acme")
    b.model("orders")
    raw = json.dumps(b.build()).encode()
    path = tmp_path / "manifest.json"
    path.write_bytes(raw.replace(b'"nodes": {', b'"zz": "\xff", "nodes": {', 1))
    with pytest.raises(ArtifactError, match="is not valid JSON") as info:
        load_manifest(path)
    assert str(path) in info.value.message and "\n" not in info.value.message


# --------------------------------------------------------------------------------------
# errors: each an ArtifactError naming the file
# --------------------------------------------------------------------------------------
def _good(tmp_path: Path) -> Path:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / "mini_build", target)
    return target


ERROR_CASES = {
    "missing": (None, "not found"),
    "empty": (b"", "is empty"),
    "blank": (b"  \n", "is empty"),
    "truncated": (None, "not valid JSON"),
    "non-json": (b"<html>nope</html>", "not valid JSON"),
    "not-an-artifact": (b"[1, 2]", "no 'metadata'"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
@pytest.mark.parametrize("name", ["manifest.json", "run_results.json"])
def test_broken_artifacts_raise_artifact_error(tmp_path: Path, name: str, case: str) -> None:
    target = _good(tmp_path)
    path = target / name
    content, expected = ERROR_CASES[case]
    if case == "missing":
        path.unlink()
    elif case == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    else:
        path.write_bytes(content or b"")
    with pytest.raises(ArtifactError) as info:
        load_target(target, run_results=Need.REQUIRED)
    assert str(path) in info.value.message and expected in info.value.message
    assert "\n" not in info.value.message
    assert info.value.exit_code is ExitCode.ARTIFACT


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("manifest.json", "https://schemas.getdbt.com/dbt/manifest/v9.json"),
        ("manifest.json", "https://schemas.getdbt.com/dbt/manifest/v13.json"),
        ("run_results.json", "https://schemas.getdbt.com/dbt/run-results/v3.json"),
        ("run_results.json", "https://schemas.getdbt.com/dbt/manifest/v12.json"),
    ],
)
def test_unknown_schema_version(tmp_path: Path, name: str, schema: str) -> None:
    target = _good(tmp_path)
    data = json.loads((target / name).read_text())
    data["metadata"]["dbt_schema_version"] = schema
    (target / name).write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="unsupported dbt_schema_version") as info:
        load_target(target)
    assert str(target / name) in info.value.message


def test_mismatched_invocation(tmp_path: Path) -> None:
    target = _good(tmp_path)
    shutil.copy(FIXTURES / "mini_failed" / "run_results.json", target / "run_results.json")
    with pytest.raises(ArtifactError, match="differs from manifest.json") as info:
        load_target(target)
    assert str(target / "run_results.json") in info.value.message
    # without the run results the manifest alone is fine
    assert load_target(target, run_results=Need.SKIP).run_results is None


def test_missing_target_dir(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="target directory not found"):
        load_target(tmp_path / "nope")


# --------------------------------------------------------------------------------------
# parse cache
# --------------------------------------------------------------------------------------
def test_parse_cache_round_trip_and_invalidation(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact_cache, "MIN_SIZE", 0)
    path = write_json(tmp_path / "manifest.json", gridunion().build())
    first = load_manifest(path)
    entries = list((tmp_path / artifact_cache.CACHE_DIR).glob("manifest.json.*.json"))
    assert len(entries) == 1
    second = load_manifest(path)
    assert second.nodes == first.nodes and second.groups == first.groups
    assert second.exposures == first.exposures and second.sources == first.sources
    # a changed file is a miss, and the old entry is replaced
    data = json.loads(path.read_text())
    data["metadata"]["dbt_schema_version"] = "https://schemas.getdbt.com/dbt/manifest/v9.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError):
        load_manifest(path)
    # a corrupt entry is ignored
    path.write_text(json.dumps(gridunion().build()))
    load_manifest(path)
    for entry in (tmp_path / artifact_cache.CACHE_DIR).glob("*.json"):
        entry.write_text("garbage")
    assert load_manifest(path).nodes.keys() == first.nodes.keys()


def test_a_settled_artifact_is_found_in_the_cache_by_its_stat_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifact_cache, "MIN_SIZE", 0)
    path = tmp_path / "artifact.json"
    path.write_text('{"a": 1}')
    reads: list[int] = []

    def read() -> bytes:
        reads.append(1)
        return path.read_bytes()

    def load() -> dict[str, int]:
        return artifact_cache.cached_parse(path, read, json.loads, dict, dict)

    # just written: keyed by its bytes too (a second write in the same tick keeps the stat)
    assert load() == {"a": 1} and load() == {"a": 1} and len(reads) == 2
    monkeypatch.setattr(artifact_cache, "SETTLE_NS", 0)  # now settled
    reads.clear()
    assert load() == {"a": 1} and load() == {"a": 1} and len(reads) == 1  # a miss, then a hit
    path.write_text('{"a": 22}')  # another size, times and bytes: a miss
    assert load() == {"a": 22}


def test_run_results_cache_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact_cache, "MIN_SIZE", 0)
    target = _good(tmp_path)
    first = load_run_results(target / "run_results.json")
    second = load_run_results(target / "run_results.json")
    assert second.results == first.results and second.command == first.command
    monkeypatch.setenv(artifact_cache.NO_CACHE_ENV, "1")
    assert load_run_results(target / "run_results.json").results == first.results


# --------------------------------------------------------------------------------------
# graph helpers
# --------------------------------------------------------------------------------------
def test_graph_walks_are_iterative_on_deep_chains() -> None:
    depth = 20_000
    edges = {f"n{i}": [f"n{i + 1}"] for i in range(depth)}
    assert len(reachable(edges, ["n0"])) == depth
    assert strongly_connected(edges) == []
    edges[f"n{depth}"] = ["n0"]
    (component,) = strongly_connected(edges)
    assert len(component) == depth + 1
    assert cycle_path({"a": ["b"], "b": ["c", "a"], "c": ["a"]}, ["a", "b", "c"]) == [
        "a", "b", "a"]
