{#-
    The current state of a master-data feed in change-marker form (each export row is an
    insert `I`, upsert `U` or delete `D`): the systems' conformed rows unioned, the latest row
    per key kept (by ingest date, load time, row), and a key whose latest row is a delete
    dropped. `parts` are the names of the per-system CTEs (same columns, including
    `ingest_date`, `ingested_at`, `source_row_number` and `change_type`); `key_columns`
    identify one entity. slv_meters keeps tombstones and builds incrementally, so it ranks
    on its own.
-#}
{% macro latest_change_state(parts, key_columns) %}
    select *
    from (
        select
            unioned.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by ingest_date desc, ingested_at desc, source_row_number desc
            ) as change_rank
        from (
            {%- for part in parts %}
            select * from {{ part }}
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        ) as unioned
    ) as ranked
    where change_rank = 1 and change_type <> 'D'
{% endmacro %}
