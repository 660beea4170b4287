-- Supply points (connections) with their meter, grid region and latest contract.
with

supply_points as (
    select * from {{ ref('slv_supply_points') }}
)

select
    supply_point_id,
    source_system,
    country_code,
    region_code,
    meter_id,
    latest_contract_id,
    customer_key,
    tariff_code,
    has_active_contract
from supply_points
