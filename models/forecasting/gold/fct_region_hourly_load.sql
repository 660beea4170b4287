-- Hourly load per grid region, in UTC and local time, with the load per reporting meter.
with

hourly as (
    select * from {{ ref('slv_hourly_load') }}
)

select
    region_code,
    hour_start_at,
    country_code,
    local_hour_start_at,
    local_date,
    consumption_kwh,
    meter_count,
    cast(consumption_kwh / meter_count as decimal(18, 6)) as kwh_per_meter
from hourly
