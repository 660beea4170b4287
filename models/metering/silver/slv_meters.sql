-- Conformed meter master of the four systems: the current state of every meter code ever
-- exported, one row per (system, local meter code). Each export row is an insert (I),
-- upsert (U) or delete (D); the latest row per code wins (by ingest date, then row), and a
-- code whose latest row is a delete stays as a tombstone (`is_removed`) so that an older
-- row landing later can never bring it back. A full export (macro is_full_export) is
-- authoritative, as in macro latest_change_state: a code of that system whose latest row is
-- older than the system's latest full export was absent from it and becomes a tombstone
-- dated by the export.
-- Incremental: the table is partitioned into 64 buckets of meter codes; a build recomputes
-- only the buckets that received change rows since the last build (their current state plus
-- the new rows) and replaces those partitions. max(latest over history) = latest over
-- (current state + new rows), so the result equals a full rebuild.
{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by=['meter_bucket'],
    on_schema_change='fail',
) }}

{% set watermark = incremental_watermark('ingested_at') %}

{% set changes %}
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        ingested_at,
        'DE' as country_code,
        meter_number as local_meter_code,
        meter_ean as meter_id,
        region as region_code,
        supply_point_id,
        try_cast(installed_on as date) as installed_on,
        meter_type,
        change_type
    from {{ ref('brz_nordgrid__meters') }}
    where {{ newer_than('ingested_at', watermark) }}
    union all
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        ingested_at,
        'FR' as country_code,
        prm as local_meter_code,
        ean as meter_id,
        region as region_code,
        point_livraison as supply_point_id,
        try_cast(date_pose as date) as installed_on,
        type_compteur as meter_type,
        type_mouvement as change_type
    from {{ ref('brz_electra__meters') }}
    where {{ newer_than('ingested_at', watermark) }}
    union all
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        ingested_at,
        'NL' as country_code,
        ean as local_meter_code,
        ean as meter_id,
        region as region_code,
        connection_ean as supply_point_id,
        try_cast(installed_on as date) as installed_on,
        meter_type,
        mutation_type as change_type
    from {{ ref('brz_dutchgrid__meters') }}
    where {{ newer_than('ingested_at', watermark) }}
    union all
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        ingested_at,
        'LU' as country_code,
        zaehler as local_meter_code,
        ean as meter_id,
        region as region_code,
        lieferstelle as supply_point_id,
        to_date(try_to_timestamp(installiert_am, 'dd.MM.yyyy')) as installed_on,
        zaehlertyp as meter_type,
        aenderung as change_type
    from {{ ref('brz_luxpower__meters') }}
    where {{ newer_than('ingested_at', watermark) }}
{% endset %}

{% set bucket = hash_bucket(['source_system', 'local_meter_code'], 64) %}
{% set state_columns = [
    'meter_id', 'source_system', 'local_meter_code', 'country_code', 'region_code',
    'supply_point_id', 'meter_type', 'installed_on', 'ingest_date', 'source_row_number',
    'is_removed', 'ingested_at', 'meter_bucket',
] %}

{% if is_incremental() %}
    {% set buckets = distinct_values(
        'select ' ~ bucket ~ ' from (' ~ changes ~ ') as changes', 'int') %}
    {{ replaced_partitions('meter_bucket', buckets) }}
{% endif %}

with

full_exports as (
    -- per system, the newest full export among the new rows (a full export lists every code,
    -- so it touches every bucket and all the system's codes are in `current_state` below)
    select
        source_system,
        max(ingest_date) as full_export_date,
        max(ingested_at) as full_export_ingested_at
    from ({{ changes }}) as conformed
    where {{ is_full_export('source_file') }}
    group by source_system
),

changes as (
    select
        meter_id,
        source_system,
        local_meter_code,
        country_code,
        region_code,
        supply_point_id,
        meter_type,
        installed_on,
        ingest_date,
        source_row_number,
        change_type = 'D' as is_removed,
        ingested_at,
        {{ bucket }} as meter_bucket
    from ({{ changes }}) as conformed
),

{% if is_incremental() %}
existing as (
    select
        meter_id,
        source_system,
        local_meter_code,
        country_code,
        region_code,
        supply_point_id,
        meter_type,
        installed_on,
        last_changed_on as ingest_date,
        source_row_number,
        is_removed,
        ingested_at,
        meter_bucket
    from {{ this }}
    where {{ in_values('meter_bucket', buckets) }}
),

changed_keys as (
    select distinct
        source_system,
        local_meter_code
    from changes
),
{% endif %}

candidates as (
    select * from changes
    {% if is_incremental() %}
    union all
    select existing.*
    from existing
    left semi join changed_keys
        on existing.source_system = changed_keys.source_system
            and existing.local_meter_code = changed_keys.local_meter_code
    {% endif %}
),

contested as (
    -- codes with more than one row to choose from (few: ranking only these is far cheaper
    -- than a window over every candidate)
    select
        source_system,
        local_meter_code
    from candidates
    group by source_system, local_meter_code
    having count(*) > 1
),

latest_of_contested as (
    select *
    from (
        select
            candidates.*,
            row_number() over (
                partition by candidates.source_system, candidates.local_meter_code
                order by
                    candidates.ingest_date desc,
                    candidates.source_row_number desc,
                    candidates.ingested_at desc
            ) as change_rank
        from candidates
        left semi join contested
            on candidates.source_system = contested.source_system
                and candidates.local_meter_code = contested.local_meter_code
    ) as ranked
    where change_rank = 1
),

current_state as (
    select candidates.*
    from candidates
    left anti join contested
        on candidates.source_system = contested.source_system
            and candidates.local_meter_code = contested.local_meter_code
    union all
    select {{ state_columns | join(', ') }}
    from latest_of_contested
    {% if is_incremental() %}
    union all
    -- the unchanged codes of the rebuilt buckets
    select existing.*
    from existing
    left anti join changed_keys
        on existing.source_system = changed_keys.source_system
            and existing.local_meter_code = changed_keys.local_meter_code
    {% endif %}
),

against_exports as (
    -- a code older than its system's newest full export was missing from it
    select
        current_state.*,
        full_exports.full_export_date,
        full_exports.full_export_ingested_at,
        coalesce(current_state.ingest_date < full_exports.full_export_date, false)
            as is_missing_from_export
    from current_state
    left join full_exports
        on current_state.source_system = full_exports.source_system
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
    case when is_missing_from_export then full_export_date else ingest_date end
        as last_changed_on,
    source_row_number,
    is_removed or is_missing_from_export as is_removed,
    case when is_missing_from_export then full_export_ingested_at else ingested_at end
        as ingested_at,
    meter_bucket
from against_exports
