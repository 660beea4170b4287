-- Invoices: one per customer (pseudonym) and billing period (calendar month), the sum of
-- the customer's invoice lines. `net_amount_eur` is exact; `invoice_amount_eur` is rounded
-- to the cent (half up) once, on the total.
with

lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

periods as (
    select * from {{ ref('dim_billing_periods') }}
),

invoices as (
    select
        customer_key,
        billing_period,
        max(country_code) as country_code,
        max(source_system) as source_system,
        count(*) as line_count,
        count(distinct meter_id) as meter_count,
        min(reading_date) as first_reading_date,
        max(reading_date) as last_reading_date,
        cast(sum(consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        cast(sum(amount_eur) as decimal(20, 7)) as net_amount_eur
    from lines
    group by customer_key, billing_period
)

select
    concat(invoices.billing_period, '-', invoices.customer_key) as invoice_id,
    invoices.customer_key,
    invoices.billing_period,
    periods.period_start_date,
    periods.period_end_date,
    invoices.country_code,
    invoices.source_system,
    invoices.line_count,
    invoices.meter_count,
    invoices.first_reading_date,
    invoices.last_reading_date,
    invoices.consumption_kwh,
    invoices.net_amount_eur,
    cast(round(invoices.net_amount_eur, 2) as decimal(18, 2)) as invoice_amount_eur,
    'EUR' as currency_code,
    periods.is_complete as is_period_complete
from invoices
inner join periods
    on invoices.billing_period = periods.billing_period
