-- Business history of every customer's non-personal attributes (segment, country), from the
-- source systems' own change rows in bronze: one row per customer and version, a version
-- valid from the day its source exported the change (`ingest_date` of the row) to the day
-- the next change or the deletion took effect (exclusive; null while current).
--
-- Reproducible from bronze: the same landed files give the same history, whether they were
-- built day by day or at once (the snapshot snp_customers, by contrast, records when the
-- platform saw each change). A deletion is a `D` row, or absence from a later full export of
-- the customer's system (macro is_full_export): the customer is deleted on that export's day.
-- Several rows of one customer on one day: the last one (file, then row) counts. A customer
-- deleted and exported again later gets a new version. No personal data: `customer_id` is
-- used only inside the pseudonym. The current versions are slv_customer_attributes.
with

changes as (
    select
        source_system,
        customer_id,
        source_file,
        ingest_date,
        source_row_number,
        change_type = 'D' as is_deletion,
        lower(segment) as segment,
        coalesce(upper(country_code), source_country_code) as country_code
    from ({{ customer_changes() }}) as landed
),

exported as (
    -- the customers each full export lists
    select distinct
        source_system,
        customer_id,
        ingest_date as export_date
    from changes
    where {{ is_full_export('source_file') }}
),

full_exports as (
    select distinct
        source_system,
        export_date
    from exported
),

first_seen as (
    select
        source_system,
        customer_id,
        min(ingest_date) as first_seen_on
    from changes
    group by source_system, customer_id
),

export_absences as (
    -- known before a full export of its system and missing from it: deleted that day
    select
        first_seen.source_system,
        first_seen.customer_id,
        full_exports.export_date as ingest_date
    from first_seen
    inner join full_exports
        on first_seen.source_system = full_exports.source_system
            and first_seen.first_seen_on < full_exports.export_date
    left anti join exported
        on first_seen.source_system = exported.source_system
            and first_seen.customer_id = exported.customer_id
            and full_exports.export_date = exported.export_date
),

events as (
    -- a landed row of the same day outranks an absence (it is the newer word of the source)
    select
        source_system,
        customer_id,
        ingest_date,
        1 as event_rank,
        source_file,
        source_row_number,
        is_deletion,
        segment,
        country_code
    from changes
    union all
    select
        source_system,
        customer_id,
        ingest_date,
        0 as event_rank,
        '' as source_file,
        0 as source_row_number,
        true as is_deletion,
        null as segment,
        null as country_code
    from export_absences
),

daily_states as (
    select
        source_system,
        customer_id,
        ingest_date,
        is_deletion,
        segment,
        country_code,
        case
            when is_deletion then 'deleted'
            else concat(coalesce(segment, ''), '|', coalesce(country_code, ''))
        end as state
    from (
        select
            events.*,
            row_number() over (
                partition by events.source_system, events.customer_id, events.ingest_date
                order by
                    events.event_rank desc,
                    events.source_file desc,
                    events.source_row_number desc
            ) as day_rank
        from events
    ) as ranked
    where day_rank = 1
),

state_starts as (
    select *
    from (
        select
            daily_states.*,
            lag(daily_states.state) over (
                partition by daily_states.source_system, daily_states.customer_id
                order by daily_states.ingest_date
            ) as previous_state
        from daily_states
    ) as sequenced
    where previous_state is null or state <> previous_state
),

versions as (
    select
        state_starts.*,
        lead(state_starts.ingest_date) over (
            partition by state_starts.source_system, state_starts.customer_id
            order by state_starts.ingest_date
        ) as valid_to
    from state_starts
),

contracts as (
    select * from {{ ref('slv_contracts') }}
),

first_contracts as (
    select
        customer_key,
        min(start_date) as customer_since
    from contracts
    group by customer_key
),

live_versions as (
    select
        {{ pseudonymize("concat(source_system, ':', customer_id)") }} as customer_key,
        source_system,
        country_code,
        segment,
        ingest_date as valid_from,
        valid_to
    from versions
    where not is_deletion
)

select
    live_versions.customer_key,
    live_versions.source_system,
    live_versions.country_code,
    live_versions.segment,
    live_versions.valid_from,
    live_versions.valid_to,
    first_contracts.customer_since
from live_versions
left join first_contracts
    on live_versions.customer_key = first_contracts.customer_key
