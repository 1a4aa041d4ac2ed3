{#- Ephemeral: never built, inlined as a CTE wherever it is read. -#}
{{ config(materialized='ephemeral') }}

select order_id, order_date, amount
from {{ ref('orders') }}
where status = 'completed'
