-- Daily consumption per meter (UTC day). Incremental, partitioned by day: a build recomputes
-- whole the days that received accepted readings since the last build and replaces those
-- partitions, so a late reading or a corrected re-send lands on its own day without a full
-- refresh, and a (meter, day) is never duplicated.
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

daily as (
    select
        meter_id,
        reading_date,
        max(country_code) as country_code,
        max(region_code) as region_code,
        max(source_system) as source_system,
        cast(sum(energy_kwh) as decimal(18, 3)) as consumption_kwh,
        count(*) as interval_count,
        max(ingested_at) as last_ingested_at
    from readings
    group by meter_id, reading_date
)

select * from daily
