{{ bronze_from_landing('nordgrid__contracts') }}
