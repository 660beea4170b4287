"""Where compute usage comes from: the target's run_results or the recorded run history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.run_results import RunResults
from platform_tools.artifacts.runs import is_pipeline_run
from platform_tools.errors import ArtifactError
from platform_tools.observe.history import History, RunRecord


@dataclass(frozen=True)
class UsageRun:
    """One dbt invocation as parallel columns: node ids, execution seconds, rows written
    (``None`` when unknown) and whether the node succeeded."""

    invocation_id: str
    started_at: str | None
    unique_ids: Sequence[str]
    seconds: Sequence[float]
    rows: Sequence[int | None] | None = None
    statuses: Sequence[str] | None = None
    teams: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_run_results(cls, run_results: RunResults) -> UsageRun:
        results = run_results.results
        return cls(
            invocation_id=run_results.invocation_id or "target",
            started_at=run_results.started_at,
            unique_ids=[r.unique_id for r in results],
            seconds=[max(r.execution_time, 0.0) for r in results],
            rows=[r.rows_affected for r in results],
            statuses=[r.status for r in results],
        )


def _parse(timestamp: str | None) -> datetime | None:
    if not timestamp:
        return None
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def runs_in_period(history: History, period_days: int) -> list[RunRecord]:
    """Recorded runs that started within ``period_days`` of the latest one."""
    latest = history.latest
    if latest is None:
        return []
    end = _parse(latest.started_at or latest.generated_at)
    if end is None:
        return list(history.runs)
    start = end - timedelta(days=period_days)
    chosen = []
    for record in history.runs:
        moment = _parse(record.started_at or record.generated_at)
        if moment is None or moment >= start:
            chosen.append(record)
    return chosen


def usage_from_record(
    record: RunRecord, manifest: Manifest, known: list[list[str]] | None = None
) -> UsageRun:
    """A recorded run as usage; ``known`` remembers node lists already checked against
    the manifest (runs of one project usually share one list object)."""
    uids = record.columns["unique_id"]
    written = record.columns.get("rows_written")
    affected = record.columns.get("rows_affected")
    rows: list[int | None] | None = None
    if written is not None and affected is not None:
        rows = [w if w is not None else a for w, a in zip(written, affected, strict=True)]
    else:
        rows = written if written is not None else affected
    teams: dict[str, str | None] = {}
    checked = known is not None and any(uids is seen for seen in known)
    if not checked:
        if any(uid not in manifest.nodes for uid in uids):
            summary = record.summary()
            teams = {uid: (info or {}).get("team") for uid, info in summary.items()}
        elif known is not None:
            known.append(uids)
    return UsageRun(record.invocation_id, record.started_at, uids,
                    record.columns["execution_time"], rows, record.columns["status"], teams)


def choose_usage(
    source: str,
    manifest: Manifest,
    run_results: RunResults | None,
    history: History | None,
    period_days: int,
    set_aside: str | None = None,
) -> tuple[list[UsageRun], str]:
    """The runs to charge and a description of where they came from.

    ``history``: the recorded runs of the period, plus the target's run when it is not
    recorded yet; ``target``: the target's run only; ``auto``: ``history`` when the history
    holds runs, else ``target``. ``run_results`` is the target's run (``None`` when absent or
    already recorded); ``set_aside`` says why the target's run_results were not used (see
    :func:`platform_tools.artifacts.runs.target_run`), for the error when nothing is left.
    """
    why = f"{set_aside}; " if set_aside else ""
    if run_results is not None and not is_pipeline_run(run_results):
        run_results = None  # compile, docs generate, ls...: nothing was executed
    records: Sequence[RunRecord] = (
        runs_in_period(history, period_days) if history is not None else []
    )
    if source == "history" or (source == "auto" and records):
        if not records and run_results is None:
            where = history.history_dir if history is not None else "the history directory"
            raise ArtifactError(
                f"{why}{where}: no recorded runs; run `platform-tools observe record` after dbt "
                "or use --compute-source target"
            )
        known: list[list[str]] = []
        usage = [usage_from_record(r, manifest, known) for r in records]
        described = ""
        if records:
            first = (records[0].started_at or "?")[:19]
            last = (records[-1].started_at or "?")[:19]
            described = f"{len(records)} recorded run(s) from {first} to {last}"
        if run_results is not None and run_results.results:
            usage.append(UsageRun.from_run_results(run_results))
            described += (" plus " if described else "") + "the unrecorded run in the target"
        return usage, described
    if run_results is None:
        raise ArtifactError(why + (
            "run_results.json: no run of the pipeline in the target directory (missing, "
            "written by a command that runs nothing, or already recorded while "
            "--compute-source target asks for it alone); run `dbt build` first, pass "
            "--target-dir, or use --compute-source history"
        ))
    return (
        [UsageRun.from_run_results(run_results)],
        f"1 run ({run_results.path.name}, invocation {run_results.invocation_id})",
    )
