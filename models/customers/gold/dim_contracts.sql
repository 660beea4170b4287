-- Supply contracts as billing needs them: who (customer pseudonym) is supplied at which
-- supply point on which tariff from when to when. One row per contract, current knowledge;
-- ended contracts stay with their end date (inclusive), so past days can still be billed.
with

contracts as (
    select * from {{ ref('slv_contracts') }}
)

select
    contract_id,
    customer_key,
    source_system,
    country_code,
    supply_point_id,
    tariff_code,
    start_date,
    end_date,
    (end_date is null or end_date >= current_date()) as is_active,
    last_changed_on
from contracts
