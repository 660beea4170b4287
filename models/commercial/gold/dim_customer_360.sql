-- Customer 360: one row per customer (keyed pseudonym) with the latest known attributes
-- (customers' dim_customers v2, via slv_customer_latest_versions), contracts (dim_contracts)
-- and billing history (billing's fct_invoices). Customers deleted in their source system
-- stay, flagged, so churn stays visible. Reads other domains only through their public models.
with

latest_versions as (
    select * from {{ ref('slv_customer_latest_versions') }}
),

contracts as (
    select * from {{ ref('dim_contracts') }}
),

invoices as (
    select * from {{ ref('fct_invoices') }}
),

contract_summary as (
    select
        customer_key,
        count(*) as contract_count,
        count_if(is_active) as active_contract_count,
        count(distinct supply_point_id) as supply_point_count,
        max(end_date) as last_contract_end_date
    from contracts
    group by customer_key
),

billing_summary as (
    select
        customer_key,
        min(billing_period) as first_billing_period,
        max(billing_period) as last_billing_period,
        cast(sum(consumption_kwh) as decimal(18, 3)) as billed_consumption_kwh,
        cast(sum(invoice_amount_eur) as decimal(18, 2)) as billed_revenue_eur
    from invoices
    group by customer_key
),

customer_360 as (
    select
        latest_versions.customer_key,
        latest_versions.source_system,
        latest_versions.country_code,
        latest_versions.segment,
        latest_versions.customer_since,
        latest_versions.is_deleted,
        coalesce(contract_summary.contract_count, 0) as contract_count,
        coalesce(contract_summary.active_contract_count, 0) as active_contract_count,
        coalesce(contract_summary.supply_point_count, 0) as supply_point_count,
        billing_summary.first_billing_period,
        billing_summary.last_billing_period,
        coalesce(billing_summary.billed_consumption_kwh, 0) as billed_consumption_kwh,
        coalesce(billing_summary.billed_revenue_eur, 0) as billed_revenue_eur,
        (
            latest_versions.is_deleted
            or coalesce(contract_summary.active_contract_count, 0) = 0
        ) as is_churned,
        case
            when latest_versions.is_deleted
                or coalesce(contract_summary.active_contract_count, 0) = 0
                then contract_summary.last_contract_end_date
        end as churned_on
    from latest_versions
    left join contract_summary
        on latest_versions.customer_key = contract_summary.customer_key
    left join billing_summary
        on latest_versions.customer_key = billing_summary.customer_key
)

select * from customer_360
