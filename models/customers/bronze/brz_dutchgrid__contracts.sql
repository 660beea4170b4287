{{ bronze_from_landing('dutchgrid__contracts') }}
