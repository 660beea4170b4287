-- The meter dimension: every known smart meter of the four systems, keyed by its EAN-18,
-- removed (replaced) meters included with the day they were removed: their past readings
-- keep their meter, region and supply point.
-- Incremental: partitioned like slv_meters into 64 buckets of meter codes, a build replaces
-- only the buckets in which a meter changed since the last build.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['meter_bucket'],
) }}

{% set buckets = touched_partitions(
    ref('slv_meters'),
    partition_column='meter_bucket',
    upstream_loaded_at='ingested_at',
    loaded_at='last_ingested_at',
    data_type='int',
) %}
{{ replaced_partitions('meter_bucket', buckets) }}

with

meters as (
    select * from {{ ref('slv_meters') }}
    where {{ in_values('meter_bucket', buckets) }}
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
    case when is_removed then last_changed_on end as removed_on,
    last_changed_on,
    ingested_at as last_ingested_at,
    meter_bucket
from meters
