-- Revenue per billing period, country and customer segment (the customer's latest known
-- segment, customers' dim_customers v2), from billing's invoices.
with

invoices as (
    select * from {{ ref('fct_invoices') }}
),

latest_segments as (
    select
        customer_key,
        segment
    from {{ ref('slv_customer_latest_versions') }}
),

revenue as (
    select
        invoices.billing_period,
        invoices.country_code,
        coalesce(latest_segments.segment, 'unknown') as segment,
        count(*) as invoice_count,
        count(distinct invoices.customer_key) as customer_count,
        cast(sum(invoices.consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        cast(sum(invoices.invoice_amount_eur) as decimal(18, 2)) as revenue_eur
    from invoices
    left join latest_segments
        on invoices.customer_key = latest_segments.customer_key
    group by
        invoices.billing_period, invoices.country_code, coalesce(latest_segments.segment, 'unknown')
)

select
    billing_period,
    country_code,
    segment,
    invoice_count,
    customer_count,
    consumption_kwh,
    revenue_eur,
    cast(revenue_eur / customer_count as decimal(18, 2)) as revenue_per_customer_eur
from revenue
