-- Every parsed reading with its canonical meter and, when rejected, exactly one quarantine
-- reason, checked in this order (the generator's precedence, docs/landing.md):
--   unparsable > unknown_meter > too_late > negative > implausible > duplicate > superseded
-- De-duplication runs only on rows that pass the row checks: per meter and interval the
-- latest send time wins (a corrected re-send beats the original); a copy equal to the
-- winner is a `duplicate`, an earlier different value is `superseded`. Ties are broken by
-- batch, file and row so the rule is deterministic.
{% set output_columns = [
    'source_system',
    'source_file',
    'ingest_date',
    'source_row_number',
    'local_meter_code',
    'meter_id',
    'region_code',
    'country_code',
    'interval_start_at',
    'to_date(interval_start_at) as reading_date',
    'interval_minutes',
    'energy_kwh',
    'sent_at',
    'parse_error',
    'ingested_at',
    'quarantine_reason',
] %}

with

parsed as (
    select * from {{ ref('slv_readings_parsed') }}
),

meters as (
    select * from {{ ref('slv_meters') }}
),

checked as (
    select
        parsed.*,
        meters.meter_id,
        meters.region_code,
        meters.country_code,
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

ranked as (
    select
        *,
        row_number() over (
            partition by meter_id, interval_start_at
            order by sent_at desc, ingest_date desc, source_file desc, source_row_number desc
        ) as version_rank,
        first_value(energy_kwh) over (
            partition by meter_id, interval_start_at
            order by sent_at desc, ingest_date desc, source_file desc, source_row_number desc
        ) as winning_energy_kwh,
        first_value(sent_at) over (
            partition by meter_id, interval_start_at
            order by sent_at desc, ingest_date desc, source_file desc, source_row_number desc
        ) as winning_sent_at
    from checked
    where row_check_reason is null
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
),

rejected_by_row_checks as (
    select
        *,
        row_check_reason as quarantine_reason
    from checked
    where row_check_reason is not null
)

select
    {{ output_columns | join(',\n    ') }}
from deduplicated
union all
select
    {{ output_columns | join(',\n    ') }}
from rejected_by_row_checks
