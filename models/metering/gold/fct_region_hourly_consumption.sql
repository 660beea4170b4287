-- Hourly load per region (UTC hour): the input of demand forecasting. Incremental,
-- partitioned by UTC day: the days that received accepted readings since the last build are
-- recomputed whole.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['reading_date'],
    on_schema_change='fail',
) }}

{% set watermark = incremental_watermark('last_ingested_at') %}
{% if is_incremental() %}
    {% set days = distinct_values(
        'select reading_date from ' ~ ref('slv_readings')
        ~ ' where ' ~ newer_than('ingested_at', watermark), 'date') %}
    {{ replaced_partitions('reading_date', days) }}
{% endif %}

with

readings as (
    select * from {{ ref('slv_readings') }}
    {% if is_incremental() %}
    where {{ in_values('reading_date', days) }}
    {% endif %}
),

hourly as (
    select
        region_code,
        date_trunc('hour', interval_start_at) as hour_start_at,
        max(reading_date) as reading_date,
        max(country_code) as country_code,
        cast(sum(energy_kwh) as decimal(18, 3)) as consumption_kwh,
        count(distinct meter_id) as meter_count,
        max(ingested_at) as last_ingested_at
    from readings
    group by region_code, date_trunc('hour', interval_start_at)
)

select * from hourly
