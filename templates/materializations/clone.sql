{#- dbt's clone where the database cannot clone a table (DuckDB,
    PostgreSQL): each node a view of the state's relation (the node's SQL is
    `select * from <that relation>`). A relation already there is left as it
    is (No-op) unless --full-refresh. -#}
{% macro materialization_clone_default() %}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing_relation is not none and not flags.FULL_REFRESH -%}
        {{ return({'relations': [], 'no_op': true}) }}
    {%- else -%}
        {%- set target_relation = this.incorporate(type='view') -%}
        {%- set intermediate_relation = make_temp_relation(target_relation) -%}
        {{ drop_leftover(intermediate_relation) }}
        {% call statement('main') -%}
            {{ create_view_as(intermediate_relation, sql) }}
        {%- endcall %}
        {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
        {{ return({'relations': [target_relation]}) }}
    {%- endif -%}
{% endmacro %}
