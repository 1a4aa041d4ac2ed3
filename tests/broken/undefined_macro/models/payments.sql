select
    id,
    {{ cents_to_dollar('amount') }} as amount
from (select 1 as id, 250 as amount)
