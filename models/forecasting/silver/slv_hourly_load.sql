-- Hourly load per grid region (metering's public hourly consumption) in UTC and in the
-- region's local time, with the local calendar flags the demand model needs.
with

hourly as (
    select * from {{ ref('fct_region_hourly_consumption') }}
),

regions as (
    select * from {{ ref('dim_regions') }}
),

holidays as (
    select * from {{ ref('public_holidays') }}
),

localized as (
    select
        hourly.region_code,
        hourly.hour_start_at,
        regions.country_code,
        from_utc_timestamp(hourly.hour_start_at, regions.time_zone) as local_hour_start_at,
        hourly.consumption_kwh,
        hourly.meter_count
    from hourly
    inner join regions
        on hourly.region_code = regions.region_code
),

flagged as (
    select
        localized.*,
        to_date(localized.local_hour_start_at) as local_date,
        hour(localized.local_hour_start_at) as local_hour_of_day,
        -- ISO day of week: Monday = 1 ... Sunday = 7
        pmod(dayofweek(localized.local_hour_start_at) + 5, 7) + 1 as local_day_of_week,
        holidays.holiday_name is not null as is_holiday
    from localized
    left join holidays
        on localized.country_code = holidays.country_code
            and to_date(localized.local_hour_start_at) = holidays.holiday_date
)

select * from flagged
