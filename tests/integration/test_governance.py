"""Ownership rules of the project, checked on the parsed manifest (no engine needed).

One ``dbt parse`` of the real project feeds the manifest checks: descriptions, contracts,
keys, foreign keys, SLAs, PII, cross-group references, versions, snapshots, exposures and
docs. The access test copies the project, adds a model that references another team's
private model, and asserts that ``dbt parse`` itself refuses it.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, assert_ok, dbt, engine_env, free_port

DOMAINS = {
    "metering": "platform",
    "platform": "platform",
    "customers": "electra",
    "billing": "nordgrid",
    "commercial": "commercial_analytics",
    "regulatory": "regulatory_reporting",
    "forecasting": "demand_forecasting",
}
# the domains delivered with this module's issue; metering (platform team) predates it
NEW_DOMAINS = {"platform", "customers", "billing", "commercial", "regulatory", "forecasting"}
PII_NAMES = {
    "customer_id",
    "customer_name",
    "name",
    "email",
    "street",
    "postal_code",
    "city",
    "iban",
    "phone",
    "address",
}
# foreign keys of public models: column -> the public models it may reference
FOREIGN_KEYS = {
    "meter_id": {"dim_meters"},
    "region_code": {"dim_regions"},
    "country_code": {"dim_countries"},
    "contract_id": {"dim_contracts"},
    "latest_contract_id": {"dim_contracts"},
    "billing_period": {"dim_billing_periods"},
    "customer_key": {"dim_customers", "dim_contracts"},
    "supply_point_id": {"dim_supply_points"},
}
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".lakehouse",
    "target",
    "logs",
    "test-output",
    ".git",
    "__pycache__",
    "*.pyc",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "node_modules",
)


def _env(tmp: Path) -> dict[str, str]:
    env = engine_env(tmp / "lakehouse", free_port())
    env.pop("GRIDUNION_PII_PEPPER", None)  # parsing must not need the secret
    return env


def parse(project: Path, work: Path) -> Any:
    return dbt(
        project,
        _env(work),
        "parse",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    )


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("governance")
    assert_ok(parse(REPO, work))
    return dict(json.loads((work / "target" / "manifest.json").read_text()))


def nodes(manifest: dict[str, Any], *types: str) -> Iterator[dict[str, Any]]:
    for node in manifest["nodes"].values():
        if node["resource_type"] in types and node["package_name"] == "gridunion":
            yield node


def public_models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in nodes(manifest, "model") if n["access"] == "public"]


def domain_of(node: dict[str, Any]) -> str | None:
    return (node["config"].get("meta") or {}).get("domain")


def data_tests_on(manifest: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The generic data tests attached to a model (by its unique id)."""
    return [
        t
        for t in nodes(manifest, "test")
        if t.get("attached_node") == node["unique_id"] and t.get("test_metadata")
    ]


def is_pii(column: dict[str, Any]) -> bool:
    meta = {**(column.get("meta") or {}), **((column.get("config") or {}).get("meta") or {})}
    tags = set(column.get("tags") or []) | set((column.get("config") or {}).get("tags") or [])
    return bool(meta.get("pii")) or "pii" in tags


# -- every resource ------------------------------------------------------------------------


def test_every_model_seed_and_snapshot_has_a_description_group_and_domain(
    manifest: dict[str, Any],
) -> None:
    for node in nodes(manifest, "model", "seed", "snapshot"):
        assert node["description"].strip(), node["unique_id"]
        domain = domain_of(node)
        assert domain in DOMAINS, node["unique_id"]
        assert node["group"] == DOMAINS[domain], node["unique_id"]
        layer = node["config"]["meta"].get("layer")
        assert node["schema"] == f"{domain}_{layer}", node["unique_id"]


def test_every_macro_is_documented_in_its_folder_properties_file(
    manifest: dict[str, Any],
) -> None:
    """Each folder under macros/ has one `_<folder>__macros.yml` documenting every macro of the
    folder and each of its arguments (generic tests are the macros `test_<name>`)."""
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "gridunion"]
    assert macros
    folders = {Path(m["original_file_path"]).parent for m in macros}
    for folder in folders:
        assert sorted(p.name for p in (REPO / folder).glob("*.yml")) == [
            f"_{folder.name}__macros.yml"
        ], folder
    for macro in macros:
        name = macro["unique_id"]
        folder = Path(macro["original_file_path"]).parent
        assert macro["patch_path"] == f"gridunion://{folder}/_{folder.name}__macros.yml", name
        assert macro["description"].strip(), name
        assert all(a["description"].strip() for a in macro["arguments"]), name
        assert [a["name"] for a in macro["arguments"]] == macro_parameters(macro), name


