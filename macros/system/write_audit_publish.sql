{#-
    Write-audit-publish (WAP) of public models, by version pinning.

    Why: data tests run after a model is written, so without this a public model that fails
    its tests is already what other teams read. A public Delta `table`/`incremental` model is
    therefore written by the stock materializations as `<alias>__candidate` (the dbt plugin
    makes that its `this`, dbt_gridunion/wap.py), its tests read the candidate, and its public
    name `<schema>.<alias>` is a view pinned to the last audited Delta version:
    `select <columns> from <schema>.<alias>__candidate version as of <n>`. At the end of an
    invocation (`on-run-end`) every such model whose tests in this invocation all passed gets
    its view re-pointed to the candidate's current version; any other keeps its view, and one
    line says why (`WAP: not published ...`). Each publication is appended to the Delta table
    `platform_catalog.publications`, which says which version readers get (for readers of the
    Delta path, `platform_tools/wap.py`). On Sail the view is also recorded in the view
    registry, so it survives an engine restart. Columns are listed because Sail reads an old
    version with the table's current column list (`select *` of an older version fails once
    columns were added). Costs: per published model one directory listing (Sail) or
    `describe history` (Spark), one column listing and one view swap; per invocation one
    registry insert and one publications insert (docs/decisions.md).
-#}
{% macro gridunion_publications_relation() %}
    {{ return(api.Relation.create(schema='platform_catalog', identifier='publications', type='table')) }}
{% endmacro %}


{% macro gridunion_wap_commands() %}
    {{ return(['build', 'run', 'test', 'retry']) }}
{% endmacro %}


{% macro gridunion_wap_start() %}
    {#- on-run-start: the publications table exists and this invocation knows what readers see -#}
    {%- if execute and flags.WHICH in gridunion_wap_commands() -%}
        {%- set publications = gridunion_publications_relation() -%}
        {% call statement('gridunion_publications_schema', auto_begin=False) -%}
            create schema if not exists {{ publications.schema }}
        {%- endcall %}
        {% call statement('gridunion_publications_table', auto_begin=False) -%}
            create table if not exists {{ publications }} (
                relation_schema string,
                relation_name string,
                candidate_name string,
                version bigint,
                published_at timestamp,
                invocation_id string
            )
            using delta
            {%- if gridunion_on_sail() %}
            location '{{ gridunion_lakehouse() }}/warehouse/{{ publications.schema }}/{{ publications.identifier }}'
            {%- endif %}
        {%- endcall %}
        {%- set latest = run_query(
            'select relation_schema, relation_name, version from ('
            ~ 'select relation_schema, relation_name, version, row_number() over ('
            ~ 'partition by relation_schema, relation_name '
            ~ 'order by published_at desc, version desc) as newest from ' ~ publications
            ~ ') as ranked where newest = 1') -%}
        {%- do adapter.gridunion_wap_remember(latest.rows, graph) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro gridunion_candidate_version(candidate) %}
    {#- the newest Delta version of a candidate table; none when it does not exist -#}
    {%- if gridunion_on_sail() -%}
        {{ return(adapter.gridunion_delta_version(
            gridunion_lakehouse() ~ '/warehouse/' ~ candidate.schema ~ '/' ~ candidate.identifier)) }}
    {%- endif -%}
    {%- if target.method == 'session' -%}
        {#- local Spark: a managed table under the lakehouse; the log listing is enough -#}
        {%- set version = adapter.gridunion_delta_version(gridunion_lakehouse() ~ '/spark-warehouse/'
            ~ candidate.schema ~ '.db/' ~ candidate.identifier) -%}
        {%- if version is not none -%}{{ return(version) }}{%- endif -%}
    {%- endif -%}
    {%- set history = run_query('describe history ' ~ candidate ~ ' limit 1') -%}
    {{ return(history.rows[0]['version'] | int if history.rows else none) }}
{% endmacro %}


{% macro gridunion_publish_view(public, candidate, version) %}
    {#- re-point the public view to `version` of the candidate; returns the view's definition -#}
    {%- set existing = adapter.get_relation(
        database=public.database, schema=public.schema, identifier=public.identifier) -%}
    {%- if existing is not none and existing.type != 'view' -%}
        {#- a lakehouse built before write-audit-publish: the public name was the table -#}
        {%- do adapter.drop_relation(existing) -%}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(candidate) -%}
        {%- set quoted = adapter.quote(column.name) -%}
        {%- if quoted not in names -%}{%- do names.append(quoted) -%}{%- endif -%}
    {%- endfor -%}
    {%- set definition -%}
        select {{ names | join(', ') }} from {{ candidate }} version as of {{ version }}
    {%- endset -%}
    {% call statement('gridunion_publish_view', auto_begin=False) -%}
        create or replace view {{ public }} as {{ definition }}
    {%- endcall %}
    {{ return(definition) }}
{% endmacro %}


{% macro gridunion_wap_publish(results) %}
    {#- on-run-end: publish every public model whose tests in this invocation all passed -#}
    {%- if not execute or flags.WHICH not in gridunion_wap_commands() -%}{{ return('') }}{%- endif -%}
    {%- set started = modules.datetime.datetime.now() -%}
    {%- set published = [] -%}
    {%- set registry = [] -%}
    {%- for item in adapter.gridunion_wap_plan(results, graph) -%}
        {%- set public = api.Relation.create(
            database=item.database, schema=item.schema, identifier=item.alias, type='view') -%}
        {%- set readers = adapter.gridunion_wap_published_version(item.schema, item.alias) -%}
        {%- if item.action == 'publish' -%}
            {%- set candidate = api.Relation.create(
                database=item.database, schema=item.schema, identifier=item.candidate, type='table') -%}
            {%- set version = gridunion_candidate_version(candidate) -%}
            {%- if version is not none and version != readers -%}
                {%- set definition = gridunion_publish_view(public, candidate, version) -%}
                {%- do registry.append((public, 'view', definition)) -%}
                {%- do published.append({'item': item, 'version': version,
                    'label': public ~ ' -> version ' ~ version}) -%}
            {%- endif -%}
        {%- else -%}
            {{ log("WAP: not published " ~ public ~ " (model " ~ item.name ~ "): " ~ item.reason
                ~ "; readers keep "
                ~ ("version " ~ readers if readers is not none
                   else "no version (none has passed its tests yet)"), info=True) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if published -%}
        {%- do gridunion_record_relations(registry) -%}
        {% call statement('gridunion_record_publications', auto_begin=False) -%}
            insert into {{ gridunion_publications_relation() }}
            {% for entry in published -%}
            select
                '{{ entry.item.schema }}' as relation_schema,
                '{{ entry.item.alias }}' as relation_name,
                '{{ entry.item.candidate }}' as candidate_name,
                cast({{ entry.version }} as bigint) as version,
                current_timestamp() as published_at,
                '{{ invocation_id }}' as invocation_id
            {% if not loop.last %}union all{% endif %}
            {% endfor %}
        {%- endcall %}
        {%- set seconds = (modules.datetime.datetime.now() - started).total_seconds() -%}
        {{ log("WAP: published " ~ published | length ~ " public model(s) in "
            ~ '%.2f' | format(seconds) ~ " s: "
            ~ published | map(attribute='label') | join(', '), info=True) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
