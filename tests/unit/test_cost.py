"""platform_tools.cost: allocation to the cent, the sharing rule, storage, config, red flags."""

from __future__ import annotations

import json
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.settings import Settings, load_settings
from platform_tools.cost import chargeback
from platform_tools.cost.chargeback import total_seconds
from platform_tools.cost.config import CostConfig, Rates, TeamOverride
from platform_tools.cost.formats import FORMATS, render
from platform_tools.cost.money import allocate, to_cents
from platform_tools.cost.storage import TableStorage, read_table_storage, warehouse_storage
from platform_tools.cost.usage import UsageRun
from platform_tools.errors import UsageError
from tests.support.builder import ManifestBuilder
from tests.support.scenarios import gridunion

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts"


def manifest_of(builder: ManifestBuilder) -> Manifest:
    return Manifest.from_dict(builder.build(), Path("manifest.json"))


def usage(seconds: dict[str, float], rows: dict[str, int] | None = None,
          name: str = "run") -> UsageRun:
    uids = list(seconds)
    return UsageRun(name, None, uids, [seconds[u] for u in uids],
                    [(rows or {}).get(u) for u in uids], ["success"] * len(uids))


# --------------------------------------------------------------------------------------
# money
# --------------------------------------------------------------------------------------
def test_allocate_simple_cases() -> None:
    assert allocate(Decimal("1.00"), {"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)}) == {
        "a": Decimal("0.34"), "b": Decimal("0.33"), "c": Decimal("0.33")}
    assert allocate(Decimal("0"), {"a": Decimal(0)}) == {"a": Decimal("0.00")}
    with pytest.raises(ValueError):
        allocate(Decimal("1"), {"a": Decimal(0)})


def test_allocate_sums_to_the_total_property() -> None:
    rng = random.Random(20260105)
    for _ in range(500):
        weights = {f"t{i}": Decimal(str(round(rng.uniform(0, 1000), rng.randint(0, 9))))
                   for i in range(rng.randint(1, 12))}
        if not any(weights.values()):
            continue
        total = to_cents(Decimal(str(rng.uniform(0, 10_000))))
        parts = allocate(total, weights)
        assert sum(parts.values()) == total
        assert all(p >= 0 and p == p.quantize(Decimal("0.01")) for p in parts.values())
        exact_sum = sum(weights.values())
        for key, part in parts.items():  # never more than a cent from the exact share
            assert abs(part - total * weights[key] / exact_sum) < Decimal("0.01")


def test_chargeback_sums_to_the_total_over_random_configs() -> None:
    rng = random.Random(7)
    builder = gridunion()
    manifest = manifest_of(builder)
    uids = [u for u, n in builder.nodes.items() if n["resource_type"] in ("model", "test")]
    for _ in range(120):
        teams = {
            team: TeamOverride(compute_per_hour=Decimal(str(round(rng.uniform(0.5, 9), 3))))
            for team in rng.sample(["nordgrid", "electra", "platform"], rng.randint(0, 3))
        }
        config = CostConfig(
            rates=Rates(Decimal(str(round(rng.uniform(0.1, 20), 4))),
                        Decimal(str(round(rng.uniform(0, 1), 5))),
                        Decimal(str(round(rng.uniform(0, 1), 3)))),
            period_days=rng.randint(1, 90),
            shared_rule=rng.choice(["equal", "producer"]),
            teams=teams,
        )
        runs = [usage({u: rng.uniform(0, 900)
                       for u in rng.sample(uids, rng.randint(1, len(uids)))})
                for _ in range(rng.randint(1, 4))]
        storage = {u: TableStorage(Path(u), rng.randint(0, 10**11), rng.randint(0, 5000), None)
                   for u in rng.sample(uids, 5) if u.startswith("model.")}
        report = chargeback.run(manifest, config, runs, storage)
        assert sum(t.total for t in report.teams) == report.total
        assert sum(t.direct + t.shared_in for t in report.teams) == report.total
        assert sum(t.compute for t in report.teams) == report.compute_total
        assert sum(t.storage for t in report.teams) == report.storage_total
        assert report.compute_total + report.storage_total == report.total
        assert sum(a for _, a in report.by_domain) == report.total
        assert sum(a for _, a in report.by_layer) == report.total
        assert sum(m.amount for m in report.models) == report.total
        assert sum(t.shared_out for t in report.teams) == sum(t.shared_in for t in report.teams)


# --------------------------------------------------------------------------------------
# the rule
# --------------------------------------------------------------------------------------
def test_public_model_is_split_equally_among_consumers() -> None:
    b = gridunion()
    manifest = manifest_of(b)
    fct = b.model_id("fct_invoices")  # read by commercial_analytics only
    dim = b.model_id("dim_customers")  # read by nordgrid and commercial_analytics
    key_test = next(u for u in b.nodes if u.startswith("test.") and "_dim_customers_" in u)
    config = CostConfig(rates=Rates(Decimal("3600"), Decimal(0), Decimal(0)))  # 1 per second
    report = chargeback.run(manifest, config, [usage({fct: 10, dim: 20, key_test: 4})], {})
    teams = {t.team: t for t in report.teams}
    assert report.total == Decimal("34.00")
    assert teams["electra"].shared_out == Decimal("24.00")  # model + its test
    assert teams["electra"].total == Decimal("0.00")
    assert teams["nordgrid"].shared_in == Decimal("12.00")
    assert teams["nordgrid"].shared_out == Decimal("10.00")
    assert teams["commercial_analytics"].total == Decimal("22.00")
    shared = {s.label: s for s in report.shared}
    assert shared["dim_customers"].consumers == ("commercial_analytics", "nordgrid")


def test_producer_keeps_unconsumed_public_model_and_tests_go_to_tested_team() -> None:
    b = gridunion()
    c360 = b.model_id("fct_customer_360")
    test = next(u for u in b.nodes if u.startswith("test.") and "_fct_customer_360_" in u)
    config = CostConfig(rates=Rates(Decimal("3600"), Decimal(0), Decimal(0)))
    report = chargeback.run(manifest_of(b), config, [usage({c360: 5, test: 1})], {})
    (team,) = [t for t in report.teams if t.total]
    assert (team.team, team.total, team.shared_out) == ("commercial_analytics",
                                                         Decimal("6.00"), Decimal("0.00"))
    assert "CF003" in {f.code for f in report.red_flags}


def test_producer_rule_and_team_rates_and_unowned() -> None:
    b = gridunion()
    b.operation()
    dim = b.model_id("dim_customers")
    hook = "operation.gridunion.gridunion-on-run-start-0"
    config = CostConfig(rates=Rates(Decimal("3600"), Decimal(0), Decimal(0)),
                        shared_rule="producer", unowned_team="platform",
                        teams={"electra": TeamOverride(compute_per_hour=Decimal("7200"),
                                                       cost_centre="FR-ENG-7")})
    report = chargeback.run(manifest_of(b), config, [usage({dim: 1, hook: 1})], {})
    teams = {t.team: t for t in report.teams}
    assert teams["electra"].total == Decimal("2.00") and teams["electra"].cost_centre == "FR-ENG-7"
    assert teams["platform"].total == Decimal("1.00")


def test_red_flags_team_share_and_rising_cost_per_row() -> None:
    b = gridunion()
    fct = b.model_id("fct_meter_readings")
    inv = b.model_id("fct_invoices")
    runs = [usage({fct: 10 * (i + 1), inv: 1}, {fct: 1000, inv: 10}, f"r{i}") for i in range(4)]
    report = chargeback.run(manifest_of(b), CostConfig(), runs, {})
    flags = {(f.code, f.subject) for f in report.red_flags}
    assert ("CF002", fct) in flags and ("CF002", inv) not in flags
    assert any(code == "CF001" for code, _ in flags)


def test_total_seconds_adds_runs_with_shared_and_different_layouts() -> None:
    shared = ["a", "b"]
    runs = [UsageRun("1", None, shared, [1.0, 2.0]), UsageRun("2", None, shared, [3.0, 4.0]),
            UsageRun("3", None, ["b", "c", "c"], [1.0, 1.0, 1.0])]
    assert total_seconds(runs) == {"a": 4.0, "b": 7.0, "c": 2.0}


# --------------------------------------------------------------------------------------
# storage from Delta logs
# --------------------------------------------------------------------------------------
def test_storage_from_a_real_sail_delta_table(tmp_path: Path) -> None:
    table = tmp_path / "warehouse" / "fixture_silver" / "readings_merged"
    shutil.copytree(FIXTURES / "delta" / "readings_merged", table)
    storage = read_table_storage(table)
    assert storage is not None
    live = _live_files(table)
    # the third build merged readings 1..9 into the table: 9 rows in 5 live files
    assert (storage.files, storage.rows) == (len(live), 9) == (5, 9)
    assert storage.bytes == sum(p.stat().st_size for p in table.glob("part-*.parquet")
                                if p.name in live)
    manifest = Manifest.from_dict(json.loads(
        (FIXTURES / "mini_build" / "manifest.json").read_text()), Path("m"))
    found = warehouse_storage(tmp_path / "warehouse", manifest.buildable())
    assert set(found) == {"model.mini.readings_merged"}


def _live_files(table: Path) -> set[str]:
    live: set[str] = set()
    for commit in sorted((table / "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                live.add(action["add"]["path"])
            if "remove" in action:
                live.discard(action["remove"]["path"])
    return live


def test_storage_json_fallback_matches_deltalake(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from platform_tools.cost import storage as storage_module

    table = tmp_path / "t"
    shutil.copytree(FIXTURES / "delta" / "readings_merged", table)
    expected = read_table_storage(table)

    def broken(path: Path) -> TableStorage:
        raise RuntimeError("unsupported protocol")

    monkeypatch.setattr(storage_module, "_with_deltalake", broken)
    assert read_table_storage(table) == expected
    assert read_table_storage(tmp_path / "missing") is None


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
def _settings(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "platform_tools.toml"
    path.write_text(text)
    return load_settings(path)


def test_config_file_is_typed(tmp_path: Path) -> None:
    config = CostConfig.from_settings(_settings(tmp_path, """
[cost]
currency = "CHF"
compute_per_hour = "2.50"
period_days = 7
shared_rule = "producer"
[cost.teams.nordgrid]
compute_per_hour = 3
cost_centre = "DE-100"
"""))
    assert config.currency == "CHF" and config.period_days == 7
    assert config.rates.compute_per_hour == Decimal("2.50")
    assert config.rates_for("nordgrid").compute_per_hour == Decimal("3")
    assert config.rates_for("electra").compute_per_hour == Decimal("2.50")
    assert config.with_overrides(compute_per_hour=Decimal(1)).rates.compute_per_hour == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cost]\ncompute_rate = 1\n", "unknown key 'compute_rate'"),
        ("[costs]\n", "unknown section [costs]"),
        ("[cost]\nperiod_days = 'x'\n", "cost.period_days"),
        ("[cost]\ncompute_per_hour = -1\n", "cost.compute_per_hour"),
        ("[cost]\nshared_rule = 'random'\n", "cost.shared_rule"),
        ("[cost.teams.x]\nprice = 1\n", "unknown key 'price'"),
        ("[cost\n", "invalid TOML"),
    ],
)
def test_config_errors_are_usage_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("[", r"\[")) as info:
        CostConfig.from_settings(_settings(tmp_path, text))
    assert "platform_tools.toml" in info.value.message


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_formats(fmt: str) -> None:
    b = gridunion()
    report = chargeback.run(manifest_of(b), CostConfig(),
                            [usage({b.model_id("dim_customers"): 3600.0})], {})
    text = render(report, fmt)
    if fmt == "json":
        data = json.loads(text)
        assert data["total"] == "4.00"
        assert sum(Decimal(t["total"]) for t in data["teams"]) == Decimal(data["total"])
    elif fmt == "markdown":
        assert "## Chargeback: 4.00 EUR" in text and "### Per team" in text
        assert "| nordgrid |" in text
    else:
        assert "platform-tools cost: 4.00 EUR" in text and "Red flags" in text
