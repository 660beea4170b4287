-- Every meter-day of consumption (metering's public daily consumption, UTC days) with the
-- contract that supplied its supply point that day and the price of the contract's tariff
-- valid that day: the pricing logic of billing, pinned by unit tests.
--
-- Point-in-time join, bitemporal:
--   business time  the day lies within the contract's [start_date, end_date] and within the
--                  tariff validity row's [valid_from, valid_to] (both inclusive, null = open);
--   system time    of the tariff history (snapshot `snp_tariff_prices`) only the current
--                  version of each validity row counts, so a corrected price replaces the
--                  old one for every day it covers, and a deleted validity row (closed, no
--                  current version) prices nothing.
-- A UTC day is one row and is priced once, whatever its local length (23 or 25 hours on the
-- DST days). A day that cannot be billed keeps its reason: no_supply_point, no_contract,
-- no_tariff.
with

consumption as (
    select * from {{ ref('fct_meter_daily_consumption') }}
),

meters as (
    select * from {{ ref('dim_meters') }}
),

contracts as (
    select * from {{ ref('dim_contracts') }}
),

tariff_history as (
    select * from {{ ref('snp_tariff_prices') }}
),

current_tariff_versions as (
    select
        tariff_code,
        valid_from,
        valid_to,
        price_eur_per_kwh
    from tariff_history
    where dbt_valid_to is null
),

with_supply_point as (
    select
        consumption.meter_id,
        consumption.reading_date,
        consumption.country_code,
        consumption.region_code,
        consumption.source_system,
        consumption.consumption_kwh,
        meters.supply_point_id
    from consumption
    left join meters
        on consumption.meter_id = meters.meter_id
),

with_contract as (
    select
        with_supply_point.*,
        contracts.contract_id,
        contracts.customer_key,
        contracts.tariff_code
    from with_supply_point
    left join contracts
        on with_supply_point.supply_point_id = contracts.supply_point_id
            and with_supply_point.reading_date >= contracts.start_date
            and with_supply_point.reading_date <= coalesce(contracts.end_date, date '9999-12-31')
),

with_tariff as (
    select
        with_contract.*,
        current_tariff_versions.valid_from as tariff_valid_from,
        current_tariff_versions.price_eur_per_kwh
    from with_contract
    left join current_tariff_versions
        on with_contract.tariff_code = current_tariff_versions.tariff_code
            and with_contract.reading_date >= current_tariff_versions.valid_from
            and with_contract.reading_date
            <= coalesce(current_tariff_versions.valid_to, date '9999-12-31')
),

classified as (
    select
        meter_id,
        reading_date,
        date_format(reading_date, 'yyyy-MM') as billing_period,
        supply_point_id,
        contract_id,
        customer_key,
        tariff_code,
        tariff_valid_from,
        country_code,
        region_code,
        source_system,
        consumption_kwh,
        price_eur_per_kwh,
        cast(consumption_kwh * price_eur_per_kwh as decimal(20, 7)) as amount_eur,
        case
            when supply_point_id is null then 'no_supply_point'
            when contract_id is null then 'no_contract'
            when price_eur_per_kwh is null then 'no_tariff'
        end as unbilled_reason
    from with_tariff
)

select * from classified
