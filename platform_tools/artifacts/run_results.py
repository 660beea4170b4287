"""``run_results.json`` (schema v4-v6, dbt 1.3-1.12) as small frozen objects."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from platform_tools.artifacts._io import as_dict, as_list, as_str, parse_artifact, read_bytes
from platform_tools.artifacts.cache import cached_parse
from platform_tools.artifacts.manifest import Manifest
from platform_tools.errors import ArtifactError

ERROR_STATUSES = frozenset({"error", "fail", "runtime error"})
WARN_STATUSES = frozenset({"warn", "partial success"})
OK_STATUSES = frozenset({"success", "pass"})


@dataclass(frozen=True, slots=True)
class NodeResult:
    """One executed (or skipped) node of a dbt invocation."""

    unique_id: str
    status: str
    execution_time: float
    started_at: str | None
    completed_at: str | None
    failures: int | None
    message: str | None
    rows_affected: int | None

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> NodeResult:
        timing = [t for t in as_list(raw.get("timing")) if isinstance(t, dict)]
        execute = next((t for t in timing if t.get("name") == "execute"), None)
        started = as_str((execute or (timing[0] if timing else {})).get("started_at"))
        completed = as_str((execute or (timing[-1] if timing else {})).get("completed_at"))
        rows = as_dict(raw.get("adapter_response")).get("rows_affected")
        failures = raw.get("failures")
        message = as_str(raw.get("message"))
        return cls(
            unique_id=str(raw["unique_id"]),
            status=str(raw.get("status") or "").lower(),
            execution_time=float(raw.get("execution_time") or 0.0),
            started_at=started,
            completed_at=completed,
            failures=int(failures) if isinstance(failures, int | float) else None,
            message=message.splitlines()[0][:500] if message else None,
            rows_affected=int(rows) if isinstance(rows, int | float) and rows >= 0 else None,
        )

    @property
    def is_error(self) -> bool:
        return self.status in ERROR_STATUSES

    @property
    def is_ok(self) -> bool:
        return self.status in OK_STATUSES


@dataclass(frozen=True)
class RunResults:
    path: Path
    invocation_id: str | None
    generated_at: str | None
    started_at: str | None
    elapsed_time: float
    command: str | None
    invocation_command: str | None
    results: tuple[NodeResult, ...]

    @property
    def has_errors(self) -> bool:
        return any(r.is_error for r in self.results)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> RunResults:
        metadata = as_dict(data.get("metadata"))
        args = as_dict(data.get("args"))
        try:
            results = tuple(
                NodeResult.from_node(r) for r in as_list(data.get("results")) if isinstance(r, dict)
            )
            elapsed = float(data.get("elapsed_time") or 0.0)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"{path}: unexpected structure in 'results' ({type(exc).__name__}: {exc}); "
                "re-run dbt to regenerate it"
            ) from None
        return cls(
            path=path,
            invocation_id=as_str(metadata.get("invocation_id")),
            generated_at=as_str(metadata.get("generated_at")),
            started_at=as_str(metadata.get("invocation_started_at")),
            elapsed_time=elapsed,
            command=as_str(args.get("which")),
            invocation_command=as_str(args.get("invocation_command")),
            results=results,
        )


def check_same_invocation(run_results: RunResults, manifest: Manifest) -> None:
    """Raise :class:`ArtifactError` when the two files come from different dbt invocations."""
    if (
        run_results.invocation_id
        and manifest.invocation_id
        and run_results.invocation_id != manifest.invocation_id
    ):
        raise ArtifactError(
            f"{run_results.path}: invocation_id {run_results.invocation_id} differs from "
            f"{manifest.path.name}'s {manifest.invocation_id}; the files come from different "
            "dbt commands, re-run `dbt build` so that both are written together"
        )


def load_run_results(path: Path, manifest: Manifest | None = None) -> RunResults:
    """Load and check ``run_results.json`` (v4-v6); with ``manifest``, check the invocation id."""
    run_results = cached_parse(
        path,
        lambda: read_bytes(path, "run-results"),
        lambda raw: RunResults.from_dict(parse_artifact(path, raw, "run-results"), path),
        _to_slim,
        lambda slim: _from_slim(slim, path),
    )
    if manifest is not None:
        check_same_invocation(run_results, manifest)
    return run_results


def _to_slim(run_results: RunResults) -> list[Any]:
    return [
        run_results.invocation_id, run_results.generated_at, run_results.started_at,
        run_results.elapsed_time, run_results.command, run_results.invocation_command,
        [[getattr(r, f.name) for f in fields(NodeResult)] for r in run_results.results],
    ]


def _from_slim(slim: list[Any], path: Path) -> RunResults:
    invocation, generated, started, elapsed, command, invocation_command, rows = slim
    return RunResults(
        path=path, invocation_id=invocation, generated_at=generated, started_at=started,
        elapsed_time=float(elapsed), command=command, invocation_command=invocation_command,
        results=tuple(NodeResult(*row) for row in rows),
    )


_INVOCATION = re.compile(rb'"invocation_id"\s*:\s*"([^"\\]+)"')


def peek_invocation_id(path: Path) -> str | None:
    """The ``metadata.invocation_id`` of a run_results file from its first bytes (dbt writes
    ``metadata`` first), without parsing it; ``None`` when it cannot be seen."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _INVOCATION.search(head)
    return match.group(1).decode() if match else None
