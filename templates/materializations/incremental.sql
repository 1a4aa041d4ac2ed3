{#- An incremental model. The first run, a full refresh, or a view in its
    place builds it like a table. Later runs stage the model's rows in
    `<name>__dbt_tmp`, reconcile the columns (`on_schema_change`) and apply
    the rows with the configured strategy; the executor runs it all in one
    transaction. A microbatch model comes here once a batch (`batch`), its
    first batch of a first run or a full refresh building the table. -#}
{% macro materialization_incremental_default() %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set temp_relation = make_temp_relation(target_relation) -%}
    {%- set unique_key = config.get('unique_key') -%}
    {{ drop_leftover(temp_relation) }}
    {{ run_hooks(pre_hooks) }}
    {%- if existing_relation is none or existing_relation.type == 'view' or should_full_refresh() -%}
        {% call statement('main') -%}
            {{ create_table_as(false, temp_relation, sql) }}
        {%- endcall %}
        {{ create_indexes_before_swap(temp_relation) }}
        {{ swap_in(temp_relation, target_relation, existing_relation) }}
        {{ create_indexes_after_swap(target_relation) }}
        {%- set should_revoke = false -%}
    {%- else -%}
        {%- set strategy = incremental_strategy(config.get('incremental_strategy'), unique_key) -%}
        {% call statement('stage') -%}
            {{ create_table_as(false, temp_relation, sql) }}
        {%- endcall %}
        {%- set on_schema_change = config.get('on_schema_change') or 'ignore' -%}
        {%- set dest_columns = process_schema_changes(on_schema_change, temp_relation, existing_relation) -%}
        {%- set predicates = config.get('incremental_predicates') or [] -%}
        {%- if strategy == 'microbatch' -%}
            {% call statement('delete') -%}
                {{ get_microbatch_delete_sql(target_relation, config.get('event_time'), batch) }}
            {%- endcall %}
        {%- elif strategy == 'delete+insert' and unique_key -%}
            {% call statement('delete') -%}
                {{ get_delete_sql(target_relation, temp_relation, unique_key, predicates) }}
            {%- endcall %}
        {%- endif -%}
        {% call statement('main') -%}
            {%- if strategy == 'microbatch' -%}
                {{ get_microbatch_insert_sql(target_relation, temp_relation, dest_columns, config.get('event_time'), batch) }}
            {%- elif strategy == 'merge' -%}
                {{ get_merge_sql(target_relation, temp_relation, unique_key, dest_columns, predicates) }}
            {%- else -%}
                {{ get_insert_sql(target_relation, temp_relation, dest_columns) }}
            {%- endif -%}
        {%- endcall %}
        {{ drop_relation(temp_relation) }}
        {%- set should_revoke = true -%}
    {%- endif -%}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=should_revoke) }}
    {{ persist_docs(target_relation, model) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
