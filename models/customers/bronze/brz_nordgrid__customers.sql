{{ bronze_from_landing('nordgrid__customers') }}
