"""The hub's loop: poll the landing zone, stage what landed, build it warm, log the batch.

One hub serves one lakehouse (an exclusive lock on ``<lakehouse>/_hub/hub.lock``). The first
pass stages and builds whatever is pending (catching up after a stop or a failed build);
after that a batch starts when the landing zone's signature changes, has then held still for
``settle_s`` (a system's files arrive as one batch), and staging finds new or changed files.
Each batch is appended as one JSON object to ``<lakehouse>/_hub/batches.jsonl`` and printed
as one line; its dbt results go to the run history like any ``dbt build``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_tools.errors import PlatformError, UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.hub.dbt_session import BuildOutcome, DbtSettings, WarmDbt
from platform_tools.hub.signatures import Signature, landing_signature
from platform_tools.progress import terminal

HUB_DIR = "_hub"
LOCK_FILE = "hub.lock"
BATCH_LOG = "batches.jsonl"


@dataclass(frozen=True)
class HubSettings:
    lakehouse: Path
    landing: Path
    staging: Path
    select: str
    dbt: DbtSettings
    interval_s: float = 2.0
    settle_s: float = 1.0
    once: bool = False


@dataclass
class BatchRecord:
    """One pass of the hub that staged and built (or tried to)."""

    number: int
    reason: str  # "catch-up" (first pass) or "landed"
    detected_at: str
    finished_at: str = ""
    files_staged: int = 0
    rows_staged: int = 0
    corrupt_files: list[str] = field(default_factory=list)
    stage_s: float = 0.0
    parse_s: float | None = None
    build_s: float = 0.0
    total_s: float = 0.0
    success: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def line(self, select: str) -> str:
        parsed = f"parsed the project in {self.parse_s:.1f} s; " if self.parse_s else ""
        corrupt = f", {len(self.corrupt_files)} corrupt" if self.corrupt_files else ""
        outcome = BuildOutcome(self.success, self.counts, self.build_s, self.error).summary()
        return (
            f"hub: batch {self.number} ({self.reason}): staged {self.files_staged} file(s) "
            f"({self.rows_staged:,} rows{corrupt}) in {self.stage_s:.1f} s; {parsed}"
            f"dbt build --select {select}: {outcome}; batch {self.total_s:.1f} s"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@contextmanager
def hub_lock(lakehouse: Path) -> Iterator[Path]:
    """Hold ``<lakehouse>/_hub/hub.lock`` for the hub's lifetime (released if it dies)."""
    folder = lakehouse / HUB_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            raise UsageError(
                f"another hub (pid {holder}) already serves the lakehouse {lakehouse} "
                f"({path}); stop it first (kill -TERM {holder}) or set another "
                "GRIDUNION_LAKEHOUSE"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield folder
    finally:
        handle.close()


def append_batch(folder: Path, record: BatchRecord) -> None:
    with (folder / BATCH_LOG).open("a", encoding="utf-8") as log:
        log.write(json.dumps(asdict(record), sort_keys=True) + "\n")


def read_batches(lakehouse: Path) -> list[dict[str, Any]]:
    """The batches the hub of ``lakehouse`` has logged, oldest first ([] before the first)."""
    log = lakehouse / HUB_DIR / BATCH_LOG
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@dataclass
class Hub:
    settings: HubSettings
    emit: Callable[[str], None]
    dbt: WarmDbt = field(init=False)
    batches: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.dbt = WarmDbt(self.settings.dbt)

    def run_batch(self, reason: str, folder: Path) -> BatchRecord | None:
        """Stage, (re-)parse if needed, build, holding the lakehouse writer lock (another
        writer is waited for); None when a landed pass staged nothing new.

        Raises PlatformError for a bad landing zone or a writer that does not finish."""
        from platform_tools.writer_lock import writer_lock

        with writer_lock(self.settings.lakehouse, "platform-tools hub", notify=self.emit):
            return self._run_batch(reason, folder)

    def _run_batch(self, reason: str, folder: Path) -> BatchRecord | None:
        from dbt_gridunion.engine_hook import forget_stopped_engines
        from platform_tools.landing.stage import stage
        from platform_tools.observe.history import record_run

        started = time.perf_counter()
        detected_at = _now()
        summary = stage(self.settings.landing, self.settings.staging, progress=terminal())
        if reason != "catch-up" and not summary.staged and not summary.corrupt_new:
            return None  # nothing new to build (a removed or re-landed identical file)
        self.batches += 1
        record = BatchRecord(self.batches, reason, detected_at)
        record.stage_s = time.perf_counter() - started
        record.files_staged = len(summary.staged)
        record.rows_staged = summary.rows_staged
        record.corrupt_files = [path for path, _ in summary.corrupt_new]
        try:
            record.parse_s = self.dbt.ensure_parsed()
            # an engine stopped since the last build is started by this one's first connection
            forget_stopped_engines()
            outcome = self.dbt.build(self.settings.select)
        except PlatformError as exc:
            outcome = BuildOutcome(False, {}, 0.0, exc.message)
        record.build_s = outcome.seconds
        record.success = outcome.success
        record.counts = outcome.counts
        record.error = outcome.error
        if outcome.seconds:
            record_run(self.settings.dbt.target_path, self.settings.lakehouse / "_history")
        record.total_s = time.perf_counter() - started
        record.finished_at = _now()
        append_batch(folder, record)
        self.emit(record.line(self.settings.select))
        return record

    def _settled(self, signature: Signature, stop: threading.Event) -> Signature:
        """Wait until the landing zone holds still for ``settle_s`` (files land in bursts)."""
        while not stop.wait(self.settings.settle_s):
            again = landing_signature(self.settings.landing)
            if again == signature:
                break
            signature = again
        return signature

    def serve(self, stop: threading.Event) -> ExitCode:
        """Run until ``stop`` is set (or after one pass with ``once``)."""
        with hub_lock(self.settings.lakehouse) as folder:
            self.emit(
                f"hub: serving {self.settings.landing} -> dbt build --select "
                f"{self.settings.select} (every {self.settings.interval_s:g} s; pid {os.getpid()})"
            )
            last: Signature | None = None
            while not stop.is_set():
                signature = landing_signature(self.settings.landing)
                if last is not None and signature != last:
                    signature = self._settled(signature, stop)
                if signature != last and not stop.is_set():
                    record = self.run_batch("catch-up" if last is None else "landed", folder)
                    last = signature
                    if self.settings.once:  # the catch-up pass always makes a record
                        return ExitCode.OK if record and record.success else ExitCode.FINDINGS
                stop.wait(self.settings.interval_s)
            self.emit(f"hub: stopped after {self.batches} batch(es)")
        return ExitCode.OK
