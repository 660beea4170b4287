-- Landing files that could not be read at all (corrupt or undecodable): kept with their
-- error so that nothing is dropped silently; the other files of the batch load normally.
-- Materialized as a table (properties file): it mirrors the staging manifest.
with

manifest as (
    select * from {{ source('landing', 'staging_manifest') }}
)

select
    source_file,
    system as source_system,
    entity as source_entity,
    cast(ingest_date as date) as ingest_date,
    source_sha256,
    source_bytes,
    error as error_message,
    staged_at as detected_at
from manifest
where status = 'corrupt'
