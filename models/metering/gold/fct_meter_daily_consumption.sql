-- Daily consumption per meter (UTC day). Incremental, partitioned by day: a build recomputes
-- whole the days that received accepted readings since the last build and replaces those
-- partitions, so a late reading or a corrected re-send lands on its own day without a full
-- refresh, and a (meter, day) is never duplicated.
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
