{#-
    Override of dbt's `get_where_subquery` for Spark targets: the `where` config of a data
    test may name `__partitions_replaced_in_this_build__`. When the model was built by the
    same invocation with Sail's partition replacement (`insert_overwrite` + `partition_by`,
    macros/system/incremental_strategy.sql) or appended batches of landing files (bronze,
    macros/ingestion/bronze_from_landing.sql), the placeholder becomes the predicate of the
    partitions it replaced, so the test reads those partitions only (Delta prunes the rest);
    otherwise (a `dbt test` on its own, a first build or full refresh, a cluster target, or a
    test whose last run did not pass or was followed by a write without it:
    `gridunion_scope_start` below) it is `true` and the test reads the whole table. Use it
    only where a failure can only sit in a replaced partition: row-level tests, and keys that
    contain the partition column (docs/conventions.md, "Incremental models").

    Two extensions:
    - `__this__` in the `where` is the tested relation, so a key that crosses partitions can
      be checked for the keys the build touched:
      `meter_id in (select meter_id from __this__ where __partitions_replaced_in_this_build__)`
      reads every row sharing a key with a replaced partition (a duplicate involving a
      rewritten row is found, wherever its twin lives).
    - a view that filters a partitioned model and keeps its partition column declares it with
      `meta: {replaced_partitions_of: <model name>}`; its tests then use that model's
      replaced partitions. A test can declare the same in its own `meta`; it then wins over
      the tested model's own batches.
-#}
{% macro spark__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set placeholder = '__partitions_replaced_in_this_build__' -%}
    {%- if where and placeholder in where -%}
        {%- set predicate = gridunion_test_replaced_partitions(relation)
            if execute and adapter.gridunion_test_may_scope(model.unique_id) else none -%}
        {%- set where = where | replace(placeholder, '(' ~ predicate ~ ')' if predicate is not none else 'true') -%}
    {%- endif -%}
    {%- if where -%}
        {%- set where = where | replace('__this__', relation | string) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}


{% macro gridunion_test_replaced_partitions(relation) %}
    {#-
        The replaced-partition predicate for a test of `relation`: that of the model the
        test's own `meta.replaced_partitions_of` names (a test whose batches are another
        model's partitions, e.g. `reconciles_with` on bronze), else the relation's own, else
        that of the model its tested model's `meta.replaced_partitions_of` names.
    -#}
    {%- set test_of = ((model.get('config') or {}).get('meta') or {}).get('replaced_partitions_of') -%}
    {%- if test_of -%}
        {{ return(gridunion_model_replaced_partitions(test_of, model.package_name)) }}
    {%- endif -%}
    {%- set predicate = adapter.gridunion_replaced_partitions(relation) -%}
    {%- set tested = graph.nodes.get(model.get('attached_node') or '') -%}
    {%- set of = ((tested or {}).get('config', {}).get('meta') or {}).get('replaced_partitions_of') -%}
    {%- if predicate is none and of -%}
        {{ return(gridunion_model_replaced_partitions(of, tested.package_name)) }}
    {%- endif -%}
    {{ return(predicate) }}
{% endmacro %}


{% macro gridunion_model_replaced_partitions(name, package_name) %}
    {#- the partitions model `name` replaced in this invocation (as its candidate when public) -#}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'model' and node.name == name and node.package_name == package_name -%}
        {%- set upstream = api.Relation.create(
            database=node.database, schema=node.schema, identifier=node.alias) -%}
        {%- set predicate = adapter.gridunion_replaced_partitions(upstream) -%}
        {%- if predicate is none -%}  {#- a public model: written as its candidate -#}
            {%- set predicate = adapter.gridunion_replaced_partitions(
                upstream.incorporate(path={'identifier': upstream.identifier ~ '__candidate'})) -%}
        {%- endif -%}
        {{ return(predicate) }}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{#-
    Which tests may be scoped (dbt_gridunion/build_scope.py): a test reads only what this
    build wrote when its last run passed and nothing was written after it; otherwise it reads
    the whole table once more. on-run-start reads that record and doubts the tests of what
    this invocation may write; on-run-end stores every test's outcome. Sail targets only (the
    only ones that scope).
-#}
{% macro gridunion_scope_applies() %}
    {#- the commands that run tests or write tables, on the engine that scopes -#}
    {{ return(execute and gridunion_on_sail()
              and flags.WHICH in ['build', 'run', 'test', 'seed', 'snapshot', 'retry']) }}
{% endmacro %}


{% macro gridunion_scope_start() %}
    {%- if gridunion_scope_applies() -%}
        {%- do adapter.gridunion_scope_begin(gridunion_lakehouse(), graph.nodes, selected_resources, flags.WHICH) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro gridunion_scope_finish(results) %}
    {%- if gridunion_scope_applies() -%}
        {%- do adapter.gridunion_scope_finish(gridunion_lakehouse(), results) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
