-- Daily consumption per region (UTC day), the sum of its meters' daily consumption.
-- Incremental like fct_meter_daily_consumption: the changed days are recomputed whole.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['reading_date'],
) }}

{% set days = touched_partitions(
    ref('fct_meter_daily_consumption'),
    partition_column='reading_date',
    upstream_loaded_at='last_ingested_at',
    loaded_at='last_ingested_at',
    data_type='date',
) %}
{{ replaced_partitions('reading_date', days) }}

with

meter_days as (
    select * from {{ ref('fct_meter_daily_consumption') }}
    where {{ in_values('reading_date', days) }}
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
