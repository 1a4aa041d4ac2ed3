{#- dbt-duckdb's external model: its rows built as a table `<name>__dbt_tmp`,
    written with COPY to a temporary file that then replaces the model's
    file (so a failure keeps the old one), and a view of the model's name
    over the file, swapped in like a view, for ref() to read. -#}
{% macro materialization_external_duckdb() %}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set temp_relation = make_temp_relation(this.incorporate(type='table')) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation, '__dbt_int') -%}
    {%- set file = adapter.external_file(this) -%}
    {{ drop_leftover(temp_relation) }}
    {{ drop_leftover(intermediate_relation) }}
    {{ run_hooks(pre_hooks) }}
    {% call statement('main') -%}
        {{ create_table_as(false, temp_relation, sql) }}
    {%- endcall %}
    {% call statement('write_external') -%}
        copy {{ temp_relation }} to '{{ file.temp_location | replace("'", "''") }}' ({{ file.copy_options }})
    {%- endcall %}
    {{ adapter.replace_external(this) }}
    {% call statement('external_view') -%}
        {{ create_view_as(intermediate_relation, 'select * from ' ~ file.read) }}
    {%- endcall %}
    {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=false) }}
    {{ persist_docs(target_relation, model, for_columns=false) }}
    {{ drop_relation(temp_relation) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
