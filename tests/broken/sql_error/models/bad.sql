select id,
       no_such_column
from {{ ref('good') }}
