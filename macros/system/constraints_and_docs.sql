{#-
    Overrides of dbt-spark statements that Sail does not support.

    Why: Sail rejects `ALTER TABLE ... ADD CONSTRAINT` after the fact for our purpose (the
    constraints are already declared at write time, see table_options.sql), and it has no
    `ALTER TABLE ... CHANGE COLUMN ... SET NOT NULL`, no column comments and no `COMMENT`
    clause support we can rely on. On Sail these are skipped (one notice per run, from
    `gridunion_engine_notice`); every other target gets dbt-spark's statements unchanged.
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if not gridunion_on_sail() -%}
        {{ dbt.spark__persist_constraints(relation, model) }}
    {%- endif -%}
{% endmacro %}


{% macro spark__alter_column_comment(relation, column_dict) %}
    {%- if not gridunion_on_sail() -%}
        {{ dbt.spark__alter_column_comment(relation, column_dict) }}
    {%- endif -%}
{% endmacro %}


{% macro spark__comment_clause() %}
    {%- if not gridunion_on_sail() -%}
        {{ dbt.spark__comment_clause() }}
    {%- endif -%}
{% endmacro %}


{% macro spark__create_view_as(relation, sql) -%}
    {%- if gridunion_on_sail() -%}
        create or replace view {{ relation }}
        {%- set contract_config = config.get('contract') -%}
        {%- if contract_config.enforced %}
            {{ get_assert_columns_equivalent(sql) }}
        {%- endif %}
        as
            {{ sql }}
    {%- else -%}
        {{ dbt.spark__create_view_as(relation, sql) }}
    {%- endif -%}
{%- endmacro %}
