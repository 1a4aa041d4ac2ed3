{#- A data test: its query returns the failing rows. The materialization
    counts them with `fail_calc` and compares the count with `warn_if` and
    `error_if`; kiln reads the `main` statement's one row. With
    `store_failures`, the failing rows are kept as a table first. -#}
{% macro materialization_test_default() %}
    {%- set limit = config.get('limit') -%}
    {%- set fail_calc = config.get('fail_calc', 'count(*)') -%}
    {%- set warn_if = config.get('warn_if', '!= 0') -%}
    {%- set error_if = config.get('error_if', '!= 0') -%}
    {%- set main_sql = sql -%}
    {%- set audit_relation = none -%}
    {%- if config.get('store_failures') -%}
        {%- set audit_relation = this.incorporate(type='table') -%}
        {{ drop_relation_if_exists(adapter.get_relation(audit_relation.database, audit_relation.schema, audit_relation.identifier)) }}
        {% call statement('store_failures') -%}
            {{ create_table_as(false, audit_relation, sql) }}
        {%- endcall %}
        {%- set main_sql = 'select * from ' ~ audit_relation -%}
    {%- endif -%}
    {% call statement('main', fetch_result=True) -%}
        {{ get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) }}
    {%- endcall %}
    {{ return({'relations': [audit_relation] if audit_relation is not none else []}) }}
{% endmacro %}

{% macro get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
select
    {{ fail_calc }} as failures,
    {{ fail_calc }} {{ warn_if }} as should_warn,
    {{ fail_calc }} {{ error_if }} as should_error
from (
    {{ main_sql }}
    {{ "limit " ~ limit if limit is not none }}
) dbt_internal_test
{%- endmacro %}
