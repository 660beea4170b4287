-- The meter dimension: every known smart meter of the four systems, keyed by its EAN-18.
select
    meter_id,
    source_system,
    local_meter_code,
    country_code,
    region_code,
    supply_point_id,
    meter_type,
    installed_on,
    last_changed_on
from {{ ref('slv_meters') }}
