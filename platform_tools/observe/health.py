"""``health.run(...) -> HealthReport``: the pure core of ``platform-tools observe``.

Severity mapping (also in ``docs/platform_tools.md``). Each issue has a level — *error*
(a model, seed or snapshot failed; a test failed; a source is past ``error_after``; a model
is past its freshness SLA) or *warning* (a test warned; a source is past ``warn_after``; a
volume anomaly) — and a priority from the tier (``meta.tier``) at stake:

=========  =====  =======
tier       error  warning
=========  =====  =======
1          P0     P1
2          P1     P2
3 or none  P2     P3
=========  =====  =======

For a failure (which also stops everything downstream) the tier at stake is the most critical
(lowest) tier of the node and of every model downstream of it; for a test, that of the tested
model and its downstream. A domain is CRITICAL with any error, WARNING with any warning,
HEALTHY otherwise.
"""

from __future__ import annotations

import math
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, TEST_TYPES, Manifest
from platform_tools.artifacts.ownership import UNASSIGNED, ExposureRef, Ownership
from platform_tools.artifacts.run_results import ERROR_STATUSES, OK_STATUSES, WARN_STATUSES
from platform_tools.artifacts.sources import SourcesResults
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import RunRecord
from platform_tools.timeutil import parse_time

HEALTHY, WARNING, CRITICAL = "HEALTHY", "WARNING", "CRITICAL"
PRIORITIES = ("P0", "P1", "P2", "P3")


