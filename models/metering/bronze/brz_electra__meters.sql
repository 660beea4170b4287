{{ bronze_from_landing('electra__meters') }}
