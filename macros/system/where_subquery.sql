{#-
    Override of dbt's `get_where_subquery` for Spark targets: the `where` config of a data
    test may name `__partitions_replaced_in_this_build__`. When the model was built by the
    same invocation with Sail's partition replacement (`insert_overwrite` + `partition_by`,
    macros/system/incremental_strategy.sql), the placeholder becomes the predicate of the
    partitions it replaced, so the test reads those partitions only (Delta prunes the rest);
    otherwise (a `dbt test` on its own, a first build or full refresh, a cluster target) it
    is `true` and the test reads the whole table. Use it only where a failure can only sit in
    a replaced partition: row-level tests, and keys that contain the partition column
    (docs/conventions.md, "Incremental models").
-#}
{% macro spark__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set placeholder = '__partitions_replaced_in_this_build__' -%}
    {%- if where and placeholder in where -%}
        {%- set predicate = adapter.gridunion_replaced_partitions(relation) if execute else none -%}
        {%- set where = where | replace(placeholder, '(' ~ predicate ~ ')' if predicate is not none else 'true') -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
