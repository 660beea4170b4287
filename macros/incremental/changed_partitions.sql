{#-
    Helpers of the incremental models that rebuild only the partitions a batch touched
    (`incremental_strategy='insert_overwrite'` with a `partition_by`, see
    macros/system/incremental_strategy.sql).

    The values are read before the model's query runs and written into it as literals, so the
    engine prunes partitions instead of scanning history, and the model's own output decides
    which partitions are replaced.
-#}

{% macro incremental_watermark(column) %}
    {#-
        `timestamp'<max(column) of this model>'`, or none on a first build, a full refresh or
        when nothing executes. Rows newer than the watermark are the new batch.
    -#}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set found = run_query(
        'select cast(max(' ~ column ~ ') as string) from ' ~ this).rows[0][0] -%}
    {%- if found is none -%}{{ return(none) }}{%- endif -%}
    {{ return("timestamp'" ~ found ~ "'") }}
{% endmacro %}


{% macro newer_than(column, watermark) %}
    {#- the filter selecting the new batch: `<column> > <watermark>`, `true` without one -#}
    {{ return('true' if watermark is none else column ~ ' > ' ~ watermark) }}
{% endmacro %}


{% macro distinct_values(query, data_type='string') %}
    {#-
        The distinct non-null values of the single column `query` returns, as SQL literals of
        `data_type`, sorted; an empty list when nothing executes.
    -#}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set literals = [] -%}
    {%- set found = run_query('select distinct cast(value as string) from (' ~ query
        ~ ') as candidates (value) where value is not null') -%}
    {%- for value in found.columns[0].values() | sort -%}
        {%- do literals.append("cast('" ~ value | replace("'", "\\'") ~ "' as " ~ data_type ~ ")") -%}
    {%- endfor -%}
    {{ return(literals) }}
{% endmacro %}


{% macro touched_partitions(upstream, partition_column, upstream_loaded_at, loaded_at, data_type) %}
    {#-
        The values (SQL literals) of `partition_column` in the rows of `upstream` loaded after
        this model's watermark (`max(<loaded_at>)` of this model): the partitions a build must
        recompute. None on a first build or a full refresh (everything is built).
    -#}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set watermark = incremental_watermark(loaded_at) -%}
    {{ return(distinct_values(
        'select ' ~ partition_column ~ ' from ' ~ upstream
        ~ ' where ' ~ newer_than(upstream_loaded_at, watermark), data_type)) }}
{% endmacro %}


{% macro in_values(column, literals) %}
    {#-
        `<column> in (<literals>)`; `false` for an empty list (the batch touched nothing),
        `true` for none (a full build)
    -#}
    {%- if literals is none -%}{{ return('true') }}{%- endif -%}
    {{ return(column ~ ' in (' ~ literals | join(', ') ~ ')' if literals else 'false') }}
{% endmacro %}


{% macro hash_bucket(columns, buckets) %}
    {#-
        A stable partition bucket 0..buckets-1 of a key (murmur3 `hash`), for tables too large
        to rewrite whole and without a natural partition column: a key never changes bucket.
    -#}
    {{ return('pmod(hash(' ~ columns | join(', ') ~ '), ' ~ buckets ~ ')') }}
{% endmacro %}


{% macro replaced_partitions(column, literals) %}
    {#-
        Declares in the model's compiled SQL which partitions this incremental build outputs
        whole: `/* gridunion:replace_partitions <column> in (...) */`. The Sail
        `insert_overwrite` strategy then replaces exactly these instead of first reading the
        distinct partition values of the new data (which evaluates the model once more). The
        model must output every row of these partitions and no row outside them.
    -#}
    {%- if literals is none -%}{{ return('') }}{%- endif -%}
    {{ return('/* gridunion:replace_partitions ' ~ in_values(column, literals) ~ ' */') }}
{% endmacro %}
