{#-
    Which engine a target runs on, and the one notice per run about statements it skips.

    The targets named in var `sail_targets` (default `local`) run on the embedded Sail engine
    (dbt-spark `session` method over Spark
    Connect). Sail lacks some statements that dbt-spark emits (see docs/decisions.md), so the
    overrides in this folder ask `gridunion_on_sail()` before emitting them. Every other
    target gets stock dbt-spark behaviour.
-#}

{% macro gridunion_on_sail() %}
    {%- set sail_targets = var('sail_targets', ['local']) -%}
    {{ return(target.type == 'spark' and target.name in sail_targets) }}
{% endmacro %}


{% macro gridunion_lakehouse() %}
    {#- The lakehouse directory; the dbt plugin `dbt_gridunion` sets a default when unset. -#}
    {%- set lakehouse = env_var('GRIDUNION_LAKEHOUSE', '') -%}
    {%- if not lakehouse -%}
        {{ exceptions.raise_compiler_error(
            "GRIDUNION_LAKEHOUSE is not set and the dbt_gridunion plugin is not installed; "
            ~ "run `make install` or export GRIDUNION_LAKEHOUSE=<directory>") }}
    {%- endif -%}
    {{ return(lakehouse.rstrip('/')) }}
{% endmacro %}


{% macro gridunion_engine_notice() %}
    {#- Called once per invocation from on-run-start. -#}
    {%- if execute and gridunion_on_sail() -%}
        {{ log(
            "local engine (Sail): column comments, ALTER ... SET NOT NULL, OPTIMIZE and VACUUM "
            ~ "are skipped on this target; contract constraints are enforced as Delta CHECK "
            ~ "constraints at write time. Cluster targets run the stock statements.",
            info=True) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
