{#-
    Fails when the newest value of `field` is more than `max_age_hours` older than the
    reference time: `now` (the engine clock) or `latest_batch` (the end of the newest landed
    batch, for data whose business time lags the wall clock, such as replayed demo data).
-#}
{% test recency(model, field, max_age_hours, relative_to='now') %}
{%- if relative_to == 'latest_batch' -%}
    {%- set reference -%}
        (select cast(date_add(max(cast(ingest_date as date)), 1) as timestamp)
         from {{ source('landing', 'staging_manifest') }})
    {%- endset -%}
{%- else -%}
    {%- set reference = 'current_timestamp()' -%}
{%- endif %}
select newest, reference_time
from (
    select max(cast({{ field }} as timestamp)) as newest, {{ reference }} as reference_time
    from {{ model }}
) as latest
where newest is null
    or newest < reference_time - make_dt_interval(0, {{ max_age_hours }}, 0, 0)
{% endtest %}
