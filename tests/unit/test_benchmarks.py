"""The benchmark scripts keep working between the sessions that run them at full scale.

Every script must import and parse its arguments (the engine and metering benchmarks need JVMs
and tens of minutes; a broken import or argument would only show when someone needs the
figures). ``bench_platform_tools.py`` needs no engine: it runs here end to end at a tiny scale.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((REPO / "benchmarks").glob("bench_*.py"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, check=False,
        timeout=300,
    )  # fmt: skip


def test_there_are_benchmarks() -> None:
    assert {p.name for p in SCRIPTS} >= {
        "bench_engine.py", "bench_metering.py", "bench_platform_tools.py", "bench_pr_check.py",
    }  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_benchmark_imports_and_parses_its_arguments(script: Path) -> None:
    result = _run(str(script), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: "), result.stdout


def test_the_platform_tools_benchmark_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    result = _run(
        str(REPO / "benchmarks" / "bench_platform_tools.py"), "--models", "40", "--tests",
        "80", "--runs", "2", "--repeat", "1", "--chain", "5", "--no-compare",
        "--keep", str(tmp_path / "work"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("| `")]
    commands = [line.split("|")[1].strip() for line in table]
    assert commands == ["`deps`", "`cost`", "`observe`", "`report`", "`deps (chain)`"]
    assert "40 models, 80 tests" in result.stdout
