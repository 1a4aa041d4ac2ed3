{#- The DDL that materializations are made of. A project macro of the same
    name replaces any of these. -#}

{#- With an enforced contract the SQL's columns are checked first, and the
    table is created from its declared columns and constraints, then
    filled: two statements. -#}
{% macro create_table_as(temporary, relation, compiled_code) -%}
{%- if contract_enforced() -%}
{%- do get_assert_columns_equivalent(compiled_code) -%}
create {{ table_kind(temporary) }}table {{ relation }}
{{ get_table_columns_and_constraints() }};
insert into {{ relation }} {{ get_column_names() }}
(
{{ get_select_subquery(compiled_code) }}
)
{%- else -%}
create {{ table_kind(temporary) }}table {{ relation }} as (
{{ compiled_code }}
)
{%- endif -%}
{%- endmacro %}

{#- `temporary `, or PostgreSQL's `unlogged ` (`unlogged: true`). -#}
{% macro table_kind(temporary) -%}
{%- if temporary -%}temporary {% elif config.get('unlogged') is true and target.type == 'postgres' -%}unlogged {% endif -%}
{%- endmacro %}

{#- A view has no constraints; a contracted one has its columns checked. -#}
{% macro create_view_as(relation, compiled_code) -%}
{%- if contract_enforced() -%}
{%- do get_assert_columns_equivalent(compiled_code) -%}
{%- endif -%}
create view {{ relation }} as (
{{ compiled_code }}
)
{%- endmacro %}

{% macro create_csv_table(relation, columns) -%}
create table {{ relation }} (
{%- for column in columns %}
    {{ adapter.quote_seed_column(column.name, config.get('quote_columns')) }} {{ column.data_type }}{{ "," if not loop.last }}
{%- endfor %}
)
{%- endmacro %}

{#- `base_relation` under its identifier plus `suffix`. Where the database
    cuts long names (PostgreSQL at 63 characters) the identifier is cut first,
    as dbt-postgres does, so that the suffixed name is still another name:
    `<first 63 - len(suffix) characters><suffix>`. -#}
{% macro make_relation_with_suffix(base_relation, suffix) -%}
    {%- set max_length = base_relation.relation_max_name_length() -%}
    {%- if max_length is none -%}
        {{ return(base_relation.incorporate(path={"identifier": base_relation.identifier ~ suffix})) }}
    {%- endif -%}
    {%- if suffix | length > max_length -%}
        {%- do exceptions.raise_compiler_error('Relation suffix is too long (' ~ (suffix | length) ~ ' characters). Maximum length is ' ~ max_length ~ ' characters.') -%}
    {%- endif -%}
    {{ return(base_relation.incorporate(path={"identifier": base_relation.identifier[:max_length - suffix | length] ~ suffix})) }}
{%- endmacro %}

{% macro make_temp_relation(base_relation, suffix='__dbt_tmp') -%}
    {{ return(make_relation_with_suffix(base_relation, suffix)) }}
{%- endmacro %}

{% macro make_intermediate_relation(base_relation, suffix='__dbt_tmp') -%}
    {{ return(make_relation_with_suffix(base_relation, suffix)) }}
{%- endmacro %}

{% macro make_backup_relation(base_relation, backup_relation_type, suffix='__dbt_backup') -%}
    {{ return(make_relation_with_suffix(base_relation, suffix).incorporate(type=backup_relation_type)) }}
{%- endmacro %}

{% macro drop_relation(relation) -%}
    {% call statement('drop_relation') -%}
        drop {{ (relation.type or 'table') | replace('_', ' ') }} if exists {{ relation }} cascade
    {%- endcall %}
{%- endmacro %}

{% macro drop_relation_if_exists(relation) -%}
    {% if relation is not none %}{{ drop_relation(relation) }}{% endif %}
{%- endmacro %}

{% macro rename_relation(from_relation, to_relation) -%}
    {% call statement('rename_relation') -%}
        alter {{ (from_relation.type or 'table') | replace('_', ' ') }} {{ from_relation }} rename to {{ to_relation.include(database=False, schema=False) }}
    {%- endcall %}
{%- endmacro %}

{% macro truncate_relation(relation) -%}
    {% call statement('truncate_relation') -%}
        truncate table {{ relation }}
    {%- endcall %}
{%- endmacro %}

{% macro drop_schema(relation) -%}
    {% call statement('drop_schema') -%}
        drop schema if exists {{ relation.without_identifier() }} cascade
    {%- endcall %}
{%- endmacro %}

{#- `adapter.list_schemas(database)`: the names of the database's schemas. -#}
{% macro list_schemas(database) -%}
    {%- set names = [] -%}
    {%- set found = run_query("select schema_name from information_schema.schemata where catalog_name = '" ~ database | replace("'", "''") ~ "'") -%}
    {%- if found is not none -%}
        {%- for row in found.rows -%}
            {%- do names.append(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro check_schema_exists(database, schema) -%}
    {{ return(schema in list_schemas(database)) }}
{%- endmacro %}

{% macro run_hooks(hooks) -%}
    {% for hook in hooks %}
        {% call statement('hook') -%}
            {{ render(hook) }}
        {%- endcall %}
    {% endfor %}
{%- endmacro %}

{#- Replaces `target_relation` with `intermediate_relation`: the old one is
    renamed aside, the new one renamed in, the old one dropped. The executor
    runs the whole materialization in one transaction. -#}
{% macro swap_in(intermediate_relation, target_relation, existing_relation) -%}
    {%- if existing_relation is not none -%}
        {{ drop_indexes_on_relation(existing_relation) }}
        {%- set backup_relation = make_backup_relation(target_relation, existing_relation.type) -%}
        {{ drop_relation_if_exists(adapter.get_relation(backup_relation.database, backup_relation.schema, backup_relation.identifier)) }}
        {{ rename_relation(existing_relation, backup_relation) }}
    {%- endif -%}
    {{ rename_relation(intermediate_relation, target_relation) }}
    {%- if existing_relation is not none -%}
        {{ drop_relation(backup_relation) }}
    {%- endif -%}
{%- endmacro %}

{% macro drop_leftover(relation) -%}
    {{ drop_relation_if_exists(adapter.get_relation(relation.database, relation.schema, relation.identifier)) }}
{%- endmacro %}
