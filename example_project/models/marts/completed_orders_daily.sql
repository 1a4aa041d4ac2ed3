{#- Incremental: later runs only recompute the days from the last one built
    on, replacing them by `order_date`. -#}
{{
    config(
        materialized='incremental',
        unique_key='order_date',
        on_schema_change='append_new_columns'
    )
}}

select
    order_date,
    count(*) as completed_orders,
    sum(amount) as revenue
from {{ ref('int_completed_orders') }}
{% if is_incremental() %}
where order_date >= (select max(order_date) from {{ this }})
{% endif %}
group by order_date
