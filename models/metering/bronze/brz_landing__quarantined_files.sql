-- Landing files that could not be read at all (corrupt or undecodable): kept with their
-- error so that nothing is dropped silently; the other files of the batch load normally.
-- A file the source withdrew from the landing zone afterwards stays here as history
-- (`is_withdrawn`); it no longer blocks anything.
-- Materialized as a table (properties file): it mirrors the staging manifest, which keeps
-- a row for every landing file ever seen.
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
    staged_at as detected_at,
    status = 'withdrawn' as is_withdrawn
from manifest
where error is not null
