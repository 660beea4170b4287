"""One writer per lakehouse: the lock waits, refuses after its timeout, and is re-entrant."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_tools.errors import BusyError, UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.writer_lock import (
    DEFAULT_TIMEOUT_S,
    acquire,
    holder_of,
    lock_path,
    release,
    timeout_from_env,
    writer_lock,
)
from tests.helpers import BIN, REPO

HOLD = """
import sys
from pathlib import Path
from platform_tools.writer_lock import acquire
acquire(Path(sys.argv[1]), "test holder", 0, print)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the writer lock of ``tmp_path`` until its stdin closes."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_the_lock_is_reentrant_within_a_process_and_released_at_the_last_level(
    tmp_path: Path,
) -> None:
    acquire(tmp_path, "outer", 0, print)
    acquire(tmp_path, "inner", 0, print)  # the hub's batch, then the dbt build it runs
    release(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        input="",
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert probe.returncode == 1 and "is being written by pid" in probe.stderr
    release(tmp_path)
    with writer_lock(tmp_path, "again", timeout_s=0):
        assert '"command": "again"' in lock_path(tmp_path).read_text()


def test_a_second_writer_waits_with_a_message_then_gets_the_lock(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    messages: list[str] = []
    assert "test holder" in holder_of(tmp_path)
    started = time.monotonic()

    def let_go(message: str) -> None:
        messages.append(message)
        assert holder.stdin is not None
        holder.stdin.close()  # the holder finishes while we wait

    acquire(tmp_path, "second", 30, let_go)
    try:
        assert time.monotonic() - started < 30
        assert len(messages) == 1
        assert messages[0].startswith(
            f"waiting for the lakehouse writer lock held by pid {holder.pid}"
        )
        assert "GRIDUNION_LOCK_TIMEOUT" in messages[0]
    finally:
        release(tmp_path)


def test_a_writer_that_does_not_finish_makes_the_second_give_up_in_one_line(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(BusyError) as caught:
        acquire(tmp_path, "second", 0.5, lambda message: None)
    message = caught.value.message
    assert "\n" not in message
    assert f"pid {holder.pid} (test holder" in message and "GRIDUNION_LOCK_TIMEOUT" in message
    assert caught.value.exit_code == ExitCode.BUSY


@pytest.mark.parametrize("raw", ["abc", "-1", "nan", "1e"])
def test_a_bad_timeout_names_the_variable(raw: str) -> None:
    with pytest.raises(UsageError, match="GRIDUNION_LOCK_TIMEOUT"):
        timeout_from_env({"GRIDUNION_LOCK_TIMEOUT": raw})
    assert timeout_from_env({}) == DEFAULT_TIMEOUT_S
    assert timeout_from_env({"GRIDUNION_LOCK_TIMEOUT": "0"}) == 0


def test_landing_stage_refuses_while_another_process_writes(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    (tmp_path / "landing").mkdir()
    result = subprocess.run(
        [str(BIN / "platform-tools"), "landing", "stage"],
        env={
            "GRIDUNION_LAKEHOUSE": str(tmp_path),
            "GRIDUNION_LOCK_TIMEOUT": "0.3",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == ExitCode.BUSY, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("platform-tools: error: lakehouse ")
    assert "is being written by pid" in lines[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "staging").exists()
