-- Every order's amount is the sum of its payments: a row here is an order
-- whose payments were lost or counted twice on the way to the mart.
with paid as (

    select order_id, sum(amount) as total_paid
    from {{ ref('stg_payments') }}
    group by order_id

)

select orders.order_id, orders.amount, paid.total_paid
from {{ ref('orders') }} as orders
left join paid on orders.order_id = paid.order_id
where orders.amount != coalesce(paid.total_paid, 0)
