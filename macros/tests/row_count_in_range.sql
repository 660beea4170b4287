{#- Fails when the model's row count is outside [min_rows, max_rows] (either bound optional). -#}
{% test row_count_in_range(model, min_rows=none, max_rows=none) %}
select row_count
from (select count(*) as row_count from {{ model }}) as counted
where false
    {%- if min_rows is not none %} or row_count < {{ min_rows }}{% endif %}
    {%- if max_rows is not none %} or row_count > {{ max_rows }}{% endif %}
{% endtest %}
