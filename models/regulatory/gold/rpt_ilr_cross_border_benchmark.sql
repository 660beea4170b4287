-- The Luxembourg regulator's cross-border benchmark: average daily consumption per
-- reporting meter in Luxembourg against the Netherlands, per UTC day. The Dutch figures are
-- DutchGrid data (metering's public regional consumption, fed by the dutchgrid bronze
-- ingestion): a change there reaches the ILR dashboard, which the exposure
-- `ilr_cross_border_dashboard` makes visible in the lineage.
with

region_days as (
    select * from {{ ref('fct_region_daily_consumption') }}
),

countries as (
    select
        reading_date,
        country_code,
        cast(sum(consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        cast(sum(meter_count) as bigint) as meter_count
    from region_days
    where country_code in ('LU', 'NL')
    group by reading_date, country_code
),

benchmark as (
    select
        reading_date,
        max(case when country_code = 'LU' then consumption_kwh end) as lu_consumption_kwh,
        max(case when country_code = 'LU' then meter_count end) as lu_meter_count,
        max(case when country_code = 'NL' then consumption_kwh end) as nl_consumption_kwh,
        max(case when country_code = 'NL' then meter_count end) as nl_meter_count
    from countries
    group by reading_date
)

select
    reading_date,
    lu_consumption_kwh,
    lu_meter_count,
    cast(lu_consumption_kwh / lu_meter_count as decimal(18, 3)) as lu_kwh_per_meter,
    nl_consumption_kwh,
    nl_meter_count,
    cast(nl_consumption_kwh / nl_meter_count as decimal(18, 3)) as nl_kwh_per_meter,
    cast(
        (lu_consumption_kwh / lu_meter_count) / (nl_consumption_kwh / nl_meter_count)
        as decimal(10, 4)
    ) as lu_to_nl_ratio
from benchmark
