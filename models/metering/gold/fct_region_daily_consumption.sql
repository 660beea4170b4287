-- Daily consumption per region (UTC day), the sum of its meters' daily consumption.
-- Incremental like fct_meter_daily_consumption: only changed days are recomputed.
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['region_code', 'reading_date'],
) }}

with

meter_days as (
    select * from {{ ref('fct_meter_daily_consumption') }}
),

{% if is_incremental() %}
changed_days as (
    select distinct reading_date
    from meter_days
    where last_ingested_at > (select max(last_ingested_at) from {{ this }})
),
{% endif %}

daily as (
    select
        region_code,
        reading_date,
        max(country_code) as country_code,
        cast(sum(consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        count(*) as meter_count,
        cast(sum(interval_count) as bigint) as interval_count,
        max(last_ingested_at) as last_ingested_at
    from meter_days
    {% if is_incremental() %}
    where reading_date in (select reading_date from changed_days)
    {% endif %}
    group by region_code, reading_date
)

select * from daily
