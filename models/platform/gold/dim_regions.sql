-- The 30 grid regions with country, regulator, serving source system and time zone.
with

regions as (
    select * from {{ ref('slv_regions') }}
)

select
    region_code,
    region_name,
    country_code,
    country_name,
    regulator_code,
    regulator_name,
    source_system,
    time_zone
from regions
