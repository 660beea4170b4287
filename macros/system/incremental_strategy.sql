{#-
    Overrides of dbt-spark's `dbt_spark_validate_get_incremental_strategy`,
    `dbt_spark_get_incremental_sql` and `get_insert_overwrite_sql`.

    Why: Sail ignores `spark.sql.sources.partitionOverwriteMode = DYNAMIC` (and rejects the
    unquoted `set` dbt-spark sends), so dbt-spark's `insert overwrite table ... partition
    (...)` would replace the whole table instead of the partitions the new data touches. On
    Sail `insert_overwrite` with a `partition_by` is therefore run as Delta's
    `INSERT INTO ... REPLACE WHERE <partition predicate>`: the partition values present in the
    new data are read first (or taken from the model's `replaced_partitions()` declaration,
    which saves evaluating the model twice), and exactly those partitions are replaced in one
    atomic commit (dbt-spark's documented dynamic-partition semantics). Sail's MERGE rewrites
    every data file of the target, so this is also the fast way to update a large table a few
    partitions at a time. The validation hands the materialization an internal strategy name
    (`sail_replace_partitions`) so that it skips the `set` statement. `insert_overwrite`
    without a `partition_by` replaces the whole table (as on Spark); `microbatch` stays
    refused on Sail (untested there). Other targets keep dbt-spark's behaviour unchanged.
-#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
    {%- if gridunion_on_sail() and raw_strategy == 'microbatch' -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ model.unique_id ~ ": incremental_strategy 'microbatch' is not supported "
            ~ "on the local Sail engine; use 'insert_overwrite' with a partition_by (partitions "
            ~ "in the new data are replaced), 'merge' with a unique_key, or 'append'") }}
    {%- endif -%}
    {%- set strategy = dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if gridunion_on_sail() and strategy == 'insert_overwrite' and config.get('partition_by') -%}
        {{ return('sail_replace_partitions') }}
    {%- endif -%}
    {{ return(strategy) }}
{% endmacro %}


{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
    {%- if strategy == 'sail_replace_partitions' -%}
        {{ return(get_insert_overwrite_sql(source, target, existing)) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_get_incremental_sql(
        strategy, source, target, existing, unique_key, incremental_predicates)) }}
{% endmacro %}


{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) %}
    {%- set partition_by = config.get('partition_by') -%}
    {%- if not gridunion_on_sail() or not partition_by -%}
        {{ return(dbt.get_insert_overwrite_sql(source_relation, target_relation, existing_relation)) }}
    {%- endif -%}
    {%- set partition_columns = [partition_by] if partition_by is string else partition_by -%}
    {%- set dest_columns = adapter.get_columns_in_relation(target_relation) -%}
    {%- set dest_cols_csv = dest_columns | map(attribute='quoted') | join(', ') -%}
    {#- partitions declared by the model (`replaced_partitions`), else those of the new data -#}
    {%- set declared = modules.re.search(
        '/\\* gridunion:replace_partitions (.*?) \\*/', model.get('compiled_code') or '') -%}
    {%- if declared -%}
        {%- set predicate = none if declared.group(1) == 'false' else declared.group(1) -%}
    {%- else -%}
        {%- set predicate = gridunion_partition_predicate(
            source_relation, partition_columns, dest_columns) -%}
    {%- endif -%}
    {#-
        for tests scoped to the replaced partitions (macros/system/where_subquery.sql); a
        public model's candidate holding rows readers do not get (an earlier build failed its
        audit) has its tests read the whole table (macros/system/write_audit_publish.sql)
    -#}
    {%- set scope = predicate or 'false' -%}
    {%- if adapter.gridunion_wap_candidate_is_ahead(target_relation,
            gridunion_lakehouse() ~ '/warehouse/' ~ target_relation.schema ~ '/' ~ target_relation.identifier) -%}
        {%- set scope = 'true' -%}
    {%- endif -%}
    {%- do adapter.gridunion_note_replaced_partitions(target_relation, scope) -%}
    {%- if predicate is none -%}
        {#- no rows: nothing to replace, the empty insert leaves the table as it is -#}
        insert into table {{ target_relation }}
        select {{ dest_cols_csv }} from {{ source_relation }}
    {%- else -%}
        insert into table {{ target_relation }}
        replace where {{ predicate }}
        select {{ dest_cols_csv }} from {{ source_relation }}
    {%- endif -%}
{% endmacro %}


{% macro gridunion_partition_predicate(source_relation, partition_columns, columns) %}
    {#-
        An `or` of `and`-ed equalities over the distinct partition values of the new data,
        typed like the target's `columns`; none when it has no rows.
    -#}
    {%- set casts = [] -%}
    {%- for column in partition_columns -%}
        {%- do casts.append('cast(' ~ column ~ ' as string) as ' ~ column) -%}
    {%- endfor -%}
    {%- set found = run_query('select distinct ' ~ casts | join(', ') ~ ' from ' ~ source_relation) -%}
    {%- if found.rows | length == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set types = {} -%}
    {%- for column in columns -%}
        {%- do types.update({column.name | lower: column.dtype}) -%}
    {%- endfor -%}
    {%- set alternatives = [] -%}
    {%- for row in found.rows -%}
        {%- set terms = [] -%}
        {%- for column in partition_columns -%}
            {%- set value = row[loop.index0] -%}
            {%- if value is none -%}
                {%- do terms.append(column ~ ' is null') -%}
            {%- else -%}
                {%- do terms.append(column ~ " = cast('" ~ (value | replace("'", "\\'"))
                    ~ "' as " ~ types.get(column | lower, 'string') ~ ")") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do alternatives.append('(' ~ terms | join(' and ') ~ ')') -%}
    {%- endfor -%}
    {{ return(alternatives | join(' or ')) }}
{% endmacro %}
