-- Every rejected reading, kept with its reason: nothing is dropped silently.
-- A view of the rejected rows of slv_readings_classified (which is built incrementally).
{{ config(materialized='view') }}

select
    source_system,
    source_file,
    ingest_date,
    source_row_number,
    quarantine_reason,
    local_meter_code,
    meter_id,
    interval_start_at,
    energy_kwh,
    sent_at,
    parse_error,
    ingested_at
from {{ ref('slv_readings_classified') }}
where quarantine_reason is not null
