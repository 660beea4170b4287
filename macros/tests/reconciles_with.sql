{#-
    Reconciliation of a bronze model with silver, per batch (landing file and ingest date):
    every bronze row is either accepted (in `accepted`) or quarantined (in `quarantined`),
    exactly once. Returns the batches whose counts disagree. The test's `where` (scoped tests,
    macros/system/where_subquery.sql) filters all three sides alike, so a scoped run compares
    only the batches of the partitions its build replaced.
-#}
{% test reconciles_with(model, accepted, quarantined, batch_columns=['source_file', 'ingest_date']) %}
{%- set keys = batch_columns | join(', ') %}
with

bronze as (
    select {{ keys }}, count(*) as bronze_rows from {{ model }} group by {{ keys }}
),

accepted_rows as (
    select {{ keys }}, count(*) as accepted_rows
    from {{ get_where_subquery(accepted) }}
    group by {{ keys }}
),

quarantined_rows as (
    select {{ keys }}, count(*) as quarantined_rows
    from {{ get_where_subquery(quarantined) }}
    group by {{ keys }}
)

select
    bronze.*,
    coalesce(accepted_rows.accepted_rows, 0) as accepted_rows,
    coalesce(quarantined_rows.quarantined_rows, 0) as quarantined_rows
from bronze
left join accepted_rows using ({{ keys }})
left join quarantined_rows using ({{ keys }})
where bronze.bronze_rows
    <> coalesce(accepted_rows.accepted_rows, 0) + coalesce(quarantined_rows.quarantined_rows, 0)
{% endtest %}
