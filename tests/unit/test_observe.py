"""platform_tools.observe: run history (record_run) and the health report."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.sources import SourcesResults
from platform_tools.observe import health
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.formats import FORMATS, render
from platform_tools.observe.history import (
    RUN_FILE,
    SUMMARY_FILE,
    RunRecord,
    load_history,
    record_run,
    rows_written_between,
    run_document,
)
from tests.support.builder import (
    ManifestBuilder,
    ResultSpec,
    run_results_dict,
    sources_dict,
    write_json,
)
from tests.support.scenarios import gridunion

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _warehouse(tmp_path: Path) -> Path:
    """A warehouse holding the real Sail-written Delta table of the fixture project."""
    warehouse = tmp_path / "lh" / "warehouse"
    shutil.copytree(FIXTURES / "delta" / "readings_merged",
                    warehouse / "fixture_silver" / "readings_merged")
    return warehouse


# --------------------------------------------------------------------------------------
# recording
# --------------------------------------------------------------------------------------
def test_record_real_run_reads_rows_from_the_delta_log(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path)
    history_dir = tmp_path / "lh" / "_history"
    result = record_run(FIXTURES / "mini_build", history_dir)
    assert result.status == "recorded" and result.nodes == 17
    assert {p.name for p in result.path.iterdir()} == {RUN_FILE, SUMMARY_FILE}  # type: ignore[union-attr]
    (record,) = load_history(history_dir).runs
    rows = {n.unique_id: n.rows_written for n in record.nodes()}
    # Sail's CREATE TABLE commit of the first build wrote 3 rows (operationMetrics)
    assert rows["model.mini.readings_merged"] == 3
    assert rows["seed.mini.tariffs"] is None  # no table in this warehouse
    assert warehouse.is_dir()
    summary = record.summary()
    assert summary["model.mini.readings_merged"]["relation"] == ["fixture_silver",
                                                                  "readings_merged"]


def test_rows_written_window_and_merge_metrics() -> None:
    log = FIXTURES / "delta" / "readings_merged" / "_delta_log"
    commits = [json.loads(line) for name in sorted(log.glob("*.json"))
               for line in name.read_text().splitlines()]
    stamps = [c["commitInfo"]["timestamp"] for c in commits if "commitInfo" in c]
    # the second commit is a MERGE: inserted 3 + updated 2
    assert rows_written_between(log, stamps[1], stamps[1]) == 5
    assert rows_written_between(log, stamps[0], stamps[2]) == 3 + 5 + 5
    assert rows_written_between(log, stamps[2] + 1, stamps[2] + 10) == 0
    assert rows_written_between(log.parent / "missing", 0, 1) is None


def test_record_is_idempotent_and_never_rewrites(tmp_path: Path) -> None:
    history_dir = tmp_path / "_history"
    first = record_run(FIXTURES / "mini_build", history_dir)
    before = (first.path / RUN_FILE).read_bytes()  # type: ignore[operator]
    again = record_run(FIXTURES / "mini_build", history_dir)
    assert again.status == "already-recorded" and again.path == first.path
    assert (first.path / RUN_FILE).read_bytes() == before  # type: ignore[operator]
    assert len(list((history_dir / "runs").iterdir())) == 1


def test_failed_run_is_recorded(tmp_path: Path) -> None:
    result = record_run(FIXTURES / "mini_failed", tmp_path)
    assert result.status == "recorded"
    (record,) = load_history(tmp_path).runs
    assert record.failed and record.counts["error"] == 1
    failed = [n for n in record.nodes() if n.is_error]
    assert [n.unique_id for n in failed] == ["model.mini.contracted_readings"]
    assert failed[0].message and "Runtime Error" in failed[0].message


@pytest.mark.parametrize("problem", ["no-target", "mismatch", "garbage", "docs-generate",
                                     "no-manifest"])
def test_record_never_raises(tmp_path: Path, problem: str) -> None:
    target = tmp_path / "target"
    if problem != "no-target":
        shutil.copytree(FIXTURES / "mini_build", target)
    if problem == "mismatch":
        shutil.copy(FIXTURES / "mini_failed" / "run_results.json", target / "run_results.json")
    elif problem == "garbage":
        (target / "run_results.json").write_text("{not json")
    elif problem == "docs-generate":
        data = json.loads((target / "run_results.json").read_text())
        data["args"]["which"] = "generate"
        (target / "run_results.json").write_text(json.dumps(data))
    elif problem == "no-manifest":
        (target / "manifest.json").unlink()
    result = record_run(target, tmp_path / "_history")
    assert result.status == "skipped" and result.reason
    assert not (tmp_path / "_history" / "runs").exists() or not any(
        p for p in (tmp_path / "_history" / "runs").iterdir() if not p.name.startswith("."))


def test_record_reports_unexpected_failures_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "_history"
    blocker.write_text("a file where the history directory should be")
    result = record_run(FIXTURES / "mini_build", blocker)
    assert result.status == "failed" and result.reason


def test_history_skips_partial_and_corrupt_runs(tmp_path: Path) -> None:
    record_run(FIXTURES / "mini_build", tmp_path)
    runs = tmp_path / "runs"
    (runs / ".tmp-crashed-1-abcd").mkdir()
    (runs / "corrupt").mkdir()
    (runs / "corrupt" / RUN_FILE).write_text("{")
    history = load_history(tmp_path)
    assert len(history.runs) == 1
    assert len(history.problems) == 1 and "corrupt" in history.problems[0]


def test_run_document_round_trip() -> None:
    from platform_tools.artifacts.run_results import load_run_results

    run_results = load_run_results(FIXTURES / "mini_failed" / "run_results.json")
    manifest = Manifest.from_dict(json.loads(
        (FIXTURES / "mini_failed" / "manifest.json").read_text()), Path("m.json"))
    record = RunRecord.from_document(run_document(run_results, manifest, None), Path("."))
    nodes = list(record.nodes())
    assert [n.unique_id for n in nodes] == [r.unique_id for r in run_results.results]
    original = {r.unique_id: r for r in run_results.results}
    for node in nodes:
        expected = original[node.unique_id].completed_at
        if node.completed_at and expected:
            assert node.completed_at[:22] == expected[:22]


# --------------------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------------------
def _runs(builder: ManifestBuilder, specs: list[dict[str, ResultSpec]],
          rows: list[dict[str, int]] | None = None) -> list[RunRecord]:
    manifest = Manifest.from_dict(builder.build(), Path("manifest.json"))
    records = []
    for day, spec in enumerate(specs):
        raw = run_results_dict(f"inv-{day}", spec,
                               started_at=f"2026-01-0{day + 1}T06:00:00.000000Z")
        from platform_tools.artifacts.run_results import RunResults

        doc = run_document(RunResults.from_dict(raw, Path("rr.json")), manifest, None)
        if rows is not None:
            doc["nodes"]["rows_written"] = [rows[day].get(u) for u in doc["nodes"]["unique_id"]]
        records.append(RunRecord.from_document(doc, Path(f"run-{day}")))
    return records


def _ok_run(builder: ManifestBuilder, seconds: float = 1.0) -> dict[str, ResultSpec]:
    return {
        uid: ResultSpec("pass" if uid.startswith("test.") else "success", seconds)
        for uid, node in builder.nodes.items()
        if node["resource_type"] in ("model", "test")
    }


def test_health_of_a_clean_history() -> None:
    b = gridunion()
    runs = _runs(b, [_ok_run(b, 1.0), _ok_run(b, 2.0), _ok_run(b, 3.0)])
    report = health.run(Manifest.from_dict(b.build(), Path("m")), runs, ObserveConfig(),
                        now=datetime(2026, 1, 3, 12, 0, tzinfo=UTC))
    assert report.success_rate == 1.0 and report.worst == health.HEALTHY
    assert report.issues == ()
    slow = report.slowest[0]
    assert (slow.runs, slow.median, slow.p95, slow.last) == (3, 2.0, 3.0, 3.0)
    assert {t.team: t.window_pass_rate for t in report.tests}["nordgrid"] == 1.0
    assert all(f.status == "pass" for f in report.freshness)


def test_failure_lists_downstream_teams_and_exposures_with_priority() -> None:
    b = gridunion()
    failing = _ok_run(b)
    failing[b.model_id("fct_meter_readings")] = ResultSpec("error", 0.5, message="boom")
    for uid in list(failing):
        if b.model_id("fct_meter_readings") in b.nodes.get(uid, {}).get(
                "depends_on", {}).get("nodes", []):
            failing[uid] = ResultSpec("skipped", 0.0)
    runs = _runs(b, [_ok_run(b), failing])
    report = health.run(Manifest.from_dict(b.build(), Path("m")), runs, ObserveConfig(),
                        now=datetime(2026, 1, 2, 12, 0, tzinfo=UTC))
    assert report.success_rate == 0.5
    issue = next(i for i in report.issues if i.kind == "model_failed")
    assert issue.team == "platform" and issue.priority == "P0"
    assert "regulatory_reporting" in issue.affected_teams
    assert [e.label for e in issue.affected_exposures] == ["Luxembourg regulator dashboard"]
    statuses = {d.domain: d.status for d in report.domains}
    assert statuses["metering"] == health.CRITICAL and statuses["commercial"] == health.HEALTHY


def test_test_results_by_team_and_priorities() -> None:
    b = gridunion()
    run = _ok_run(b)
    fail = next(u for u in b.nodes if u.startswith("test.") and "fct_customer_360" in u)
    warn = next(u for u in b.nodes if u.startswith("test.") and "dim_customers" in u)
    run[fail] = ResultSpec("fail", 0.1)
    run[warn] = ResultSpec("warn", 0.1)
    report = health.run(Manifest.from_dict(b.build(), Path("m")), _runs(b, [run]),
                        ObserveConfig(), now=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    tests = {t.team: t for t in report.tests}
    assert (tests["commercial_analytics"].failed, tests["electra"].warned) == (1, 1)
    by_kind = {i.kind: i for i in report.issues}
    assert by_kind["test_failed"].priority == "P2"  # tier 3 product, error
    assert by_kind["test_warned"].priority == "P1"  # tier 2 product... consumed by tier 1
    statuses = {d.domain: d.status for d in report.domains}
    assert statuses["commercial"] == health.CRITICAL and statuses["customers"] == health.WARNING


@pytest.mark.parametrize(
    ("tier", "level", "expected"),
    [(1, "error", "P0"), (1, "warn", "P1"), (2, "error", "P1"), (2, "warn", "P2"),
     (3, "error", "P2"), (3, "warn", "P3"), (None, "error", "P2"), (None, "warn", "P3"),
     (7, "error", "P2")],
)
def test_priority_mapping(tier: int | None, level: str, expected: str) -> None:
    assert health.priority(tier, level) == expected


def test_model_freshness_against_sla() -> None:
    b = gridunion()
    runs = _runs(b, [_ok_run(b)])  # built 2026-01-01 ~06:00
    manifest = Manifest.from_dict(b.build(), Path("m"))
    fresh = health.run(manifest, runs, ObserveConfig(),
                       now=datetime(2026, 1, 1, 20, 0, tzinfo=UTC))
    assert {f.status for f in fresh.freshness} == {"pass"}
    stale = health.run(manifest, runs, ObserveConfig(),
                       now=datetime(2026, 1, 3, 20, 0, tzinfo=UTC))
    breaches = [i for i in stale.issues if i.kind == "sla_breach"]
    assert len(breaches) == len(stale.freshness) == 5
    lu = next(i for i in breaches if i.label == "rpt_lu_consumption")
    assert lu.priority == "P0" and "SLA 24 h" in lu.message
    never = health.run(manifest, [], ObserveConfig(), now=NOW)
    assert {f.status for f in never.freshness} == {"never"} and never.notes


def test_source_freshness_from_sources_json() -> None:
    b = gridunion()
    manifest = Manifest.from_dict(b.build(), Path("m"))
    sources = SourcesResults.from_dict(sources_dict("x", {
        "source.gridunion.dutchgrid.readings": ("error", 30.0),
        "source.gridunion.luxpower.readings": ("pass", 2.0),
    }), Path("sources.json"))
    report = health.run(manifest, _runs(b, [_ok_run(b)]), ObserveConfig(), sources=sources,
                        now=datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    issue = next(i for i in report.issues if i.kind == "source_stale")
    assert issue.team == "platform" and issue.level == "error" and issue.priority == "P0"
    assert "Luxembourg regulator dashboard" in [e.label for e in issue.affected_exposures]
    ages = {f.label: f.age_hours for f in report.freshness if f.kind == "source"}
    assert ages == {"dutchgrid.readings": 30.0, "luxpower.readings": 2.0}


def test_volume_anomalies_against_recent_average() -> None:
    b = gridunion()
    uid = b.model_id("fct_invoices")
    other = b.model_id("dim_customers")
    rows = [{uid: 1000, other: 50}, {uid: 1100, other: 50}, {uid: 900, other: 52},
            {uid: 200, other: 49}]
    runs = _runs(b, [_ok_run(b)] * 4, rows)
    report = health.run(Manifest.from_dict(b.build(), Path("m")), runs, ObserveConfig(),
                        now=datetime(2026, 1, 4, 12, 0, tzinfo=UTC))
    (anomaly,) = report.volume_anomalies
    assert anomaly.unique_id == uid and anomaly.rows == 200 and anomaly.baseline == 1000
    assert anomaly.change == pytest.approx(-0.8)
    assert any(i.kind == "volume_anomaly" and i.level == "warn" for i in report.issues)


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats(fmt: str) -> None:
    b = gridunion()
    failing = _ok_run(b)
    failing[b.model_id("fct_invoices")] = ResultSpec("error", 0.5, message="boom")
    report = health.run(Manifest.from_dict(b.build(), Path("m")),
                        _runs(b, [_ok_run(b), failing]), ObserveConfig(), now=NOW)
    text = render(report, fmt)
    if fmt == "json":
        data = json.loads(text)
        assert data["status"] == "CRITICAL" and data["runs"]["count"] == 2
        assert {d["domain"] for d in data["domains"]} >= {"billing", "metering"}
    elif fmt == "markdown":
        assert text.startswith("## 🔴") and "### Domains" in text and "| billing |" in text
    else:
        assert "CRITICAL" in text and "Slowest models" in text


def test_synthetic_history_end_to_end(tmp_path: Path) -> None:
    from tests.support.synthetic import SyntheticSpec, generate, write_history

    project = generate(SyntheticSpec(models=60, tests=150, runs=4, fail_rate=0.02))
    assert write_history(tmp_path, project) == 4
    assert write_history(tmp_path, project) == 0  # idempotent
    history = load_history(tmp_path)
    manifest = Manifest.from_dict(project.manifest, Path("m"))
    report = health.run(manifest, list(history.runs), ObserveConfig(), now=NOW)
    assert len(report.runs) == 4 and report.slowest
    assert {t.team for t in report.tests} >= {"platform", "nordgrid"}
    write_json(tmp_path / "unused.json", {})


def test_history_reads_only_the_runs_asked_for(tmp_path: Path) -> None:
    import os

    from tests.support.synthetic import SyntheticSpec, generate, write_history

    project = generate(SyntheticSpec(models=12, tests=10, runs=6))
    write_history(tmp_path, project)
    day = 86400.0
    by_start = sorted(load_history(tmp_path).runs, key=lambda r: r.started_at or "")
    for age, record in enumerate(reversed(by_start)):  # newest recorded most recently
        stamp = 1_800_000_000 - age * 3 * day
        os.utime(record.path / RUN_FILE, (stamp, stamp))
    assert [r.invocation_id for r in load_history(tmp_path, limit=2).runs] == [
        r.invocation_id for r in by_start[-2:]]
    assert len(load_history(tmp_path, within_days=4).runs) == 2  # ages 0 and 3 days (+1 day)
    assert len(load_history(tmp_path, limit=1, within_days=7).runs) == 3
    assert load_history(tmp_path, limit=0).runs == ()
    assert len(load_history(tmp_path).runs) == 6


def test_runs_with_one_node_list_share_it_however_many_runs_are_read() -> None:
    """Every run's status column differs; decoding them must not evict the shared node list
    (health, usage and chargeback take their one-layout paths by identity)."""
    from platform_tools.observe.history_columns import RunColumns

    runs = []
    for day in range(40):
        run = RunColumns({"unique_id": " ".join(["model.p.a", "test.p.t"]),
                          "status": f"success {'pass' if day % 3 else 'fail'}-{day}"})
        run.check("status")
        runs.append(run)
    assert len({id(run["unique_id"]) for run in runs}) == 1
    assert runs[5]["status"] == ["success", "pass-5"]
