-- The latest known version of every customer from customers' SCD2 dimension (v2): the
-- current version, or the version recording the customer's deletion. One row per customer.
with

customer_versions as (
    select * from {{ ref('dim_customers', v=2) }}
),

ranked as (
    select
        *,
        row_number() over (partition by customer_key order by valid_from desc) as version_rank
    from customer_versions
)

select
    customer_key,
    valid_from,
    is_current,
    is_deleted,
    source_system,
    country_code,
    segment,
    customer_since
from ranked
where version_rank = 1
