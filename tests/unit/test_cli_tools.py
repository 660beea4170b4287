"""The deps, cost, observe and report commands through ``platform_tools.cli.main``."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from platform_tools.cli import main
from tests.support.builder import write_json
from tests.support.scenarios import gridunion, incident_bronze_change
from tests.support.synthetic import SyntheticSpec, generate, write_target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"


pytestmark = pytest.mark.usefixtures("isolated")  # tests/unit/conftest.py


def _target(tmp_path: Path, name: str = "mini_build") -> Path:
    target = tmp_path / "target"
    shutil.copytree(FIXTURES / name, target)
    return target


def _gridunion_target(tmp_path: Path, name: str = "target") -> Path:
    target = tmp_path / name
    write_json(target / "manifest.json", gridunion().build())
    return target


# --------------------------------------------------------------------------------------
# artifact errors: exit 3, one line naming the file
# --------------------------------------------------------------------------------------
ERROR_CASES = [
    (command, problem)
    for command in ("deps", "cost", "observe", "report")
    for problem in ("missing", "empty", "truncated", "non-json", "wrong-version")
]  # run results of another invocation are not an error: tests/unit/test_artifact_corpus.py


@pytest.mark.parametrize(("command", "problem"), ERROR_CASES)
def test_artifact_errors_exit_3_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, problem: str
) -> None:
    target = _target(tmp_path)
    broken = target / ("run_results.json" if problem == "mismatch" else "manifest.json")
    if problem == "missing":
        broken.unlink()
    elif problem == "empty":
        broken.write_text("")
    elif problem == "truncated":
        broken.write_text(broken.read_text()[:500])
    elif problem == "non-json":
        broken.write_text("manifest: yes")
    elif problem == "wrong-version":
        broken.write_text(broken.read_text().replace("manifest/v12.json", "manifest/v9.json"))
    elif problem == "mismatch":
        shutil.copy(FIXTURES / "mini_failed" / "run_results.json", broken)
    argv = [command, "--target-dir", str(target)]
    if command == "report":
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("platform-tools: error: ")
    assert str(broken) in err


def test_record_mismatch_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    shutil.copy(FIXTURES / "mini_failed" / "run_results.json", target / "run_results.json")
    assert main(["observe", "record", "--target-dir", str(target)]) == 3
    assert "differs from manifest.json" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# deps
# --------------------------------------------------------------------------------------
def test_deps_clean_project_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _gridunion_target(tmp_path)
    assert main(["deps", "--target-dir", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("platform-tools deps passed") and "regulatory_reporting" in out


def test_deps_baseline_markdown_to_file(tmp_path: Path) -> None:
    baseline = _gridunion_target(tmp_path, "base")
    target = tmp_path / "target"
    builder = gridunion()
    incident_bronze_change(builder)
    write_json(target / "manifest.json", builder.build())
    output = tmp_path / "comment.md"
    code = main(["deps", "--target-dir", str(target), "--baseline", str(baseline),
                 "--new-only", "--format", "markdown", "--output", str(output)])
    assert code == 1
    text = output.read_text()
    assert "Luxembourg regulator dashboard (regulatory_reporting)" in text


@pytest.mark.parametrize("fmt", ["json", "junit", "sarif", "table", "markdown"])
def test_deps_formats_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   fmt: str) -> None:
    target = _target(tmp_path)
    assert main(["deps", "--target-dir", str(target), "--format", fmt]) == 1  # no groups
    out = capsys.readouterr().out
    if fmt in ("json", "sarif"):
        json.loads(out)
    elif fmt == "junit":
        ET.fromstring(out.split("\n", 1)[1])
    assert "contracted_readings" in out


def test_deps_team_filter_disable_and_list_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _target(tmp_path)
    assert main(["deps", "--target-dir", str(target), "--disable", "GU020"]) == 0
    capsys.readouterr()
    assert main(["deps", "--target-dir", str(target), "--team", "nordgrid",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []
    assert main(["deps", "--list-rules"]) == 0
    out = capsys.readouterr().out
    assert "GU001 cross-domain-non-public-ref [error]" in out and "Rationale" in out
    assert main(["deps", "--target-dir", str(target), "--disable", "GU999"]) == 2
    assert main(["deps", "--new-only", "--target-dir", str(target)]) == 2


def test_deps_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    (tmp_path / "platform_tools.toml").write_text('[deps]\nseverity = {GU020 = "warn"}\n')
    assert main(["deps", "--target-dir", str(target)]) == 0  # found in the project dir
    (tmp_path / "platform_tools.toml").write_text("[deps]\nignore = []\n")
    assert main(["deps", "--target-dir", str(target)]) == 2
    assert "unknown key 'ignore'" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# cost
# --------------------------------------------------------------------------------------
def test_cost_from_target_with_storage(tmp_path: Path, isolated: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    shutil.copytree(FIXTURES / "delta" / "readings_merged",
                    isolated / "warehouse" / "fixture_silver" / "readings_merged")
    assert main(["cost", "--target-dir", str(target), "--format", "json",
                 "--compute-rate", "3600", "--storage-rate", "1000000"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 1 and data["rates"]["compute_per_hour"] == "3600"
    model = next(m for m in data["models"] if m["model"] == "readings_merged")
    assert model["storage_bytes"] > 0 and model["files"] == 5
    assert data["storage_total"] != "0.00"


def test_cost_config_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    config = tmp_path / "costs.toml"
    config.write_text("[cost]\nrate = 1\n")
    assert main(["cost", "--target-dir", str(target), "--config", str(config)]) == 2
    assert "unknown key 'rate'" in capsys.readouterr().err
    assert main(["cost", "--target-dir", str(target), "--config", str(tmp_path / "x")]) == 2
    assert main(["cost", "--target-dir", str(target), "--compute-rate", "abc"]) == 2


def test_cost_uses_history_and_flags(tmp_path: Path, isolated: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    project = generate(SyntheticSpec(models=40, tests=80, runs=3))
    target = write_target(tmp_path / "target", project)
    from tests.support.synthetic import write_history

    write_history(isolated / "_history", project)
    assert main(["cost", "--target-dir", str(target), "--format", "markdown",
                 "--team", "nordgrid", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 recorded run(s)" in out and "| nordgrid |" in out and "| electra |" not in out
    assert main(["cost", "--target-dir", str(target), "--fail-on-flags"]) == 1


# --------------------------------------------------------------------------------------
# observe
# --------------------------------------------------------------------------------------
def test_observe_record_then_report(tmp_path: Path, isolated: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    assert main(["observe", "record", "--target-dir", str(target)]) == 0
    assert "recorded run" in capsys.readouterr().out
    assert main(["observe", "record", "--target-dir", str(target)]) == 0
    assert "already recorded" in capsys.readouterr().out
    assert len(list((isolated / "_history" / "runs").iterdir())) == 1
    failed = tmp_path / "failed"
    shutil.copytree(FIXTURES / "mini_failed", failed)
    assert main(["observe", "record", "--target-dir", str(failed)]) == 0
    capsys.readouterr()
    assert main(["observe", "--target-dir", str(failed), "--format", "json",
                 "--now", "2026-11-22T02:00:00Z"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["runs"]["count"] == 2 and data["runs"]["success_rate"] == 0.5
    assert data["status"] == "CRITICAL"
    assert main(["observe", "--target-dir", str(failed), "--fail-on", "never"]) == 0
    assert main(["observe", "--target-dir", str(failed), "--now", "yesterday"]) == 2


def test_observe_includes_unrecorded_target_run(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    assert main(["observe", "--target-dir", str(target), "--format", "markdown"]) == 0
    assert "1 run(s), success rate 100%" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def test_report_writes_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = _target(tmp_path)
    out = tmp_path / "out"
    assert main(["report", "--target-dir", str(target), "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"report.html", "report.md", "report.json"}
    data = json.loads((out / "report.json").read_text())
    assert set(data) >= {"deps", "cost", "observe"}
    assert "wrote" in capsys.readouterr().out


def test_each_command_module_registers_exactly_the_commands_listed_for_it() -> None:
    import argparse
    import importlib

    from platform_tools.cli import COMMANDS

    for module, commands in COMMANDS.items():
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers(dest="command")
        importlib.import_module(module).register(subparsers)
        assert tuple(subparsers.choices) == commands, module
