-- Every reading of slv_readings_checked with, when rejected, exactly one quarantine reason:
-- its row-check reason, else the de-duplication's. Precedence (docs/landing.md):
--   unparsable > unknown_meter > too_late > future_dated > negative > implausible > duplicate
--   > superseded
-- De-duplication runs only on rows that pass the row checks: per meter and interval the
-- latest send time wins (a corrected re-send beats the original); a copy equal to the
-- winner is a `duplicate`, an earlier different value is `superseded`. Among versions sent
-- at the same time the first delivered wins (batch, file, row, load time ascending), so an
-- exact duplicate quarantines the copy, never the original.
--
-- Incremental, partitioned by batch (`ingest_date`): a build classifies only the readings
-- checked since the last build. They are de-duplicated together with the accepted readings
-- of earlier builds that share their meter and interval; an earlier accepted reading that
-- loses becomes `duplicate`/`superseded` and its batch partition is rewritten with it. Rows
-- rejected earlier keep their reason. The batch's own partitions are replaced whole (rows
-- loaded earlier into the same ingest date are carried over), so the common daily build only
-- adds a partition.
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
{#- the version of a meter interval that wins: the first in this order. The latest send time
    wins; among copies sent at the same time the first delivered (batch, file, row) stays and
    the later copies are the duplicates, whatever order the builds saw them in -#}
{% set version_order =
    'sent_at desc, ingest_date asc, source_file asc, source_row_number asc, ingested_at asc' %}

{% set watermark = incremental_watermark('ingested_at') %}

{#- the oldest batch partition that can hold an accepted reading of this batch's intervals:
    slv_readings_checked accepts an interval only from `max_future_days` before its ingest day
    (a day of margin for the session time zone), so the partitions before it are never read
    and a build's work does not grow with the table's age. Lowering `max_future_days` on a
    lakehouse with data needs a `--full-refresh` of this model. -#}
{% if is_incremental() %}
    {% set oldest_batch = distinct_values(
        'select date_sub(min(to_date(interval_start_at)), ' ~ (var('max_future_days') + 1)
        ~ ') from ' ~ ref('slv_readings_checked') ~ ' where row_check_reason is null and '
        ~ newer_than('ingested_at', watermark), 'date') %}
{% endif %}

{% set deduplication %}
checked as (
    select * from {{ ref('slv_readings_checked') }}
    where {{ newer_than('ingested_at', watermark) }}
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
        and {% if oldest_batch %}loaded.ingest_date >= {{ oldest_batch[0] }}{% else %}false{% endif %}
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

contested as (
    -- meter intervals with more than one version (few: a window over every candidate, or a
    -- struct max, costs seconds per 500 k rows on Sail; grouping to find these is cheap)
    select
        meter_id,
        interval_start_at
    from candidates
    group by meter_id, interval_start_at
    having count(*) > 1
),

versions as (
    select
        candidates.*,
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
    left semi join contested
        on candidates.meter_id = contested.meter_id
            and candidates.interval_start_at = contested.interval_start_at
),

losers as (
    select
        source_file,
        source_row_number,
        ingested_at,
        case
            when energy_kwh = winning_energy_kwh and sent_at = winning_sent_at then 'duplicate'
            else 'superseded'
        end as quarantine_reason
    from versions
    where version_rank > 1
),

deduplicated as (
    select
        candidates.*,
        losers.quarantine_reason
    from candidates
    left join losers
        on candidates.source_file = losers.source_file
            and candidates.source_row_number = losers.source_row_number
            and candidates.ingested_at = losers.ingested_at
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
)
{% endif %}
{% endset %}

{% if is_incremental() %}
    {#- the partitions this build rewrites: the batch's ingest dates and those of dethroned rows -#}
    {% set partitions = distinct_values(
        'select ingest_date from ' ~ ref('slv_readings_checked')
        ~ ' where ' ~ newer_than('ingested_at', watermark)
        ~ ' union all select ingest_date from (with ' ~ deduplication
        ~ ' select ingest_date from dethroned) as dethroned_batches', 'date') %}
    {{ replaced_partitions('ingest_date', partitions) }}
{% endif %}

with

{{ deduplication }}

{% if is_incremental() %}
,

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
    -- earlier rows of every partition this build rewrites
    select * from reclassified
    where {{ in_values('ingest_date', partitions) }}
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
