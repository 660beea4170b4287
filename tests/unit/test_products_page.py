"""platform_tools.products: the data products (public models by domain with owner, SLA,
version status, consumers and health), their Markdown and HTML pages, and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.run_results import RunResults
from platform_tools.cli import main
from platform_tools.observe import health
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import RunRecord, run_document
from platform_tools.products import build, render
from tests.support.builder import (
    ColumnSpec,
    ManifestBuilder,
    ResultSpec,
    run_results_dict,
    write_json,
)
from tests.support.scenarios import gridunion

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the runs below start 2026-01-01T06:00Z


def _project() -> ManifestBuilder:
    """The clean scenario plus a versioned customers product: v1 deprecated, v2 latest."""
    b = gridunion()
    cols = [ColumnSpec("customer_key", "string", "Key.", ("not_null",))]
    for version in (1, 2):
        uid = b.model("dim_customer_versions", team="electra", domain="customers",
                      layer="gold", access="public", columns=cols, contract=True,
                      description="Customers by version.\n\nMore text.", version=version,
                      latest_version=2, meta={"tier": 2, "sla": {"freshness_hours": 26},
                                              "product": "Customer versions"})
        if version == 1:
            b.nodes[uid]["deprecation_date"] = "2027-03-31T00:00:00+00:00"
    return b


def _manifest(b: ManifestBuilder) -> Manifest:
    return Manifest.from_dict(b.build(), Path("manifest.json"))


def _runs(b: ManifestBuilder, spec: dict[str, ResultSpec]) -> list[RunRecord]:
    manifest = _manifest(b)
    raw = run_results_dict("inv-1", spec, started_at="2026-01-01T06:00:00.000000Z")
    doc = run_document(RunResults.from_dict(raw, Path("rr.json")), manifest, None)
    return [RunRecord.from_document(doc, Path("run-1"))]


def _ok(b: ManifestBuilder) -> dict[str, ResultSpec]:
    return {uid: ResultSpec("pass" if uid.startswith("test.") else "success", 1.0)
            for uid, node in b.nodes.items() if node["resource_type"] in ("model", "test")}


def _products(b: ManifestBuilder, spec: dict[str, ResultSpec] | None) -> build.DataProducts:
    manifest = _manifest(b)
    report = None
    if spec is not None:
        report = health.run(manifest, _runs(b, spec), ObserveConfig(), now=NOW)
    return build.build(manifest, report, today=date(2026, 1, 1))


def _product(listing: build.DataProducts, label: str) -> build.Product:
    return next(p for p in listing.products if p.label == label)


def test_public_models_by_domain_with_owner_sla_and_consumers() -> None:
    listing = _products(_project(), None)
    assert [d.domain for d in listing.domains] == [
        "billing", "commercial", "customers", "metering", "regulatory"]
    labels = {p.label for p in listing.products}
    assert "fct_meter_readings" in labels and "slv_meter_readings" not in labels  # public only
    readings = _product(listing, "fct_meter_readings")
    assert readings.team == "platform"
    assert readings.owner == "platform lead <platform@gridunion.example>"
    assert readings.sla_hours == 24 and readings.tier == 1 and readings.contract_enforced
    # read directly by billing (slv_invoice_lines) and regulatory (rpt_lu_consumption)
    assert readings.reader_teams == ("nordgrid", "regulatory_reporting")
    # the Luxembourg dashboard sits two hops downstream
    assert [e.label for e in readings.exposures] == ["Luxembourg regulator dashboard"]
    assert _product(listing, "fct_customer_360").reader_teams == ()


def test_version_status_current_older_and_deprecated() -> None:
    listing = _products(_project(), None)
    v1 = _product(listing, "dim_customer_versions.v1")
    v2 = _product(listing, "dim_customer_versions.v2")
    assert v1.version_status == "deprecated on 2027-03-31; older version (v1; latest v2)"
    assert v1.is_deprecated and v1.deprecation_date == "2027-03-31"
    assert v2.version_status == "current (v2, latest)" and not v2.is_deprecated
    assert _product(listing, "fct_invoices").version_status == "current"
    assert v2.product == "Customer versions" and v2.description == "Customers by version."


def test_deprecation_date_in_the_past_reads_since() -> None:
    node = _manifest(_project()).nodes["model.gridunion.dim_customer_versions.v1"]
    assert build.version_status(node, date(2028, 1, 1)).startswith("deprecated since 2027-03-31")


def test_without_runs_every_product_says_no_runs_recorded() -> None:
    listing = _products(_project(), None)
    assert {p.health.status for p in listing.products} == {build.NO_RUNS}
    assert {d.status for d in listing.domains} == {build.NO_RUNS}
    assert listing.runs_recorded == 0
    text = render.to_markdown(listing)
    assert "Health: no runs recorded" in text and "⚪ no runs recorded" in text


def test_health_from_the_latest_run() -> None:
    b = _project()
    spec = _ok(b)
    failing = b.model_id("fct_invoices")
    spec[failing] = ResultSpec("error", 0.5, message="boom")
    test = next(u for u in b.nodes if u.startswith("test.") and "fct_customer_360" in u)
    spec[test] = ResultSpec("fail", 0.1)
    del spec[b.model_id("dim_customer_versions.v2")]
    listing = _products(b, spec)
    assert listing.runs_recorded == 1
    healthy = _product(listing, "fct_meter_readings").health
    assert healthy.status == "healthy" and healthy.level == "ok"
    assert healthy.last_success and healthy.age_hours is not None and healthy.age_hours < 7
    assert _product(listing, "fct_invoices").health.status == "failed"
    failing_tests = _product(listing, "fct_customer_360").health
    assert failing_tests.status == "tests failing" and failing_tests.issues
    # v2 was not part of the run: no successful run on record
    assert _product(listing, "dim_customer_versions.v2").health.status == "never built"
    statuses = {d.domain: d.status for d in listing.domains}
    assert statuses["billing"] == health.CRITICAL


def test_stale_when_the_sla_has_passed() -> None:
    b = gridunion()
    manifest = _manifest(b)
    later = datetime(2026, 1, 3, 12, 0, tzinfo=UTC)
    report = health.run(manifest, _runs(b, _ok(b)), ObserveConfig(), now=later)
    listing = build.build(manifest, report)
    assert _product(listing, "fct_invoices").health.status == "stale"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("href", "src")]


def test_html_is_self_contained_and_links_to_the_docs_site() -> None:
    listing = _products(_project(), None)
    page = render.to_html(listing, docs_url="index.html")
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags
    assert not [r for r in parser.refs if r.startswith(("http:", "https:", "//"))]
    assert "index.html#!/model/model.gridunion.fct_meter_readings" in parser.refs
    assert 'class="deprecated"' in page and "Luxembourg regulator dashboard" in page
    for domain in listing.domains:
        assert f'id="{domain.domain}"' in page


def test_markdown_lists_every_domain_and_product() -> None:
    listing = _products(_project(), None)
    text = render.to_markdown(listing, docs_url="https://docs.example/")
    for product in listing.products:
        assert f"`{product.label}`" in text
    assert "[`fct_invoices`](https://docs.example/#!/model/model.gridunion.fct_invoices)" in text
    assert "| metering |" not in text  # domains link to their section
    assert "[metering](#metering)" in text and "\n## metering\n" in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.splitlines())


def test_cli_writes_html_and_markdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "target"
    write_json(target / "manifest.json", _project().build())
    out = tmp_path / "site"
    docs = tmp_path / "docs" / "products.md"
    code = main(["products", "--out", str(out), "--markdown", str(docs), "--target-dir",
                 str(target), "--history-dir", str(tmp_path / "no-history"),
                 "--lakehouse", str(tmp_path / "lh"), "--docs-url", "index.html"])
    assert code == 0, capsys.readouterr().err
    assert (out / "products.html").is_file() and (out / "products.md").is_file()
    committed = docs.read_text()
    assert "no runs recorded" in committed and "index.html#!" not in committed
    assert "index.html#!/model/" in (out / "products.md").read_text()
    assert "wrote" in capsys.readouterr().out


def test_cli_without_manifest_is_an_artifact_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["products", "--out", str(tmp_path / "o"), "--target-dir", str(tmp_path / "t")])
    assert code == 3
    assert "target directory not found" in capsys.readouterr().err


def test_catalog_is_the_old_name_of_the_command(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "target"
    write_json(target / "manifest.json", _project().build())
    out = tmp_path / "site"
    code = main(["catalog", "--out", str(out), "--target-dir", str(target), "--history-dir",
                 str(tmp_path / "no-history"), "--lakehouse", str(tmp_path / "lh")])
    assert code == 0, capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {"products.html", "products.md"}
