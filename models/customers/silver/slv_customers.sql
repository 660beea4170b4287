-- Conformed customer master of the four systems: one row per customer, current state.
-- Each export row is an insert (I), upsert (U) or delete (D); the latest row per local
-- customer id wins (ingest date, then load time, then row number) and a customer whose
-- latest row is a delete, or who is missing from the system's latest full export, is
-- dropped. Holds PII (name, e-mail, address, IBAN): it never leaves this silver layer;
-- other models use the keyed pseudonym `customer_key`.
with

changes as (
    {{ customer_changes() }}
),

current_customers as (
    {{ latest_change_state(['changes'], ['source_system', 'customer_id']) }}
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
