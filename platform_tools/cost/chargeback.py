"""``chargeback.run(...) -> CostReport``: the pure core of ``platform-tools cost``.

The rule, in full (also in ``docs/platform_tools.md``):

1. **Compute.** Every executed node costs ``execution_time / 3600 x compute_per_hour`` of the
   team it is charged to, summed over the runs of the statement. Models, seeds and snapshots
   are charged to their team; tests and unit tests to the team owning the tested node;
   nodes without a team (hooks, unowned models) to ``unowned_team`` or ``(unassigned)``.
2. **Storage.** Every table costs ``bytes / 10^9 x storage_per_gb_month`` plus
   ``files / 1000 x per_thousand_files_month``, prorated to ``period_days / 30`` months,
   from the current version of its Delta table in the lakehouse warehouse.
3. **Sharing.** With ``shared_rule = "equal"``, the cost of a public model (its compute,
   its tests and its storage) is split equally among the *consuming teams*: the teams other
   than the producer with a model or exposure that reads it directly. When no other team
   reads it, the producer keeps it. ``shared_rule = "producer"`` turns sharing off.
4. **Rounding.** Amounts are exact ``Decimal`` values until the end. The grand total is
   rounded half up to the cent; every breakdown (teams, domains, layers, models) is then
   allocated from that total by the largest-remainder method, so each sums to it exactly.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Manifest
from platform_tools.artifacts.ownership import UNASSIGNED, Ownership
from platform_tools.artifacts.run_results import OK_STATUSES
from platform_tools.cost.config import CostConfig
from platform_tools.cost.money import ZERO, allocate, to_cents
from platform_tools.cost.storage import TableStorage
from platform_tools.cost.usage import UsageRun

SECONDS_PER_HOUR = Decimal(3600)
BYTES_PER_GB = Decimal(10) ** 9


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------
def total_seconds(usage: Sequence[UsageRun]) -> dict[str, float]:
    """Execution seconds per node summed over ``usage``. Runs with the same node list are
    added column-wise first (the common case: the same project built every day)."""
    layouts: list[tuple[Sequence[str], list[float]]] = []
    for run_ in usage:
        for uids, acc in layouts:
            if uids is run_.unique_ids or uids == run_.unique_ids:
                acc[:] = map(operator.add, acc, run_.seconds)
                break
        else:
            layouts.append((run_.unique_ids, [float(x or 0.0) for x in run_.seconds]))
    totals: dict[str, float] = {}
    for uids, acc in layouts:
        if not totals and len(set(uids)) == len(uids):
            totals = dict(zip(uids, acc, strict=True))
            continue
        for uid, spent in zip(uids, acc, strict=True):
            totals[uid] = totals.get(uid, 0.0) + spent
    return totals


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TeamCost:
    team: str
    cost_centre: str | None
    compute: Decimal
    storage: Decimal
    direct: Decimal
    shared_in: Decimal
    shared_out: Decimal
    total: Decimal
    share: float
    compute_seconds: float
    storage_bytes: int
    files: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "cost_centre": self.cost_centre,
            "compute": str(self.compute),
            "storage": str(self.storage),
            "direct": str(self.direct),
            "shared_in": str(self.shared_in),
            "shared_out": str(self.shared_out),
            "total": str(self.total),
            "share": round(self.share, 4),
            "compute_seconds": round(self.compute_seconds, 3),
            "storage_bytes": self.storage_bytes,
            "files": self.files,
        }


@dataclass(frozen=True, slots=True)
class ModelCost:
    unique_id: str
    label: str
    resource_type: str
    team: str
    domain: str | None
    layer: str | None
    public: bool
    compute_seconds: float
    storage_bytes: int
    files: int
    rows: int | None
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "unique_id": self.unique_id,
            "model": self.label,
            "resource_type": self.resource_type,
            "team": self.team,
            "domain": self.domain,
            "layer": self.layer,
            "public": self.public,
            "compute_seconds": round(self.compute_seconds, 3),
            "storage_bytes": self.storage_bytes,
            "files": self.files,
            "rows": self.rows,
            "amount": str(self.amount),
        }


@dataclass(frozen=True, slots=True)
class SharedModel:
    unique_id: str
    label: str
    producer: str
    consumers: tuple[str, ...]
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"unique_id": self.unique_id, "model": self.label, "producer": self.producer,
                "consumers": list(self.consumers), "amount": str(self.amount)}


@dataclass(frozen=True, slots=True)
class RedFlag:
    code: str
    subject: str
    team: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "subject": self.subject, "team": self.team,
                "message": self.message}


@dataclass(frozen=True)
class CostReport:
    currency: str
    period_days: int
    compute_source: str
    runs: int
    total: Decimal
    compute_total: Decimal
    storage_total: Decimal
    teams: tuple[TeamCost, ...]
    by_domain: tuple[tuple[str, Decimal], ...]
    by_layer: tuple[tuple[str, Decimal], ...]
    models: tuple[ModelCost, ...]
    shared: tuple[SharedModel, ...]
    red_flags: tuple[RedFlag, ...]
    shared_rule: str
    rates: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": "platform-tools cost",
            "currency": self.currency,
            "period_days": self.period_days,
            "compute_source": self.compute_source,
            "runs": self.runs,
            "shared_rule": self.shared_rule,
            "rates": dict(self.rates),
            "total": str(self.total),
            "compute_total": str(self.compute_total),
            "storage_total": str(self.storage_total),
            "teams": [t.as_dict() for t in self.teams],
            "by_domain": [{"domain": d, "amount": str(a)} for d, a in self.by_domain],
            "by_layer": [{"layer": layer, "amount": str(a)} for layer, a in self.by_layer],
            "models": [m.as_dict() for m in self.models],
            "shared_models": [s.as_dict() for s in self.shared],
            "red_flags": [f.as_dict() for f in self.red_flags],
        }


# --------------------------------------------------------------------------------------
# Computation
# --------------------------------------------------------------------------------------
Key = tuple[str, str]  # (bundle, team): a buildable node with its tests, charged to one team


@dataclass
class _NodeAmounts:
    compute: Decimal = ZERO
    storage: Decimal = ZERO
    seconds: float = 0.0
    bytes: int = 0
    files: int = 0
    rows: int | None = None
    stored: bool = False  # a table of the lakehouse belongs to this bundle
    total: Decimal = ZERO


@dataclass
class _Placement:
    """Which team each node is charged to, and the bundle whose cost it is part of: a
    model, seed or snapshot is its own bundle; a test belongs to the node it tests."""

    manifest: Manifest
    owner: Ownership
    unowned: str
    recorded_teams: dict[str, str | None]
    team: dict[str, str] = field(default_factory=dict)
    bundle: dict[str, str] = field(default_factory=dict)

    def key(self, uid: str) -> Key:
        if uid not in self.team:
            self._place(uid)
        return self.bundle[uid], self.team[uid]

    def _place(self, uid: str) -> None:
        node = self.manifest.nodes.get(uid)
        if node is None:
            self.team[uid] = self.recorded_teams.get(uid) or self.unowned
            self.bundle[uid] = uid
            return
        team, bundle = node.team, uid
        if node.resource_type in ("test", "unit_test"):
            tested = self.owner.tested_node(node)
            if tested is not None:
                bundle = tested.unique_id
                team = tested.team or team
        self.team[uid] = team or self.unowned
        self.bundle[uid] = bundle

    def producer(self, bundle: str) -> str:
        node = self.manifest.nodes.get(bundle)
        return self.team.get(bundle) or (node.team if node is not None else None) or self.unowned


def _amounts(
    placement: _Placement,
    config: CostConfig,
    usage: Sequence[UsageRun],
    storage: Mapping[str, TableStorage],
) -> dict[Key, _NodeAmounts]:
    """Steps 1 and 2 of the rule: exact compute and storage amounts per (bundle, team).
    Seconds are summed first, so that money is computed once per bundle."""
    seconds_by: dict[Key, float] = defaultdict(float)
    for uid, seconds in total_seconds(usage).items():
        seconds_by[placement.key(uid)] += seconds
    tables = {placement.key(uid): table for uid, table in storage.items()}
    months = Decimal(config.period_days) / Decimal(30)
    per_second: dict[str, Decimal] = {}
    amounts: dict[Key, _NodeAmounts] = {}
    for key in seconds_by.keys() | tables.keys():
        team = key[1]
        rates = config.rates_for(team)
        seconds = seconds_by.get(key, 0.0)
        entry = _NodeAmounts(seconds=seconds)
        if seconds:
            rate = per_second.get(team)
            if rate is None:
                rate = per_second[team] = rates.compute_per_hour / SECONDS_PER_HOUR
            entry.compute = Decimal(repr(seconds)) * rate
        stored = tables.get(key)
        if stored is not None:
            entry.bytes, entry.files, entry.rows = stored.bytes, stored.files, stored.rows
            entry.stored = True
            entry.storage = months * (
                Decimal(stored.bytes) / BYTES_PER_GB * rates.storage_per_gb_month
                + Decimal(stored.files) / Decimal(1000) * rates.per_thousand_files_month
            )
        entry.total = entry.compute + entry.storage
        amounts[key] = entry
    return amounts


@dataclass
class _Totals:
    """The exact amounts summed per bundle and per team."""

    bundle_cost: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    members: dict[str, list[Key]] = field(default_factory=lambda: defaultdict(list))
    compute: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    storage: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    compute_exact: Decimal = ZERO
    storage_exact: Decimal = ZERO

    @classmethod
    def of(cls, amounts: Mapping[Key, _NodeAmounts]) -> _Totals:
        totals = cls()
        for key, entry in amounts.items():
            bundle, team = key
            totals.bundle_cost[bundle] += entry.total
            totals.members[bundle].append(key)
            totals.compute[team] += entry.compute
            totals.compute_exact += entry.compute
            totals.seconds[team] += entry.seconds
            if entry.bytes or entry.files or entry.storage:
                totals.storage[team] += entry.storage
                totals.storage_exact += entry.storage
                totals.bytes[team] += entry.bytes
                totals.files[team] += entry.files
        return totals


@dataclass
class _Sharing:
    """Step 3: what each team pays directly, receives from and passes on to other teams."""

    direct: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    shared_in: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    shared_out: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    models: list[tuple[str, str, tuple[str, ...], Decimal]] = field(default_factory=list)


def _share(
    placement: _Placement,
    config: CostConfig,
    amounts: Mapping[Key, _NodeAmounts],
    totals: _Totals,
    consumers: Mapping[str, tuple[str, ...]],
) -> _Sharing:
    sharing = _Sharing()
    for bundle, cost in totals.bundle_cost.items():
        node = placement.manifest.nodes.get(bundle)
        producer = placement.producer(bundle)
        takers = consumers.get(bundle, ()) if node is not None and node.is_public else ()
        takers = tuple(t for t in takers if t != producer)
        if config.shared_rule == "equal" and takers and cost > 0:
            sharing.shared_out[producer] += cost
            for team in takers:
                sharing.shared_in[team] += cost / Decimal(len(takers))
            sharing.models.append((bundle, producer, takers, cost))
        else:
            for key in totals.members[bundle]:
                sharing.direct[key[1]] += amounts[key].total
    return sharing


def _team_costs(
    config: CostConfig,
    teams: Sequence[str],
    total: Decimal,
    halves: Mapping[str, Decimal],
    parts: Mapping[str, Decimal],
    totals: _Totals,
    sharing: _Sharing,
) -> list[TeamCost]:
    """Step 4 for teams: each column allocated from the rounded total."""
    direct_alloc = allocate(parts.get("direct", ZERO), {t: sharing.direct[t] for t in teams})
    shared_alloc = allocate(parts.get("shared", ZERO), {t: sharing.shared_in[t] for t in teams})
    out_alloc = allocate(parts.get("shared", ZERO), {t: sharing.shared_out[t] for t in teams})
    compute_alloc = allocate(halves.get("compute", ZERO), {t: totals.compute[t] for t in teams})
    storage_alloc = allocate(halves.get("storage", ZERO), {t: totals.storage[t] for t in teams})
    team_costs = []
    for team in teams:
        team_total = direct_alloc[team] + shared_alloc[team]
        team_costs.append(TeamCost(
            team=team,
            cost_centre=config.cost_centre(team),
            compute=compute_alloc[team],
            storage=storage_alloc[team],
            direct=direct_alloc[team],
            shared_in=shared_alloc[team],
            shared_out=out_alloc[team],
            total=team_total,
            share=float(team_total / total) if total else 0.0,
            compute_seconds=totals.seconds[team],
            storage_bytes=totals.bytes[team],
            files=totals.files[team],
        ))  # fmt: skip
    team_costs.sort(key=lambda t: (-t.total, t.team))
    return team_costs


def _breakdown(
    manifest: Manifest, bundle_cost: Mapping[str, Decimal], total: Decimal, attribute: str
) -> tuple[tuple[str, Decimal], ...]:
    """Step 4 by a bundle's (model's) attribute: ``domain`` or ``layer``."""
    weights: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for bundle, cost in bundle_cost.items():
        node = manifest.nodes.get(bundle)
        value = getattr(node, attribute) if node is not None else None
        weights[str(value) if value else "(none)"] += cost
    allocated = allocate(total, weights)
    return tuple(sorted(allocated.items(), key=lambda kv: (-kv[1], kv[0])))


def _model_costs(
    placement: _Placement,
    amounts: Mapping[Key, _NodeAmounts],
    totals: _Totals,
    total: Decimal,
) -> list[ModelCost]:
    """Step 4 per model (bundle)."""
    model_alloc = allocate(total, dict(totals.bundle_cost)) if totals.bundle_cost else {}
    models = []
    for bundle, amount in model_alloc.items():
        node = placement.manifest.nodes.get(bundle)
        parts_of = totals.members[bundle]
        rows = next((amounts[k].rows for k in parts_of if amounts[k].stored), None)
        models.append(ModelCost(
            unique_id=bundle,
            label=placement.owner.label(bundle),
            resource_type=node.resource_type if node else "unknown",
            team=placement.producer(bundle),
            domain=node.domain if node else None,
            layer=node.layer if node else None,
            public=bool(node and node.is_public),
            compute_seconds=sum(amounts[m].seconds for m in parts_of),
            storage_bytes=sum(amounts[m].bytes for m in parts_of),
            files=sum(amounts[m].files for m in parts_of),
            rows=rows,
            amount=amount,
        ))  # fmt: skip
    models.sort(key=lambda m: (-m.amount, m.unique_id))
    return models


def _shared_models(
    owner: Ownership, sharing: _Sharing, shared_total: Decimal
) -> tuple[SharedModel, ...]:
    """Step 4 for the shared public models."""
    if not sharing.models:
        return ()
    allocated = allocate(shared_total, {b: c for b, _, _, c in sharing.models})
    return tuple(
        SharedModel(b, owner.label(b), p, takers, allocated[b])
        for b, p, takers, _ in sorted(sharing.models, key=lambda s: (-s[3], s[0]))
    )


def run(
    manifest: Manifest,
    config: CostConfig,
    usage: Sequence[UsageRun],
    storage: Mapping[str, TableStorage],
    *,
    compute_source: str = "target",
    ownership: Ownership | None = None,
) -> CostReport:
    """The chargeback statement for ``usage`` (runs) and ``storage`` (tables), in the four
    steps of the module docstring."""
    owner = ownership or Ownership(manifest)
    recorded_teams: dict[str, str | None] = {}
    for run_ in usage:
        recorded_teams.update(run_.teams)
    placement = _Placement(manifest, owner, config.unowned_team or UNASSIGNED, recorded_teams)
    # 1-2: compute and storage, exact
    amounts = _amounts(placement, config, usage, storage)
    totals = _Totals.of(amounts)
    # 3: sharing
    consumers = _consumers(manifest, owner)
    sharing = _share(placement, config, amounts, totals, consumers)
    # 4: rounding and allocation
    total = to_cents(totals.compute_exact + totals.storage_exact)
    halves = allocate(total, {"compute": totals.compute_exact, "storage": totals.storage_exact})
    shared_sum = sum(sharing.shared_in.values(), ZERO)
    parts = allocate(total, {"direct": sum(sharing.direct.values(), ZERO), "shared": shared_sum})
    teams = sorted(
        set(placement.team.values())
        | set(sharing.direct)
        | set(sharing.shared_in)
        | set(sharing.shared_out)
    )
    team_costs = _team_costs(config, teams, total, halves, parts, totals, sharing)
    flags = red_flags(manifest, owner, config, team_costs, usage, consumers)
    return CostReport(
        currency=config.currency,
        period_days=config.period_days,
        compute_source=compute_source,
        runs=len(usage),
        total=total,
        compute_total=halves.get("compute", ZERO),
        storage_total=halves.get("storage", ZERO),
        teams=tuple(team_costs),
        by_domain=_breakdown(manifest, totals.bundle_cost, total, "domain"),
        by_layer=_breakdown(manifest, totals.bundle_cost, total, "layer"),
        models=tuple(_model_costs(placement, amounts, totals, total)),
        shared=_shared_models(owner, sharing, parts.get("shared", ZERO)),
        red_flags=tuple(flags),
        shared_rule=config.shared_rule,
        rates={
            "compute_per_hour": str(config.rates.compute_per_hour),
            "storage_per_gb_month": str(config.rates.storage_per_gb_month),
            "per_thousand_files_month": str(config.rates.per_thousand_files_month),
        },
    )


def _consumers(manifest: Manifest, owner: Ownership) -> dict[str, tuple[str, ...]]:
    """Teams reading each public node directly (models of any team and exposures)."""
    result: dict[str, tuple[str, ...]] = {}
    for node in manifest.buildable():
        if not node.is_public:
            continue
        teams = set()
        for child in owner.children.get(node.unique_id, ()):
            child_node = manifest.nodes.get(child)
            if child_node is not None and child_node.resource_type not in BUILDABLE_TYPES:
                continue
            team = owner.team_of(child)
            if team:
                teams.add(team)
        result[node.unique_id] = tuple(sorted(teams))
    return result


def red_flags(
    manifest: Manifest,
    owner: Ownership,
    config: CostConfig,
    teams: Sequence[TeamCost],
    usage: Sequence[UsageRun],
    consumers: Mapping[str, tuple[str, ...]],
) -> list[RedFlag]:
    """CF001 team over ``max_team_share``; CF002 cost per row rising; CF003 public model
    nobody else consumes."""
    flags: list[RedFlag] = []
    if len(teams) > 1:
        for team in teams:
            if team.share > config.max_team_share:
                flags.append(RedFlag(
                    "CF001", team.team, team.team,
                    f"team {team.team} carries {team.share:.0%} of the spend "
                    f"(threshold {config.max_team_share:.0%})",
                ))
    flags.extend(_rising_cost_per_row(manifest, owner, config, usage))
    for node in sorted(manifest.buildable(), key=lambda n: n.unique_id):
        if not node.is_public:
            continue
        readers = [t for t in consumers.get(node.unique_id, ()) if t != node.team]
        if not readers:
            flags.append(RedFlag(
                "CF003", node.unique_id, node.team,
                f"public model {node.label} is read by no other team or exposure; "
                "make it protected or retire it",
            ))
    return flags


def _rising_cost_per_row(
    manifest: Manifest, owner: Ownership, config: CostConfig, usage: Sequence[UsageRun]
) -> list[RedFlag]:
    window = config.cost_per_row_runs
    if len(usage) < window:
        return []
    series: dict[str, list[float]] = defaultdict(list)  # newest first
    positions_of: list[tuple[Sequence[str], list[int]]] = []
    done: set[str] = set()
    for run_ in reversed(usage):
        if run_.rows is None:
            continue
        uids = run_.unique_ids
        positions = next((pos for seen, pos in positions_of if seen is uids or seen == uids),
                         None)
        if positions is None:
            positions = [
                i for i, uid in enumerate(uids)
                if (node := manifest.nodes.get(uid)) is not None
                and node.resource_type in BUILDABLE_TYPES
            ]
            positions_of.append((uids, positions))
        rows_col, seconds_col, statuses = run_.rows, run_.seconds, run_.statuses
        for i in positions:
            rows = rows_col[i]
            if not rows or rows <= 0 or (statuses is not None
                                         and statuses[i] not in OK_STATUSES):
                continue
            uid = uids[i]
            if uid in done:
                continue
            values = series[uid]
            values.append((seconds_col[i] or 0.0) / rows)
            if len(values) >= window:
                done.add(uid)
        if series and len(done) == len(series):
            break
    flags = []
    for uid, newest_first in sorted(series.items()):
        last = newest_first[:window][::-1]
        if len(last) < window or last[0] <= 0:
            continue
        rising = all(b >= a for a, b in zip(last, last[1:], strict=False))
        if rising and last[-1] >= last[0] * (1 + config.cost_per_row_rise):
            flags.append(RedFlag(
                "CF002", uid, owner.team_of(uid),
                f"cost per row of {owner.label(uid)} rose {last[-1] / last[0] - 1:.0%} over "
                f"the last {window} runs",
            ))
    return flags