def macro_parameters(macro: dict[str, Any]) -> list[str]:
    """The parameter names of a macro's (or generic test's) signature."""
    opening = re.search(r"\{%-?\s*(?:macro|test)\s+\w+\(", macro["macro_sql"])
    if opening is None:  # a materialization
        return []
    names, depth, current = [], 0, ""
    for char in macro["macro_sql"][opening.end():]:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [n.split("=")[0].strip() for n in names if n.strip()]


def test_each_domain_has_models(manifest: dict[str, Any]) -> None:
    found = {domain_of(n) for n in nodes(manifest, "model")}
    assert found == set(DOMAINS)
    assert {domain_of(n) for n in public_models(manifest)} == set(DOMAINS)


# -- public models: contracts, keys, foreign keys, SLA ---------------------------------------


def test_public_models_have_enforced_contracts_and_documented_typed_columns(
    manifest: dict[str, Any],
) -> None:
    for node in public_models(manifest):
        uid = node["unique_id"]
        assert node["config"]["contract"]["enforced"], uid
        assert node["columns"], uid
        for name, column in node["columns"].items():
            assert column["description"].strip(), (uid, name)
            assert column["data_type"], (uid, name)
        meta = node["config"]["meta"]
        assert meta.get("tier") in (1, 2, 3), uid
        assert int(meta["sla"]["freshness_hours"]) > 0, uid


BUILD_SCOPE = "__partitions_replaced_in_this_build__"


def scoped_to_the_build(where: str, column: str | None) -> bool:
    """The where of a test scoped to what its build replaced: the partitions, or (for a key
    across partitions) every row sharing a key with them (macros/system/where_subquery.sql)."""
    if where == BUILD_SCOPE:
        return True
    shared_key = f"{column} in (select {column} from __this__ where {BUILD_SCOPE})"
    return column is not None and " ".join(where.split()) == shared_key


def test_public_models_have_a_tested_key(manifest: dict[str, Any]) -> None:
    for node in public_models(manifest):
        tests = data_tests_on(manifest, node)
        by_kind: dict[str, set[str]] = {}
        for test in tests:
            kwargs = test["test_metadata"]["kwargs"]
            kind = test["test_metadata"]["name"]
            where = test["config"].get("where")
            if where and not scoped_to_the_build(where, test.get("column_name")):
                continue  # a filtered test does not make a key; the replaced-partitions
                # scopes do (whole table outside the build, docs/conventions.md)
            if kind == "unique_combination_of_columns":
                by_kind.setdefault(kind, set()).add(",".join(kwargs["combination_of_columns"]))
            elif test.get("column_name"):
                by_kind.setdefault(kind, set()).add(test["column_name"])
        unique = by_kind.get("unique", set())
        # an enforced not_null constraint is checked on every write: it is the not-null half
        not_null = by_kind.get("not_null", set()) | {
            name
            for name, column in node["columns"].items()
            if any(c["type"] == "not_null" for c in column.get("constraints") or [])
        }
        single = unique & not_null
        combined = [
            combo
            for combo in by_kind.get("unique_combination_of_columns", set())
            if set(combo.split(",")) <= not_null
        ]
        assert single or combined, f"{node['unique_id']}: no unique + not_null key"


def test_foreign_keys_of_public_models_have_relationships_tests(
    manifest: dict[str, Any],
) -> None:
    for node in public_models(manifest):
        if domain_of(node) not in NEW_DOMAINS:
            continue
        tests = data_tests_on(manifest, node)
        keys = {
            t["column_name"]
            for t in tests
            if t["test_metadata"]["name"] == "unique" and not t["config"].get("where")
        }
        related = {
            t["column_name"]: t["test_metadata"]["kwargs"]["to"]
            for t in tests
            if t["test_metadata"]["name"] == "relationships"
        }
        for column in node["columns"]:
            targets = FOREIGN_KEYS.get(column)
            if not targets or column in keys or node["name"] in targets:
                continue
            if column in {"country_code", "customer_key"} and column not in related:
                # optional for these two: required only where the model joins by them
                continue
            assert column in related, f"{node['unique_id']}.{column}: no relationships test"
            assert any(t in related[column] for t in targets), (node["unique_id"], column)


def test_billing_gold_is_tagged_finance(manifest: dict[str, Any]) -> None:
    billing_gold = [n for n in public_models(manifest) if domain_of(n) == "billing"]
    assert len(billing_gold) == 5
    assert all("finance" in n["tags"] for n in billing_gold)
    assert not [
        n for n in nodes(manifest, "model") if "finance" in n["tags"] and domain_of(n) != "billing"
    ]


# -- personal data ---------------------------------------------------------------------------


