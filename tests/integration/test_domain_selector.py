"""``--select domain:<name>`` with the stock ``dbt`` CLI on the real project.

``dbt ls`` parses and selects without opening a connection, so these tests need no engine:
they pin what the ``dbt_gridunion`` plugin's ``domain`` method selects, with graph and set
operators, exclusion, and an unknown domain. The real ``dbt build --select domain:<each>``
runs on the engine in ``test_domains.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, assert_ok, dbt, engine_env, free_port

DOMAINS = ["billing", "commercial", "customers", "forecasting", "metering", "platform",
           "regulatory"]


@dataclass
class Project:
    work: Path
    env: dict[str, str]
    manifest: dict[str, Any]

    def dbt(self, *args: str) -> Any:
        return dbt(REPO, self.env, *args, "--target-path", str(self.work / "target"),
                   "--log-path", str(self.work / "logs"))

    def ls(self, *args: str) -> dict[str, str]:
        """unique_id -> resource_type of what ``dbt ls <args>`` selects."""
        result = self.dbt("ls", *args, "--output", "json", "--output-keys", "unique_id",
                          "resource_type", "--quiet")
        assert_ok(result)
        rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        return {row["unique_id"]: row["resource_type"] for row in rows}

    def domain(self, uid: str) -> str | None:
        """meta.domain of a resource; a unit test belongs to the domain of its model."""
        if uid in self.manifest["unit_tests"]:
            return self.domain(self.manifest["unit_tests"][uid]["depends_on"]["nodes"][0])
        node = (
            self.manifest["nodes"].get(uid)
            or self.manifest["exposures"].get(uid)
            or self.manifest["sources"].get(uid)
        )
        if node is None:
            return None
        config = node.get("config") or {}
        return (config.get("meta") or {}).get("domain") or (node.get("meta") or {}).get("domain")

    def of_domain(self, domain: str, types: Iterable[str]) -> set[str]:
        found = set()
        for collection in ("nodes", "exposures", "unit_tests"):
            for uid, node in self.manifest[collection].items():
                if node["resource_type"] in types and self.domain(uid) == domain:
                    found.add(uid)
        return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    work = tmp_path_factory.mktemp("selector")
    env = engine_env(work / "lakehouse", free_port())
    env.pop("GRIDUNION_PII_PEPPER", None)
    assert_ok(dbt(REPO, env, "parse", "--target-path", str(work / "target"),
                  "--log-path", str(work / "logs")))
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return Project(work, env, manifest)


def of_type(selected: dict[str, str], *types: str) -> set[str]:
    return {uid for uid, kind in selected.items() if kind in types}


RESOURCES = ("model", "seed", "snapshot", "exposure", "unit_test")


def test_domain_selects_exactly_the_domains_resources_and_their_tests(project: Project) -> None:
    selected = project.ls("--select", "domain:billing")
    assert of_type(selected, *RESOURCES) == project.of_domain("billing", RESOURCES)
    assert "snapshot.gridunion.snp_tariff_prices" in selected
    assert "model.gridunion.fct_invoices" in selected
    assert "exposure.gridunion.billing_revenue_dashboard" in selected
    assert (
        "unit_test.gridunion.slv_consumption_priced.prices_each_day_with_the_tariff_valid_that_day"
        in selected
    )
    tests = of_type(selected, "test")
    assert any(uid.startswith("test.gridunion.unique_fct_invoices_invoice_id") for uid in tests)
    # every selected test tests something of the domain
    for uid in tests:
        parents = project.manifest["nodes"][uid]["depends_on"]["nodes"]
        assert any(project.domain(p) == "billing" for p in parents), uid


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("platform", {"seed.gridunion.regions", "model.gridunion.dim_regions"}),
        ("forecasting", {"seed.gridunion.public_holidays",
                         "model.gridunion.fct_region_hourly_load_features",
                         "exposure.gridunion.demand_forecast_model"}),
        ("customers", {"snapshot.gridunion.snp_customers", "snapshot.gridunion.snp_contracts",
                       "model.gridunion.dim_customers.v1", "model.gridunion.dim_customers.v2"}),
        ("regulatory", {"exposure.gridunion.ilr_cross_border_dashboard",
                        "model.gridunion.rpt_bnetza_monthly_energy"}),
    ],
)
def test_domain_selects_seeds_snapshots_and_exposures(
    project: Project, domain: str, expected: set[str]
) -> None:
    selected = project.ls("--select", f"domain:{domain}")
    assert expected <= set(selected)
    assert {project.domain(uid) for uid in of_type(selected, *RESOURCES)} == {domain}


def test_upstream_operator_adds_what_billing_reads(project: Project) -> None:
    selected = project.ls("--select", "+domain:billing", "--resource-type", "model",
                          "snapshot")
    domains = {project.domain(uid) for uid in selected}
    assert domains == {"billing", "metering", "customers"}
    assert "model.gridunion.dim_contracts" in selected
    assert "model.gridunion.brz_dutchgrid__readings" in selected
    assert not any(project.domain(uid) in ("regulatory", "commercial") for uid in selected)


def test_downstream_operator_adds_billings_consumers(project: Project) -> None:
    selected = project.ls("--select", "domain:billing+", "--resource-type", "model",
                          "exposure")
    assert {project.domain(uid) for uid in selected} == {"billing", "commercial", "regulatory"}
    assert "exposure.gridunion.bnetza_monthly_dashboard" in selected
    assert "model.gridunion.dim_customer_360" in selected


def test_intersection_with_a_tag(project: Project) -> None:
    selected = project.ls("--select", "domain:billing,tag:finance")
    assert of_type(selected, "model") == {
        "model.gridunion.dim_billing_periods",
        "model.gridunion.dim_tariff_prices",
        "model.gridunion.fct_country_monthly_revenue",
        "model.gridunion.fct_invoice_line_corrections",
        "model.gridunion.fct_invoice_lines",
        "model.gridunion.fct_invoices",
    }
    # and their data and unit tests (which inherit the models' tags), nothing else
    assert set(selected) - of_type(selected, "model") == of_type(selected, "test", "unit_test")
    assert of_type(selected, "test")
    assert of_type(selected, "unit_test") == {
        "unit_test.gridunion.fct_invoices.rounds_the_invoice_total_once",
        "unit_test.gridunion.fct_invoice_line_corrections."
        "records_a_corrected_line_once_with_its_difference",
    }


def test_union_of_two_domains(project: Project) -> None:
    selected = project.ls("--select", "domain:billing domain:customers",
                          "--resource-type", "model", "snapshot")
    assert {project.domain(uid) for uid in selected} == {"billing", "customers"}
    assert of_type(selected, "snapshot") == {"snapshot.gridunion.snp_tariff_prices",
                                             "snapshot.gridunion.snp_invoice_lines",
                                             "snapshot.gridunion.snp_customers",
                                             "snapshot.gridunion.snp_contracts"}


def test_exclude_a_domain(project: Project) -> None:
    selected = project.ls("--exclude", "domain:metering", "--resource-type", "model", "seed",
                          "snapshot")
    domains = {project.domain(uid) for uid in selected}
    assert domains == set(DOMAINS) - {"metering"}


def test_unknown_domain_fails_and_lists_the_known_ones(project: Project) -> None:
    result = project.dbt("ls", "--select", "domain:biling")
    assert result.returncode != 0
    assert "unknown domain 'biling' in selector 'domain:biling'" in result.stdout
    assert f"known domains: {', '.join(DOMAINS)}" in result.stdout


def test_native_equivalents_select_the_same_models(project: Project) -> None:
    plugin = project.ls("--select", "domain:billing", "--resource-type", "model", "snapshot")
    native_meta = project.ls("--select", "config.meta.domain:billing",
                             "--resource-type", "model", "snapshot")
    native_group = project.ls("--select", "group:nordgrid", "--resource-type", "model",
                              "snapshot")
    assert plugin == native_meta == native_group
