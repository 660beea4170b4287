-- Customer dimension, version 1 (deprecated): one row per current customer, current
-- attributes only. Superseded by version 2 (SCD2 history); kept until its deprecation date
-- for consumers that still pin `ref('dim_customers', v=1)`.
with

attributes as (
    select * from {{ ref('slv_customer_attributes') }}
)

select
    customer_key,
    source_system,
    country_code,
    segment,
    customer_since
from attributes
