{{ bronze_from_landing('dutchgrid__tariffs') }}
