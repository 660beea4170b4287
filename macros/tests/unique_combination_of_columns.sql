{#-
    Fails for every combination of the given columns that occurs more than once.

    Two passes, so that the aggregation holds one 8-byte hash per row instead of the columns
    themselves (a bronze key of file path, content hash and row number is ~150 bytes: on the
    3.5 M-row meter exports three such tests at once were the daily build's memory peak):
    the rows are grouped by `xxhash64` of the combination, then only the rows whose hash
    repeats are grouped by the columns. Exact: two different combinations sharing a hash are
    compared by their values and do not fail; NULLs group together, as in a plain GROUP BY.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') %}
with

repeated_hashes as (
    select xxhash64({{ columns }}) as combination_hash
    from {{ model }}
    group by 1
    having count(*) > 1
)

select
    {{ columns }},
    count(*) as occurrences
from {{ model }}
where xxhash64({{ columns }}) in (select combination_hash from repeated_hashes)
group by {{ columns }}
having count(*) > 1
{% endtest %}
