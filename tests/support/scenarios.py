"""A small, clean GridUnion project as a :class:`ManifestBuilder`, and the three incidents
of the GridUnion story as changes to it (used by the tests and the docs' examples).

The clean project passes every ``deps`` rule:

- ``platform`` owns ``metering``: bronze ``brz_dutchgrid__readings`` and
  ``brz_luxpower__readings`` (sources), silver ``slv_meter_readings``, public gold
  ``fct_meter_readings``;
- ``electra`` owns ``customers``: bronze ``brz_electra__customers``, silver
  ``slv_customers``, public gold ``dim_customers``;
- ``nordgrid`` owns ``billing``: silver ``slv_invoice_lines`` (reads metering and customers,
  both declared), public gold ``fct_invoices``;
- ``regulatory_reporting`` owns ``regulatory``: public gold ``rpt_lu_consumption`` and the
  exposure ``lu_regulator_dashboard`` (Luxembourg regulator dashboard) on it;
- ``commercial_analytics`` owns ``commercial``: silver ``slv_customer_revenue`` (reads billing
  and customers), public gold ``fct_customer_360``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tests.support.builder import ColumnSpec, ManifestBuilder

TEAM_OF = {
    "metering": "platform",
    "customers": "electra",
    "billing": "nordgrid",
    "regulatory": "regulatory_reporting",
    "commercial": "commercial_analytics",
}


def product(
    b: ManifestBuilder,
    name: str,
    domain: str,
    refs: Iterable[str] = (),
    *,
    upstream: Sequence[str] = (),
    tier: int = 1,
    columns: Sequence[ColumnSpec] | None = None,
) -> str:
    """A public gold model that passes every public-model rule."""
    key = f"{name.split('_', 1)[1]}_id"
    cols = list(columns) if columns is not None else [
        ColumnSpec(key, "bigint", "Key.", ("not_null",)),
        ColumnSpec("meter_id", "string", "Meter id."),
        ColumnSpec("kwh", "double", "Energy in kWh."),
    ]
    uid = b.model(
        name, team=TEAM_OF[domain], domain=domain, layer="gold", access="public", refs=refs,
        columns=cols, contract=True, description=f"{name} data product.",
        meta={"tier": tier, "sla": {"freshness_hours": 24}, "upstream_domains": list(upstream)},
    )
    b.key_tests(uid, cols[0].name)
    return uid


def internal(
    b: ManifestBuilder,
    name: str,
    domain: str,
    layer: str,
    refs: Iterable[str] = (),
    *,
    sources: Iterable[str] = (),
    upstream: Sequence[str] = (),
    access: str | None = None,
    columns: Sequence[ColumnSpec | str] = ("meter_id", "kwh"),
) -> str:
    return b.model(
        name, team=TEAM_OF[domain], domain=domain, layer=layer,
        access=access or ("private" if layer == "bronze" else "protected"),
        refs=refs, sources=sources, columns=columns,
        meta={"upstream_domains": list(upstream)},
    )


def gridunion(project: str = "gridunion") -> ManifestBuilder:
    """The clean project (see the module docstring)."""
    b = ManifestBuilder(project=project)
    for team in sorted(set(TEAM_OF.values())):
        b.group(team, owner_name=f"{team} lead", email=f"{team}@gridunion.example")
    dutch = b.source("dutchgrid", "readings", domain="metering", team="platform",
                     freshness_hours=(12, 24))
    lux = b.source("luxpower", "readings", domain="metering", team="platform",
                   freshness_hours=(12, 24))
    electra = b.source("electra", "customers", domain="customers", team="electra")
    internal(b, "brz_dutchgrid__readings", "metering", "bronze", sources=[dutch],
             columns=[ColumnSpec("ean18", "string"), ColumnSpec("reading_wh", "bigint"),
                      ColumnSpec("read_at", "timestamp")])
    internal(b, "brz_luxpower__readings", "metering", "bronze", sources=[lux])
    internal(b, "slv_meter_readings", "metering", "silver",
             ["brz_dutchgrid__readings", "brz_luxpower__readings"])
    product(b, "fct_meter_readings", "metering", ["slv_meter_readings"])
    internal(b, "brz_electra__customers", "customers", "bronze", sources=[electra])
    internal(b, "slv_customers", "customers", "silver", ["brz_electra__customers"])
    product(b, "dim_customers", "customers", ["slv_customers"], tier=2)
    internal(b, "slv_invoice_lines", "billing", "silver",
             ["fct_meter_readings", "dim_customers"], upstream=["metering", "customers"])
    product(b, "fct_invoices", "billing", ["slv_invoice_lines"])
    product(b, "rpt_lu_consumption", "regulatory", ["fct_meter_readings"],
            upstream=["metering"])
    b.exposure("lu_regulator_dashboard", ["rpt_lu_consumption"], team="regulatory_reporting",
               domain="regulatory", label="Luxembourg regulator dashboard")
    internal(b, "slv_customer_revenue", "commercial", "silver",
             ["fct_invoices", "dim_customers"], upstream=["billing", "customers"])
    product(b, "fct_customer_360", "commercial", ["slv_customer_revenue"], tier=3)
    return b


# ---------------------------------------------------------------------------------------
# The three incidents
# ---------------------------------------------------------------------------------------
def incident_undeclared_dependency(b: ManifestBuilder) -> str:
    """Incident 1: billing depends on a French (customers) table nobody declared."""
    uid = b.model_id("slv_invoice_lines")
    b.set_meta(uid, upstream_domains=["metering"])
    return uid


def incident_foreign_silver(b: ManifestBuilder) -> tuple[str, str]:
    """Incident 2: commercial analytics reads billing's private silver table and writes a
    table over it."""
    reader = internal(b, "slv_churn_signals", "commercial", "silver", ["slv_invoice_lines"],
                      upstream=["billing"])
    writer = b.model(
        "slv_invoice_lines_fix", team="commercial_analytics", domain="commercial", layer="silver",
        schema="billing_silver", alias="slv_invoice_lines", refs=["slv_invoice_lines"],
        meta={"upstream_domains": ["billing"]},
    )
    return reader, writer


def incident_bronze_change(b: ManifestBuilder) -> str:
    """Incident 3: Dutch bronze ingestion drops ``ean18`` and retypes ``reading_wh``."""
    uid = b.model_id("brz_dutchgrid__readings")
    columns = b.nodes[uid]["columns"]
    del columns["ean18"]
    columns["reading_wh"]["data_type"] = "double"
    return uid
