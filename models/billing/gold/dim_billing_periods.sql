-- Billing periods: calendar months, from the first to the last month with consumption.
-- A period is complete once consumption exists for its last day.
with

consumption as (
    select * from {{ ref('fct_meter_daily_consumption') }}
),

bounds as (
    select
        trunc(min(reading_date), 'MM') as first_month,
        trunc(max(reading_date), 'MM') as last_month,
        max(reading_date) as last_reading_date
    from consumption
),

months as (
    select
        explode(sequence(first_month, last_month, interval 1 month)) as period_start_date,
        last_reading_date
    from bounds
    where first_month is not null
),

periods as (
    select
        date_format(period_start_date, 'yyyy-MM') as billing_period,
        period_start_date,
        last_day(period_start_date) as period_end_date,
        day(last_day(period_start_date)) as days_in_period,
        last_reading_date >= last_day(period_start_date) as is_complete
    from months
)

select * from periods
