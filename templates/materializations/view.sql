{#- A view: created as `<name>__dbt_tmp`, then swapped in, so a view whose
    columns change replaces the old one on every database. -#}
{% macro materialization_view_default() %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set intermediate_relation = make_temp_relation(target_relation) -%}
    {{ warn_view_constraints() }}
    {{ drop_leftover(intermediate_relation) }}
    {{ run_hooks(pre_hooks) }}
    {% call statement('main') -%}
        {{ create_view_as(intermediate_relation, sql) }}
    {%- endcall %}
    {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=false) }}
    {{ persist_docs(target_relation, model, for_columns=target.type != 'duckdb') }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
