{#-
    The current state of a master-data feed in change-marker form: the systems' conformed rows
    unioned, the latest row per key kept (by ingest date, load time, row), and dropped when
    that row is a delete (`D`) or when the key is missing from its system's latest full
    export.

    A full export (macro is_full_export: by file name) is authoritative: it lists every key
    the system holds that day, so a key of that system whose latest row is
    older than the system's latest full export was absent from it and no longer exists (a
    tariff validity row the new price list replaced, a customer or contract the source
    removed without sending a delete). Change rows (`U`, `D`) on or after the export's day
    apply on top of it.

    `parts` are the names of the per-system CTEs (same columns, including `source_system`,
    `source_file`, `ingest_date`, `ingested_at`, `source_row_number` and `change_type`); `key_columns`
    identify one entity and start with `source_system`. slv_meters keeps tombstones and builds
    incrementally, so it applies the same two rules on its own.
-#}
{% macro latest_change_state(parts, key_columns) %}
    select *
    from (
        select
            unioned.*,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by ingest_date desc, ingested_at desc, source_row_number desc
            ) as change_rank,
            max(case when {{ is_full_export('source_file') }} then ingest_date end) over (
                partition by source_system
            ) as full_export_date
        from (
            {%- for part in parts %}
            select * from {{ part }}
            {%- if not loop.last %}
            union all
            {%- endif %}
            {%- endfor %}
        ) as unioned
    ) as ranked
    where change_rank = 1
        and change_type <> 'D'
        and (full_export_date is null or ingest_date >= full_export_date)
{% endmacro %}
