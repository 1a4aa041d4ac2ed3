{#- `kiln source freshness`: the newest `loaded_at_field` of a source table
    (of its rows that match `filter`) and the database's clock now, as dbt's
    `collect_freshness`. A project macro `collect_freshness` (or
    `<adapter>__collect_freshness`) replaces it; it returns `load_result(...)`
    or a table whose first row is max_loaded_at, snapshotted_at. -#}
{% macro collect_freshness(source, loaded_at_field, filter) -%}
    {{ return(adapter.dispatch('collect_freshness', 'dbt')(source, loaded_at_field, filter)) }}
{%- endmacro %}

{% macro default__collect_freshness(source, loaded_at_field, filter) -%}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
select cast(max({{ loaded_at_field }}) as timestamp) as max_loaded_at,
    cast(current_timestamp as timestamp) as snapshotted_at
from {{ source }}
{%- if filter %}
where {{ filter }}
{%- endif %}
    {%- endcall %}
    {{ return(load_result('collect_freshness')) }}
{%- endmacro %}
