{#-
    Override of dbt-spark's `spark__location_clause`.

    Why: on Sail the catalog lives in memory, so every table is written at an explicit,
    predictable location `<lakehouse>/warehouse/<schema>/<identifier>`. The catalog is rebuilt
    from those directories when the engine starts (platform_tools/engine/catalog.py). Other
    targets keep dbt-spark's behaviour (`location_root` config, or a managed table).
-#}
{% macro spark__location_clause() %}
    {%- if gridunion_on_sail() -%}
        location '{{ gridunion_lakehouse() }}/warehouse/{{ this.schema }}/{{ this.identifier }}'
    {%- else -%}
        {{ dbt.spark__location_clause() }}
    {%- endif -%}
{% endmacro %}
