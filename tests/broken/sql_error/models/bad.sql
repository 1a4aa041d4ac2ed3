select id,
       no_such_function(id) as doubled
from {{ ref('good') }}
