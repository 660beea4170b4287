-- Interval readings of the four systems in one shape: UTC timestamps, kWh, the system's
-- local meter code. Nothing is dropped: a value that does not parse is null here and the
-- row is quarantined as `unparsable` downstream.
--   nordgrid  ISO UTC timestamps, kWh
--   electra   Europe/Paris local time + saison (E = +02:00, H = +01:00), Wh
--   dutchgrid UTC timestamps without zone, kWh as double (rounded to Wh)
--   luxpower  dd.MM.yyyy + HH:mm + explicit UTC offset, kWh with decimal comma
-- A view: slv_readings_classified reads only the batch it classifies (its filter on
-- `ingested_at` reaches the bronze scans), so nothing here is stored twice.
{{ config(materialized='view') }}

with

nordgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        parse_error,
        ingested_at,
        meter_number as local_meter_code,
        try_to_timestamp(interval_start_utc) as interval_start_at,
        try_cast(interval_minutes as int) as interval_minutes,
        try_cast(energy_kwh as decimal(12, 3)) as energy_kwh,
        try_to_timestamp(sent_at_utc) as sent_at
    from {{ ref('brz_nordgrid__readings') }}
),

electra as (
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        parse_error,
        ingested_at,
        prm as local_meter_code,
        try_to_timestamp(
            concat(horodatage, case saison when 'E' then '+02:00' when 'H' then '+01:00' end),
            "yyyy-MM-dd'T'HH:mm:ssXXX"
        ) as interval_start_at,
        try_cast(duree_min as int) as interval_minutes,
        cast(try_cast(energie_wh as decimal(15, 0)) / 1000 as decimal(12, 3)) as energy_kwh,
        to_utc_timestamp(try_to_timestamp(emis_le), 'Europe/Paris') as sent_at
    from {{ ref('brz_electra__readings') }}
),

dutchgrid as (
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        parse_error,
        ingested_at,
        ean as local_meter_code,
        try_to_timestamp(period_start) as interval_start_at,
        try_cast(period_minutes as int) as interval_minutes,
        cast(round(try_cast(volume_kwh as double), 3) as decimal(12, 3)) as energy_kwh,
        try_to_timestamp(received_at) as sent_at
    from {{ ref('brz_dutchgrid__readings') }}
),

luxpower as (
    select
        source_system,
        source_file,
        ingest_date,
        source_row_number,
        parse_error,
        ingested_at,
        zaehler as local_meter_code,
        try_to_timestamp(concat(datum, ' ', uhrzeit, utc_offset), 'dd.MM.yyyy HH:mmXXX')
            as interval_start_at,
        60 as interval_minutes,
        try_cast(replace(verbrauch_kwh, ',', '.') as decimal(12, 3)) as energy_kwh,
        try_to_timestamp(gesendet, 'dd.MM.yyyy HH:mm:ssXXX') as sent_at
    from {{ ref('brz_luxpower__readings') }}
),

unioned as (
    select * from nordgrid
    union all
    select * from electra
    union all
    select * from dutchgrid
    union all
    select * from luxpower
)

select
    *,
    (
        parse_error is null
        and local_meter_code is not null
        and interval_start_at is not null
        and interval_minutes is not null
        and energy_kwh is not null
        and sent_at is not null
    ) as is_parsed
from unioned
