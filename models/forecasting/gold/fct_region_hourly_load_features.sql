-- Features of the demand model per grid region and UTC hour. Lags are looked up by time
-- (hour_start_at - 1, 24 and 168 hours), not by row position, so a missing hour gives a null
-- lag instead of a wrong one; the rolling mean covers the 24 hours ending at the hour.
-- The mean is rounded once, half up, from an exact integer sum (Wh): `avg` of a decimal
-- rounds to scale + 4 and the cast rounds again on Spark, once on Sail, so the engines
-- disagreed in the 6th decimal (docs/decisions.md).
with

hourly as (
    select * from {{ ref('slv_hourly_load') }}
),

rolling as (
    select
        *,
        sum(cast(consumption_kwh * 1000 as bigint)) over (
            partition by region_code
            order by unix_seconds(hour_start_at)
            range between 82800 preceding and current row
        ) as rolling_24h_wh,
        count(*) over (
            partition by region_code
            order by unix_seconds(hour_start_at)
            range between 82800 preceding and current row
        ) as rolling_24h_hours
    from hourly
),

features as (
    select
        rolling.region_code,
        rolling.hour_start_at,
        rolling.country_code,
        rolling.consumption_kwh,
        rolling.local_hour_of_day as hour_of_day,
        rolling.local_day_of_week as day_of_week,
        rolling.local_day_of_week >= 6 as is_weekend,
        rolling.is_holiday,
        lag_1h.consumption_kwh as lag_1h_kwh,
        lag_24h.consumption_kwh as lag_24h_kwh,
        lag_168h.consumption_kwh as lag_168h_kwh,
        -- mean kWh x 10^6 = Wh x 1000 / hours, rounded half up (the sum is never negative)
        cast(
            (
                (2000 * rolling.rolling_24h_wh + rolling.rolling_24h_hours)
                div (2 * rolling.rolling_24h_hours)
            ) * 0.000001 as decimal(18, 6)
        ) as rolling_24h_mean_kwh,
        rolling.rolling_24h_hours
    from rolling
    left join hourly as lag_1h
        on rolling.region_code = lag_1h.region_code
            and lag_1h.hour_start_at = rolling.hour_start_at - interval 1 hour
    left join hourly as lag_24h
        on rolling.region_code = lag_24h.region_code
            and lag_24h.hour_start_at = rolling.hour_start_at - interval 24 hours
    left join hourly as lag_168h
        on rolling.region_code = lag_168h.region_code
            and lag_168h.hour_start_at = rolling.hour_start_at - interval 168 hours
)

select * from features
