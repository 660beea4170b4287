"""Write-audit-publish of public models on the real engine (macros/system/write_audit_publish.sql).

A public table model and a public incremental model (partition replacement, with a test scoped
to the replaced partitions) are built in a copy of the fixture project with the platform's
hooks; their data tests are then made to fail by the data fed to them. Readers through SQL
(another team's model built in a later invocation, ``dbt show --inline``) keep the version that
passed, also after an engine restart; the build fails naming the model and its failing tests;
a fixed feed is published by the next build. The real project's table model ``dim_regions``
goes through the same cycle with a duplicated seed row.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from platform_tools.wap import published_table
from tests.helpers import (
    REPO,
    assert_ok,
    copy_fixture_project,
    dbt,
    engine_env,
    free_port,
    platform_tools,
)
from tests.integration.test_hub import PROJECT_PARTS

pytestmark = pytest.mark.engine

HOOKS = """
on-run-start:
  - "{{ gridunion_engine_notice() }}"
  - "{{ gridunion_ensure_registry() }}"
  - "{{ gridunion_wap_start() }}"
  - "{{ gridunion_scope_start() }}"
on-run-end:
  - "{{ gridunion_wap_publish(results) }}"
  - "{{ gridunion_scope_finish(results) }}"
"""

MODELS = {
    "gold/gold_meter_totals.sql": (
        "{{ config(access='public') }}\n"
        "select cast(meter as string) as meter, cast(kwh as int) as kwh\n"
        "from (values {{ var('totals') }}) as t (meter, kwh)\n"
    ),
    "gold/gold_daily.sql": (
        "{{ config(access='public', materialized='incremental',\n"
        "          incremental_strategy='insert_overwrite', partition_by=['day']) }}\n"
        "select cast(day as int) as day, cast(nullif(kwh, -1) as int) as kwh\n"
        "from (values {{ var('days') }}) as t (day, kwh)\n"
        "where day > 0\n"
    ),
    "gold/schema.yml": """
version: 2
models:
  - name: gold_meter_totals
    columns:
      - name: meter
        data_tests: [unique]
  - name: gold_daily
    columns:
      - name: kwh
        data_tests:
          - not_null: {config: {where: __partitions_replaced_in_this_build__}}
