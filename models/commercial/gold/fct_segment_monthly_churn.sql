-- A simple churn signal per billing period, country and segment: contracts in force at the
-- start of the month, contracts that ended during it, and the share that ended.
with

contracts as (
    select * from {{ ref('dim_contracts') }}
),

periods as (
    select * from {{ ref('dim_billing_periods') }}
),

latest_segments as (
    select
        customer_key,
        segment
    from {{ ref('slv_customer_latest_versions') }}
),

contract_months as (
    select
        periods.billing_period,
        contracts.country_code,
        coalesce(latest_segments.segment, 'unknown') as segment,
        (
            contracts.start_date < periods.period_start_date
            and (contracts.end_date is null or contracts.end_date >= periods.period_start_date)
        ) as is_active_at_start,
        (
            contracts.end_date between periods.period_start_date and periods.period_end_date
        ) as has_ended_in_period
    from contracts
    cross join periods
    left join latest_segments
        on contracts.customer_key = latest_segments.customer_key
    where contracts.start_date <= periods.period_end_date
        and (contracts.end_date is null or contracts.end_date >= periods.period_start_date)
),

churn as (
    select
        billing_period,
        country_code,
        segment,
        count_if(is_active_at_start) as active_contracts_at_start,
        count_if(has_ended_in_period) as ended_contracts
    from contract_months
    group by billing_period, country_code, segment
)

select
    billing_period,
    country_code,
    segment,
    active_contracts_at_start,
    ended_contracts,
    cast(
        case when active_contracts_at_start > 0 then ended_contracts / active_contracts_at_start end
        as decimal(9, 6)
    ) as churn_rate
from churn
