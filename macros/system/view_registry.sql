{#-
    The view registry: how views survive an engine restart on Sail.

    Why: Sail's catalog is in memory. Tables are found again by scanning the lakehouse, but a
    view has no files, so its definition is recorded in the Delta table
    `platform_catalog.relations` (kept in the lakehouse like every other table) and re-created
    by `platform-tools engine up` (platform_tools/engine/catalog.py). A dropped relation gets a
    tombstone row so that the catalog rebuild does not bring it back; the newer of a table's
    last commit and its registry row wins. The registry holds one current row per relation
    state: on-run-start reads the newest row of each relation once, and a record is appended
    only when it differs from it (dbt_gridunion/view_registry.py), so a view rebuilt with the
    same definition adds no row.
-#}
{% macro gridunion_registry_relation() %}
    {{ return(api.Relation.create(schema='platform_catalog', identifier='relations', type='table')) }}
{% endmacro %}


{% macro gridunion_ensure_registry() %}
    {#- Called from on-run-start: creates the registry table once and reads the newest row
        of each relation (the records this invocation need not append again). -#}
    {%- if execute and gridunion_on_sail() -%}
        {%- set registry = gridunion_registry_relation() -%}
        {% call statement('gridunion_registry_schema', auto_begin=False) -%}
            create schema if not exists {{ registry.schema }}
        {%- endcall %}
        {% call statement('gridunion_registry_table', auto_begin=False) -%}
            create table if not exists {{ registry }} (
                relation_schema string,
                relation_name string,
                relation_type string,
                definition string,
                recorded_at timestamp
            )
            using delta
            location '{{ gridunion_lakehouse() }}/warehouse/{{ registry.schema }}/{{ registry.identifier }}'
        {%- endcall %}
        {#- the commands that build views (elsewhere every record is appended, as it comes) -#}
        {%- if flags.WHICH in ('build', 'run', 'retry') -%}
            {%- set newest = run_query(
                'select relation_schema, relation_name, relation_type, definition from ('
                ~ 'select relation_schema, relation_name, relation_type, definition, '
                ~ 'row_number() over (partition by relation_schema, relation_name '
                ~ 'order by recorded_at desc) as newest from ' ~ registry
                ~ ') as ranked where newest = 1') -%}
            {%- do adapter.gridunion_registry_remember(newest.rows) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro gridunion_record_relation(relation, relation_type, definition='') %}
    {#-
        Appends one record unless it equals the newest record of the relation; the newest
        record of a relation wins when the catalog is rebuilt. Append-only because dbt's
        threads record views concurrently: blind appends commit side by side, while
        concurrent MERGEs into the registry fail ("Failed to commit transaction").
    -#}
    {%- do gridunion_record_relations([(relation, relation_type, definition)]) -%}
{% endmacro %}


{% macro gridunion_record_relations(records) %}
    {#-
        Appends several records (relation, type, definition) in one commit, leaving out those
        equal to the newest record of their relation read at on-run-start.
    -#}
    {%- set records = adapter.gridunion_registry_changed(records) if gridunion_on_sail() and records else [] -%}
    {%- if records -%}
        {% call statement('gridunion_record_relation', auto_begin=False) -%}
            insert into {{ gridunion_registry_relation() }}
            {% for relation, relation_type, definition in records -%}
            select
                '{{ relation.schema }}' as relation_schema,
                '{{ relation.identifier }}' as relation_name,
                '{{ relation_type }}' as relation_type,
                '{{ definition | replace("\\", "\\\\") | replace("'", "\\'") }}' as definition,
                current_timestamp() as recorded_at
            {% if not loop.last %}union all{% endif %}
            {% endfor %}
        {%- endcall %}
    {%- endif -%}
{% endmacro %}


{% materialization view, adapter='spark' -%}
    {#- dbt-spark's view materialization, plus the registry record on Sail. -#}
    {%- set result = create_or_replace_view() -%}
    {%- do gridunion_record_relation(this, 'view', sql) -%}
    {{ return(result) }}
{%- endmaterialization %}


{% macro spark__drop_relation(relation) -%}
    {#- Only a relation that existed gets a tombstone; dbt-spark also "drops" before a first build. -#}
    {%- set existed = relation.schema and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {{ dbt.spark__drop_relation(relation) }}
    {%- if existed -%}
        {%- do gridunion_record_relation(relation, 'dropped') -%}
    {%- endif -%}
{%- endmacro %}
