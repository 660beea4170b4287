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


{#-
    Why: Delta on Spark 4.1 rejects dbt-spark's `ALTER TABLE ... CHANGE COLUMN c SET NOT NULL`
    on a table it has just written ("Cannot change nullable column to non-nullable"), so an
    enforced `not_null` contract constraint becomes a Delta CHECK constraint `c is not null`,
    enforced on every later write, the same rule as on Sail. Added when the table is created
    (like dbt-spark's own CHECK constraints), not again on each incremental run.
-#}
{% macro spark__alter_column_set_constraints(relation, column_dict) %}
    {%- if is_incremental() -%}{{ return('') }}{%- endif -%}
    {%- for column_name in column_dict -%}
        {%- for constraint in column_dict[column_name]['constraints'] if constraint.type == 'not_null' -%}
            {%- set quoted = adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name -%}
            {%- set name = 'not_null_' ~ column_name | lower -%}
            {% call statement() %}
                alter table {{ relation }} drop constraint if exists {{ name }}
            {% endcall %}
            {% call statement() %}
                alter table {{ relation }} add constraint {{ name }} check ({{ quoted }} is not null)
            {% endcall %}
        {%- endfor -%}
    {%- endfor -%}
{% endmacro %}
