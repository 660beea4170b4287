-- Every invoice is the sum of its invoice lines, and every invoice line is on an invoice: per
-- customer and billing period, fct_invoices' line count, energy and exact net amount equal
-- those of fct_invoice_lines, and the amount invoiced is that net amount rounded to the cent
-- once (half up). Returns each invoice or group of lines that disagrees; none pass.
with

invoices as (
    select * from {{ ref('fct_invoices') }}
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

line_totals as (
    select
        customer_key,
        billing_period,
        count(*) as line_count,
        cast(sum(consumption_kwh) as decimal(18, 3)) as consumption_kwh,
        cast(sum(amount_eur) as decimal(20, 7)) as net_amount_eur
    from lines
    group by customer_key, billing_period
),

compared as (
    select
        invoices.invoice_id,
        invoices.invoice_amount_eur,
        invoices.line_count as invoice_line_count,
        line_totals.line_count as summed_line_count,
        invoices.consumption_kwh as invoice_consumption_kwh,
        line_totals.consumption_kwh as summed_consumption_kwh,
        invoices.net_amount_eur as invoice_net_amount_eur,
        line_totals.net_amount_eur as summed_net_amount_eur,
        coalesce(invoices.customer_key, line_totals.customer_key) as customer_key,
        coalesce(invoices.billing_period, line_totals.billing_period) as billing_period
    from invoices
    full outer join line_totals
        on invoices.customer_key = line_totals.customer_key
            and invoices.billing_period = line_totals.billing_period
)

select * from compared
where
    invoice_id is null
    or summed_line_count is null
    or invoice_line_count <> summed_line_count
    or invoice_consumption_kwh <> summed_consumption_kwh
    or invoice_net_amount_eur <> summed_net_amount_eur
    or invoice_amount_eur <> cast(round(summed_net_amount_eur, 2) as decimal(18, 2))
