-- Every parsed reading of the four systems with its canonical meter and the first row-level
-- check it fails, in the generator's precedence (docs/landing.md):
--   unparsable > unknown_meter > too_late > future_dated > negative > implausible
-- too_late and future_dated are the plausibility window of a batch: an interval may start
-- from `max_lateness_days` before its ingest day up to `max_future_days` after its end.
-- null when it passes them all (de-duplication follows in slv_readings_classified).
-- Incremental and append-only: a build checks only the readings loaded into bronze since the
-- last build, once (the next model reads them by `ingested_at`, which prunes files); a row's
-- checks never change later (a reading of a meter unknown when it arrived stays quarantined).
-- A removed meter (a replaced one) stays known for the intervals before its removal day.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
) }}

{% set watermark = incremental_watermark('ingested_at') %}

with

parsed as (
    select * from {{ ref('slv_readings_parsed') }}
    where {{ newer_than('ingested_at', watermark) }}
),

meters as (
    -- removed meters too: a meter is known for the intervals before the day it was removed
    -- (its last readings may arrive late, after the removal has landed)
    select
        source_system,
        local_meter_code,
        meter_id,
        region_code,
        country_code,
        case when is_removed then last_changed_on end as removed_on
    from {{ ref('slv_meters') }}
)

select
    parsed.source_system,
    parsed.source_file,
    parsed.ingest_date,
    parsed.source_row_number,
    parsed.local_meter_code,
    meters.meter_id,
    meters.region_code,
    meters.country_code,
    parsed.interval_start_at,
    to_date(parsed.interval_start_at) as reading_date,
    parsed.interval_minutes,
    parsed.energy_kwh,
    parsed.sent_at,
    parsed.parse_error,
    parsed.ingested_at,
    case
        when not parsed.is_parsed then 'unparsable'
        when meters.meter_id is null then 'unknown_meter'
        when to_date(parsed.interval_start_at) >= meters.removed_on then 'unknown_meter'
        when parsed.interval_start_at
            < cast(date_sub(parsed.ingest_date, {{ var('max_lateness_days') }}) as timestamp)
            then 'too_late'
        when parsed.interval_start_at
            >= cast(date_add(parsed.ingest_date, 1 + {{ var('max_future_days') }}) as timestamp)
            then 'future_dated'
        when parsed.energy_kwh < 0 then 'negative'
        when parsed.energy_kwh
            > {{ var('max_plausible_kwh_per_hour') }} * parsed.interval_minutes / 60.0
            then 'implausible'
    end as row_check_reason
from parsed
left join meters
    on parsed.source_system = meters.source_system
        and parsed.local_meter_code = meters.local_meter_code
