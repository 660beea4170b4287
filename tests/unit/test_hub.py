"""The hub's pure parts: what counts as a change, the lock, the status counters, its CLI errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from platform_tools.cli import main
from platform_tools.errors import UsageError
from platform_tools.hub.dbt_session import BuildOutcome, DbtSettings, count_statuses
from platform_tools.hub.service import BatchRecord, Hub, HubSettings, hub_lock
from platform_tools.hub.signatures import landing_signature, project_fingerprint


def _write(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_landing_signature_sees_what_staging_reads_and_nothing_else(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    assert landing_signature(landing) == ()
    day = landing / "nordgrid" / "readings" / "ingest_date=2024-10-26"
    _write(day / "readings.csv", "a,b\n")
    before = landing_signature(landing)
    assert [entry[0] for entry in before] == [
        "nordgrid/readings/ingest_date=2024-10-26/readings.csv"
    ]
    # files being written under a temporary name, and the generator's truth, are not landed
    _write(day / ".readings_2.csv.part", "partial")
    _write(landing / "_truth" / "2024-10-26.json", "{}")
    assert landing_signature(landing) == before
    # a landed file that grows, or is re-landed with a new mtime, is a change
    _write(day / "readings.csv", "a,b\n1,2\n")
    grown = landing_signature(landing)
    assert grown != before
    stat = (day / "readings.csv").stat()
    os.utime(day / "readings.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert landing_signature(landing) != grown


def test_project_fingerprint_follows_the_files_dbt_parses(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(project / "dbt_project.yml", "name: p\nmodel-paths: ['dbt_models']\n")
    model = _write(project / "dbt_models" / "a.sql", "select 1")
    _write(project / "profiles.yml", "p: {}")
    first = project_fingerprint(project, project)
    # what dbt does not read leaves the manifest valid
    _write(project / "target" / "manifest.json", "{}")
    _write(project / "models" / "ignored.sql", "select 2")  # not a model path of this project
    _write(project / "logs" / "dbt.log", "...")
    assert project_fingerprint(project, project) == first
    model.write_text("select 1 as one")
    edited = project_fingerprint(project, project)
    assert edited != first
    _write(project / "macros" / "m.sql", "{% macro m() %}{% endmacro %}")
    assert project_fingerprint(project, project) != edited
    added_macro = project_fingerprint(project, project)
    (project / "profiles.yml").write_text("p: {target: x}")
    assert project_fingerprint(project, project) != added_macro


def test_count_statuses_folds_dbt_statuses_like_its_done_line() -> None:
    results = SimpleNamespace(
        results=[
            SimpleNamespace(status=SimpleNamespace(value=value))
            for value in ("success", "pass", "warn", "fail", "error", "skipped", "no-op")
        ]
    )
    assert count_statuses(results) == {"PASS": 2, "WARN": 1, "ERROR": 2, "SKIP": 1, "NO-OP": 1}
    assert count_statuses(None) == {}
    line = BuildOutcome(False, {"PASS": 3, "ERROR": 1}, 2.04, "model x failed").summary()
    assert line == "FAILED (PASS=3 WARN=0 ERROR=1 SKIP=0 NO-OP=0) in 2.0 s: model x failed"


def test_batch_line_names_what_was_staged_parsed_and_built() -> None:
    record = BatchRecord(2, "landed", "t", files_staged=20, rows_staged=502192, stage_s=1.24)
    record.corrupt_files = ["dutchgrid/readings/ingest_date=2024-10-27/r.parquet"]
    record.build_s, record.total_s, record.success = 13.5, 14.9, True
    record.counts = {"PASS": 55}
    assert record.line("domain:metering") == (
        "hub: batch 2 (landed): staged 20 file(s) (502,192 rows, 1 corrupt) in 1.2 s; "
        "dbt build --select domain:metering: OK (PASS=55 WARN=0 ERROR=0 SKIP=0 NO-OP=0) "
        "in 13.5 s; batch 14.9 s"
    )


def test_one_hub_per_lakehouse(tmp_path: Path) -> None:
    with hub_lock(tmp_path) as folder:
        assert (folder / "hub.lock").read_text() == str(os.getpid())
        refused = pytest.raises(UsageError, match=r"another hub \(pid \d+\) already serves")
        with refused, hub_lock(tmp_path):
            pass
    with hub_lock(tmp_path):  # released when the first hub stopped
        pass


def test_settling_waits_until_the_landing_zone_holds_still(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    settings = HubSettings(
        lakehouse=tmp_path,
        landing=landing,
        staging=tmp_path / "staging",
        select="domain:metering",
        dbt=DbtSettings(tmp_path, tmp_path, tmp_path / "target", tmp_path / "logs"),
        settle_s=0.2,
    )
    hub = Hub(settings, emit=lambda line: None)
    day = landing / "electra" / "readings" / "ingest_date=2024-10-27"
    _write(day / "a.jsonl")
    seen = landing_signature(landing)

    def land_second_file() -> None:
        _write(day / "b.jsonl")

    timer = threading.Timer(0.1, land_second_file)
    timer.start()
    settled = hub._settled(seen, threading.Event())
    timer.join()
    assert [entry[0].rsplit("/", 1)[1] for entry in settled] == ["a.jsonl", "b.jsonl"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--interval", "0"], "outside 0.1-3600 seconds"),
        (["--settle", "soon"], "is not a number of seconds"),
        (["--threads", "0"], "is not a thread count"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_directory_without_a_project_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", "--once", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("platform-tools: error: --project-dir") and "dbt_project.yml" in err
    assert "\n" not in err


def test_a_lakehouse_without_a_landing_zone_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    assert main(["hub", "--once", "--project-dir", str(tmp_path)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before serving anything
    assert captured.err.startswith("platform-tools: error: landing directory ")
    assert "GRIDUNION_LAKEHOUSE" in captured.err and "\n" not in captured.err.strip()
