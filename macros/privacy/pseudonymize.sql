{#-
    A keyed pseudonym of a personal identifier: `sha2(concat(<pepper>, ':', expr), 256)`.

    The pepper (a secret key) comes from the environment variable GRIDUNION_PII_PEPPER, so the
    same id gives the same pseudonym in every model and every build of one environment, while
    nobody without the pepper can recompute it from a guessed id (a plain hash of a customer
    number could be reversed by hashing all possible numbers). Sail has no `hmac`; a keyed
    SHA-256 of `pepper:value` is the substitute (docs/decisions.md).

    The pepper is never rendered: the SQL reads it from the temporary view
    `gridunion_pii_pepper`, which the dbt plugin defines on each engine connection
    (dbt_gridunion/pii_pepper.py), so no compiled model, artifact or log holds the secret.
    Parsing (`dbt parse`, `dbt ls`) works without the pepper; compiling or running a model that
    pseudonymizes fails with a compiler error naming the variable. Rotate the pepper only with a
    full refresh of the customers domain and its consumers: every pseudonym changes.
-#}
{% macro pseudonymize(expr) %}
    {%- if execute and not adapter.gridunion_pii_pepper_is_set() -%}
        {{ exceptions.raise_compiler_error(
            "GRIDUNION_PII_PEPPER is not set: the keyed pseudonyms of the customers domain need "
            ~ "a secret pepper; export GRIDUNION_PII_PEPPER=<secret> (the Makefile sets a "
            ~ "per-lakehouse development pepper)") }}
    {%- endif -%}
    sha2(concat((select pepper from gridunion_pii_pepper), ':', {{ expr }}), 256)
{%- endmacro %}
