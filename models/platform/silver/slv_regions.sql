-- The region reference list (seed `regions`) with normalised codes.
with

regions as (
    select * from {{ ref('regions') }}
)

select
    upper(trim(region_code)) as region_code,
    trim(region_name) as region_name,
    upper(trim(country_code)) as country_code,
    trim(country_name) as country_name,
    trim(regulator_code) as regulator_code,
    trim(regulator_name) as regulator_name,
    lower(trim(source_system)) as source_system,
    trim(time_zone) as time_zone
from regions
