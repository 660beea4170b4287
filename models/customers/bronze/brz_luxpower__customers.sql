{{ bronze_from_landing('luxpower__customers') }}
