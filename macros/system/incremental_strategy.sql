{#-
    Override of dbt-spark's `dbt_spark_validate_get_incremental_strategy`.

    Why: Sail ignores `spark.sql.sources.partitionOverwriteMode = DYNAMIC`, so
    `insert_overwrite` (and `microbatch`, which dbt-spark runs as insert_overwrite) would
    silently replace the whole table instead of the touched partitions. On Sail these
    strategies are refused with a message naming the model; use `merge` with a `unique_key`
    (or `append`). Other targets keep dbt-spark's validation unchanged.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if gridunion_on_sail() and raw_strategy in ['insert_overwrite', 'microbatch'] -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.unique_id ~ ": incremental_strategy '" ~ raw_strategy
            ~ "' would replace the whole table on the local Sail engine (no dynamic partition "
            ~ "overwrite); use incremental_strategy='merge' with a unique_key, or 'append'") }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{% endmacro %}