def test_no_public_model_exposes_a_pii_column(manifest: dict[str, Any]) -> None:
    for node in public_models(manifest):
        for name, column in node["columns"].items():
            assert not is_pii(column), f"{node['unique_id']} exposes PII column {name}"
            assert name not in PII_NAMES, f"{node['unique_id']} exposes {name}"


def test_pii_lives_only_in_customers_silver_and_is_tagged(manifest: dict[str, Any]) -> None:
    holders = {
        n["unique_id"]
        for n in nodes(manifest, "model", "snapshot", "seed")
        if any(is_pii(c) for c in n["columns"].values())
    }
    systems = ("nordgrid", "electra", "dutchgrid", "luxpower")
    bronze = {
        f"model.gridunion.brz_{system}__{entity}"
        for system in systems
        for entity in ("customers", "contracts")
    }
    # the customers domain's landed master data and its conformed silver table, nothing else
    assert holders == {"model.gridunion.slv_customers"} | bronze
    for uid in holders:
        assert manifest["nodes"][uid]["config"]["meta"].get("contains_pii") is True, uid
    for system in systems:  # every column of a landed customer record that names a person
        landed = manifest["nodes"][f"model.gridunion.brz_{system}__customers"]["columns"]
        assert sum(is_pii(column) for column in landed.values()) == 8, system
    customers = manifest["nodes"]["model.gridunion.slv_customers"]
    tagged = {name for name, column in customers["columns"].items() if is_pii(column)}
    assert tagged == {
        "customer_id",
        "customer_name",
        "email",
        "street",
        "postal_code",
        "city",
        "iban",
    }
    # the pseudonym is keyed: the macro reads the pepper from the engine session (never
    # rendered), models never hash ids themselves
    macro = manifest["macros"]["macro.gridunion.pseudonymize"]["macro_sql"]
    assert "from gridunion_pii_pepper" in macro and "sha2(concat(" in macro
    assert "env_var(" not in macro
    for node in nodes(manifest, "model"):
        code = node["raw_code"].lower()
        assert "sha2(" not in code and "md5(" not in code, node["unique_id"]


# -- references between teams ---------------------------------------------------------------


def test_cross_group_references_go_to_public_models_only(manifest: dict[str, Any]) -> None:
    crossing = 0
    for node in nodes(manifest, "model", "snapshot"):
        for parent_id in node["depends_on"]["nodes"]:
            parent = manifest["nodes"].get(parent_id)
            if parent is None or parent["group"] == node["group"]:
                continue
            crossing += 1
            assert parent["resource_type"] == "model", (node["unique_id"], parent_id)
            assert parent["access"] == "public", (node["unique_id"], parent_id)
            assert domain_of(parent) != domain_of(node)
    assert crossing >= 15  # the domains really build on each other


def test_no_cycles_between_domains(manifest: dict[str, Any]) -> None:
    edges: dict[str, set[str]] = {d: set() for d in DOMAINS}
    for node in nodes(manifest, "model", "snapshot"):
        for parent_id in node["depends_on"]["nodes"]:
            parent = manifest["nodes"].get(parent_id)
            if parent and domain_of(parent) != domain_of(node):
                edges[str(domain_of(node))].add(str(domain_of(parent)))

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(
            upstream == target
            or (upstream not in seen and reaches(upstream, target, seen | {upstream}))
            for upstream in edges[start]
        )

    assert not [d for d in DOMAINS if reaches(d, d, {d})]


def test_referencing_another_teams_private_model_fails_parse(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO, project, ignore=COPY_IGNORE)
    shortcut = project / "models" / "commercial" / "gold" / "fct_revenue_shortcut.sql"
    shortcut.write_text("select * from {{ ref('slv_invoice_lines') }}\n")
    result = parse(project, tmp_path)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert (
        "Node model.gridunion.fct_revenue_shortcut attempted to reference node "
        "model.gridunion.slv_invoice_lines, which is not allowed because the referenced node "
        "is private to the 'nordgrid' group." in output
    ), output[-2000:]
    # the same model reading billing's public product parses
    shortcut.write_text("select * from {{ ref('fct_invoice_lines') }}\n")
    assert_ok(parse(project, tmp_path))


# -- versions --------------------------------------------------------------------------------


