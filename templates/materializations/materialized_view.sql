{#- dbt-postgres's materialized view. Created where there is none; built
    under `<name>__dbt_tmp` and swapped in with `--full-refresh` or when
    another kind of relation has its name; otherwise refreshed — unless its
    indexes differ from the config, when `on_configuration_change` says
    what to do: `apply` (the default: the indexes dropped and created, no
    refresh), `continue` (a warning, nothing done) or `fail`. As in dbt, a
    change of the SQL alone is not a change: it is refreshed. -#}
{% macro materialization_materialized_view_postgres() %}
    {%- set target_relation = this.incorporate(type='materialized_view') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set on_change = config.get('on_configuration_change') or 'apply' -%}
    {%- if on_change not in ['apply', 'continue', 'fail'] -%}
        {{ exceptions.raise_compiler_error("on_configuration_change must be apply, continue or fail, not '" ~ on_change ~ "'") }}
    {%- endif -%}
    {{ drop_leftover(intermediate_relation) }}
    {{ run_hooks(pre_hooks) }}
    {%- set should_revoke = false -%}
    {%- if existing_relation is none -%}
        {% call statement('main') -%}
            create materialized view {{ target_relation }} as (
{{ sql }}
            )
        {%- endcall %}
        {{ create_indexes(target_relation) }}
    {%- elif should_full_refresh() or existing_relation.type != 'materialized_view' -%}
        {% call statement('main') -%}
            create materialized view {{ intermediate_relation }} as (
{{ sql }}
            )
        {%- endcall %}
        {{ create_indexes(intermediate_relation) }}
        {{ swap_in(intermediate_relation, target_relation, existing_relation) }}
    {%- else -%}
        {%- set should_revoke = true -%}
        {%- set found = index_signatures(target_relation) -%}
        {%- set wanted = [] -%}
        {%- for index in config.get('indexes') or [] -%}
            {%- set columns = [index.columns] if index.columns is string else index.columns -%}
            {%- do wanted.append(((index.unique is true) ~ '|' ~ (index.type or 'btree') ~ '|' ~ columns | join(',') | replace(' ', '')) | lower) -%}
        {%- endfor -%}
        {%- if (found.values() | list | sort) == (wanted | sort) -%}
            {% call statement('main') -%}
                refresh materialized view {{ target_relation }}
            {%- endcall %}
        {%- elif on_change == 'fail' -%}
            {{ exceptions.raise_compiler_error("Configuration changes were identified and `on_configuration_change` was set to `fail` for `" ~ target_relation ~ "`") }}
        {%- elif on_change == 'continue' -%}
            {%- do exceptions.warn("Configuration changes were identified and `on_configuration_change` was set to `continue` for `" ~ target_relation ~ "`") -%}
        {%- else -%}
            {%- for name in found.keys() %}
                {% call statement('drop_index') -%}
                    drop index if exists {{ adapter.quote(target_relation.schema) }}.{{ adapter.quote(name) }}
                {%- endcall %}
            {%- endfor %}
            {{ create_indexes(target_relation) }}
        {%- endif -%}
    {%- endif -%}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=should_revoke) }}
    {{ persist_docs(target_relation, model) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}

{#- A relation's indexes by name, each as `unique|method|columns`. -#}
{% macro index_signatures(relation) -%}
    {%- set found = run_query("select c.relname, case when i.indisunique then 'true' else 'false' end, am.amname, array_to_string(array(select a.attname from unnest(i.indkey::int2[]) with ordinality as k(attnum, n) join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum order by k.n), ',') from pg_index i join pg_class t on t.oid = i.indrelid join pg_class c on c.oid = i.indexrelid join pg_namespace s on s.oid = t.relnamespace join pg_am am on am.oid = c.relam where t.relname = '" ~ relation.identifier | replace("'", "''") ~ "' and s.nspname = '" ~ relation.schema | replace("'", "''") ~ "'") -%}
    {%- set signatures = {} -%}
    {%- for row in found.rows -%}
        {%- do signatures.update({row[0]: (row[1] ~ '|' ~ row[2] ~ '|' ~ row[3]) | lower}) -%}
    {%- endfor -%}
    {{ return(signatures) }}
{%- endmacro %}
