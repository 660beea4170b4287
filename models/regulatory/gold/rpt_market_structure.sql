-- Customer structure per country and segment, for the regulators' market monitoring
-- (households vs. non-households): current customers only.
-- Pinned to dim_customers v1 (one row per current customer): regulatory reporting migrates
-- to v2 after the current filing cycle, before v1's deprecation date.
with

customers as (
    select * from {{ ref('dim_customers', v=1) }}
),

countries as (
    select * from {{ ref('dim_countries') }}
),

structure as (
    select
        customers.country_code,
        customers.segment,
        count(*) as customer_count
    from customers
    group by customers.country_code, customers.segment
)

select
    structure.country_code,
    countries.regulator_code,
    structure.segment,
    structure.customer_count,
    cast(
        structure.customer_count
        / sum(structure.customer_count) over (partition by structure.country_code)
        as decimal(9, 6)
    ) as customer_share
from structure
inner join countries
    on structure.country_code = countries.country_code
