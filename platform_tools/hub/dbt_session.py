"""dbt kept warm in this process: imported once, its parsed manifest reused between builds.

A ``dbt build`` started as a command spends 6-8 s on these machines before and after the
nodes run (importing dbt and the adapter, parsing or checking the project, writing the
manifest, opening the first Spark Connect session). :class:`WarmDbt` pays that once: it
parses the project through dbt's programmatic entry point (``dbtRunner``) and hands the
manifest to every later ``build``, re-parsing only when :func:`.signatures.project_fingerprint`
says a project file changed. The builds are ordinary dbt invocations: same flags, same
``run_results.json`` and ``manifest.json`` in the target path, same logs.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_tools.errors import PlatformError
from platform_tools.exit_codes import ExitCode
from platform_tools.hub.signatures import project_fingerprint
from platform_tools.landing.records import one_line

# dbt node statuses, folded into the counters of dbt's own "Done." line
STATUS_COUNTERS = {
    "success": "PASS",
    "pass": "PASS",
    "warn": "WARN",
    "error": "ERROR",
    "fail": "ERROR",
    "runtime error": "ERROR",
    "skipped": "SKIP",
    "no-op": "NO-OP",
}
COUNTER_ORDER = ("PASS", "WARN", "ERROR", "SKIP", "NO-OP")


@dataclass(frozen=True)
class DbtSettings:
    """Where dbt runs and the flags every invocation of the hub shares."""

    project_dir: Path
    profiles_dir: Path
    target_path: Path
    log_path: Path
    target: str | None = None
    threads: int | None = None
    quiet: bool = False

    def common_args(self) -> list[str]:
        args = [
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.log_path),
        ]
        if self.target:
            args += ["--target", self.target]
        return args


@dataclass(frozen=True)
class BuildOutcome:
    success: bool
    counts: dict[str, int]
    seconds: float
    error: str | None = None

    def summary(self) -> str:
        counters = " ".join(f"{name}={self.counts.get(name, 0)}" for name in COUNTER_ORDER)
        state = "OK" if self.success else "FAILED"
        text = f"{state} ({counters}) in {self.seconds:.1f} s"
        return f"{text}: {self.error}" if self.error else text


def _status(result: Any) -> str:
    """A node result's status, lower case (dbt's enums or plain strings)."""
    return str(getattr(result.status, "value", result.status)).lower()


def count_statuses(results: Any) -> dict[str, int]:
    """dbt's PASS/WARN/ERROR/SKIP/NO-OP counters of a run's node results."""
    counts: Counter[str] = Counter()
    for result in getattr(results, "results", None) or []:
        status = _status(result)
        counts[STATUS_COUNTERS.get(status, status.upper())] += 1
    return dict(counts)


def failed_nodes(results: Any) -> str | None:
    """``<node>: <message>`` of every node that errored or failed, ``; ``-joined (None: none)."""
    failed = []
    for result in getattr(results, "results", None) or []:
        status = _status(result)
        if status in ("error", "fail"):
            name = getattr(getattr(result, "node", None), "name", "?")
            failed.append(f"{name}: {one_line(str(result.message or status), limit=600)}")
    return "; ".join(failed) or None


def _one_line(exc: BaseException) -> str:
    return one_line(str(exc), limit=500) or type(exc).__name__


@dataclass
class WarmDbt:
    settings: DbtSettings
    _manifest: Any = field(default=None, init=False, repr=False)
    _fingerprint: str | None = field(default=None, init=False, repr=False)

    def _runner(self, manifest: Any = None) -> Any:
        from dbt.cli.main import dbtRunner  # dbt is imported once, on first use

        if manifest is None:
            return dbtRunner()

        def adopt_invocation(event: Any) -> None:
            # the reused manifest is written again at the end of the build: it must carry this
            # build's invocation id, like the run_results.json written with it
            invocation_id = event.info.invocation_id
            if invocation_id and manifest.metadata.invocation_id != invocation_id:
                manifest.metadata.invocation_id = invocation_id

        return dbtRunner(manifest=manifest, callbacks=[adopt_invocation])

    def ensure_parsed(self) -> float | None:
        """Parse the project if it changed since the last parse; the seconds it took, or None.

        Raises :class:`PlatformError` when dbt cannot parse the project (the message is
        dbt's); the previous manifest is dropped, so nothing builds from a stale one.
        """
        fingerprint = project_fingerprint(self.settings.project_dir, self.settings.profiles_dir)
        if self._manifest is not None and fingerprint == self._fingerprint:
            return None
        started = time.perf_counter()
        self._manifest = None
        result = self._runner().invoke(["parse", "--quiet", *self.settings.common_args()])
        if not result.success or result.result is None:
            reason = _one_line(result.exception) if result.exception else "see the dbt log"
            raise PlatformError(
                f"dbt could not parse the project {self.settings.project_dir}: {reason}; fix "
                "it (try `dbt parse`) and the hub parses it again when a file changes",
                ExitCode.FINDINGS,
            )
        self._manifest = result.result
        self._fingerprint = fingerprint
        return time.perf_counter() - started

    def build(self, select: str) -> BuildOutcome:
        """``dbt build --select <select>`` with the parsed manifest (call ensure_parsed first)."""
        if self._manifest is None:
            raise PlatformError("internal: build before a successful parse", ExitCode.USAGE)
        args = ["build", "--select", select, *self.settings.common_args()]
        if self.settings.threads:
            args += ["--threads", str(self.settings.threads)]
        if self.settings.quiet:
            args.insert(1, "--quiet")
        started = time.perf_counter()
        result = self._runner(self._manifest).invoke(args)
        seconds = time.perf_counter() - started
        counts = count_statuses(result.result)
        error = _one_line(result.exception) if result.exception else failed_nodes(result.result)
        return BuildOutcome(bool(result.success), counts, seconds, error)
