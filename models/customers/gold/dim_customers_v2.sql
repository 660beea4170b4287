-- Customer dimension, version 2: the SCD2 history of every customer's non-personal
-- attributes from the snapshot `snp_customers`, one row per customer and version.
-- `is_current` marks the version in force. A customer deleted in its source system keeps
-- its history: its last version is closed and flagged `is_deleted`, and none is current.
with

snapshot as (
    select * from {{ ref('snp_customers') }}
),

versions as (
    select
        customer_key,
        source_system,
        country_code,
        segment,
        customer_since,
        cast(dbt_valid_from as timestamp) as valid_from,
        cast(dbt_valid_to as timestamp) as valid_to,
        lead(dbt_valid_from) over (
            partition by customer_key
            order by dbt_valid_from
        ) as next_valid_from
    from snapshot
)

select
    customer_key,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    (valid_to is not null and next_valid_from is null) as is_deleted,
    source_system,
    country_code,
    segment,
    customer_since
from versions
