select {{ var('n') }} as n
