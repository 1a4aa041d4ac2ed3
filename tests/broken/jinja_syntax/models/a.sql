select 1 as id
{% if var('x', true) %}
union all select 2
