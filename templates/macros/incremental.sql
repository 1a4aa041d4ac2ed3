{#- The pieces of the incremental materialization. A project macro of the
    same name replaces any of them. -#}

{#- `config(full_refresh=...)` wins over `--full-refresh`: `false` protects
    a model from being rebuilt. -#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {{ return(flags.FULL_REFRESH if configured is none else configured) }}
{%- endmacro %}

{#- dbt's default strategy: delete+insert with a unique_key, append without. -#}
{% macro incremental_strategy(strategy, unique_key) -%}
    {%- set chosen = strategy or ('delete+insert' if unique_key else 'append') -%}
    {%- if chosen not in ['append', 'delete+insert', 'merge', 'microbatch'] -%}
        {{ exceptions.raise_compiler_error("Invalid incremental strategy provided: " ~ chosen ~ ". Expected one of: 'append', 'merge', 'delete+insert', 'microbatch'") }}
    {%- endif -%}
    {{ return(chosen) }}
{%- endmacro %}

{#- The unique_key (a column or a list of them) as a join condition. -#}
{% macro unique_key_match(unique_key) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- for key in keys -%}
        DBT_INTERNAL_SOURCE.{{ adapter.quote(key) }} = DBT_INTERNAL_DEST.{{ adapter.quote(key) }}{{ " and " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro column_list(columns, prefix='') -%}
    {%- for column in columns -%}
        {{ prefix }}{{ adapter.quote(column) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro get_delete_sql(target, source, unique_key, predicates) -%}
delete from {{ target }} as DBT_INTERNAL_DEST
where exists (
    select 1 from {{ source }} as DBT_INTERNAL_SOURCE
    where {{ unique_key_match(unique_key) }}
)
{%- for predicate in predicates %}
    and ({{ predicate }})
{%- endfor %}
{%- endmacro %}

{% macro get_insert_sql(target, source, columns) -%}
insert into {{ target }} ({{ column_list(columns) }})
select {{ column_list(columns) }}
from {{ source }}
{%- endmacro %}

{#- A microbatch's window: the rows of `target` in it go, the staged rows
    in it come in (what dbt-duckdb and dbt-postgres run). -#}
{% macro microbatch_window(event_time, batch) -%}
{{ event_time }} >= '{{ batch.event_time_start }}' and {{ event_time }} < '{{ batch.event_time_end }}'
{%- endmacro %}

{% macro get_microbatch_delete_sql(target, event_time, batch) -%}
delete from {{ target }}
where {{ microbatch_window(event_time, batch) }}
{%- endmacro %}

{% macro get_microbatch_insert_sql(target, source, columns, event_time, batch) -%}
{{ get_insert_sql(target, source, columns) }}
where {{ microbatch_window(event_time, batch) }}
{%- endmacro %}

{% macro get_merge_sql(target, source, unique_key, columns, predicates) -%}
    {%- set update_columns = config.get('merge_update_columns') -%}
    {%- if update_columns is none -%}
        {%- set excluded = config.get('merge_exclude_columns') or [] -%}
        {%- set update_columns = columns | reject('in', excluded) | list -%}
    {%- endif -%}
merge into {{ target }} as DBT_INTERNAL_DEST
using {{ source }} as DBT_INTERNAL_SOURCE
on {% if unique_key %}{{ unique_key_match(unique_key) }}{% else %}false{% endif %}
{%- for predicate in predicates %}
    and ({{ predicate }})
{%- endfor %}
{%- if unique_key and update_columns %}
when matched then update set
    {%- for column in update_columns %}
    {{ adapter.quote(column) }} = DBT_INTERNAL_SOURCE.{{ adapter.quote(column) }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endif %}
when not matched then insert ({{ column_list(columns) }})
values ({{ column_list(columns, 'DBT_INTERNAL_SOURCE.') }})
{%- endmacro %}

{#- Reconciles the target's columns with the staged rows' and returns the
    columns to insert: `ignore` keeps the target as it is, `fail` stops,
    `append_new_columns` adds new ones, `sync_all_columns` also drops the
    ones the model no longer has. -#}
{% macro process_schema_changes(on_schema_change, source, target) -%}
    {%- set added = adapter.get_missing_columns(source, target) -%}
    {%- set removed = adapter.get_missing_columns(target, source) -%}
    {%- set target_columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set source_columns = adapter.get_columns_in_relation(source) | map(attribute='name') | list -%}
    {%- if (added | length == 0 and removed | length == 0) or on_schema_change not in ['fail', 'append_new_columns', 'sync_all_columns'] -%}
        {{ return(target_columns) }}
    {%- elif on_schema_change == 'fail' -%}
        {{ exceptions.raise_compiler_error("The source and target schemas on this incremental model are out of sync: new columns " ~ (added | map(attribute='name') | list) ~ ", removed columns " ~ (removed | map(attribute='name') | list) ~ ". Set on_schema_change to append_new_columns or sync_all_columns, or rebuild it with --full-refresh.") }}
    {%- endif -%}
    {%- for column in added %}
        {% call statement('add_column') -%}
            alter table {{ target }} add column {{ adapter.quote(column.name) }} {{ column.data_type }}
        {%- endcall %}
    {%- endfor -%}
    {%- if on_schema_change == 'sync_all_columns' -%}
        {%- for column in removed %}
            {% call statement('drop_column') -%}
                alter table {{ target }} drop column {{ adapter.quote(column.name) }}
            {%- endcall %}
        {%- endfor -%}
        {{ return(source_columns) }}
    {%- endif -%}
    {%- set removed_names = removed | map(attribute='name') | list -%}
    {{ return(source_columns | reject('in', removed_names) | list) }}
{%- endmacro %}
