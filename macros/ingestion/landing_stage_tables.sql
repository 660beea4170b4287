{#-
    Expose the staged landing zone to dbt (on-run-start; idempotent).

    `platform-tools landing stage` writes every landing file as Parquet under
    `<staging root>/<system>/<entity>/ingest_date=<d>/` plus a manifest. This hook declares
    one external table per table of the `landing` source, with an explicit schema so that a
    system that has not landed anything yet reads as empty instead of failing. The staging
    root is, first found: `var('landing_staging_root')`, the environment variable
    `GRIDUNION_STAGING_URI` (the staging folder as the engine names it, on a cluster shared
    storage such as `hdfs://…`, `s3a://…`, `abfss://…`), `GRIDUNION_STAGING_DIR` (where
    `platform-tools landing stage` writes), `<lakehouse>/staging`.
-#}
{% macro landing_staging_root() %}
    {%- set root = var('landing_staging_root', none)
        or env_var('GRIDUNION_STAGING_URI', '')
        or env_var('GRIDUNION_STAGING_DIR', '')
        or (gridunion_lakehouse() ~ '/staging') -%}
    {{ return(root.rstrip('/')) }}
{% endmacro %}


{% macro landing_stage_tables() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set root = landing_staging_root() -%}
    {%- set sources = graph.sources.values() | selectattr('source_name', 'equalto', 'landing') | list -%}
    {%- if sources | length == 0 -%}{{ return('') }}{%- endif -%}
    {% call statement('landing_schema', auto_begin=False) -%}
        create schema if not exists {{ sources[0].schema }}
    {%- endcall %}
    {#- only the tables this engine session does not have yet (one query instead of ~20) -#}
    {%- set existing = [] -%}
    {%- for row in run_query('show tables in ' ~ sources[0].schema).rows -%}
        {%- do existing.append(row[1] | lower) -%}
    {%- endfor -%}
    {%- for node in sources if node.identifier | lower not in existing -%}
        {%- set landing = node.meta.get('landing', {}) -%}
        {%- if node.name == 'staging_manifest' -%}
            {%- set columns = 'system string, entity string, ingest_date string, source_file string, '
                ~ 'source_bytes bigint, source_sha256 string, status string, error string, '
                ~ 'row_count bigint, columns_json string, staged_at timestamp, '
                ~ 'source_mtime_ns bigint' -%}
            {%- set location = root ~ '/_manifest' -%}
        {%- else -%}
            {%- set columns = '_source_file string, _ingest_date string, _row_number bigint, '
                ~ '_record string, _parse_error string' -%}
            {%- set location = root ~ '/' ~ landing['system'] ~ '/' ~ landing['entity'] -%}
        {%- endif -%}
        {% call statement('landing_table_' ~ node.name, auto_begin=False) -%}
            create table if not exists {{ node.schema }}.{{ node.identifier }} ({{ columns }})
            using parquet location '{{ location }}'
        {%- endcall %}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}


{#-
    First on-run-start hook: a `build`/`run` whose selection reads the landing zone stops in
    one line, before anything is written, when nothing is staged or the staging manifest is
    unreadable (dbt_gridunion/staging_check.py; shared storage is not checked).
-#}
{% macro landing_require_staged() %}
    {%- if execute and flags.WHICH in ('build', 'run', 'retry') and landing_is_read_by_selection() -%}
        {%- do adapter.gridunion_check_staging(landing_staging_root()) -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}


{% macro landing_is_read_by_selection() %}
    {%- for unique_id in selected_resources if unique_id in graph.nodes -%}
        {%- for parent in graph.nodes[unique_id].depends_on.nodes
            if parent.startswith('source.' ~ project_name ~ '.landing.') -%}
            {{ return(true) }}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(false) }}
{% endmacro %}
