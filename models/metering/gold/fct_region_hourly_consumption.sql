-- Hourly load per region (UTC hour): the input of demand forecasting. Incremental on the
-- hours that received readings since the last build.
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['region_code', 'hour_start_at'],
) }}

with

readings as (
    select * from {{ ref('slv_readings') }}
),

{% if is_incremental() %}
changed_hours as (
    select distinct date_trunc('hour', interval_start_at) as hour_start_at
    from readings
    where ingested_at > (select max(last_ingested_at) from {{ this }})
),
{% endif %}

hourly as (
    select
        region_code,
        date_trunc('hour', interval_start_at) as hour_start_at,
        max(country_code) as country_code,
        cast(sum(energy_kwh) as decimal(18, 3)) as consumption_kwh,
        count(distinct meter_id) as meter_count,
        max(ingested_at) as last_ingested_at
    from readings
    {% if is_incremental() %}
    where date_trunc('hour', interval_start_at) in (select hour_start_at from changed_hours)
    {% endif %}
    group by region_code, date_trunc('hour', interval_start_at)
)

select * from hourly
