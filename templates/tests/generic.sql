{#- dbt's four generic tests. Each query returns the rows that fail the test.
    A project replaces one by defining a test (or a `default__test_<name>`
    macro) of the same name.

    All of a data test's SQL is in this folder: these tests, the relation
    they read (`get_where_subquery`), and the materialization that counts
    the failing rows (materialization.sql). Rust only names the macro and
    its arguments: a properties file's entry becomes
    `test_<name>(model=get_where_subquery(ref(...)), column_name=..., ...)`
    (src/project/test_nodes.rs), rendered by src/jinja/generic_test.rs. -#}

{#- The relation a generic test reads: the model itself, or only its rows
    that match the test's `where` config. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {{ return("(select * from " ~ relation ~ " where " ~ where ~ ") dbt_subquery") }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}

{% test unique(model, column_name) %}
    {{ default__test_unique(model, column_name) }}
{% endtest %}

{% macro default__test_unique(model, column_name) %}
select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endmacro %}

{% test not_null(model, column_name) %}
    {{ default__test_not_null(model, column_name) }}
{% endtest %}

{% macro default__test_not_null(model, column_name) %}
{#- Stored failures keep whole rows; otherwise the column is enough. -#}
{%- set columns = '*' if config.get('store_failures') else column_name -%}
select {{ columns }}
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{% test accepted_values(model, column_name, values, quote=True) %}
    {{ default__test_accepted_values(model, column_name, values, quote) }}
{% endtest %}

{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)
select *
from all_values
where value_field not in (
    {%- for value in values -%}
        {%- if quote -%}'{{ value | replace("'", "''") }}'{%- else -%}{{ value }}{%- endif -%}
        {{- ", " if not loop.last -}}
    {%- endfor -%}
)
{% endmacro %}

{% test relationships(model, column_name, to, field) %}
    {{ default__test_relationships(model, column_name, to, field) }}
{% endtest %}

{% macro default__test_relationships(model, column_name, to, field) %}
with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),
parent as (
    select {{ field }} as to_field
    from {{ to }}
)
select from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null
{% endmacro %}