def priority(tier: int | None, level: str) -> str:
    """P0-P3 from a tier (1 most critical) and a level (``error`` or ``warn``)."""
    base = {1: 0, 2: 1}.get(tier if tier is not None else 3, 2)
    if tier is not None and tier <= 0:
        base = 0
    return PRIORITIES[min(base + (0 if level == "error" else 1), 3)]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (``fraction`` in 0..1)."""
    if not values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(values)))
    return values[min(rank, len(values)) - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Issue:
    kind: str
    level: str  # "error" | "warn"
    priority: str
    unique_id: str
    label: str
    team: str
    domain: str | None
    message: str
    affected_teams: tuple[str, ...] = ()
    affected_exposures: tuple[ExposureRef, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "level": self.level, "priority": self.priority,
            "unique_id": self.unique_id, "name": self.label, "team": self.team,
            "domain": self.domain, "message": self.message,
            "affected_teams": list(self.affected_teams),
            "affected_exposures": [{"unique_id": e.unique_id, "label": e.label, "team": e.team,
                                    "owner": e.owner} for e in self.affected_exposures],
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    invocation_id: str
    command: str | None
    started_at: str | None
    elapsed_time: float
    status: str
    nodes: int
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return {"invocation_id": self.invocation_id, "command": self.command,
                "started_at": self.started_at, "elapsed_time": round(self.elapsed_time, 3),
                "status": self.status, "nodes": self.nodes, "errors": self.errors}


@dataclass(frozen=True, slots=True)
class Duration:
    unique_id: str
    label: str
    team: str
    runs: int
    median: float
    p95: float
    last: float

    def as_dict(self) -> dict[str, Any]:
        return {"unique_id": self.unique_id, "name": self.label, "team": self.team,
                "runs": self.runs, "median_s": round(self.median, 3),
                "p95_s": round(self.p95, 3), "last_s": round(self.last, 3)}


@dataclass(frozen=True, slots=True)
class TestCounts:
    team: str
    passed: int
    warned: int
    failed: int
    skipped: int
    window_pass_rate: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"team": self.team, "pass": self.passed, "warn": self.warned,
                "fail": self.failed, "skipped": self.skipped,
                "window_pass_rate": None if self.window_pass_rate is None
                else round(self.window_pass_rate, 4)}


@dataclass(frozen=True, slots=True)
class Freshness:
    unique_id: str
    label: str
    kind: str  # "source" | "model"
    team: str
    domain: str | None
    status: str  # pass | warn | error | stale | never | runtime error
    age_hours: float | None
    limit_hours: float | None
    last_success: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"unique_id": self.unique_id, "name": self.label, "kind": self.kind,
                "team": self.team, "domain": self.domain, "status": self.status,
                "age_hours": None if self.age_hours is None else round(self.age_hours, 2),
                "limit_hours": self.limit_hours, "last_success": self.last_success}


@dataclass(frozen=True, slots=True)
class VolumePoint:
    unique_id: str
    label: str
    team: str
    rows: int
    baseline: float
    change: float  # relative, e.g. -0.6

    def as_dict(self) -> dict[str, Any]:
        return {"unique_id": self.unique_id, "name": self.label, "team": self.team,
                "rows": self.rows, "baseline": round(self.baseline, 2),
                "change": round(self.change, 4)}


@dataclass(frozen=True, slots=True)
class DomainStatus:
    domain: str
    teams: tuple[str, ...]
    status: str
    errors: int
    warnings: int
    top_priority: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "teams": list(self.teams), "status": self.status,
                "errors": self.errors, "warnings": self.warnings,
                "top_priority": self.top_priority}


@dataclass(frozen=True)
class HealthReport:
    generated_at: str
    runs: tuple[RunSummary, ...]
    success_rate: float | None
    run_median_s: float
    run_p95_s: float
    slowest: tuple[Duration, ...]
    tests: tuple[TestCounts, ...]
    freshness: tuple[Freshness, ...]
    volume_anomalies: tuple[VolumePoint, ...]
    issues: tuple[Issue, ...]
    domains: tuple[DomainStatus, ...]
    notes: tuple[str, ...] = ()

    @property
    def worst(self) -> str:
        statuses = {d.status for d in self.domains}
        if CRITICAL in statuses:
            return CRITICAL
        return WARNING if WARNING in statuses else HEALTHY

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": "platform-tools observe",
            "generated_at": self.generated_at,
            "status": self.worst,
            "runs": {
                "count": len(self.runs),
                "success_rate": None if self.success_rate is None
                else round(self.success_rate, 4),
                "median_s": round(self.run_median_s, 3),
                "p95_s": round(self.run_p95_s, 3),
                "history": [r.as_dict() for r in self.runs],
            },
            "domains": [d.as_dict() for d in self.domains],
            "issues": [i.as_dict() for i in self.issues],
            "slowest_models": [d.as_dict() for d in self.slowest],
            "tests_by_team": [t.as_dict() for t in self.tests],
            "freshness": [f.as_dict() for f in self.freshness],
            "volume_anomalies": [v.as_dict() for v in self.volume_anomalies],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class SlaModel:
    """A model with a freshness SLA: its last success and what a breach affects."""

    unique_id: str
    label: str
    team: str
    domain: str | None
    tier: int | None
    sla_hours: float
    last_success: str | None
    affected_teams: tuple[str, ...]
    affected_exposures: tuple[ExposureRef, ...]


@dataclass(frozen=True)
class HealthBasis:
    """A :class:`HealthReport` before the clock is read (:func:`finish` reads it): a pure
    function of the manifest, the runs, the sources and the configuration, so it can be
    cached (:mod:`platform_tools.artifacts.answers`)."""

    runs: tuple[RunSummary, ...]
    success_rate: float | None
    run_median_s: float
    run_p95_s: float
    slowest: tuple[Duration, ...]
    tests: tuple[TestCounts, ...]
    source_freshness: tuple[Freshness, ...]
    sla_models: tuple[SlaModel, ...]
    volume_anomalies: tuple[VolumePoint, ...]
    issues_before: tuple[Issue, ...]
    """Failed or warned nodes of the latest run and stale sources, in that order."""
    issues_after: tuple[Issue, ...]
    """Volume anomalies (after the SLA breaches, before the issues are sorted)."""
    domain_teams: Mapping[str, tuple[str, ...]]
    notes: tuple[str, ...]


# --------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------
class _Lookup:
    """Team, domain, label and tier of a node id: current manifest first, then the run's
    recorded manifest summary (for nodes since removed)."""

    def __init__(self, manifest: Manifest, ownership: Ownership, runs: Sequence[RunRecord]):
        self.manifest = manifest
        self.ownership = ownership
        self._runs = runs
        self._summary: dict[str, Mapping[str, Any]] | None = None
        self._teams: dict[str, str] = {}

    def _recorded(self, uid: str) -> Mapping[str, Any]:
        if self._summary is None:
            self._summary = {}
            for run in reversed(self._runs):
                if any(u not in self.manifest.nodes for u in run.columns["unique_id"]):
                    for key, value in run.summary().items():
                        self._summary.setdefault(key, value)
        return self._summary.get(uid, {})

    def team(self, uid: str) -> str:
        team = self._teams.get(uid)
        if team is None:
            if uid in self.manifest.nodes:
                team = self.ownership.charged_team(uid) or UNASSIGNED
            else:
                team = str(self._recorded(uid).get("team") or UNASSIGNED)
            self._teams[uid] = team
        return team

    def domain(self, uid: str) -> str | None:
        node = self.manifest.nodes.get(uid)
        if node is not None:
            if node.resource_type in TEST_TYPES:
                tested = self.ownership.tested_node(node)
                return (tested or node).domain
            return node.domain
        value = self._recorded(uid).get("domain")
        return str(value) if value else None

    def label(self, uid: str) -> str:
        if uid in self.manifest.nodes:
            return self.ownership.label(uid)
        return str(self._recorded(uid).get("label") or uid)

    def resource_type(self, uid: str) -> str:
        node = self.manifest.nodes.get(uid)
        if node is not None:
            return node.resource_type
        return str(self._recorded(uid).get("resource_type") or uid.split(".", 1)[0])


_BUILDABLE_PREFIXES = tuple(f"{t}." for t in sorted(BUILDABLE_TYPES))
_TEST_PREFIXES = tuple(f"{t}." for t in sorted(TEST_TYPES))


def _is_buildable(uid: str) -> bool:
    """Whether a node id names a model, seed or snapshot (its part before the first dot)."""
    return uid.startswith(_BUILDABLE_PREFIXES) or uid in BUILDABLE_TYPES


def _is_test(uid: str) -> bool:
    """Whether a node id names a test or a unit test (its part before the first dot)."""
    return uid.startswith(_TEST_PREFIXES) or uid in TEST_TYPES


def run(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    config: ObserveConfig,
    *,
    sources: SourcesResults | None = None,
    now: datetime | None = None,
    ownership: Ownership | None = None,
) -> HealthReport:
    """Health of the platform from the recorded ``runs`` (oldest first) and ``sources``."""
    return finish(basis(manifest, runs, config, sources=sources, ownership=ownership),
                  now or datetime.now(UTC))


def basis(
    manifest: Manifest,
    runs: Sequence[RunRecord],
    config: ObserveConfig,
    *,
    sources: SourcesResults | None = None,
    ownership: Ownership | None = None,
) -> HealthBasis:
    """What :func:`run` computes before it looks at the clock."""
    owner = ownership or Ownership(manifest)
    window = list(runs)[-config.runs:]
    lookup = _Lookup(manifest, owner, window)
    notes: list[str] = []
    if not window:
        notes.append("no recorded runs: run dbt, then `platform-tools observe record`")

    summaries = tuple(
        RunSummary(
            invocation_id=r.invocation_id, command=r.command, started_at=r.started_at,
            elapsed_time=r.elapsed_time, status=r.status, nodes=r.size,
            errors=sum(n for s, n in r.counts.items() if s in ERROR_STATUSES),
        )
        for r in window
    )
    success_rate = (
        sum(1 for r in window if not r.failed) / len(window) if window else None
    )
    elapsed = sorted(r.elapsed_time for r in window)

    durations: dict[str, list[float]] = defaultdict(list)
    last_ok: dict[str, tuple[RunRecord, int]] = {}
    test_runs: Counter[str] = Counter()
    test_passes: Counter[str] = Counter()
    layouts: list[tuple[list[str], list[int]]] = []
    runs_per_layout: dict[int, list[Any]] = {}
    for record in window:
        uids = record.columns["unique_id"]
        statuses = record.columns["status"]
        # runs of one project share one node list object: count its nodes once, and its
        # passes (only tests end with status "pass") position by position, in C
        layout = runs_per_layout.get(id(uids))
        if layout is None:
            layout = runs_per_layout[id(uids)] = [uids, 0, [0] * len(uids)]
        layout[1] += 1
        layout[2] = list(map(operator.add, layout[2],
                             map(operator.eq, statuses, repeat("pass"))))
        positions = next((pos for seen, pos in layouts if seen == uids), None)
        if positions is None:
            positions = [i for i, uid in enumerate(uids) if _is_buildable(uid)]
            layouts.append((uids, positions))
    if len(runs_per_layout) == 1 and len(layouts) == 1 and len(set(layouts[0][0])) == len(
            layouts[0][0]):
        # one node list, each node once (the common case): node by node over the runs
        uids, positions = layouts[0]
        columns = [(r, r.columns["status"], r.columns["execution_time"]) for r in window]
        for i in positions:
            values = [spent[i] or 0.0 for _, statuses, spent in columns
                      if statuses[i] in OK_STATUSES]
            if values:
                durations[uids[i]] = values
                last = next(r for r, statuses, _ in reversed(columns)
                            if statuses[i] in OK_STATUSES)
                last_ok[uids[i]] = (last, i)
    else:
        for record in window:
            uids, statuses = record.columns["unique_id"], record.columns["status"]
            positions = next(pos for seen, pos in layouts if seen == uids)
            spent = record.columns["execution_time"]
            for i in positions:
                if statuses[i] in OK_STATUSES:
                    uid = uids[i]
                    durations[uid].append(spent[i] or 0.0)
                    last_ok[uid] = (record, i)
    for uids, times, passes in runs_per_layout.values():
        if len(set(uids)) == len(uids):
            test_passes.update(dict(zip(uids, passes, strict=True)))
        else:  # a node listed twice in a run counts twice
            for uid, passed in zip(uids, passes, strict=True):
                test_passes[uid] += passed
        if times == 1:
            test_runs.update(uids)
        else:
            test_runs.update({uid: times for uid in uids})
    test_window: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for uid, total in test_runs.items():
        if not _is_test(uid):
            continue
        counts = test_window[lookup.team(uid)]
        counts[0] += test_passes[uid]
        counts[1] += total
    # completion time of each SLA model's last success (end_s decoded only for those runs)
    last_success = {
        uid: record.time_at(record.column("end_s")[i]) or record.started_at or ""
        for uid, (record, i) in last_ok.items()
        if uid in manifest.nodes and manifest.nodes[uid].sla_freshness_hours
    }

    slowest = []
    for uid, values in durations.items():
        ordered = sorted(values)
        slowest.append((median(ordered), uid, ordered, values[-1]))
    slowest.sort(key=lambda item: (-item[0], item[1]))
    top = [
        Duration(uid, lookup.label(uid), lookup.team(uid), len(ordered), mid,
                 percentile(ordered, 0.95), last)
        for mid, uid, ordered, last in slowest[: config.slowest]
    ]

    issues: list[Issue] = []
    latest = window[-1] if window else None
    tests = _tests(latest, lookup, test_window)
    if latest is not None:
        issues.extend(_run_issues(latest, manifest, owner, lookup))
    freshness = _source_freshness(sources, manifest, owner, issues)
    later: list[Issue] = []
    anomalies = _volume(window, config, lookup, manifest, later)
    return HealthBasis(
        runs=summaries,
        success_rate=success_rate,
        run_median_s=median(elapsed),
        run_p95_s=percentile(elapsed, 0.95),
        slowest=tuple(top),
        tests=tests,
        source_freshness=tuple(freshness),
        sla_models=_sla_models(manifest, owner, last_success),
        volume_anomalies=tuple(anomalies),
        issues_before=tuple(issues),
        issues_after=tuple(later),
        domain_teams=_domain_teams(manifest),
        notes=tuple(notes),
    )


def finish(basis: HealthBasis, now: datetime) -> HealthReport:
    """The :class:`HealthReport` of ``basis`` with freshness evaluated at ``now``."""
    issues = list(basis.issues_before)
    freshness = list(basis.source_freshness)
    freshness += _model_freshness(basis.sla_models, now, issues)
    issues.extend(basis.issues_after)
    issues.sort(key=lambda i: (i.priority, 0 if i.level == "error" else 1, i.unique_id, i.kind))
    return HealthReport(
        generated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        runs=basis.runs,
        success_rate=basis.success_rate,
        run_median_s=basis.run_median_s,
        run_p95_s=basis.run_p95_s,
        slowest=basis.slowest,
        tests=basis.tests,
        freshness=tuple(freshness),
        volume_anomalies=basis.volume_anomalies,
        issues=tuple(issues),
        domains=_domains(basis.domain_teams, issues),
        notes=basis.notes,
    )




def _affected(owner: Ownership, start: str, team: str | None
              ) -> tuple[tuple[str, ...], tuple[ExposureRef, ...], int | None]:
    """Other teams, exposures and the most critical tier downstream of ``start``."""
    reach = owner.reach([start])
    exposures = tuple(sorted((owner.exposure_refs[e] for e in reach.exposures),
                             key=lambda e: e.unique_id))
    return tuple(sorted(t for t in reach.teams if t != team)), exposures, reach.min_tier


def _tier_at_stake(owner: Ownership, uid: str) -> int | None:
    """The most critical tier of the node (a test: its tested node) and its downstream."""
    node = owner.manifest.nodes.get(uid)
    if node is not None and node.resource_type in TEST_TYPES:
        node = owner.tested_node(node) or node
    if node is None:
        return None
    below = owner.reach([node.unique_id]).min_tier
    tiers = [t for t in (node.tier, below) if t is not None]
    return min(tiers) if tiers else None


def _run_issues(
    latest: RunRecord, manifest: Manifest, owner: Ownership, lookup: _Lookup
) -> Iterable[Issue]:
    for uid, status, message in zip(latest.columns["unique_id"], latest.columns["status"],
                                    latest.column("message"), strict=True):
        if status not in ERROR_STATUSES and status not in WARN_STATUSES:
            continue
        kind = lookup.resource_type(uid)
        if kind not in BUILDABLE_TYPES and kind not in TEST_TYPES:
            continue
        level = "error" if status in ERROR_STATUSES else "warn"
        start = uid
        node = manifest.nodes.get(uid)
        if node is not None and node.resource_type in TEST_TYPES:
            tested = owner.tested_node(node)
            start = tested.unique_id if tested is not None else uid
        team = lookup.team(uid)
        teams, exposures, _ = (_affected(owner, start, team) if node is not None
                               else ((), (), None))
        what = "test" if kind in TEST_TYPES else kind
        yield Issue(
            kind=f"{what}_{'failed' if level == 'error' else 'warned'}",
            level=level,
            priority=priority(_tier_at_stake(owner, uid), level),
            unique_id=uid,
            label=lookup.label(uid),
            team=team,
            domain=lookup.domain(uid),
            message=f"{what} {lookup.label(uid)} {status}" + (f": {message}" if message else ""),
            affected_teams=teams,
            affected_exposures=exposures,
        )


def _tests(
    latest: RunRecord | None, lookup: _Lookup, window: Mapping[str, list[int]]
) -> tuple[TestCounts, ...]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    if latest is not None:
        for uid, status in zip(latest.columns["unique_id"], latest.columns["status"],
                               strict=True):
            if not _is_test(uid):
                continue
            slot = counts[lookup.team(uid)]
            if status == "pass":
                slot[0] += 1
            elif status == "warn":
                slot[1] += 1
            elif status in ERROR_STATUSES:
                slot[2] += 1
            else:
                slot[3] += 1
    teams = sorted(set(counts) | set(window))
    return tuple(
        TestCounts(team, counts[team][0], counts[team][1], counts[team][2], counts[team][3],
                   window_pass_rate=(window[team][0] / window[team][1])
                   if window.get(team) and window[team][1] else None)
        for team in teams
    )


def _source_freshness(
    sources: SourcesResults | None,
    manifest: Manifest,
    owner: Ownership,
    issues: list[Issue],
) -> list[Freshness]:
    out: list[Freshness] = []
    if sources is None:
        return out
    for result in sources.results:
        source = manifest.sources.get(result.unique_id)
        team = owner.team_of(result.unique_id) or UNASSIGNED
        domain = source.domain if source else None
        label = source.label if source else result.unique_id
        age = result.age_seconds / 3600 if result.age_seconds is not None else None
        limit = result.error_after_seconds or result.warn_after_seconds
        out.append(Freshness(
            result.unique_id, label, "source", team, domain, result.status, age,
            limit / 3600 if limit else None, result.max_loaded_at,
        ))
        if result.status in ("warn", "error", "runtime error"):
            level = "warn" if result.status == "warn" else "error"
            teams, exposures, tier = _affected(owner, result.unique_id, team)
            issues.append(Issue(
                kind="source_stale", level=level, priority=priority(tier, level),
                unique_id=result.unique_id, label=label, team=team, domain=domain,
                message=f"source {label} freshness {result.status}"
                + (f": loaded {age:.1f} h ago" if age is not None else "")
                + (f" ({result.message})" if result.message else ""),
                affected_teams=teams, affected_exposures=exposures,
            ))
    return out


def _sla_models(
    manifest: Manifest, owner: Ownership, last_success: Mapping[str, str]
) -> tuple[SlaModel, ...]:
    out = []
    for node in sorted(manifest.buildable(), key=lambda n: n.unique_id):
        sla = node.sla_freshness_hours
        if sla is None:
            continue
        team = node.team or UNASSIGNED
        teams, exposures, _ = _affected(owner, node.unique_id, team)
        out.append(SlaModel(node.unique_id, node.label, team, node.domain, node.tier, sla,
                            last_success.get(node.unique_id), teams, exposures))
    return tuple(out)


def _model_freshness(
    models: Iterable[SlaModel], now: datetime, issues: list[Issue]
) -> list[Freshness]:
    out = []
    for model in models:
        sla = model.sla_hours
        done = parse_time(model.last_success)
        age = (now - done).total_seconds() / 3600 if done else None
        status = "never" if age is None else ("stale" if age > sla else "pass")
        out.append(Freshness(model.unique_id, model.label, "model", model.team, model.domain,
                             status, age, sla, model.last_success))
        if status != "pass":
            issues.append(Issue(
                kind="sla_breach", level="error",
                priority=priority(model.tier, "error"),
                unique_id=model.unique_id, label=model.label, team=model.team,
                domain=model.domain,
                message=(
                    f"{model.label} has no successful run on record (SLA {sla:g} h)"
                    if age is None else
                    f"{model.label} last built {age:.1f} h ago, SLA {sla:g} h"
                ),
                affected_teams=model.affected_teams,
                affected_exposures=model.affected_exposures,
            ))
    return out


def _volume(
    window: Sequence[RunRecord],
    config: ObserveConfig,
    lookup: _Lookup,
    manifest: Manifest,
    issues: list[Issue],
) -> list[VolumePoint]:
    if len(window) < 2:
        return []
    latest = window[-1]
    written = latest.columns.get("rows_written")
    if not written:
        return []
    wanted = {uid for uid, rows in zip(latest.columns["unique_id"], written, strict=True)
              if rows is not None}
    previous: dict[str, list[int]] = defaultdict(list)
    for record in window[-1 - config.recent_runs:-1]:
        values = record.columns.get("rows_written")
        if not values:
            continue
        for uid, rows, status in zip(record.columns["unique_id"], values,
                                     record.columns["status"], strict=True):
            if rows is not None and uid in wanted and status in OK_STATUSES:
                previous[uid].append(int(rows))
    out = []
    for uid, rows, status in zip(latest.columns["unique_id"], written,
                                 latest.columns["status"], strict=True):
        history = previous.get(uid)
        if rows is None or status not in OK_STATUSES or not history:
            continue
        baseline = sum(history) / len(history)
        if baseline <= 0:
            continue
        change = (rows - baseline) / baseline
        if abs(change) <= config.volume_threshold:
            continue
        point = VolumePoint(uid, lookup.label(uid), lookup.team(uid), int(rows), baseline,
                            change)
        out.append(point)
        node = manifest.nodes.get(uid)
        issues.append(Issue(
            kind="volume_anomaly", level="warn",
            priority=priority(node.tier if node else None, "warn"),
            unique_id=uid, label=point.label, team=point.team, domain=lookup.domain(uid),
            message=f"{point.label} wrote {rows} rows, {change:+.0%} against the average "
            f"{baseline:.0f} of the previous {len(history)} run(s)",
        ))
    out.sort(key=lambda v: (-abs(v.change), v.unique_id))
    return out


def _domain_teams(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    """The teams with models in each domain (a domain of sources only: none)."""
    teams: dict[str, set[str]] = defaultdict(set)
    for node in manifest.buildable():
        if node.domain:
            teams[node.domain].add(node.team or UNASSIGNED)
    for source in manifest.sources.values():
        if source.domain:
            teams[source.domain]
    return {domain: tuple(sorted(names)) for domain, names in teams.items()}


def _domains(domain_teams: Mapping[str, tuple[str, ...]], issues: Sequence[Issue]
             ) -> tuple[DomainStatus, ...]:
    teams: dict[str, set[str]] = defaultdict(set)
    for domain, names in domain_teams.items():
        teams[domain].update(names)
    errors: dict[str, int] = defaultdict(int)
    warnings: dict[str, int] = defaultdict(int)
    top: dict[str, str] = {}
    for issue in issues:
        domain = issue.domain or "(none)"
        teams[domain]
        if issue.level == "error":
            errors[domain] += 1
        else:
            warnings[domain] += 1
        if domain not in top or issue.priority < top[domain]:
            top[domain] = issue.priority
    out = []
    for domain in sorted(teams):
        status = CRITICAL if errors[domain] else WARNING if warnings[domain] else HEALTHY
        out.append(DomainStatus(domain, tuple(sorted(teams[domain])), status, errors[domain],
                                warnings[domain], top.get(domain)))
    return tuple(out)
