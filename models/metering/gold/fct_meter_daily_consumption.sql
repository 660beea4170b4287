-- Daily consumption per meter (UTC day). Incremental: each build recomputes only the days
-- that received readings since the last build, so a late reading or a corrected re-send
-- lands on its own day without a full refresh, and the merge on (meter, day) never
-- duplicates a row.
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key=['meter_id', 'reading_date'],
) }}

with

readings as (
    select * from {{ ref('slv_readings') }}
),

{% if is_incremental() %}
changed_days as (
    select distinct reading_date
    from readings
    where ingested_at > (select max(last_ingested_at) from {{ this }})
),
{% endif %}

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
    {% if is_incremental() %}
    where reading_date in (select reading_date from changed_days)
    {% endif %}
    group by meter_id, reading_date
)

select * from daily
