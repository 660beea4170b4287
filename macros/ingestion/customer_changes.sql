{#-
    The customer change rows of the four source systems in one shape (one row per landed
    row, parse errors excluded): `source_system`, `source_file`, `ingest_date`, `ingested_at`,
    `source_row_number`, `source_country_code`, `customer_id`, the personal columns, `segment`,
    `country_code` (as landed) and `change_type`. Read by slv_customers (current state, with
    PII) and slv_customer_history (business history, no PII); a query, not a model, so that
    no second table holds the personal columns.
-#}
{% macro customer_changes() %}
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
union all
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
union all
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
union all
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
{% endmacro %}
