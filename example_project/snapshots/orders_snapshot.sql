{#- Every status an order has been in, with when it held it. -#}
{% snapshot orders_snapshot %}

{{
    config(
        schema='snapshots',
        unique_key='order_id',
        strategy='check',
        check_cols=['status'],
        hard_deletes='invalidate'
    )
}}

select order_id, customer_id, order_date, status
from {{ ref('stg_orders') }}

{% endsnapshot %}
