-- Tariff price lists of the four systems in one shape: one row per validity row
-- (tariff_code, valid_from), current state. Each export row is an insert (I), upsert (U)
-- or delete (D) of a validity row; the latest row per key wins (ingest date, load time,
-- row number) and a validity row whose latest export row is a delete is dropped.
-- `valid_to` is the last day the price applies (inclusive); null = open-ended.
-- `tariff_validity_key` (`<tariff_code>|<valid_from>`) is the key as one column: the
-- snapshot's unique_key (dbt-spark's snapshot merge mishandles a list of key columns).
with

nordgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'DE' as country_code,
        tariff_code,
        try_cast(price_eur_per_kwh as decimal(10, 4)) as price_eur_per_kwh,
        try_cast(valid_from as date) as valid_from,
        try_cast(nullif(valid_to, '') as date) as valid_to,
        change_type
    from {{ ref('brz_nordgrid__tariffs') }}
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
        code_tarif as tariff_code,
        try_cast(prix_eur_kwh as decimal(10, 4)) as price_eur_per_kwh,
        try_cast(date_debut_validite as date) as valid_from,
        try_cast(nullif(date_fin_validite, '') as date) as valid_to,
        type_mouvement as change_type
    from {{ ref('brz_electra__tariffs') }}
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
        tariff_code,
        try_cast(price_eur_per_kwh as decimal(10, 4)) as price_eur_per_kwh,
        try_cast(valid_from as date) as valid_from,
        try_cast(nullif(valid_to, '') as date) as valid_to,
        mutation_type as change_type
    from {{ ref('brz_dutchgrid__tariffs') }}
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
        tarif as tariff_code,
        try_cast(replace(preis_eur_kwh, ',', '.') as decimal(10, 4)) as price_eur_per_kwh,
        to_date(try_to_timestamp(gueltig_ab, 'dd.MM.yyyy')) as valid_from,
        to_date(try_to_timestamp(nullif(gueltig_bis, ''), 'dd.MM.yyyy')) as valid_to,
        aenderung as change_type
    from {{ ref('brz_luxpower__tariffs') }}
    where parse_error is null
),

current_rows as (
    {{ latest_change_state(
        ['nordgrid', 'electra', 'dutchgrid', 'luxpower'],
        ['source_system', 'tariff_code', 'valid_from'],
    ) }}
)

-- `nullif` keeps source_system and country_code nullable in the table schema: the snapshot
-- stages hard-delete rows with null source columns, and the local engine checks NOT NULL
-- columns of a MERGE target before the merge conditions drop those rows (docs/domains.md).
select
    concat(tariff_code, '|', cast(valid_from as string)) as tariff_validity_key,
    tariff_code,
    valid_from,
    valid_to,
    price_eur_per_kwh,
    nullif(source_system, '') as source_system,
    nullif(country_code, '') as country_code,
    ingest_date as last_changed_on
from current_rows
