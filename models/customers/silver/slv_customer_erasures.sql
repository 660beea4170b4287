-- Customers who asked to be erased (GDPR art. 17; change marker `E` in a customer export):
-- only the keyed pseudonym, the source system and the day of the first request. Every
-- customer table leaves these customers out (macro customer_changes); contracts and
-- invoices keep the pseudonym, as billing records must be retained, and say so.
select
    {{ pseudonymize("concat(source_system, ':', customer_id)") }} as customer_key,
    source_system,
    requested_on
from ({{ customer_erasure_requests() }}) as requests
