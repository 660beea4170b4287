"""platform_tools.deps: every rule (passing and failing), breaking changes, formats, incidents."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from platform_tools.artifacts.manifest import Manifest
from platform_tools.deps import checks
from platform_tools.deps.checks import RULES
from platform_tools.deps.formats import FORMATS, render
from platform_tools.deps.model import DepsReport, Severity
from tests.support.builder import ColumnSpec, ManifestBuilder
from tests.support.scenarios import (
    gridunion,
    incident_bronze_change,
    incident_foreign_silver,
    incident_undeclared_dependency,
    internal,
    product,
)


def manifest_of(builder: ManifestBuilder, name: str = "manifest.json") -> Manifest:
    return Manifest.from_dict(builder.build(), Path(name))


def report(builder: ManifestBuilder, **kwargs: object) -> DepsReport:
    return checks.run(manifest_of(builder), **kwargs)  # type: ignore[arg-type]


def codes(result: DepsReport) -> set[str]:
    return {f.code for f in result.findings}


# --------------------------------------------------------------------------------------
# rules: one passing (the clean project) and one failing case per rule
# --------------------------------------------------------------------------------------
def _cross_domain_non_public(b: ManifestBuilder) -> None:
    internal(b, "slv_churn_signals", "commercial", "silver", ["slv_invoice_lines"],
             upstream=["billing"])


def _undeclared(b: ManifestBuilder) -> None:
    incident_undeclared_dependency(b)


def _gold_reads_bronze(b: ManifestBuilder) -> None:
    product(b, "rpt_nl_raw", "regulatory", ["brz_dutchgrid__readings"], upstream=["metering"])


def _bronze_reads_model(b: ManifestBuilder) -> None:
    internal(b, "brz_luxpower__meters", "metering", "bronze", ["brz_luxpower__readings"])


def _domain_cycle(b: ManifestBuilder) -> None:
    internal(b, "slv_customer_value", "customers", "silver", ["fct_invoices"],
             upstream=["billing"])


def _written_twice(b: ManifestBuilder) -> None:
    b.model("slv_invoice_lines_fix", team="commercial_analytics", domain="commercial",
            layer="silver", schema="billing_silver", alias="slv_invoice_lines",
            meta={"upstream_domains": []})


def _foreign_schema(b: ManifestBuilder) -> None:
    b.model("churn_flags", team="commercial_analytics", domain="commercial", layer="silver",
            schema="billing_silver")


def _no_contract(b: ManifestBuilder) -> None:
    uid = b.model_id("fct_invoices")
    b.nodes[uid]["contract"]["enforced"] = False
    b.nodes[uid]["config"]["contract"]["enforced"] = False


def _no_descriptions(b: ManifestBuilder) -> None:
    b.nodes[b.model_id("fct_invoices")]["columns"]["kwh"]["description"] = ""


def _no_owner(b: ManifestBuilder) -> None:
    b.groups["group.gridunion.nordgrid"]["owner"] = {"name": None, "email": None}


def _no_sla(b: ManifestBuilder) -> None:
    uid = b.model_id("fct_invoices")
    b.nodes[uid]["meta"].pop("sla")
    b.nodes[uid]["config"]["meta"].pop("sla")


def _no_key_tests(b: ManifestBuilder) -> None:
    for uid in [u for u in b.nodes if u.startswith("test.") and "_fct_invoices_" in u]:
        del b.nodes[uid]


def _no_team(b: ManifestBuilder) -> None:
    b.model("tmp_scratch", domain="billing", layer="silver")


def _no_domain(b: ManifestBuilder) -> None:
    b.model("tmp_scratch", team="nordgrid")


RULE_CASES: list[tuple[str, Callable[[ManifestBuilder], None], str]] = [
    ("GU001", _cross_domain_non_public, "slv_churn_signals"),
    ("GU002", _undeclared, "slv_invoice_lines"),
    ("GU003", _gold_reads_bronze, "rpt_nl_raw"),
    ("GU004", _bronze_reads_model, "brz_luxpower__meters"),
    ("GU005", _domain_cycle, "slv_"),
    ("GU006", _written_twice, "slv_invoice_lines_fix"),
    ("GU007", _foreign_schema, "churn_flags"),
    ("GU010", _no_contract, "fct_invoices"),
    ("GU011", _no_descriptions, "fct_invoices"),
    ("GU012", _no_owner, "fct_invoices"),
    ("GU013", _no_sla, "fct_invoices"),
    ("GU014", _no_key_tests, "fct_invoices"),
    ("GU020", _no_team, "tmp_scratch"),
    ("GU021", _no_domain, "tmp_scratch"),
]


def test_every_rule_has_a_case_and_documentation() -> None:
    assert sorted(RULES) == sorted(code for code, _, _ in RULE_CASES)
    for rule in RULES.values():
        doc = rule.doc
        assert rule.summary and "Rationale" in doc and "Example" in doc, rule.code


def test_clean_project_passes_every_rule() -> None:
    result = report(gridunion())
    assert result.findings == ()
    assert not result.failed


@pytest.mark.parametrize(("code", "mutate", "model"), RULE_CASES,
                         ids=[c for c, _, _ in RULE_CASES])
def test_rule_fails_on_its_case(
    code: str, mutate: Callable[[ManifestBuilder], None], model: str
) -> None:
    builder = gridunion()
    mutate(builder)
    result = report(builder)
    hits = [f for f in result.findings if f.code == code]
    assert hits, f"{code} did not fire: {[f.code for f in result.findings]}"
    assert any(model in f.label for f in hits)
    assert all(f.severity is Severity.ERROR for f in hits)
    assert result.failed


def test_domain_cycle_reports_the_path() -> None:
    builder = gridunion()
    _domain_cycle(builder)
    (finding,) = [f for f in report(builder).findings if f.code == "GU005"]
    assert "billing -> customers -> billing" in finding.message


def test_disable_and_severity_override() -> None:
    builder = gridunion()
    _no_sla(builder)
    config = checks.DepsConfig(severity={"GU013": Severity.WARN})
    result = checks.run(manifest_of(builder), config)
    assert [f.severity for f in result.findings] == [Severity.WARN]
    assert not result.failed and result.warnings == 1
    assert checks.run(manifest_of(builder), config.with_disabled(["GU013"])).findings == ()


def test_manifest_without_platform_conventions_still_runs() -> None:
    b = ManifestBuilder(project="other")
    b.model("a")
    b.model("b", refs=["a"], access="public")
    result = report(b)
    assert {"GU020", "GU021", "GU010"} <= codes(result)
    assert result.teams == ()


# --------------------------------------------------------------------------------------
# the three GridUnion incidents
# --------------------------------------------------------------------------------------
def test_incident_1_undeclared_cross_domain_dependency() -> None:
    baseline = manifest_of(gridunion(), "base.json")
    builder = gridunion()
    incident_undeclared_dependency(builder)
    result = checks.run(manifest_of(builder), baseline=baseline, new_only=True)
    (finding,) = [f for f in result.findings if f.new]
    assert finding.code == "GU002" and finding.team == "nordgrid"
    assert "domain customers" in finding.message and "dim_customers" in finding.message
    assert result.failed


@pytest.mark.parametrize("access", ["private", "protected"])
def test_incident_2_private_or_protected_silver_of_another_team(access: str) -> None:
    builder = gridunion()
    uid = builder.model_id("slv_invoice_lines")
    builder.nodes[uid]["access"] = access
    builder.nodes[uid]["config"]["access"] = access
    reader = internal(builder, "slv_churn_signals", "commercial", "silver",
                      ["slv_invoice_lines"], upstream=["billing"])
    (finding,) = [f for f in report(builder).findings if f.code == "GU001"]
    assert finding.node_id == reader and finding.team == "commercial_analytics"
    assert f"{access} model of domain billing, team nordgrid" in finding.message


def test_incident_2_foreign_silver_read_and_written() -> None:
    builder = gridunion()
    reader, writer = incident_foreign_silver(builder)
    result = report(builder)
    by_code = {(f.code, f.node_id) for f in result.findings}
    assert ("GU001", reader) in by_code
    assert ("GU006", writer) in by_code
    message = next(f.message for f in result.findings if f.code == "GU001")
    assert "slv_invoice_lines" in message and "team nordgrid" in message


def test_incident_3_bronze_change_reaches_luxembourg_dashboard() -> None:
    baseline = manifest_of(gridunion(), "base.json")
    builder = gridunion()
    incident_bronze_change(builder)
    result = checks.run(manifest_of(builder), baseline=baseline, new_only=True)
    kinds = {(b.code, b.kind) for b in result.breaking_changes}
    assert ("BC002", "column removed") in kinds
    assert ("BC003", "data type changed") in kinds
    for change in result.breaking_changes:
        assert change.team == "platform"
        assert change.severity is Severity.ERROR
        assert "regulatory_reporting" in change.affected_teams
        (dashboard,) = change.affected_exposures
        assert dashboard.label == "Luxembourg regulator dashboard"
        assert dashboard.team == "regulatory_reporting"
        assert "rpt_lu_consumption" in change.affected_model_labels
    markdown = render(result, "markdown")
    assert "Luxembourg regulator dashboard (regulatory_reporting)" in markdown
    assert "`regulatory_reporting`" in markdown
    assert result.failed


# --------------------------------------------------------------------------------------
# breaking changes
# --------------------------------------------------------------------------------------
def _breaks(mutate: Callable[[ManifestBuilder], None]) -> list[tuple[str, str]]:
    baseline = manifest_of(gridunion(), "base.json")
    builder = gridunion()
    mutate(builder)
    result = checks.run(manifest_of(builder), baseline=baseline)
    return [(b.code, b.kind) for b in result.breaking_changes]


def _rename(b: ManifestBuilder) -> None:
    columns = b.nodes[b.model_id("fct_invoices")]["columns"]
    column = columns.pop("kwh")
    column["name"] = "energy_kwh"
    columns["energy_kwh"] = column


def _retype(b: ManifestBuilder) -> None:
    b.nodes[b.model_id("fct_invoices")]["columns"]["kwh"]["data_type"] = "decimal(18,3)"


def _narrow(b: ManifestBuilder) -> None:
    uid = b.model_id("fct_invoices")
    b.nodes[uid]["access"] = "protected"
    b.nodes[uid]["config"]["access"] = "protected"


def _delete(b: ManifestBuilder) -> None:
    del b.nodes[b.model_id("fct_customer_360")]


def _disable(b: ManifestBuilder) -> None:
    uid = b.model_id("fct_customer_360")
    b.disabled[uid] = [b.nodes.pop(uid)]


BREAK_CASES = [
    (_rename, ("BC002", "column renamed")),
    (_retype, ("BC003", "data type changed")),
    (_no_contract, ("BC004", "contract removed")),
    (_narrow, ("BC005", "access narrowed")),
    (_delete, ("BC001", "model removed")),
    (_disable, ("BC001", "model disabled")),
]


@pytest.mark.parametrize(("mutate", "expected"), BREAK_CASES,
                         ids=[e[1] for _, e in BREAK_CASES])
def test_breaking_change_kinds(
    mutate: Callable[[ManifestBuilder], None], expected: tuple[str, str]
) -> None:
    assert expected in _breaks(mutate)


def test_type_synonyms_are_not_a_change() -> None:
    def synonym(b: ManifestBuilder) -> None:
        b.nodes[b.model_id("fct_invoices")]["columns"]["invoices_id"]["data_type"] = "BIGINT "

    assert _breaks(synonym) == []


def _versioned(b: ManifestBuilder, versions: list[int], change_latest: bool) -> None:
    for version in versions:
        cols = [ColumnSpec("tariff_id", "bigint", "Key.", ("not_null",)),
                ColumnSpec("price", "double", "Price.")]
        if change_latest and version == max(versions):
            cols[1] = ColumnSpec("price_eur", "decimal(10,4)", "Price in EUR.")
        product(b, "fct_tariffs", "billing", ["slv_invoice_lines"], columns=cols)
        uid = b.model_id("fct_tariffs")
        node = b.nodes.pop(uid)
        node["unique_id"] = f"{uid}.v{version}"
        node["version"] = version
        node["latest_version"] = max(versions)
        b.nodes[node["unique_id"]] = node
        for test_id in [t for t in b.nodes if t.startswith("test.")]:
            if b.nodes[test_id]["attached_node"] == uid:
                b.nodes[test_id]["attached_node"] = node["unique_id"]
                b.nodes[test_id]["depends_on"]["nodes"] = [node["unique_id"]]


def test_new_version_with_old_kept_is_allowed_and_removing_it_is_not() -> None:
    base = gridunion()
    _versioned(base, [1], change_latest=False)
    baseline = manifest_of(base, "base.json")

    kept = gridunion()
    _versioned(kept, [1, 2], change_latest=True)
    assert checks.run(manifest_of(kept), baseline=baseline).breaking_changes == ()

    removed = gridunion()
    _versioned(removed, [2], change_latest=True)
    result = checks.run(manifest_of(removed), baseline=baseline)
    assert [b.code for b in result.breaking_changes] == ["BC006"]


def test_unversioned_model_becoming_versioned_with_old_shape_kept() -> None:
    baseline = gridunion()
    product(baseline, "fct_tariffs", "billing", ["slv_invoice_lines"],
            columns=[ColumnSpec("tariff_id", "bigint", "Key.", ("not_null",)),
                     ColumnSpec("price", "double", "Price.")])
    current = gridunion()
    _versioned(current, [1, 2], change_latest=True)
    result = checks.run(manifest_of(current), baseline=manifest_of(baseline, "base.json"))
    assert result.breaking_changes == ()


def test_private_change_without_consumers_is_only_a_warning() -> None:
    def drop(b: ManifestBuilder) -> None:
        internal(b, "slv_scratch", "billing", "silver", ["slv_invoice_lines"],
                 columns=["a", "b"])

    baseline = gridunion()
    drop(baseline)
    current = gridunion()
    drop(current)
    del current.nodes[current.model_id("slv_scratch")]["columns"]["b"]
    result = checks.run(manifest_of(current), baseline=manifest_of(baseline, "b.json"))
    (change,) = result.breaking_changes
    assert change.severity is Severity.WARN and not result.failed


def test_new_only_ignores_existing_findings() -> None:
    base = gridunion()
    _no_sla(base)
    current = gridunion()
    _no_sla(current)
    result = checks.run(manifest_of(current), baseline=manifest_of(base, "b.json"),
                        new_only=True)
    assert [f.code for f in result.findings] == ["GU013"]
    assert not result.findings[0].new and not result.failed
    _no_key_tests(current)
    result = checks.run(manifest_of(current), baseline=manifest_of(base, "b.json"),
                        new_only=True)
    assert result.failed and [f.code for f in result.gating_findings] == ["GU014"]


# --------------------------------------------------------------------------------------
# team dependencies and filtering
# --------------------------------------------------------------------------------------
def test_team_dependencies() -> None:
    teams = {t.team: t for t in report(gridunion()).teams}
    platform = teams["platform"]
    assert platform.upstream_teams == ()
    assert platform.downstream_teams == ("nordgrid", "regulatory_reporting")
    assert [e.label for e in platform.exposures] == ["Luxembourg regulator dashboard"]
    assert "commercial_analytics" in platform.transitive_downstream_teams
    assert teams["nordgrid"].upstream_teams == ("electra", "platform")
    assert teams["regulatory_reporting"].owner == "regulatory_reporting lead"


def test_filter_by_team_and_domain() -> None:
    builder = gridunion()
    _no_sla(builder)
    _no_team(builder)
    result = report(builder)
    only = result.filtered({"nordgrid"}, None)
    assert {f.team for f in only.findings} == {"nordgrid"}
    assert [t.team for t in only.teams] == ["nordgrid"]
    by_domain = result.filtered(None, {"billing"})
    assert {f.domain for f in by_domain.findings} == {"billing"}


# --------------------------------------------------------------------------------------
# formats
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def incident_report() -> DepsReport:
    baseline = manifest_of(gridunion(), "base.json")
    builder = gridunion()
    incident_bronze_change(builder)
    incident_foreign_silver(builder)
    return checks.run(manifest_of(builder), baseline=baseline)


def test_json_format(incident_report: DepsReport) -> None:
    data = json.loads(render(incident_report, "json"))
    assert data["summary"]["failed"] is True
    assert "regulatory_reporting" in data["summary"]["affected_teams"]
    assert {f["code"] for f in data["findings"]} >= {"GU001", "GU006"}
    exposure = data["breaking_changes"][0]["affected_exposures"][0]
    assert exposure["team"] == "regulatory_reporting"
    assert {r["code"] for r in data["rules"]} == set(RULES)


def test_junit_format(incident_report: DepsReport) -> None:
    root = ET.fromstring(render(incident_report, "junit").split("\n", 1)[1])
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert int(suites["GU001 cross-domain-non-public-ref"].get("failures") or 0) >= 1
    assert int(suites["breaking-changes"].get("failures") or 0) == 2
    assert int(root.get("failures") or 0) == sum(
        int(s.get("failures") or 0) for s in suites.values())
    failure = suites["breaking-changes"].find("testcase/failure")
    assert failure is not None and "Luxembourg regulator dashboard" in (failure.text or "")
    passing = suites["GU013 public-without-sla"].findall("testcase")
    assert len(passing) == 1 and passing[0].find("failure") is None


def test_sarif_format(incident_report: DepsReport) -> None:
    sarif = json.loads(render(incident_report, "sarif"))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert set(RULES) <= rule_ids and "BC002" in rule_ids
    for result in run["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in ("error", "warning")
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith("models/")


def test_markdown_format_names_affected_teams(incident_report: DepsReport) -> None:
    text = render(incident_report, "markdown")
    assert text.startswith("## ❌")
    assert "**Teams affected by this change:**" in text
    for heading in ("### Breaking changes", "### Rule findings", "### Cross-team dependencies"):
        assert heading in text
    assert "| `brz_dutchgrid__readings` | platform |" in text


def test_table_format(incident_report: DepsReport) -> None:
    text = render(incident_report, "table")
    assert text.startswith("platform-tools deps FAILED")
    assert "Cross-team dependencies" in text and "GU006" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_an_empty_report(fmt: str) -> None:
    assert render(checks.run(manifest_of(ManifestBuilder(project="empty"))), fmt)


def test_a_model_named_like_a_public_models_candidate_writes_its_table_twice() -> None:
    """A public table model also writes ``<alias>__candidate`` (write-audit-publish)."""
    builder = gridunion()
    clash = builder.model("fct_invoices__candidate", team="nordgrid", domain="billing",
                          layer="gold", schema="billing_gold", meta={"upstream_domains": []})
    result = report(builder)
    assert ("GU006", clash) in {(f.code, f.node_id) for f in result.findings}
    assert not [f for f in report(gridunion()).findings if f.code == "GU006"]
