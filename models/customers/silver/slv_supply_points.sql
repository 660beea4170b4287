-- Supply points (connections) of the four systems, one row per supply point: the meter that
-- measures it (metering's public `dim_meters`) and the contract that supplies it now, or
-- the contract that supplied it last when none is active.
with

contracts as (
    select * from {{ ref('slv_contracts') }}
),

meters as (
    -- the meter measuring it now (a replaced meter keeps its row in dim_meters)
    select * from {{ ref('dim_meters') }}
    where removed_on is null
),

ranked_contracts as (
    select
        *,
        row_number() over (
            partition by supply_point_id
            order by coalesce(end_date, date '9999-12-31') desc, start_date desc, contract_id desc
        ) as contract_rank
    from contracts
),

latest_contracts as (
    select *
    from ranked_contracts
    where contract_rank = 1
),

supply_points as (
    select
        coalesce(meters.supply_point_id, latest_contracts.supply_point_id) as supply_point_id,
        coalesce(meters.source_system, latest_contracts.source_system) as source_system,
        coalesce(meters.country_code, latest_contracts.country_code) as country_code,
        meters.region_code,
        meters.meter_id,
        latest_contracts.contract_id as latest_contract_id,
        latest_contracts.customer_key,
        latest_contracts.tariff_code,
        (
            latest_contracts.contract_id is not null
            and (latest_contracts.end_date is null or latest_contracts.end_date >= current_date())
        ) as has_active_contract
    from meters
    full outer join latest_contracts
        on meters.supply_point_id = latest_contracts.supply_point_id
    where coalesce(meters.supply_point_id, latest_contracts.supply_point_id) is not null
)

select * from supply_points
