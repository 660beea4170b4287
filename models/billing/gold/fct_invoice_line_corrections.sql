-- Corrections of invoice lines already invoiced: every later version of a line (meter, UTC
-- day) whose consumption, price or amount changed after it was first invoiced — a
-- retroactive price correction, a corrected or late reading — with the values before and
-- after. Built from the system-time history of the lines (snapshot snp_invoice_lines), so a
-- correction is a record, never a silent overwrite of fct_invoice_lines.
with

versions as (
    select
        invoice_line_id,
        meter_id,
        reading_date,
        billing_period,
        customer_key,
        tariff_code,
        consumption_kwh,
        price_eur_per_kwh,
        amount_eur,
        dbt_valid_from,
        dbt_valid_to,
        lag(consumption_kwh) over (
            partition by invoice_line_id order by dbt_valid_from
        ) as previous_consumption_kwh,
        lag(price_eur_per_kwh) over (
            partition by invoice_line_id order by dbt_valid_from
        ) as previous_price_eur_per_kwh,
        lag(amount_eur) over (
            partition by invoice_line_id order by dbt_valid_from
        ) as previous_amount_eur,
        row_number() over (
            partition by invoice_line_id order by dbt_valid_from
        ) as version_number
    from {{ ref('snp_invoice_lines') }}
)

select
    invoice_line_id,
    meter_id,
    reading_date,
    billing_period,
    customer_key,
    tariff_code,
    cast(version_number as int) as version_number,
    previous_consumption_kwh,
    consumption_kwh as corrected_consumption_kwh,
    previous_price_eur_per_kwh,
    price_eur_per_kwh as corrected_price_eur_per_kwh,
    previous_amount_eur,
    amount_eur as corrected_amount_eur,
    cast(amount_eur - previous_amount_eur as decimal(20, 7)) as amount_delta_eur,
    case
        when
            price_eur_per_kwh <> previous_price_eur_per_kwh
            and consumption_kwh <> previous_consumption_kwh
            then 'price and consumption'
        when price_eur_per_kwh <> previous_price_eur_per_kwh then 'price'
        else 'consumption'
    end as correction_kind,
    dbt_valid_from as corrected_at,
    dbt_valid_to is null as is_current
from versions
where
    version_number > 1
    and (
        amount_eur <> previous_amount_eur
        or price_eur_per_kwh <> previous_price_eur_per_kwh
        or consumption_kwh <> previous_consumption_kwh
    )
