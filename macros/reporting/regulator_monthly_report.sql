{#-
    The monthly energy report every regulator receives, in one shape: per grid region and
    month, energy delivered and billed (MWh), metered supply points, supplied customers and
    billed revenue. Each `rpt_<regulator>_monthly_energy` model selects its regulator.
-#}
{% macro regulator_monthly_report(regulator_code) %}
with

regional_months as (
    select * from {{ ref('slv_regional_monthly_energy') }}
)

select
    reporting_period,
    region_code,
    region_name,
    country_code,
    regulator_code,
    cast(delivered_kwh / 1000 as decimal(18, 6)) as delivered_mwh,
    days_reported,
    peak_daily_meter_count,
    metered_supply_points,
    supplied_points,
    supplied_customers,
    cast(billed_kwh / 1000 as decimal(18, 6)) as billed_mwh,
    cast(round(billed_amount_eur, 2) as decimal(18, 2)) as billed_revenue_eur
from regional_months
where regulator_code = '{{ regulator_code }}'
{% endmacro %}
