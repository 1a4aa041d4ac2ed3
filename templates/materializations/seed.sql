{#- A seed: a table created from the CSV's inferred column types, filled
    with its rows, then swapped in like a table. -#}
{% macro materialization_seed_default() %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set intermediate_relation = make_temp_relation(target_relation) -%}
    {{ drop_leftover(intermediate_relation) }}
    {{ run_hooks(pre_hooks) }}
    {% call statement('main') -%}
        {{ create_csv_table(intermediate_relation, seed_columns) }}
    {%- endcall %}
    {{ adapter.load_csv_rows(intermediate_relation) }}
    {{ create_indexes_before_swap(intermediate_relation) }}
    {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
    {{ create_indexes_after_swap(target_relation) }}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=false) }}
    {{ persist_docs(target_relation, model) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
