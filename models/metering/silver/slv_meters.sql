-- Conformed meter master of the four systems: one row per meter, current state.
-- Each export row is an insert (I), upsert (U) or delete (D); the latest row per local
-- meter code wins and a meter whose latest row is a delete is dropped.
with

nordgrid as (
    select
        source_system,
        ingest_date,
        source_row_number,
        'DE' as country_code,
        meter_number as local_meter_code,
        meter_ean as meter_id,
        region as region_code,
        supply_point_id,
        try_cast(installed_on as date) as installed_on,
        meter_type,
        change_type
    from {{ ref('brz_nordgrid__meters') }}
),

electra as (
    select
        source_system,
        ingest_date,
        source_row_number,
        'FR' as country_code,
        prm as local_meter_code,
        ean as meter_id,
        region as region_code,
        point_livraison as supply_point_id,
        try_cast(date_pose as date) as installed_on,
        type_compteur as meter_type,
        type_mouvement as change_type
    from {{ ref('brz_electra__meters') }}
),

dutchgrid as (
    select
        source_system,
        ingest_date,
        source_row_number,
        'NL' as country_code,
        ean as local_meter_code,
        ean as meter_id,
        region as region_code,
        connection_ean as supply_point_id,
        try_cast(installed_on as date) as installed_on,
        meter_type,
        mutation_type as change_type
    from {{ ref('brz_dutchgrid__meters') }}
),

luxpower as (
    select
        source_system,
        ingest_date,
        source_row_number,
        'LU' as country_code,
        zaehler as local_meter_code,
        ean as meter_id,
        region as region_code,
        lieferstelle as supply_point_id,
        to_date(try_to_timestamp(installiert_am, 'dd.MM.yyyy')) as installed_on,
        zaehlertyp as meter_type,
        aenderung as change_type
    from {{ ref('brz_luxpower__meters') }}
),

unioned as (
    select * from nordgrid
    union all
    select * from electra
    union all
    select * from dutchgrid
    union all
    select * from luxpower
),

ranked as (
    select
        *,
        row_number() over (
            partition by source_system, local_meter_code
            order by ingest_date desc, source_row_number desc
        ) as change_rank
    from unioned
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
    ingest_date as last_changed_on
from ranked
where change_rank = 1 and change_type <> 'D'
