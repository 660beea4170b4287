{#-
    Whether a landed master-data file is a full export, from its landing path: the file name
    matches the project variable `full_export_file_regex` (default: `<entity>_full_<day>.<ext>`,
    the landing contract in docs/landing.md; a change set is `<entity>_changes_<day>.<ext>`).
    A full export lists every key its system holds that day (latest_change_state). Decided
    by the file, not by the rows' change marker: a change set may carry inserts (`I`) too.
-#}
{% macro is_full_export(source_file_column) %}
    {{- source_file_column ~ " rlike '" ~ var('full_export_file_regex') ~ "'" -}}
{% endmacro %}