def test_dim_customers_ships_v2_beside_deprecated_v1(manifest: dict[str, Any]) -> None:
    v1 = manifest["nodes"]["model.gridunion.dim_customers.v1"]
    v2 = manifest["nodes"]["model.gridunion.dim_customers.v2"]
    assert v1["latest_version"] == v2["latest_version"] == 2
    assert v1["deprecation_date"] and not v2["deprecation_date"]
    assert v1["access"] == v2["access"] == "public"
    assert {"valid_from", "valid_to", "is_current"} <= set(v2["columns"])
    assert not {"valid_from", "valid_to", "is_current"} & set(v1["columns"])
    # every consumer outside the customers domain names the version it reads
    pinned: dict[int, list[str]] = {1: [], 2: []}
    for node in nodes(manifest, "model"):
        if domain_of(node) == "customers":
            continue
        for ref in node["refs"]:
            if ref["name"] == "dim_customers":
                assert ref["version"] is not None, node["unique_id"]
                pinned[int(ref["version"])].append(node["name"])
    assert pinned[1] == ["rpt_market_structure"]
    assert pinned[2]


# -- snapshots, exposures, docs --------------------------------------------------------------


def test_snapshots_keep_scd2_history_with_hard_deletes(manifest: dict[str, Any]) -> None:
    snapshots = {n["name"]: n for n in nodes(manifest, "snapshot")}
    assert set(snapshots) == {
        "snp_customers", "snp_contracts", "snp_tariff_prices", "snp_invoice_lines"
    }
    for snapshot in snapshots.values():
        config = snapshot["config"]
        assert config["strategy"] == "check"
        assert config["hard_deletes"] in ("invalidate", "new_record")
        assert snapshot["schema"].endswith("_snapshots")
    tariff = snapshots["snp_tariff_prices"]["config"]
    assert tariff["unique_key"] == "tariff_validity_key"
    assert set(tariff["check_cols"]) == {"price_eur_per_kwh", "valid_to"}
    lines = snapshots["snp_invoice_lines"]["config"]
    assert lines["unique_key"] == "invoice_line_id"
    assert set(lines["check_cols"]) == {"consumption_kwh", "price_eur_per_kwh", "amount_eur"}
    # customer history never multiplies PII: the snapshot's relation holds none
    customer_parents = snapshots["snp_customers"]["depends_on"]["nodes"]
    assert customer_parents == ["model.gridunion.slv_customer_attributes"]


def test_exposures_have_owner_type_domain_and_lineage(manifest: dict[str, Any]) -> None:
    exposures = manifest["exposures"]
    assert len(exposures) >= 5
    for exposure in exposures.values():
        assert exposure["owner"]["email"] and exposure["owner"]["name"]
        assert exposure["type"] in ("dashboard", "ml", "application", "analysis", "notebook")
        assert exposure["depends_on"]["nodes"]
        assert exposure["config"]["meta"]["domain"] in DOMAINS
    regulators = {
        e["config"]["meta"].get("regulator") for e in exposures.values() if e["type"] == "dashboard"
    }
    assert {"BNetzA", "CRE", "ACM", "ILR"} <= regulators
    # the Luxembourg dashboard reads Dutch-sourced data: lineage reaches dutchgrid bronze
    cross_border = exposures["exposure.gridunion.ilr_cross_border_dashboard"]
    assert cross_border["config"]["meta"]["country_code"] == "LU"
    upstream: set[str] = set()
    frontier = list(cross_border["depends_on"]["nodes"])
    while frontier:
        uid = frontier.pop()
        if uid in upstream:
            continue
        upstream.add(uid)
        frontier.extend(manifest["parent_map"].get(uid, []))
    assert "model.gridunion.brz_dutchgrid__readings" in upstream


def test_docs_name_owner_products_and_sla_of_every_domain(manifest: dict[str, Any]) -> None:
    docs = {
        d["name"]: d["block_contents"]
        for d in manifest["docs"].values()
        if d["package_name"] == "gridunion"
    }
    overview = docs["__overview__"]
    groups = {g["name"]: g for g in manifest["groups"].values()}
    for domain, group in DOMAINS.items():
        block = docs[f"domain_{domain}"]
        owner = groups[group]["owner"]
        assert owner["email"] in block and owner["email"] in overview, domain
        assert "SLA" in block
        for node in public_models(manifest):
            if domain_of(node) == domain:
                assert node["name"] in block and node["name"] in overview, node["name"]
                if domain in NEW_DOMAINS:  # the description carries the domain's block
                    assert owner["email"] in node["description"], node["unique_id"]


def test_pricing_logic_is_pinned_by_unit_tests(manifest: dict[str, Any]) -> None:
    unit_tests = {u["name"]: u for u in manifest["unit_tests"].values()}
    pricing = [u for u in unit_tests.values() if u["model"] == "slv_consumption_priced"]
    assert len(pricing) >= 3
    given_days = json.dumps([u["given"] for u in pricing])
    assert "2024-03-31" in given_days and "2024-10-27" in given_days  # both DST days
    assert "prices_each_day_with_the_tariff_valid_that_day" in unit_tests
    assert "uses_the_current_version_of_a_corrected_tariff" in unit_tests
