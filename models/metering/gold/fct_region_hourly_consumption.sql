-- Hourly load per region (UTC hour): the input of demand forecasting. Incremental,
-- partitioned by UTC day: the days that received accepted readings since the last build are
-- recomputed whole.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['reading_date'],
) }}

{% set days = touched_partitions(
    ref('slv_readings'),
    partition_column='reading_date',
    upstream_loaded_at='ingested_at',
    loaded_at='last_ingested_at',
    data_type='date',
) %}
{{ replaced_partitions('reading_date', days) }}

with

readings as (
    select * from {{ ref('slv_readings') }}
    where {{ in_values('reading_date', days) }}
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
