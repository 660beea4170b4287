"""Bad input, every door: one line naming what to change, a non-zero exit, nothing written.

Each case runs the real console script (``platform-tools`` or ``dbt``) in a fresh process
against a lakehouse that holds a landed day and a dbt target; the test asserts the exit code,
that exactly one line of the output carries the message (with the argument, variable or file
it names), that no traceback is printed, and that no file of the lakehouse changed. None of
these cases reaches an engine: each fails before it would start one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import BIN, REPO, assert_ok, engine_env, free_port, platform_tools, run


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    exit_code: int
    names: str  # the argument, variable or file the one line must name
    env: dict[str, str] = field(default_factory=dict)


FILE = "{work}/a-file"  # an existing regular file, used where a folder is expected

CASES = [
    # -- landing --------------------------------------------------------------------------
    Case("generate-out-under-a-file", ("landing", "generate", "--out", FILE + "/x"), 2, "--out"),
    Case("generate-out-unwritable", ("landing", "generate", "--out", "/proc/gu"), 2, "--out"),
    Case("generate-days-zero", ("landing", "generate", "--days", "0", "--out", "{work}/g"),
         2, "--days"),
    Case("generate-meters-zero", ("landing", "generate", "--meters", "0", "--out", "{work}/g"),
         2, "--meters"),
    Case("generate-bad-start", ("landing", "generate", "--start", "2024-13-01"), 2, "--start"),
    Case("generate-bad-seed", ("landing", "generate", "--seed", "x"), 2, "--seed"),
    Case("generate-continue-no-world",
         ("landing", "generate", "--continue", "--out", "{work}/empty"), 2, "--continue"),
    Case("generate-continue-other-args",
         ("landing", "generate", "--continue", "--seed", "8", "--out", "{lakehouse}/landing"),
         2, "--seed"),
    Case("stage-staging-under-a-file", ("landing", "stage", "--staging", FILE + "/s"),
         2, "--staging"),
    Case("stage-missing-landing", ("landing", "stage", "--landing", "{work}/none"), 3, "none"),
    # -- artifacts ------------------------------------------------------------------------
    Case("deps-missing-target", ("deps", "--target-dir", "{work}/none"), 3, "none"),
    Case("cost-missing-target", ("cost", "--target-dir", "{work}/none"), 3, "none"),
    Case("observe-missing-target", ("observe", "--target-dir", "{work}/none"), 3, "none"),
    Case("report-missing-target",
         ("report", "--target-dir", "{work}/none", "--out", "{work}/r"), 3, "none"),
    Case("unknown-command", ("nonsense",), 2, "nonsense"),
    # -- engine and soak ------------------------------------------------------------------
    Case("engine-port-not-a-number", ("engine", "up"), 2, "GRIDUNION_ENGINE_PORT",
         {"GRIDUNION_ENGINE_PORT": "abc"}),
    Case("engine-port-out-of-range", ("engine", "status"), 2, "GRIDUNION_ENGINE_PORT",
         {"GRIDUNION_ENGINE_PORT": "70000"}),
    Case("engine-unknown-kind", ("engine", "up", "--engine", "flink"), 2, "--engine"),
    Case("soak-lakehouse-not-empty", ("soak", "--lakehouse", "{lakehouse}", "--days", "1"),
         2, "--lakehouse"),
    Case("soak-lakehouse-under-a-file", ("soak", "--lakehouse", FILE + "/l", "--days", "1"),
         2, "--lakehouse"),
    # -- dbt, through the platform's plugin ---------------------------------------------------
    Case("dbt-threads-not-a-number", ("dbt", "build"), 2, "GRIDUNION_THREADS",
         {"GRIDUNION_THREADS": "abc"}),
    Case("dbt-threads-zero", ("dbt", "run"), 2, "GRIDUNION_THREADS", {"GRIDUNION_THREADS": "0"}),
    Case("dbt-engine-port", ("dbt", "build"), 2, "GRIDUNION_ENGINE_PORT",
         {"GRIDUNION_ENGINE_PORT": "abc"}),
    Case("dbt-lock-timeout", ("dbt", "build"), 2, "GRIDUNION_LOCK_TIMEOUT",
         {"GRIDUNION_LOCK_TIMEOUT": "-5"}),
    Case("dbt-unknown-domain", ("dbt", "build", "--select", "domain:weather"), 2, "weather"),
    # these two reach the engine's first hook (it starts), and stop before anything is written
    Case("dbt-nothing-staged", ("dbt", "build", "--select", "domain:metering"), 2,
         "nothing is staged"),
    Case("dbt-corrupt-staging-manifest", ("dbt", "run", "--select", "brz_nordgrid__meters"), 2,
         "manifest.parquet is unreadable", {"GRIDUNION_STAGING_DIR": "{work}/bad_staging"}),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    work = tmp_path_factory.mktemp("bad_input")
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, free_port())
    env["DBT_TARGET_PATH"] = str(work / "target")
    env["DBT_LOG_PATH"] = str(work / "logs")
    assert_ok(platform_tools(env, "landing", "generate", "--days", "1", "--meters", "40"))
    (work / "a-file").write_text("not a folder\n")
    (work / "empty").mkdir()
    (work / "bad_staging" / "_manifest").mkdir(parents=True)
    (work / "bad_staging" / "_manifest" / "manifest.parquet").write_text("not parquet\n")
    try:
        yield work, env
    finally:
        server.down(
            EngineConfig(
                lakehouse=Path(env["GRIDUNION_LAKEHOUSE"]),
                port=int(env["GRIDUNION_ENGINE_PORT"]),
                session_id=DEFAULT_SESSION_ID,
            )
        )


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every data file of the lakehouse (the writer lock's and the engine's bookkeeping aside)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] not in {"_locks", "_engine"}
    }


def _run(case: Case, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    lakehouse = env["GRIDUNION_LAKEHOUSE"]
    argv = [a.format(work=work, lakehouse=lakehouse) for a in case.argv]
    program = str(BIN / "dbt") if argv[0] == "dbt" else str(BIN / "platform-tools")
    args = argv[1:] if argv[0] == "dbt" else argv
    extra = {k: v.format(work=work, lakehouse=lakehouse) for k, v in case.env.items()}
    return run([program, *args], cwd=REPO, env={**env, **extra}, timeout=180)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(
    case: Case, world: tuple[Path, dict[str, str]]
) -> None:
    work, env = world
    lakehouse = Path(env["GRIDUNION_LAKEHOUSE"])
    before = _tree(lakehouse)
    result = _run(case, work, env)
    output = result.stdout + result.stderr
    assert result.returncode == case.exit_code, output[-2000:]
    assert "Traceback" not in output, output[-2000:]
    usage = ("usage:", "[", "platform-tools [")
    naming = [
        line
        for line in output.splitlines()
        if case.names in line and not line.strip().startswith(usage)
    ]
    assert len(naming) == 1, output[-2000:]
    assert _tree(lakehouse) == before


def test_a_reader_that_goes_away_is_a_quiet_broken_pipe(world: tuple[Path, dict[str, str]]) -> None:
    _, env = world
    process = subprocess.Popen(
        [str(BIN / "platform-tools"), "deps", "--list-rules"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head -0`
    error = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert error == ""
