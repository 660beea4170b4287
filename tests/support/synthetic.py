"""Synthetic dbt artifacts of any size, GridUnion-shaped: six teams, per-domain
bronze/silver/gold, public gold products with contracts, tests, exposures and a run history.

Used by the tests and by ``benchmarks/bench_platform_tools.py``::

    spec = SyntheticSpec(models=5000, tests=20000, runs=30)
    project = generate(spec)                      # dicts, nothing written
    write_target(tmp / "target", project)         # manifest.json + run_results.json
    write_history(tmp / "lh" / "_history", project)

Everything is deterministic for a given ``seed``.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.builder import (
    ColumnSpec,
    ManifestBuilder,
    ResultSpec,
    run_results_dict,
    sources_dict,
    write_json,
)

# team -> (domains, tier of its gold products)
TEAMS: dict[str, tuple[tuple[str, ...], int]] = {
    "platform": (("metering", "platform"), 1),
    "nordgrid": (("billing",), 1),
    "electra": (("customers",), 2),
    "commercial_analytics": (("commercial",), 3),
    "regulatory_reporting": (("regulatory",), 1),
    "demand_forecasting": (("forecasting",), 2),
}
BRONZE_DOMAINS = ("metering", "customers")
# which domains each domain reads (acyclic: earlier domains never read later ones)
UPSTREAM: dict[str, tuple[str, ...]] = {
    "metering": (),
    "platform": ("metering",),
    "customers": (),
    "billing": ("metering", "customers"),
    "commercial": ("billing", "customers"),
    "regulatory": ("metering", "billing", "customers"),
    "forecasting": ("metering",),
}
SOURCE_SYSTEMS = ("nordgrid", "electra", "dutchgrid", "luxpower")


@dataclass(frozen=True)
class SyntheticSpec:
    models: int = 60
    tests: int = 120
    runs: int = 3
    seed: int = 7
    exposures: int = 6
    fail_rate: float = 0.002
    start: str = "2026-01-01T06:00:00"


@dataclass
class SyntheticRun:
    """One run as columns (what the run history stores)."""

    invocation_id: str
    started_at: str
    unique_ids: list[str]
    statuses: list[str]
    seconds: list[float]
    rows: dict[str, int]
    messages: dict[int, str] = field(default_factory=dict)


@dataclass
class SyntheticProject:
    """The generated manifest, its runs (oldest first) and sources results as dicts."""

    manifest: dict[str, Any]
    runs: list[SyntheticRun]
    sources: dict[str, Any] | None = None
    public_models: list[str] = field(default_factory=list)

    @property
    def run_results(self) -> dict[str, Any]:
        """The latest run as ``run_results.json`` (matching the manifest's invocation id)."""
        last = self.runs[-1]
        return run_results_dict(
            last.invocation_id,
            {uid: ResultSpec(status, spent, message=last.messages.get(i))
             for i, (uid, status, spent) in enumerate(
                 zip(last.unique_ids, last.statuses, last.seconds, strict=True))},
            started_at=last.started_at,
        )


def _domain_team() -> dict[str, str]:
    return {domain: team for team, (domains, _) in TEAMS.items() for domain in domains}


def generate(spec: SyntheticSpec) -> SyntheticProject:
    rng = random.Random(spec.seed)
    builder = ManifestBuilder(project="gridunion",
                              invocation_id=str(uuid.UUID(int=rng.getrandbits(128))))
    owner_team = _domain_team()
    for team in TEAMS:
        builder.group(team, owner_name=f"{team} lead", email=f"{team}@gridunion.example")
    sources: dict[str, list[str]] = {}
    for domain in BRONZE_DOMAINS:
        for system in SOURCE_SYSTEMS:
            uid = builder.source(system, f"{domain}_feed", domain=domain,
                                 team=owner_team[domain], freshness_hours=(12, 24))
            sources.setdefault(domain, []).append(uid)
    domains = list(owner_team)
    per_domain: dict[str, dict[str, list[str]]] = {d: {"bronze": [], "silver": [], "gold": []}
                                                   for d in domains}
    public: dict[str, list[str]] = {d: [] for d in domains}
    names: dict[str, str] = {}
    for i in range(spec.models):
        domain = domains[i % len(domains)]
        team = owner_team[domain]
        declared = list(UPSTREAM[domain])
        slot = (i // len(domains)) % 10
        if domain in BRONZE_DOMAINS and slot < 3:
            layer = "bronze"
        elif slot < 7:
            layer = "silver"
        else:
            layer = "gold"
        refs: list[str] = []
        srcs: list[str] = []
        if layer == "bronze":
            srcs = [rng.choice(sources[domain])]
        else:
            own = per_domain[domain]["bronze"] + per_domain[domain]["silver"]
            if layer == "gold":
                own = per_domain[domain]["silver"] or own
            if own:
                refs += [names[u] for u in rng.sample(own, min(len(own), rng.randint(1, 3)))]
            for other in declared:
                if public[other] and rng.random() < 0.5:
                    refs.append(names[rng.choice(public[other])])
        name = f"{ {'bronze': 'brz', 'silver': 'slv', 'gold': 'fct'}[layer]}_{domain}_{i:05d}"
        is_public = layer == "gold"
        columns = [
            ColumnSpec(f"{name}_id", "bigint", "Primary key." if is_public else "",
                       ("not_null",) if is_public else ()),
            ColumnSpec("meter_id", "string", "Meter identifier." if is_public else ""),
            ColumnSpec("reading_at", "timestamp", "UTC timestamp." if is_public else ""),
            ColumnSpec("kwh", "double", "Energy in kWh." if is_public else ""),
        ]
        meta: dict[str, Any] = {"upstream_domains": declared}
        if is_public:
            meta.update({"tier": TEAMS[team][1], "sla": {"freshness_hours": 24}})
        uid = builder.model(
            name, team=team, domain=domain, layer=layer,
            access="public" if is_public else ("private" if layer == "bronze" else "protected"),
            refs=refs, sources=srcs, columns=columns, contract=is_public,
            description=f"{layer.title()} model {i} of {domain}.", meta=meta,
            materialized="incremental" if layer == "bronze" else "table",
        )
        names[uid] = name
        per_domain[domain][layer].append(uid)
        if is_public:
            public[domain].append(uid)
    model_ids = list(names)
    # key tests on every public model first, then other tests spread over all models
    tests = 0
    for uid in [u for d in domains for u in public[d]]:
        if tests + 2 > spec.tests:
            break
        builder.key_tests(uid, f"{names[uid]}_id")
        tests += 2
    kinds = ("not_null", "unique", "accepted_values", "relationships", "not_null")
    column_names = ("meter_id", "reading_at", "kwh")
    serial = 0
    while tests < spec.tests and model_ids:
        uid = model_ids[serial % len(model_ids)]
        kind = kinds[serial % len(kinds)]
        column = f"{column_names[serial % len(column_names)]}_{serial // len(model_ids)}"
        builder.test(uid, column, kind)
        serial += 1
        tests += 1
    # exposures: regulator dashboards (one per country) and a few others
    countries = ("de", "fr", "nl", "lu")
    gold_all = [u for d in domains for u in public[d]]
    for i in range(min(spec.exposures, max(len(gold_all), 0))):
        country = countries[i % len(countries)]
        picks = rng.sample(gold_all, min(len(gold_all), 2))
        builder.exposure(
            f"{country}_regulator_dashboard_{i}", [names[p] for p in picks],
            team="regulatory_reporting", domain="regulatory",
            label=f"{country.upper()} regulator dashboard {i}",
        )
    builder.operation()
    manifest = builder.build()
    runs = _runs(spec, manifest, rng)
    manifest["metadata"]["invocation_id"] = runs[-1].invocation_id
    source_results = {uid: ("pass", 3.0) for uids in sources.values() for uid in uids}
    if source_results:
        first = sorted(source_results)[0]
        source_results[first] = ("warn", 14.0)
    return SyntheticProject(
        manifest=manifest,
        runs=runs,
        sources=sources_dict(str(uuid.UUID(int=rng.getrandbits(128))), source_results,
                             generated_at=runs[-1].started_at),
        public_models=gold_all,
    )


def _runs(spec: SyntheticSpec, manifest: dict[str, Any], rng: random.Random
          ) -> list[SyntheticRun]:
    executed = [
        uid for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot", "test", "operation")
    ]
    parents = manifest["parent_map"]
    base_time = [round(rng.lognormvariate(0.0, 0.8), 3) for _ in executed]
    base_rows = {uid: rng.randint(1_000, 500_000) for uid in executed
                 if uid.startswith("model.")}
    is_test = [uid.startswith("test.") for uid in executed]
    start = datetime.fromisoformat(spec.start)
    runs = []
    for k in range(max(spec.runs, 1)):
        statuses: list[str] = []
        seconds: list[float] = []
        messages: dict[int, str] = {}
        failed: set[str] = set()
        jitter = rng.uniform(0.8, 1.25)
        for i, uid in enumerate(executed):
            if failed and any(p in failed for p in parents.get(uid, ())):
                statuses.append("skipped")
                seconds.append(0.0)
                failed.add(uid)
            elif spec.fail_rate and rng.random() < spec.fail_rate:
                statuses.append("fail" if is_test[i] else "error")
                seconds.append(0.2)
                messages[i] = "synthetic failure"
                if not is_test[i]:
                    failed.add(uid)
            else:
                statuses.append("pass" if is_test[i] else "success")
                seconds.append(round(base_time[i] * jitter, 3))
        drift = rng.uniform(0.9, 1.1)
        rows = {uid: int(n * drift) for uid, n in base_rows.items() if uid not in failed}
        runs.append(SyntheticRun(
            invocation_id=str(uuid.UUID(int=rng.getrandbits(128))),
            started_at=(start + timedelta(days=k)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            unique_ids=executed,
            statuses=statuses,
            seconds=seconds,
            rows=rows,
            messages=messages,
        ))
    return runs


def chain_project(depth: int, *, teams: int = 6, block: int = 50) -> dict[str, Any]:
    """A manifest whose models form one chain ``depth`` long, changing team every
    ``block`` models, ending in an exposure (for the graph benchmarks)."""
    builder = ManifestBuilder(project="chain")
    names = list(TEAMS)[:teams]
    domain_of = {team: TEAMS[team][0][0] for team in names}
    for team in names:
        builder.group(team, owner_name=team, email=f"{team}@example.com")
    previous: str | None = None
    for i in range(depth):
        team = names[(i // block) % len(names)]
        domain = domain_of[team]
        name = f"m{i:05d}"
        builder.model(
            name, team=team, domain=domain, layer="gold" if i % block == block - 1 else "silver",
            access="public", refs=[previous] if previous else [],
            columns=[ColumnSpec("id", "bigint", "key"), ColumnSpec("value", "double", "v")],
            contract=True, description="chain link", meta={"sla": {"freshness_hours": 24}},
        )
        previous = name
    if previous:
        builder.exposure("chain_dashboard", [previous], team=names[-1], label="Chain dashboard")
    return builder.build()


def write_target(target_dir: Path, project: SyntheticProject, *, sources: bool = True
                 ) -> Path:
    """Write ``manifest.json``, ``run_results.json`` (and ``sources.json``) into
    ``target_dir``."""
    write_json(target_dir / "manifest.json", project.manifest)
    write_json(target_dir / "run_results.json", project.run_results)
    if sources and project.sources is not None:
        write_json(target_dir / "sources.json", project.sources)
    return target_dir


def write_history(history_dir: Path, project: SyntheticProject) -> int:
    """Record every synthetic run into ``history_dir`` (as ``observe record`` would, with
    rows written); return the number of runs recorded."""
    from platform_tools.artifacts.manifest import Manifest
    from platform_tools.observe.history import RUN_SCHEMA, manifest_summary, publish_run

    manifest = Manifest.from_dict(project.manifest, history_dir / "manifest.json")
    summary: dict[str, Any] | None = None
    recorded = 0
    for run in project.runs:
        ends = list(itertools.accumulate(run.seconds))
        starts = [round(e - s, 3) for e, s in zip(ends, run.seconds, strict=True)]
        counts: dict[str, int] = {}
        for status in run.statuses:
            counts[status] = counts.get(status, 0) + 1
        doc = {
            "schema": RUN_SCHEMA,
            "invocation_id": run.invocation_id,
            "command": "build",
            "invocation_command": "dbt build",
            "project": manifest.metadata.project_name,
            "dbt_version": manifest.metadata.dbt_version,
            "started_at": run.started_at,
            "generated_at": run.started_at,
            "elapsed_time": round(ends[-1], 3) if ends else 0.0,
            "recorded_at": run.started_at,
            "status": "error" if ("error" in counts or "fail" in counts) else "success",
            "counts": counts,
            "nodes": {
                "unique_id": run.unique_ids,
                "status": run.statuses,
                "execution_time": run.seconds,
                "start_s": starts,
                "end_s": [round(e, 3) for e in ends],
                "rows_written": [run.rows.get(uid) for uid in run.unique_ids],
                "message": [run.messages.get(i) for i in range(len(run.unique_ids))],
            },
        }
        if summary is None:
            summary = manifest_summary(manifest, run.unique_ids)
        if publish_run(history_dir, doc, summary).status == "recorded":
            recorded += 1
    return recorded
