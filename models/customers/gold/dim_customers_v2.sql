-- Customer dimension, version 2: the business history of every customer's non-personal
-- attributes (slv_customer_history: versions dated by the source systems' own change days,
-- reproducible from bronze), one row per customer and version. `is_current` marks the
-- version in force. A customer deleted in its source system keeps its history: its last
-- version is closed and flagged `is_deleted`, and none is current. What the platform knew
-- when is the snapshot `snp_customers`.
with

history as (
    select * from {{ ref('slv_customer_history') }}
),

versions as (
    select
        customer_key,
        source_system,
        country_code,
        segment,
        customer_since,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to,
        lead(valid_from) over (
            partition by customer_key
            order by valid_from
        ) as next_valid_from
    from history
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
