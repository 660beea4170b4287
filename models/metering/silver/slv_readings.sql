-- Conformed interval readings: one row per meter and interval, UTC, kWh, canonical meter id.
-- A view of the accepted rows of slv_readings_classified (which is built incrementally).
{{ config(materialized='view') }}

select
    meter_id,
    interval_start_at,
    reading_date,
    interval_minutes,
    energy_kwh,
    region_code,
    country_code,
    source_system,
    local_meter_code,
    sent_at,
    source_file,
    ingest_date,
    source_row_number,
    ingested_at
from {{ ref('slv_readings_classified') }}
where quarantine_reason is null
