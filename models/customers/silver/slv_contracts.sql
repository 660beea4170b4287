-- Conformed supply contracts of the four systems: one row per contract, current state
-- (latest export row per contract id; a contract whose latest row is a delete is dropped).
-- An ended contract stays, with its `end_date` (the last day of supply, inclusive). The
-- customer is referenced only by its keyed pseudonym `customer_key`.
with

nordgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'DE' as country_code,
        contract_id,
        customer_id,
        supply_point_id,
        tariff_code,
        try_cast(start_date as date) as start_date,
        try_cast(nullif(end_date, '') as date) as end_date,
        change_type
    from {{ ref('brz_nordgrid__contracts') }}
    where parse_error is null
),

electra as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'FR' as country_code,
        id_contrat as contract_id,
        id_client as customer_id,
        point_livraison as supply_point_id,
        code_tarif as tariff_code,
        try_cast(date_debut as date) as start_date,
        try_cast(nullif(date_fin, '') as date) as end_date,
        type_mouvement as change_type
    from {{ ref('brz_electra__contracts') }}
    where parse_error is null
),

dutchgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'NL' as country_code,
        contract_id,
        customer_id,
        connection_ean as supply_point_id,
        tariff_code,
        try_cast(start_date as date) as start_date,
        try_cast(nullif(end_date, '') as date) as end_date,
        mutation_type as change_type
    from {{ ref('brz_dutchgrid__contracts') }}
    where parse_error is null
),

luxpower as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'LU' as country_code,
        vertrag as contract_id,
        kunde as customer_id,
        lieferstelle as supply_point_id,
        tarif as tariff_code,
        to_date(try_to_timestamp(beginn, 'dd.MM.yyyy')) as start_date,
        to_date(try_to_timestamp(nullif(ende, ''), 'dd.MM.yyyy')) as end_date,
        aenderung as change_type
    from {{ ref('brz_luxpower__contracts') }}
    where parse_error is null
),

current_contracts as (
    {{ latest_change_state(
        ['nordgrid', 'electra', 'dutchgrid', 'luxpower'],
        ['source_system', 'contract_id'],
    ) }}
)

-- `nullif` keeps source_system and country_code nullable in the table schema: the snapshot
-- stages hard-delete rows with null source columns, and the local engine checks NOT NULL
-- columns of a MERGE target before the merge conditions drop those rows (docs/domains.md).
select
    contract_id,
    {{ pseudonymize("concat(source_system, ':', customer_id)") }} as customer_key,
    nullif(source_system, '') as source_system,
    nullif(country_code, '') as country_code,
    supply_point_id,
    tariff_code,
    start_date,
    end_date,
    ingest_date as last_changed_on
from current_contracts
