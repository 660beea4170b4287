-- Every grid region and month with data: energy delivered (metering), supply points and
-- supplied customers (customers), energy and revenue billed (billing). The common base of
-- the four regulator reports; reads other domains only through their public models.
with

regions as (
    select * from {{ ref('dim_regions') }}
),

region_days as (
    select * from {{ ref('fct_region_daily_consumption') }}
),

supply_points as (
    select * from {{ ref('dim_supply_points') }}
),

invoice_lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

periods as (
    select distinct date_format(reading_date, 'yyyy-MM') as reporting_period
    from region_days
),

delivered as (
    select
        region_code,
        date_format(reading_date, 'yyyy-MM') as reporting_period,
        cast(sum(consumption_kwh) as decimal(18, 3)) as delivered_kwh,
        count(*) as days_reported,
        max(meter_count) as peak_daily_meter_count
    from region_days
    group by region_code, date_format(reading_date, 'yyyy-MM')
),

supply as (
    select
        region_code,
        count(*) as metered_supply_points,
        count_if(has_active_contract) as supplied_points,
        count(distinct case when has_active_contract then customer_key end) as supplied_customers
    from supply_points
    where region_code is not null
    group by region_code
),

billed as (
    select
        region_code,
        billing_period as reporting_period,
        cast(sum(consumption_kwh) as decimal(18, 3)) as billed_kwh,
        cast(sum(amount_eur) as decimal(20, 7)) as billed_amount_eur
    from invoice_lines
    group by region_code, billing_period
),

regional_months as (
    select
        regions.region_code,
        regions.region_name,
        regions.country_code,
        regions.regulator_code,
        periods.reporting_period,
        coalesce(delivered.delivered_kwh, 0) as delivered_kwh,
        coalesce(delivered.days_reported, 0) as days_reported,
        coalesce(delivered.peak_daily_meter_count, 0) as peak_daily_meter_count,
        coalesce(supply.metered_supply_points, 0) as metered_supply_points,
        coalesce(supply.supplied_points, 0) as supplied_points,
        coalesce(supply.supplied_customers, 0) as supplied_customers,
        coalesce(billed.billed_kwh, 0) as billed_kwh,
        coalesce(billed.billed_amount_eur, 0) as billed_amount_eur
    from regions
    cross join periods
    left join delivered
        on regions.region_code = delivered.region_code
            and periods.reporting_period = delivered.reporting_period
    left join supply
        on regions.region_code = supply.region_code
    left join billed
        on regions.region_code = billed.region_code
            and periods.reporting_period = billed.reporting_period
)

select * from regional_months
