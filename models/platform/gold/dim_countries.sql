-- The four countries of GridUnion Continental with their regulator, time zone and number
-- of grid regions.
with

regions as (
    select * from {{ ref('slv_regions') }}
),

countries as (
    select
        country_code,
        max(country_name) as country_name,
        max(regulator_code) as regulator_code,
        max(regulator_name) as regulator_name,
        max(source_system) as source_system,
        max(time_zone) as time_zone,
        count(*) as region_count
    from regions
    group by country_code
)

select * from countries
