-- Daily consumption per region (UTC day), the sum of its meters' daily consumption.
-- Incremental like fct_meter_daily_consumption: the changed days are recomputed whole.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['reading_date'],
    on_schema_change='fail',
) }}

{% set watermark = incremental_watermark('last_ingested_at') %}
{% if is_incremental() %}
    {% set days = distinct_values(
        'select reading_date from ' ~ ref('fct_meter_daily_consumption')
        ~ ' where ' ~ newer_than('last_ingested_at', watermark), 'date') %}
    {{ replaced_partitions('reading_date', days) }}
{% endif %}

with

meter_days as (
    select * from {{ ref('fct_meter_daily_consumption') }}
    {% if is_incremental() %}
    where {{ in_values('reading_date', days) }}
    {% endif %}
),

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
    group by region_code, reading_date
)

select * from daily
