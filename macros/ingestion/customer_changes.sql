{#-
    The customer change rows of the four source systems in one shape (one row per landed
    row, parse errors excluded): `source_system`, `source_file`, `ingest_date`, `ingested_at`,
    `source_row_number`, `source_country_code`, `customer_id`, the personal columns, `segment`,
    `country_code` (as landed) and `change_type`. Read by slv_customers (current state, with
    PII) and slv_customer_history (business history, no PII); a query, not a model, so that
    no second table holds the personal columns. Customers with an erasure request are left
    out entirely.
-#}
{% macro customer_changes() %}
{#- An erasure request (change marker `E`, GDPR art. 17) removes every row of that customer
    from here on, so no table built from these rows (current state, business history, the
    dimensions, customer 360) holds the customer any longer. -#}
select landed.*
from ({{ customer_change_rows() }}) as landed
left join (
    select
        source_system as erased_system,
        customer_id as erased_customer_id
    from ({{ customer_erasure_requests() }}) as requests
) as erased
    on landed.source_system = erased.erased_system
        and landed.customer_id = erased.erased_customer_id
where erased.erased_customer_id is null
{% endmacro %}


{% macro customer_erasure_requests() %}
{#- One row per customer with an erasure request: source_system, customer_id and the ingest
    date of the first request (`requested_on`). -#}
select
    source_system,
    customer_id,
    min(ingest_date) as requested_on
from ({{ customer_change_rows() }}) as requests
where change_type = 'E'
group by source_system, customer_id
{% endmacro %}


{% macro customer_change_rows() %}
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
