-- The tariff price lists as currently known: one row per validity row (tariff_code,
-- valid_from) from the current versions of the snapshot `snp_tariff_prices`, with when that
-- knowledge was recorded and how many versions the row has had (> 1: it was corrected).
with

tariff_history as (
    select * from {{ ref('snp_tariff_prices') }}
),

version_counts as (
    select
        tariff_code,
        valid_from,
        count(*) as version_count
    from tariff_history
    group by tariff_code, valid_from
),

current_versions as (
    select *
    from tariff_history
    where dbt_valid_to is null
),

prices as (
    select
        current_versions.tariff_code,
        current_versions.valid_from,
        current_versions.valid_to,
        cast(current_versions.price_eur_per_kwh as decimal(10, 4)) as price_eur_per_kwh,
        current_versions.country_code,
        current_versions.source_system,
        lead(current_versions.valid_from) over (
            partition by current_versions.tariff_code
            order by current_versions.valid_from
        ) as next_valid_from,
        cast(current_versions.dbt_valid_from as timestamp) as recorded_at,
        version_counts.version_count
    from current_versions
    inner join version_counts
        on current_versions.tariff_code = version_counts.tariff_code
            and current_versions.valid_from = version_counts.valid_from
)

select * from prices
