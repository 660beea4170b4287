{#-
    The body of every bronze model: the records of one landing source table, append-only.

    - Ingestion metadata: source system, file, batch (ingest) date, row number, file hash and
      `ingested_at`. The record stays as landed (`landed_record` JSON); each declared field is
      also extracted as text (lower-case column name), so bronze never interprets a value.
    - Idempotent: a file is loaded once per content hash; re-running the build or re-landing
      an identical file adds nothing, a corrected file with the same name is a new batch.
      The files still to load are listed before the query runs (`landing_new_files`), so the
      query names them literally and reads only their staged Parquet, not the whole history.
    - Scoped tests: on an incremental build the files it appends are noted as this build's
      batches, so a test with `where: __partitions_replaced_in_this_build__` reads only them
      (macros/system/where_subquery.sql; the whole table when the test is not clean).
    - Schema guard (`landing_schema_guard`): fails the model when a file about to be loaded
      lacks a declared column or changed its type, reports additive columns as a warning
      (once, when the file is loaded).
-#}
{% macro bronze_from_landing(source_table) %}
    {%- if not execute -%}
        {#- parse time: the graph is not available yet; record the two source dependencies -#}
        select * from {{ source('landing', source_table) }}
        cross join {{ source('landing', 'staging_manifest') }}
        {{- return('') -}}
    {%- endif -%}
    {%- set source_node = landing_source_node(source_table) -%}
    {%- set landing = source_node.meta['landing'] -%}
    {%- set files = landing_new_files(landing) -%}
    {%- do landing_schema_guard(source_node, files) -%}
    {%- if files is not none and is_incremental() -%}
        {#- tests with `where: __partitions_replaced_in_this_build__` read these files only -#}
        {%- do adapter.gridunion_note_replaced_partitions(this, landing_file_filter('source_file', files)) -%}
    {%- endif -%}
with

landed as (
    select * from {{ source('landing', source_table) }}
),

manifest as (
    select source_file, source_sha256
    from {{ source('landing', 'staging_manifest') }}
    where system = '{{ landing.system }}' and entity = '{{ landing.entity }}' and status = 'staged'
),

new_records as (
    select
        landed.*,
        manifest.source_sha256
    from landed
    inner join manifest on landed._source_file = manifest.source_file
    where {{ landing_file_filter('landed._source_file', files) }}
        and {{ landing_file_filter('manifest.source_file', files) }}
)

select
    '{{ landing.system }}' as source_system,
    _source_file as source_file,
    source_sha256,
    cast(_ingest_date as date) as ingest_date,
    _row_number as source_row_number,
    _record as landed_record,
    _parse_error as parse_error,
    {%- for column in landing['columns'] %}
    get_json_object(_record, '$.{{ column[0] }}') as {{ column[0] | lower }},
    {%- endfor %}
    current_timestamp() as ingested_at
from new_records
{% endmacro %}


{% macro landing_source_node(source_table) %}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == 'landing' and node.name == source_table -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("bronze model " ~ model.name ~ ": no table '" ~ source_table
        ~ "' in source 'landing' (models/landing/_landing__sources.yml)") }}
{% endmacro %}


{% macro landing_new_files(landing) %}
    {#-
        The staged files of one system/entity not yet in this bronze model (by path and
        content hash), as a list of [source_file, columns_json], sorted by path. A file
        without records adds nothing and is never listed (else it would stay "new" for
        ever: bronze holds no row naming it, and every later build would read it again). Every staged
        file on a first build or full refresh; none outside `run`/`build` (`dbt compile`,
        `dbt show` and sqlfluff's templater then see the query over every staged file).
    -#}
    {%- if not execute or flags.WHICH not in ('run', 'build') -%}{{ return(none) }}{%- endif -%}
    {%- set staged = run_query(
        "select source_file, source_sha256, columns_json from "
        ~ source('landing', 'staging_manifest') ~ " where system = '" ~ landing.system
        ~ "' and entity = '" ~ landing.entity ~ "' and status = 'staged' and row_count > 0"
        ~ " order by source_file") -%}
    {#- a dict, so that each lookup is constant time: both lists grow by a few files a day -#}
    {%- set loaded = {} -%}
    {%- if is_incremental() -%}
        {%- for row in run_query("select distinct source_file, source_sha256 from " ~ this).rows -%}
            {%- do loaded.update({row[0] ~ '|' ~ row[1]: true}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set files = [] -%}
    {%- for row in staged.rows if (row[0] ~ '|' ~ row[1]) not in loaded -%}
        {%- do files.append([row[0], row[2]]) -%}
    {%- endfor -%}
    {{ return(files) }}
{% endmacro %}


{% macro landing_file_filter(column, files) %}
    {#- `<column> in ('<file>', ...)`; `false` when there is no file to load, `true` for none -#}
    {%- if files is none -%}{{ return('true') }}{%- endif -%}
    {%- if not files -%}{{ return('false') }}{%- endif -%}
    {%- set quoted = [] -%}
    {%- for file in files -%}{%- do quoted.append("'" ~ file[0] | replace("'", "\\'") ~ "'") -%}{%- endfor -%}
    {{ return(column ~ ' in (' ~ quoted | join(', ') ~ ')') }}
{% endmacro %}


{% macro landing_schema_guard(source_node, files) %}
    {#- a runtime check over the files about to be loaded (`landing_new_files`) -#}
    {%- if files is none -%}{{ return('') }}{%- endif -%}
    {%- set landing = source_node.meta['landing'] -%}
    {%- set declared = {} -%}
    {%- for column in landing['columns'] -%}{%- do declared.update({column[0]: column[1]}) -%}{%- endfor -%}
    {%- for file in files -%}
        {%- set found = {} -%}
        {%- for pair in fromjson(file[1]) -%}{%- do found.update({pair[0]: pair[1]}) -%}{%- endfor -%}
        {%- if not found -%}{%- continue -%}{%- endif -%}  {#- an empty JSON-lines file has no schema -#}
        {%- for name, type in declared.items() -%}
            {%- if name not in found -%}
                {{ exceptions.raise_compiler_error(
                    "landing schema break in " ~ landing.system ~ "/" ~ landing.entity ~ ": file "
                    ~ file[0] ~ " has no column '" ~ name ~ "' (declared in source landing."
                    ~ source_node.name ~ "); fix the feed or ship a new declared schema") }}
            {%- elif found[name] != type -%}
                {{ exceptions.raise_compiler_error(
                    "landing schema break in " ~ landing.system ~ "/" ~ landing.entity ~ ": file "
                    ~ file[0] ~ " column '" ~ name ~ "' has type " ~ found[name] ~ ", declared "
                    ~ type ~ " (source landing." ~ source_node.name ~ ")") }}
            {%- endif -%}
        {%- endfor -%}
        {%- set additive = found.keys() | reject('in', declared.keys()) | list -%}
        {%- if additive -%}
            {% do exceptions.warn(
                "landing schema drift (additive) in " ~ landing.system ~ "/" ~ landing.entity
                ~ ": file " ~ file[0] ~ " adds column(s) " ~ additive | join(', ')
                ~ "; kept in landed_record, not yet declared in source landing." ~ source_node.name) %}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
