{#-
    One schema per domain and layer: `<meta.domain>_<meta.layer>` (e.g. `billing_gold`).

    Both keys are set by folder in dbt_project.yml, so no model names its schema. An explicit
    `schema` config wins (used by the platform's own registry). With the variable
    `schema_prefix` set (pull-request builds on a shared cluster), schemas become
    `<prefix>_<domain>_<layer>` so that concurrent builds never collide.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set meta = node.config.get('meta', {}) if node is not none else {} -%}
    {%- if custom_schema_name is not none -%}
        {%- set schema = custom_schema_name | trim -%}
    {%- elif meta.get('domain') and meta.get('layer') -%}
        {%- set schema = meta['domain'] ~ '_' ~ meta['layer'] -%}
    {%- else -%}
        {%- set schema = target.schema -%}
    {%- endif -%}
    {%- set prefix = var('schema_prefix', '') -%}
    {{ (prefix ~ '_' ~ schema) if prefix else schema }}
{%- endmacro %}
