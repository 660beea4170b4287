-- Conformed customer master of the four systems: one row per customer, current state.
-- Each export row is an insert (I), upsert (U) or delete (D); the latest row per local
-- customer id wins (ingest date, then load time, then row number) and a customer whose
-- latest row is a delete is dropped. Holds PII (name, e-mail, address, IBAN): it never
-- leaves this silver layer; other models use the keyed pseudonym `customer_key`.
with

nordgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'DE' as source_country_code,
        customer_id,
        name as customer_name,
        email,
        street,
        postal_code,
        city,
        iban,
        segment,
        country as country_code,
        change_type
    from {{ ref('brz_nordgrid__customers') }}
    where parse_error is null
),

electra as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'FR' as source_country_code,
        id_client as customer_id,
        nom as customer_name,
        courriel as email,
        rue as street,
        code_postal as postal_code,
        ville as city,
        iban,
        segment,
        pays as country_code,
        type_mouvement as change_type
    from {{ ref('brz_electra__customers') }}
    where parse_error is null
),

dutchgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'NL' as source_country_code,
        customer_id,
        name as customer_name,
        email,
        street,
        postal_code,
        city,
        iban,
        segment,
        country as country_code,
        mutation_type as change_type
    from {{ ref('brz_dutchgrid__customers') }}
    where parse_error is null
),

luxpower as (
    select
        source_system,
        source_file,
        ingest_date,
        ingested_at,
        source_row_number,
        'LU' as source_country_code,
        kunde as customer_id,
        name as customer_name,
        email,
        strasse as street,
        plz as postal_code,
        ort as city,
        iban,
        segment,
        land as country_code,
        aenderung as change_type
    from {{ ref('brz_luxpower__customers') }}
    where parse_error is null
),

current_customers as (
    {{ latest_change_state(
        ['nordgrid', 'electra', 'dutchgrid', 'luxpower'],
        ['source_system', 'customer_id'],
    ) }}
)

select
    {{ pseudonymize("concat(source_system, ':', customer_id)") }} as customer_key,
    source_system,
    customer_id,
    customer_name,
    email,
    street,
    postal_code,
    city,
    upper(replace(iban, ' ', '')) as iban,
    lower(segment) as segment,
    coalesce(upper(country_code), source_country_code) as country_code,
    ingest_date as last_changed_on
from current_customers
