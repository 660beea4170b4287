-- Revenue per country and billing period: the invoiced amounts (rounded per invoice) and
-- the energy billed.
with

invoices as (
    select * from {{ ref('fct_invoices') }}
),

revenue as (
    select
        country_code,
        billing_period,
        count(*) as invoice_count,
        count(distinct customer_key) as customer_count,
        cast(sum(consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        cast(sum(net_amount_eur) as decimal(20, 7)) as net_revenue_eur,
        cast(sum(invoice_amount_eur) as decimal(18, 2)) as revenue_eur
    from invoices
    group by country_code, billing_period
)

select
    country_code,
    billing_period,
    invoice_count,
    customer_count,
    consumption_kwh,
    net_revenue_eur,
    revenue_eur,
    cast(
        case when consumption_kwh > 0 then net_revenue_eur / consumption_kwh end
        as decimal(10, 4)
    ) as average_price_eur_per_kwh
from revenue
