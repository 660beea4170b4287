-- The non-personal attributes of every current customer: what the SCD2 snapshot
-- `snp_customers` tracks. No PII here, so the history the snapshot keeps holds none either
-- (a move changes only PII and creates no new version). The current versions of the
-- business history slv_customer_history: one rule decides what a customer is now.
with

history as (
    select * from {{ ref('slv_customer_history') }}
),

-- `nullif` keeps source_system and country_code nullable in the table schema: the snapshot
-- stages hard-delete rows with null source columns, and the local engine checks NOT NULL
-- columns of a MERGE target before the merge conditions drop those rows (docs/domains.md).
attributes as (
    select
        customer_key,
        nullif(source_system, '') as source_system,
        nullif(country_code, '') as country_code,
        segment,
        customer_since
    from history
    where valid_to is null
)

select * from attributes
