-- Meter-days of consumption that cannot be billed, each with its reason (no_supply_point,
-- no_contract, no_tariff): nothing consumed disappears from billing silently.
select
    meter_id,
    reading_date,
    billing_period,
    unbilled_reason,
    supply_point_id,
    contract_id,
    tariff_code,
    country_code,
    region_code,
    source_system,
    consumption_kwh
from {{ ref('slv_consumption_priced') }}
where unbilled_reason is not null
