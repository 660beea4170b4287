"""Issue 14 items 1-5 on a corpus of real-shaped artifacts (tests/unit/corpus.py): several dbt
versions, packages, exposures owned through groups or by a person, run results of commands
that run nothing, artifacts of different invocations, Windows paths."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from platform_tools.artifacts import Ownership, load_manifest, load_run_results, load_target
from platform_tools.artifacts._io import SUPPORTED_VERSIONS
from platform_tools.artifacts.runs import PIPELINE_COMMANDS, is_pipeline_run, target_run
from platform_tools.cli import main
from platform_tools.deps import checks
from platform_tools.deps.breaking import breaking_changes
from platform_tools.observe.history import load_history, record_run
from tests.support.builder import (
    ColumnSpec,
    ManifestBuilder,
    catalog_dict,
    sources_dict,
    write_json,
)
from tests.unit.corpus import (
    DBTS,
    LATEST,
    NON_RUN_COMMANDS,
    PACKAGE,
    PERSON,
    PERSON_EXPOSURE,
    Dbt,
    add_package,
    build_results,
    corpus_project,
    executed,
    manifest_for,
    non_run_results,
    reparsed,
    write_target,
)

READERS = ("observe", "cost", "report", "products")  # the commands that read runs


pytestmark = pytest.mark.usefixtures("isolated")  # tests/unit/conftest.py


def _argv(command: str, target: Path, tmp_path: Path, *extra: str) -> list[str]:
    argv = [*command.split(), "--target-dir", str(target), *extra]
    if command in ("report", "products"):
        argv += ["--out", str(tmp_path / f"out-{command}")]
    if command in ("observe", "cost", "deps"):
        argv += ["--format", "json"]
    if command == "observe":
        argv += ["--fail-on", "never"]  # freshness is judged against today's clock
    return argv


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _record(capsys: pytest.CaptureFixture[str], target: Path) -> None:
    code, out, err = _run(capsys, ["observe", "record", "--target-dir", str(target)])
    assert code == 0 and out.startswith("recorded run"), err


def _observe(capsys: pytest.CaptureFixture[str], target: Path,
             tmp_path: Path) -> tuple[dict[str, Any], str]:
    code, out, err = _run(capsys, _argv("observe", target, tmp_path))
    assert code == 0, err
    return json.loads(out), err


def _cost_seconds(capsys: pytest.CaptureFixture[str], target: Path,
                  tmp_path: Path) -> tuple[float, str]:
    code, out, err = _run(capsys, _argv("cost", target, tmp_path))
    assert code == 0, err
    return sum(t["compute_seconds"] for t in json.loads(out)["teams"]), err


# --------------------------------------------------------------------------------------
# 5. artifacts of every supported dbt
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dbt", DBTS, ids=str)
def test_every_supported_dbt_loads_and_gives_the_same_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dbt: Dbt
) -> None:
    b = corpus_project()
    reference = write_target(tmp_path / "latest", manifest_for(b.build(), LATEST),
                             build_results(b, LATEST))
    target = write_target(tmp_path / str(dbt), manifest_for(b.build(), dbt),
                          build_results(b, dbt))
    loaded = load_target(target)
    assert loaded.manifest.metadata.dbt_version == dbt.version
    assert loaded.run_results is not None
    assert len(loaded.run_results.results) == len(executed(b))
    assert loaded.manifest.nodes.keys() == load_manifest(reference / "manifest.json").nodes.keys()
    for command in ("deps", "observe", "cost"):
        theirs = _run(capsys, _argv(command, target, tmp_path))
        ours = _run(capsys, _argv(command, reference, tmp_path))
        assert theirs[0] == ours[0], theirs[2]
        assert theirs[2] == "" and ours[2] == ""
        if command == "deps":
            assert json.loads(theirs[1])["findings"] == json.loads(ours[1])["findings"]
        if command == "cost":
            assert json.loads(theirs[1])["teams"] == json.loads(ours[1])["teams"]


@pytest.mark.parametrize(("kind", "file"), [("manifest", "manifest.json"),
                                            ("run-results", "run_results.json")])
def test_unsupported_versions_name_the_supported_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, file: str
) -> None:
    b = corpus_project()
    target = write_target(tmp_path / "t", b.build(), build_results(b))
    versions = SUPPORTED_VERSIONS[kind]
    older = f"v{int(versions[0][1:]) - 1}"
    data = json.loads((target / file).read_text())
    data["metadata"]["dbt_schema_version"] = f"https://schemas.getdbt.com/dbt/{kind}/{older}.json"
    write_json(target / file, data)
    code, _, err = _run(capsys, _argv("observe", target, tmp_path))
    assert code == 3 and err.count("\n") == 1
    assert f"{kind} {versions[0]}-{versions[-1]}" in err and "dbt 1." in err
    assert "1.8-1.11" not in err


def _nodes_null(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["nodes"] = None
    return "manifest.json"


def _nodes_list(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["nodes"] = list(m["nodes"].values())
    return "manifest.json"


def _node_string(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["nodes"][next(iter(m["nodes"]))] = "model"
    return "manifest.json"


def _sources_list(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["sources"] = []
    return "manifest.json"


def _exposures_string(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["exposures"] = "none"
    return "manifest.json"


def _disabled_not_lists(m: dict[str, Any], r: dict[str, Any]) -> str:
    m["disabled"] = {"model.x.y": {"unique_id": "model.x.y"}}
    return "manifest.json"


def _results_null(m: dict[str, Any], r: dict[str, Any]) -> str:
    r["results"] = None
    return "run_results.json"


def _result_string(m: dict[str, Any], r: dict[str, Any]) -> str:
    r["results"][0] = "success"
    return "run_results.json"


BROKEN = [_nodes_null, _nodes_list, _node_string, _sources_list, _exposures_string,
          _disabled_not_lists, _results_null, _result_string]


@pytest.mark.parametrize("command", ["deps", *READERS, "observe record"])
@pytest.mark.parametrize("breaks", BROKEN, ids=lambda f: f.__name__.strip("_"))
def test_structurally_wrong_artifacts_exit_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
    breaks: Callable[[dict[str, Any], dict[str, Any]], str],
) -> None:
    b = corpus_project()
    manifest, results = b.build(), build_results(b)
    broken = breaks(manifest, results)
    target = write_target(tmp_path / "target", manifest, results)
    if command == "deps" and broken == "run_results.json":
        pytest.skip("deps does not read run results")
    code, _, err = _run(capsys, _argv(command, target, tmp_path))
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("platform-tools: error: ")
    assert str(target / broken) in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["deps", *READERS, "observe record"])
def test_target_dir_given_a_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    b = corpus_project()
    target = write_target(tmp_path / "target", b.build(), build_results(b))
    code, _, err = _run(capsys, _argv(command, target / "manifest.json", tmp_path))
    assert code == 3 and err.count("\n") == 1
    assert "is a file, not a directory" in err and str(target) in err


def test_sarif_uris_use_slashes_for_a_manifest_written_on_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = corpus_project(windows=True)
    for uid in [u for u in b.nodes if u.startswith("model.gridunion.")]:
        b.nodes[uid]["config"]["meta"].pop("domain", None)  # GU021 on every root model
        b.nodes[uid]["meta"].pop("domain", None)
    target = write_target(tmp_path / "target", b.build())
    paths = {n["original_file_path"] for n in b.nodes.values()}
    assert all("\\" in p for p in paths if "/" not in p) and any("\\" in p for p in paths)
    code, out, _ = _run(capsys, ["deps", "--target-dir", str(target), "--format", "sarif"])
    assert code == 1
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in json.loads(out)["runs"][0]["results"]
            for loc in result["locations"]]
    assert uris and all("\\" not in uri and "%5C" not in uri for uri in uris)
    expected = {p.replace("\\", "/") for p in paths}
    assert set(uris) <= expected


# --------------------------------------------------------------------------------------
# 1. runs are runs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", NON_RUN_COMMANDS)
def test_a_command_that_runs_nothing_is_not_counted_by_any_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    b = corpus_project()
    target = write_target(tmp_path / "target", b.build(), non_run_results(b, which))
    health, err = _observe(capsys, target, tmp_path)
    assert health["runs"]["count"] == 0 and health["runs"]["success_rate"] is None
    assert all(t["pass"] == t["fail"] == 0 for t in health["tests_by_team"])
    assert err.count("\n") == 1 and "runs nothing" in err and str(target) in err
    # cost has nothing to charge: one line naming the file, not compile seconds
    code, _, err = _run(capsys, _argv("cost", target, tmp_path))
    assert code == 3 and err.count("\n") == 1 and "runs nothing" in err
    for command in ("report", "products"):
        code, _, err = _run(capsys, _argv(command, target, tmp_path))
        assert code == 0 and "runs nothing" in err
    # the products page reads as if there were no run results at all
    bare = write_target(tmp_path / "bare", b.build())
    pages = []
    for folder in (target, bare):
        code, _, _ = _run(capsys, ["products", "--target-dir", str(folder), "--out",
                                   str(tmp_path / f"cat-{folder.name}"), "--now",
                                   "2026-01-05T12:00:00Z"])
        pages.append((tmp_path / f"cat-{folder.name}" / "products.md").read_text())
    assert code == 0 and pages[0] == pages[1]
    report = json.loads((tmp_path / "out-report" / "report.json").read_text())
    assert report["observe"]["runs"]["count"] == 0
    assert report["cost"] is None and "no run of the pipeline" in report["cost_error"]
    assert record_run(target, tmp_path / "lh" / "_history").status == "skipped"


@pytest.mark.parametrize("which", NON_RUN_COMMANDS)
def test_after_a_recorded_build_a_non_run_leaves_the_builds_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    b = corpus_project()
    test_id = next(u for u in b.nodes if u.startswith("test."))
    target = write_target(tmp_path / "target", b.build(), build_results(b, failing=[test_id]))
    _record(capsys, target)
    recorded, _ = _observe(capsys, target, tmp_path)
    seconds, _ = _cost_seconds(capsys, target, tmp_path)
    later = reparsed(b)  # docs generate & co write both files with their own invocation
    write_target(target, later.build(), non_run_results(later, which, seconds=60.0))
    health, err = _observe(capsys, target, tmp_path)
    assert health["runs"] == recorded["runs"]
    assert health["tests_by_team"] == recorded["tests_by_team"]
    assert err.count("\n") == 1 and "1 recorded run" in err
    assert _cost_seconds(capsys, target, tmp_path)[0] == seconds


def test_the_run_rule_is_the_one_observe_record_uses(tmp_path: Path) -> None:
    b = corpus_project()
    for which in (*NON_RUN_COMMANDS, *sorted(PIPELINE_COMMANDS)):
        target = tmp_path / which
        data = non_run_results(b, which) if which in NON_RUN_COMMANDS else build_results(b)
        data["args"]["which"] = which
        write_target(target, b.build(), data)
        counted = target_run(target / "run_results.json", load_manifest(target /
                                                                         "manifest.json"), ())
        recorded = record_run(target, tmp_path / which / "history")
        assert (counted.run_results is not None) == (recorded.status == "recorded"), which
        assert is_pipeline_run(load_run_results(target / "run_results.json")) == (
            which in PIPELINE_COMMANDS)


# --------------------------------------------------------------------------------------
# 2. one rule for mismatched artifacts
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("later_results", [None, "list", "parse", "generate"])
def test_build_then_ls_every_command_uses_the_history_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], later_results: str | None
) -> None:
    b = corpus_project()
    target = write_target(tmp_path / "target", b.build(), build_results(b))
    _record(capsys, target)
    expected, _ = _observe(capsys, target, tmp_path)
    later = reparsed(b)  # `dbt ls` / `dbt parse` / `dbt docs generate` after the build
    write_json(target / "manifest.json", later.build())
    if later_results is not None:
        write_json(target / "run_results.json", non_run_results(later, later_results))
    for command in READERS:
        code, _, err = _run(capsys, _argv(command, target, tmp_path))
        assert code == 0, (command, err)
        assert err.count("\n") == 1 and err.startswith("platform-tools: note: "), command
        assert "1 recorded run" in err, command
    health, _ = _observe(capsys, target, tmp_path)
    assert health["runs"] == expected["runs"]
    code, _, err = _run(capsys, _argv("deps", target, tmp_path))
    assert (code, err) == (0, "")


def test_an_unrecorded_run_of_another_invocation_gives_way_to_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = corpus_project()
    earlier = write_target(tmp_path / "earlier", b.build(), build_results(b))
    _record(capsys, earlier)
    expected, _ = _observe(capsys, earlier, tmp_path)
    second = reparsed(b)  # a later build that was not recorded, then `dbt ls`
    target = write_target(tmp_path / "target", reparsed(b).build(),
                          build_results(second, started_at="2026-01-06T06:00:00.000000Z"))
    for command in READERS:
        code, _, err = _run(capsys, _argv(command, target, tmp_path))
        assert code == 0 and err.count("\n") == 1, (command, err)
        assert second.invocation_id in err and "1 recorded run" in err, command
    health, _ = _observe(capsys, target, tmp_path)
    assert health["runs"] == expected["runs"]


def test_mismatched_results_without_history_are_read_against_the_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    b = corpus_project()
    target = write_target(tmp_path / "target", reparsed(b).build(), build_results(b))
    for command in READERS:
        code, _, err = _run(capsys, _argv(command, target, tmp_path))
        assert code == 0, (command, err)
        assert err.count("\n") == 1 and "no recorded run history" in err, command
    health, _ = _observe(capsys, target, tmp_path)
    assert health["runs"]["count"] == 1 and health["runs"]["success_rate"] == 1.0
    assert load_history(tmp_path / "lh" / "_history").runs == ()


# --------------------------------------------------------------------------------------
# 3. ownership from what dbt says
# --------------------------------------------------------------------------------------
def test_exposure_teams_come_from_groups_never_from_a_persons_name(tmp_path: Path) -> None:
    b = corpus_project()
    manifest = load_manifest(write_json(tmp_path / "manifest.json", b.build()))
    owner = Ownership(manifest)
    teams = {uid.split(".")[-1]: ref.team for uid, ref in owner.exposure_refs.items()}
    assert teams["finance_board"] == b.exposures["exposure.gridunion.finance_board"][
        "config"]["group"]
    assert teams["lu_regulator_dashboard"] == b.exposures[
        "exposure.gridunion.lu_regulator_dashboard"]["meta"]["group"]
    person = owner.exposure_refs[f"exposure.gridunion.{PERSON_EXPOSURE}"]
    assert person.team is None and person.owner == PERSON
    assert person.describe().endswith(f"(unowned; owner {PERSON})")
    # meta.team counts as a team too
    b.exposures[f"exposure.gridunion.{PERSON_EXPOSURE}"]["meta"]["team"] = "platform"
    again = Ownership(load_manifest(write_json(tmp_path / "m2.json", b.build())))
    assert again.exposure_refs[f"exposure.gridunion.{PERSON_EXPOSURE}"].team == "platform"


def test_a_person_is_never_an_affected_team(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    b = corpus_project()
    base = write_target(tmp_path / "base", b.build())
    del b.nodes[b.model_id("fct_meter_readings")]["columns"]["kwh"]  # read by the ops sheet
    target = write_target(tmp_path / "target", b.build())
    code, out, _ = _run(capsys, ["deps", "--target-dir", str(target), "--baseline", str(base),
                                 "--format", "json"])
    report = json.loads(out)
    assert code == 1 and report["breaking_changes"]
    everywhere = [t for change in report["breaking_changes"] for t in change["affected_teams"]]
    everywhere += report["summary"]["affected_teams"]
    everywhere += [e["team"] for t in report["teams"] for e in t["exposures"]]
    assert PERSON not in everywhere
    hit = [e for c in report["breaking_changes"] for e in c["affected_exposures"]
           if e["name"] == PERSON_EXPOSURE]
    assert hit and hit[0]["team"] is None and hit[0]["owner"] == PERSON
    _, markdown, _ = _run(capsys, ["deps", "--target-dir", str(target), "--baseline", str(base),
                                   "--format", "markdown"])
    assert f"`{PERSON}`" not in markdown and f"({PERSON})" not in markdown


# --------------------------------------------------------------------------------------
# 4. breaking changes without false alarms
# --------------------------------------------------------------------------------------
def _break(tmp_path: Path, before: ManifestBuilder,
           change: Callable[[ManifestBuilder], None]) -> list[tuple[str, str, str]]:
    base = load_manifest(write_json(tmp_path / "base.json", before.build()))
    change(before)
    new = load_manifest(write_json(tmp_path / "new.json", before.build()))
    return [(c.code, c.kind, c.node_id) for c in breaking_changes(base, new)]


@pytest.mark.parametrize(("old_type", "new_type", "kind"), [
    (None, None, "column removed"),
    ("bigint", None, "column removed"),
    (None, "bigint", "column removed"),
    ("bigint", "string", "column removed"),
    ("bigint", "BIGINT", "column renamed"),
])
def test_a_dropped_column_is_renamed_only_when_both_types_are_known_and_equal(
    tmp_path: Path, old_type: str | None, new_type: str | None, kind: str
) -> None:
    b = corpus_project()
    uid = b.model("wide", team="platform", domain="metering", layer="silver",
                  columns=[ColumnSpec("id", old_type), ColumnSpec("legacy_code", old_type)])

    def swap(m: ManifestBuilder) -> None:
        columns = m.nodes[uid]["columns"]
        del columns["legacy_code"]
        columns["unrelated_metric"] = {**columns["id"], "name": "unrelated_metric",
                                       "data_type": new_type}

    assert _break(tmp_path, b, swap) == [("BC002", kind, uid)]


def test_removed_package_models_are_not_breaking_changes(tmp_path: Path) -> None:
    b = corpus_project()
    packaged = [u for u in b.nodes if u.startswith(f"model.{PACKAGE}.")]
    assert packaged

    def upgrade(m: ManifestBuilder) -> None:
        for uid in packaged:
            del m.nodes[uid]

    assert _break(tmp_path, b, upgrade) == []
    # the root project's own removal is still one
    root = b.model_id("fct_customer_360")
    assert _break(tmp_path, corpus_project(),
                  lambda m: m.nodes.pop(root)) == [("BC001", "model removed", root)]


def test_gu001_names_the_team_once_when_no_domains_are_set(tmp_path: Path) -> None:
    b = ManifestBuilder(project="nodomains")
    b.group("finance", "Finance", "fin@example.org")
    b.group("sales", "Sales", "sales@example.org")
    b.model("ledger", team="finance", access="protected")
    reader = b.model("pipeline", team="sales", access="protected", refs=["ledger"])
    manifest = load_manifest(write_json(tmp_path / "m.json", b.build()))
    hits = [f for f in checks.run(manifest).findings if f.code == "GU001"]
    assert [f.node_id for f in hits] == [reader]
    assert hits[0].message.count("finance") == 1, hits[0].message


@pytest.mark.parametrize("root_models", [0, 2])
def test_the_headline_says_how_many_root_models_were_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root_models: int
) -> None:
    b = ManifestBuilder(project="shell")
    add_package(b, "dbt_project_evaluator", models=4)
    for i in range(root_models):
        b.model(f"root_{i}")
    target = write_target(tmp_path / "target", b.build())
    code, out, _ = _run(capsys, ["deps", "--target-dir", str(target)])
    noun = "model" if root_models == 1 else "models"
    assert f"{root_models} {noun} of the root project checked" in out.splitlines()[0]
    _, out, _ = _run(capsys, ["deps", "--target-dir", str(target), "--format", "json"])
    assert json.loads(out)["summary"]["checked_models"] == root_models
    assert code in (0, 1)


@pytest.mark.parametrize(("file", "key", "command"), [
    ("catalog.json", "nodes", "deps"),
    ("sources.json", "results", "observe"),
])
def test_wrongly_typed_optional_artifacts_exit_3_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, key: str, command: str
) -> None:
    b = corpus_project()
    manifest = b.build()
    target = write_target(tmp_path / "target", manifest)
    data = (catalog_dict(b.invocation_id, {}, manifest) if file == "catalog.json"
            else sources_dict(b.invocation_id, {}))
    data[key] = None
    write_json(target / file, data)
    code, _, err = _run(capsys, _argv(command, target, tmp_path))
    assert code == 3 and err.count("\n") == 1
    assert str(target / file) in err and f"'{key}' is null" in err
