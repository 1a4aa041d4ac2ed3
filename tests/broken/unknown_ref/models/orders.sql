select o.*
from {{ ref('custmers') }} as o