""",
    # another team's model, built in its own invocation
    "consumer/consumer_report.sql": (
        "select (select count(*) from {{ ref('gold_meter_totals') }}) as meters,\n"
        "       (select sum(kwh) from {{ ref('gold_meter_totals') }}) as total_kwh,\n"
        "       (select count(*) from {{ ref('gold_daily') }}) as days,\n"
        "       (select sum(kwh) from {{ ref('gold_daily') }}) as daily_kwh\n"
    ),
}


class WapProject:
    def __init__(self, project: Path, lakehouse: Path, env: dict[str, str]) -> None:
        self.project, self.lakehouse, self.env = project, lakehouse, env

    def dbt(self, *args: str) -> Any:
        return dbt(self.project, self.env, *args)

    def build(self, totals: str, days: str, select: str = "gold") -> Any:
        return self.dbt(
            "build", "--select", select, "--vars", f'{{totals: "{totals}", days: "{days}"}}'
        )

    def show(self, query: str) -> str:
        result = self.dbt(
            "show", "--inline", query, "--output", "json", "--vars", "{totals: x, days: x}"
        )
        assert_ok(result)
        return result.stdout

    def published_rows(self, name: str) -> list[dict[str, Any]]:
        found = published_table(self.lakehouse / "warehouse", "fixture_gold", name)
        assert found is not None, name
        path, version = found
        return DeltaTable(str(path), version=version).to_pyarrow_table().to_pylist()

    def newest_rows(self, name: str) -> list[dict[str, Any]]:
        path = self.lakehouse / "warehouse" / "fixture_gold" / f"{name}__candidate"
        return DeltaTable(str(path)).to_pyarrow_table().to_pylist()


@pytest.fixture(scope="module")
def wap_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WapProject]:
    base = tmp_path_factory.mktemp("wap")
    project = copy_fixture_project(base / "project")
    config = (project / "dbt_project.yml").read_text()
    config = re.sub(r"on-run-start:\n(  - .*\n)+on-run-end:\n(  - .*\n)+", HOOKS.lstrip(), config)
    config = config.replace(
        "    +meta: {domain: fixture, layer: silver}\n",
        "    +meta: {domain: fixture, layer: silver}\n    gold:\n      +meta: {layer: gold}\n",
        1,
    )
    (project / "dbt_project.yml").write_text(config)
    for name, text in MODELS.items():
        (project / "models" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "models" / name).write_text(text)
    lakehouse, port = base / "lakehouse", free_port()
    env = engine_env(lakehouse, port, project)
    try:
        yield WapProject(project, lakehouse, env)
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


def consumer_report(wap: WapProject) -> dict[str, Any]:
    assert_ok(wap.dbt("run", "--select", "consumer_report"))
    from platform_tools.engine.catalog import connect

    cfg = EngineConfig(
        lakehouse=wap.lakehouse,
        port=int(wap.env["GRIDUNION_ENGINE_PORT"]),
        session_id=DEFAULT_SESSION_ID,
    )
    row = (
        connect(cfg, new_client=True).sql("select * from fixture_silver.consumer_report").collect()
    )
    return row[0].asDict()


def test_a_public_model_that_fails_its_tests_stays_invisible_until_fixed(
    wap_project: WapProject,
) -> None:
    wap = wap_project
    good = wap.build("('a', 1), ('b', 2)", "(1, 10), (2, 20)")
    assert_ok(good)
    assert "WAP: published 2 public model(s)" in good.stdout
    before = {"meters": 2, "total_kwh": 3, "days": 2, "daily_kwh": 30}
    assert consumer_report(wap) == before

    # a duplicate meter (unique fails) and a missing reading (-1 -> null) in day 2 (scoped
    # not_null fails)
    bad = wap.build("('a', 1), ('a', 5)", "(2, -1), (3, 30)")
    assert bad.returncode != 0
    for model, test in (
        ("gold_meter_totals", "unique_gold_meter_totals_meter"),
        ("gold_daily", "not_null_gold_daily_kwh"),
    ):
        line = next(line for line in bad.stdout.splitlines() if f"(model {model})" in line)
        assert "WAP: not published fixture_gold." + model in line, line
        assert test in line and "readers keep version" in line, line
    # readers through SQL keep the passing versions: another team's model, dbt show
    assert consumer_report(wap) == before
    shown = wap.show("select meter, kwh from {{ ref('gold_meter_totals') }} order by meter")
    assert '"meter": "b"' in shown and '"kwh": 5' not in shown, shown
    # the Delta path: the candidate holds the failed version; the published version does not
    assert sorted(r["meter"] for r in wap.newest_rows("gold_meter_totals")) == ["a", "a"]
    assert sorted(r["meter"] for r in wap.published_rows("gold_meter_totals")) == ["a", "b"]
    assert {r["day"] for r in wap.published_rows("gold_daily")} == {1, 2}
    assert None in {r["kwh"] for r in wap.newest_rows("gold_daily")}

    # the published views survive an engine restart
    assert_ok(platform_tools(wap.env, "engine", "down"))
    assert consumer_report(wap) == before

    # a new day alone does not publish the day-2 null still in the candidate: the scoped test
    # reads the whole candidate while it holds unpublished rows
    new_day = wap.build("('a', 1), ('b', 2)", "(4, 40)", select="gold_daily")
    assert new_day.returncode != 0
    assert "not_null_gold_daily_kwh" in new_day.stdout
    assert consumer_report(wap) == before

    # fixed feeds: the next build publishes, readers see the new data
    fixed = wap.build("('a', 1), ('b', 3)", "(2, 22), (3, 30)")
    assert_ok(fixed)
    assert "WAP: published 2 public model(s)" in fixed.stdout
    assert consumer_report(wap) == {"meters": 2, "total_kwh": 4, "days": 4, "daily_kwh": 102}


def test_dbt_run_writes_a_candidate_that_only_a_passing_dbt_test_publishes(
    wap_project: WapProject,
) -> None:
    wap = wap_project
    assert_ok(wap.build("('a', 1), ('b', 3)", "(5, 50)"))
    before = consumer_report(wap)
    vars_ = "{totals: \"('a', 1), ('b', 3), ('c', 4)\", days: '(5, 50)'}"
    run = wap.dbt("run", "--select", "gold_meter_totals", "--vars", vars_)
    assert_ok(run)
    assert "no test of it ran" in run.stdout
    assert consumer_report(wap) == before
    test = wap.dbt("test", "--select", "gold_meter_totals", "--vars", vars_)
    assert_ok(test)
    assert "WAP: published 1 public model(s)" in test.stdout
    assert consumer_report(wap)["meters"] == 3


def test_real_project_dim_regions_keeps_its_last_audited_version(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The platform's gold table ``dim_regions`` with a duplicated region in its seed."""
    base = tmp_path_factory.mktemp("wap_regions")
    project = base / "project"
    (project / "docs").mkdir(parents=True)
    (project / "tests").mkdir()
    for part in PROJECT_PARTS:  # what a clone of the repository holds
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, project / part)
        elif source.exists():
            shutil.copy(source, project / part)
    lakehouse, port = base / "lakehouse", free_port()
    env = engine_env(lakehouse, port, project)
    count = "select count(*) as n from {{ ref('dim_regions') }}"
    try:
        assert_ok(dbt(project, env, "build", "--select", "+dim_regions"))
        shown = dbt(project, env, "show", "--inline", count, "--output", "json")
        assert '"n": 30' in shown.stdout, shown.stdout
        seed = project / "seeds" / "platform" / "regions.csv"
        lines = seed.read_text().splitlines()
        seed.write_text("\n".join([*lines, lines[1]]) + "\n")
        bad = dbt(project, env, "build", "--select", "+dim_regions")
        assert bad.returncode != 0
        assert re.search(
            r"WAP: not published platform_gold\.dim_regions \(model dim_regions\): failing tests "
            r".*unique_dim_regions_region_code.*; readers keep version \d+",
            bad.stdout,
        ), bad.stdout[-3000:]
        shown = dbt(project, env, "show", "--inline", count, "--output", "json")
        assert '"n": 30' in shown.stdout, shown.stdout
        seed.write_text("\n".join(lines) + "\n")
        assert_ok(dbt(project, env, "build", "--select", "+dim_regions"))
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))
