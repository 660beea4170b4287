{#-
    Overrides of dbt-spark's `spark__options_clause` and `spark__tblproperties_clause`.

    Why (options): replacing a Delta table at an explicit location with a different column list
    needs `overwriteSchema`, otherwise Sail refuses a model whose columns changed. The previous
    version stays in the Delta log and remains readable with `VERSION AS OF`.

    Why (tblproperties): dbt-spark adds contract constraints with ALTER TABLE after the table
    has been replaced, so a violating build would already have overwritten the good table.
    On Sail, CHECK constraints declared as `delta.constraints.*` properties in the CREATE
    statement are checked while the data is written: a violation fails the statement and the
    previous table version stays current. `not_null` becomes `<column> is not null`.
-#}
{% macro spark__options_clause() -%}
    {%- if gridunion_on_sail() and config.get('file_format', 'delta') == 'delta' -%}
        {%- set options = config.get('options') or {} -%}
        options (
            {%- for option in options %}
            {{ option }} "{{ options[option] }}",
            {%- endfor %}
            overwriteSchema 'true'
        )
    {%- else -%}
        {{ dbt.spark__options_clause() }}
    {%- endif -%}
{%- endmacro %}


{% macro spark__tblproperties_clause() -%}
    {%- set properties = {} -%}
    {%- do properties.update(config.get('tblproperties') or {}) -%}
    {%- if gridunion_on_sail() -%}
        {%- do properties.update(gridunion_contract_check_properties()) -%}
    {%- endif -%}
    {%- if properties %}
    tblproperties (
        {%- for name, value in properties.items() %}
        '{{ name }}' = '{{ value | replace("'", "\\'") }}'{{ "," if not loop.last }}
        {%- endfor %}
    )
    {%- endif %}
{%- endmacro %}


{% macro gridunion_contract_check_properties() %}
    {#- `delta.constraints.<name>` properties for the enforced contract of the current model. -#}
    {%- set properties = {} -%}
    {%- set contract = config.get('contract') -%}
    {%- if model is mapping and contract and contract.enforced -%}
        {%- for column_name, column in model.get('columns', {}).items() -%}
            {%- for constraint in column.get('constraints', []) -%}
                {%- set quoted = adapter.quote(column_name) if column.get('quote') else column_name -%}
                {%- if constraint.type == 'not_null' -%}
                    {%- do properties.update({
                        'delta.constraints.' ~ (constraint.name or 'not_null_' ~ column_name):
                        quoted ~ ' is not null'}) -%}
                {%- elif constraint.type == 'check' and constraint.expression -%}
                    {%- do properties.update({
                        'delta.constraints.' ~ (constraint.name or 'check_' ~ column_name ~ '_' ~ loop.index):
                        constraint.expression}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for constraint in model.get('constraints', []) -%}
            {%- if constraint.type == 'check' and constraint.expression -%}
                {%- do properties.update({
                    'delta.constraints.' ~ (constraint.name or 'check_' ~ loop.index):
                    constraint.expression}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(properties) }}
{% endmacro %}


{% macro spark__get_select_subquery(sql) %}
    {#-
        Override of dbt's `default__get_select_subquery` (the contract-ordered select).

        Why: Sail evaluates write-time CHECK constraints in the same filter as the query's own
        WHERE/HAVING/join conditions, so a row the model filters out can still fail a
        constraint. A LIMIT is a barrier its optimizer does not push that check through; the
        limit is the largest BIGINT, so no row is ever cut.
    -#}
    {{ dbt.default__get_select_subquery(sql) }}
    {%- if gridunion_on_sail() %}
    limit 9223372036854775807
    {%- endif %}
{%- endmacro %}
