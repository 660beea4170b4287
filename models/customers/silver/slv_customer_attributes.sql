-- The non-personal attributes of every current customer: what the SCD2 snapshot
-- `snp_customers` tracks. No PII here, so the history the snapshot keeps holds none either
-- (a move changes only PII and creates no new version).
with

customers as (
    select * from {{ ref('slv_customers') }}
),

contracts as (
    select * from {{ ref('slv_contracts') }}
),

first_contracts as (
    select
        customer_key,
        min(start_date) as customer_since
    from contracts
    group by customer_key
),

-- `nullif` keeps source_system and country_code nullable in the table schema: the snapshot
-- stages hard-delete rows with null source columns, and the local engine checks NOT NULL
-- columns of a MERGE target before the merge conditions drop those rows (docs/domains.md).
attributes as (
    select
        customers.customer_key,
        nullif(customers.source_system, '') as source_system,
        nullif(customers.country_code, '') as country_code,
        customers.segment,
        first_contracts.customer_since
    from customers
    left join first_contracts
        on customers.customer_key = first_contracts.customer_key
)

select * from attributes
