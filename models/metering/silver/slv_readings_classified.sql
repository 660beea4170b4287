-- Every parsed reading with its canonical meter and, when rejected, exactly one quarantine
-- reason, checked in this order (the generator's precedence, docs/landing.md):
--   unparsable > unknown_meter > too_late > negative > implausible > duplicate > superseded
-- De-duplication runs only on rows that pass the row checks: per meter and interval the
-- latest send time wins (a corrected re-send beats the original); a copy equal to the
-- winner is a `duplicate`, an earlier different value is `superseded`. Ties are broken by
-- batch, file, row and load time so the rule is deterministic.
--
-- Incremental, partitioned by batch (`ingest_date`): a build classifies only the readings
-- loaded into bronze since the last build. They are de-duplicated together with the accepted
-- readings of earlier builds that share their meter and interval; an earlier accepted reading
-- that loses becomes `duplicate`/`superseded` and its batch partition is rewritten with it.
-- Rows rejected earlier keep their reason. The batch's own partitions are replaced whole
-- (rows loaded earlier into the same ingest date are carried over), so the common daily
-- build only adds a partition.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['ingest_date'],
    on_schema_change='fail',
) }}

{% set row_columns = [
    'source_system',
    'source_file',
    'ingest_date',
    'source_row_number',
    'local_meter_code',
    'meter_id',
    'region_code',
    'country_code',
    'interval_start_at',
    'reading_date',
    'interval_minutes',
    'energy_kwh',
    'sent_at',
    'parse_error',
    'ingested_at',
] %}
{% set version_order =
    'sent_at desc, ingest_date desc, source_file desc, source_row_number desc, ingested_at desc' %}

{% set watermark = incremental_watermark('ingested_at') %}
{% if is_incremental() %}
    {% set batch_dates = distinct_values(
        'select ingest_date from ' ~ ref('slv_readings_parsed')
        ~ ' where ' ~ newer_than('ingested_at', watermark), 'date') %}
{% endif %}

with

parsed as (
    select * from {{ ref('slv_readings_parsed') }}
    where {{ newer_than('ingested_at', watermark) }}
),

meters as (
    select
        source_system,
        local_meter_code,
        meter_id,
        region_code,
        country_code
    from {{ ref('slv_meters') }}
    where not is_removed
),

checked as (
    select
        parsed.*,
        meters.meter_id,
        meters.region_code,
        meters.country_code,
        to_date(parsed.interval_start_at) as reading_date,
        case
            when not parsed.is_parsed then 'unparsable'
            when meters.meter_id is null then 'unknown_meter'
            when parsed.interval_start_at
                < cast(date_sub(parsed.ingest_date, {{ var('max_lateness_days') }}) as timestamp)
                then 'too_late'
            when parsed.energy_kwh < 0 then 'negative'
            when parsed.energy_kwh
                > {{ var('max_plausible_kwh_per_hour') }} * parsed.interval_minutes / 60.0
                then 'implausible'
        end as row_check_reason
    from parsed
    left join meters
        on parsed.source_system = meters.source_system
            and parsed.local_meter_code = meters.local_meter_code
),

{% if is_incremental() %}
loaded as (
    select * from {{ this }}
),

accepted_before as (
    -- accepted readings of earlier builds for a meter and interval of this batch
    select loaded.*
    from loaded
    left semi join (
        select distinct meter_id, interval_start_at
        from checked
        where row_check_reason is null
    ) as batch_keys
        on loaded.meter_id = batch_keys.meter_id
            and loaded.interval_start_at = batch_keys.interval_start_at
    where loaded.quarantine_reason is null
),
{% endif %}

candidates as (
    select
        {{ row_columns | join(',\n        ') }},
        true as is_new
    from checked
    where row_check_reason is null
    {% if is_incremental() %}
    union all
    select
        {{ row_columns | join(',\n        ') }},
        false as is_new
    from accepted_before
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by meter_id, interval_start_at order by {{ version_order }}
        ) as version_rank,
        first_value(energy_kwh) over (
            partition by meter_id, interval_start_at order by {{ version_order }}
        ) as winning_energy_kwh,
        first_value(sent_at) over (
            partition by meter_id, interval_start_at order by {{ version_order }}
        ) as winning_sent_at
    from candidates
),

deduplicated as (
    select
        *,
        case
            when version_rank = 1 then null
            when energy_kwh = winning_energy_kwh and sent_at = winning_sent_at then 'duplicate'
            else 'superseded'
        end as quarantine_reason
    from ranked
)

{% if is_incremental() %}
,

dethroned as (
    -- accepted readings of earlier builds that lost to a reading of this batch
    select
        ingest_date,
        source_file,
        source_row_number,
        ingested_at,
        quarantine_reason
    from deduplicated
    where not is_new and quarantine_reason is not null
),

reclassified as (
    select
        {% for column in row_columns -%}
        loaded.{{ column }},
        {% endfor -%}
        coalesce(dethroned.quarantine_reason, loaded.quarantine_reason) as quarantine_reason
    from loaded
    left join dethroned
        on loaded.source_file = dethroned.source_file
            and loaded.source_row_number = dethroned.source_row_number
            and loaded.ingested_at = dethroned.ingested_at
),

carried_over as (
    -- earlier rows of every partition this build rewrites: the batch's ingest dates, and
    -- the batches of dethroned readings
    select * from reclassified
    where {{ in_values('ingest_date', batch_dates) }}
    union all
    select * from reclassified
    where not {{ in_values('ingest_date', batch_dates) }}
        and ingest_date in (select ingest_date from dethroned)
)
{% endif %}

select
    {{ row_columns | join(',\n    ') }},
    quarantine_reason
from deduplicated
where is_new
union all
select
    {{ row_columns | join(',\n    ') }},
    row_check_reason as quarantine_reason
from checked
where row_check_reason is not null
{% if is_incremental() %}
union all
select
    {{ row_columns | join(',\n    ') }},
    quarantine_reason
from carried_over
{% endif %}
