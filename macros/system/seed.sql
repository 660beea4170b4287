{#-
    Overrides of dbt-spark's seed helpers `spark__reset_csv_table` and `spark__create_csv_table`.

    Why: dbt-spark drops the seed table and creates it again. With an explicit location (Sail)
    the dropped table's Delta files survive and `create table` adopts them, so every re-seed
    would append the rows again. On Sail the table is instead replaced in place
    (`create or replace table`, new empty version) before the rows are inserted.
-#}
{% macro spark__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {%- if gridunion_on_sail() -%}
        {{ return(create_csv_table(model, agate_table)) }}
    {%- else -%}
        {{ return(dbt.spark__reset_csv_table(model, full_refresh, old_relation, agate_table)) }}
    {%- endif -%}
{% endmacro %}


{% macro spark__create_csv_table(model, agate_table) %}
    {%- if not gridunion_on_sail() -%}
        {{ return(dbt.spark__create_csv_table(model, agate_table)) }}
    {%- endif -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}
    {% set sql %}
        create or replace table {{ this.render() }} (
            {%- for col_name in agate_table.column_names -%}
                {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                {%- set type = column_override.get(col_name, inferred_type) -%}
                {{ adapter.quote_seed_column(col_name | string, quote_seed_column) }} {{ type }}
                {%- if not loop.last -%}, {%- endif -%}
            {%- endfor -%}
        )
        {{ file_format_clause() }}
        {{ options_clause() }}
        {{ location_clause() }}
    {% endset %}
    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}
    {{ return(sql) }}
{% endmacro %}
