-- The billable meter-days of slv_consumption_priced: a contract and a tariff price exist.
select
    meter_id,
    reading_date,
    billing_period,
    customer_key,
    contract_id,
    supply_point_id,
    tariff_code,
    tariff_valid_from,
    country_code,
    region_code,
    source_system,
    consumption_kwh,
    price_eur_per_kwh,
    amount_eur
from {{ ref('slv_consumption_priced') }}
where unbilled_reason is null
