-- The meter dimension: every known smart meter of the four systems, keyed by its EAN-18.
-- Incremental, partitioned by region: a build replaces only the regions of meters whose
-- state changed since the last build (their new region and the region they left).
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['region_code'],
    on_schema_change='fail',
) }}

{% set watermark = incremental_watermark('last_ingested_at') %}

{% set changed %}
    select meter_id, region_code, is_removed
    from {{ ref('slv_meters') }}
    where {{ newer_than('ingested_at', watermark) }}
{% endset %}

{% if is_incremental() %}
    {% set regions = distinct_values(
        'select region_code from (' ~ changed ~ ') as changed'
        ~ ' union all select dim.region_code from ' ~ this ~ ' as dim'
        ~ ' inner join (' ~ changed ~ ') as changed on dim.meter_id = changed.meter_id') %}
{% endif %}

with

meters as (
    select * from {{ ref('slv_meters') }}
    {% if is_incremental() %}
    where {{ in_values('region_code', regions) }}
    {% endif %}
)

select
    meter_id,
    source_system,
    local_meter_code,
    country_code,
    region_code,
    supply_point_id,
    meter_type,
    installed_on,
    last_changed_on,
    ingested_at as last_ingested_at
from meters
where not is_removed
