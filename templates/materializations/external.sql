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
    {#- No rows: one of NULLs, so that the file has the columns (a CSV of
        none would have no header), filtered out by the view, as
        dbt-duckdb writes it. -#}
    {%- set counted = run_query('select count(*) from ' ~ temp_relation) -%}
    {%- set read = file.read -%}
    {%- if counted is not none and counted.rows[0][0] == 0 -%}
        {% call statement('placeholder_row') -%}
            insert into {{ temp_relation }} default values
        {%- endcall %}
        {%- set conditions = [] -%}
        {%- for column in adapter.get_columns_in_relation(temp_relation) -%}
            {%- do conditions.append(adapter.quote(column.name) ~ ' is not NULL') -%}
        {%- endfor -%}
        {%- set read = read ~ '\n    where 1 AND ' ~ conditions | join(' AND ') -%}
    {%- endif %}
    {% call statement('write_external') -%}
        copy {{ temp_relation }} to '{{ file.temp_location | replace("'", "''") }}' ({{ file.copy_options }})
    {%- endcall %}
    {{ adapter.replace_external(this) }}
    {% call statement('external_view') -%}
        {{ create_view_as(intermediate_relation, 'select * from ' ~ read) }}
    {%- endcall %}
    {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=false) }}
    {{ persist_docs(target_relation, model, for_columns=false) }}
    {{ drop_relation(temp_relation) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
