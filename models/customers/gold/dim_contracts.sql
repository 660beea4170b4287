-- Supply contracts as billing needs them: who (customer pseudonym) is supplied at which
-- supply point on which tariff from when to when. One row per contract, current knowledge;
-- ended contracts stay with their end date (inclusive), so past days can still be billed.
-- A contract of an erased customer keeps the pseudonym (billing records are retained) and
-- says `is_customer_erased`: that customer is in no customer table any more.
with

contracts as (
    select * from {{ ref('slv_contracts') }}
),

erasures as (
    select * from {{ ref('slv_customer_erasures') }}
)

select
    contracts.contract_id,
    contracts.customer_key,
    contracts.source_system,
    contracts.country_code,
    contracts.supply_point_id,
    contracts.tariff_code,
    contracts.start_date,
    contracts.end_date,
    (contracts.end_date is null or contracts.end_date >= current_date()) as is_active,
    erasures.customer_key is not null as is_customer_erased,
    contracts.last_changed_on
from contracts
left join erasures
    on contracts.customer_key = erasures.customer_key
