{{ config(materialized='table') }}

with orders as (

    select * from {{ ref('orders') }}

),

final as (

    select
        cast(date_trunc('month', order_date) as date) as order_month,
        count(*) as number_of_orders,
        count(distinct customer_id) as number_of_customers,
        sum(amount) as gross_revenue,
        -- returned orders were refunded, so they don't count as revenue
        sum(case when status = 'returned' then 0 else amount end) as net_revenue

    from orders
    group by 1

)

select * from final
order by order_month
