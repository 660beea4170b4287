{{ bronze_from_landing('nordgrid__meters') }}
