{#- Model contracts and constraints (dbt 1.5). With `contract: {enforced:
    true}` a table or view is built only when the columns its SQL gives
    match, by name, type and number, the columns its properties file
    declares; a contracted table is created from its declared columns and
    constraints, then filled from the model's SQL. A project macro of the
    same name replaces any of these. -#}

{#- The SQL wrapped so that it reads no rows: its columns without a scan. -#}
{% macro get_empty_subquery_sql(select_sql, select_sql_header=none) -%}
select * from (
{{ select_sql }}
) as __dbt_sbq
where false
limit 0
{%- endmacro %}

{#- The columns a query gives, typed as the database names them. -#}
{% macro get_column_schema_from_query(select_sql, select_sql_header=none) -%}
    {{ return(adapter.get_column_schema_from_query(get_empty_subquery_sql(select_sql, select_sql_header))) }}
{%- endmacro %}

{#- A query of no rows whose columns are the declared ones, so that the
    database names the declared types as it names the model's. -#}
{% macro get_empty_schema_sql(columns) -%}
    {%- set untyped = [] -%}
    {%- set naked_numeric = [] -%}
    select
    {%- for column in columns.values() %}
        {%- if not column.data_type -%}
            {%- do untyped.append(column.name) -%}
        {%- elif column.data_type | trim | lower in ['numeric', 'decimal', 'number'] -%}
            {%- do naked_numeric.append(column.name) -%}
        {%- endif %}
    {{ cast('null', column.data_type) }} as {{ adapter.quote(column.name) if column.quote else column.name }}{{ "," if not loop.last }}
    {%- endfor -%}
    {%- if untyped -%}
        {{ exceptions.column_type_missing(untyped) }}
    {%- elif naked_numeric -%}
        {%- do exceptions.warn("Detected columns with numeric type and unspecified precision/scale, this can lead to unintended rounding: ['" ~ naked_numeric | join("', '") ~ "']`") -%}
    {%- endif -%}
{%- endmacro %}

{% macro format_columns(columns) -%}
    {%- set formatted = [] -%}
    {%- for column in columns -%}
        {%- do formatted.append({'name': column.name, 'data_type': column.dtype, 'formatted': (column.name | lower) ~ ' ' ~ column.dtype}) -%}
    {%- endfor -%}
    {{ return(formatted) }}
{%- endmacro %}

{% macro get_assert_columns_equivalent(sql) -%}
    {{ return(assert_columns_equivalent(sql)) }}
{%- endmacro %}

{#- Stops the node with dbt's table of mismatches unless the SQL's columns
    are the contract's. -#}
{% macro assert_columns_equivalent(sql) -%}
    {%- set declared = model['columns'] -%}
    {%- if not declared -%}
        {{ exceptions.raise_contract_error([], []) }}
    {%- endif -%}
    {%- set sql_columns = format_columns(get_column_schema_from_query(sql, config.get('sql_header'))) -%}
    {%- set yaml_columns = format_columns(get_column_schema_from_query(get_empty_schema_sql(declared))) -%}
    {%- set state = namespace(agree=(sql_columns | length == yaml_columns | length)) -%}
    {%- for sql_column in sql_columns -%}
        {%- set same_name = yaml_columns | selectattr('name', 'equalto', sql_column.name) | list -%}
        {%- if not same_name or same_name[0].formatted != sql_column.formatted -%}
            {%- set state.agree = false -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not state.agree -%}
        {{ exceptions.raise_contract_error(yaml_columns, sql_columns) }}
    {%- endif -%}
{%- endmacro %}

{#- `(column type constraints..., model constraints...)` of a contracted table. -#}
{% macro get_table_columns_and_constraints() -%}
    {{ return(table_columns_and_constraints()) }}
{%- endmacro %}

{% macro table_columns_and_constraints() -%}
    {%- set lines = adapter.render_raw_columns_constraints(model['columns']) + adapter.render_raw_model_constraints(model['constraints']) -%}
(
{%- for line in lines %}
    {{ line }}{{ "," if not loop.last }}
{%- endfor %}
)
{%- endmacro %}

{#- The declared columns, quoted where they say `quote: true`. -#}
{% macro contract_column_names() -%}
    {%- set names = [] -%}
    {%- for column in model['columns'].values() -%}
        {%- do names.append(adapter.quote(column.name) if column.quote else column.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro get_column_names() -%}
({{ contract_column_names() | join(', ') }})
{%- endmacro %}

{#- The model's rows in the declared columns' order. -#}
{% macro get_select_subquery(sql) -%}
select {{ contract_column_names() | join(', ') }}
from (
{{ sql }}
) as model_subq
{%- endmacro %}

{#- Whether this node's config enforces its contract. -#}
{% macro contract_enforced() -%}
    {%- set contract_config = config.get('contract') -%}
    {{ return(contract_config is mapping and contract_config.enforced is true) }}
{%- endmacro %}

{#- A view has no DDL for constraints: dbt's warning, unless every one
    says `warn_unsupported: false`. -#}
{% macro warn_view_constraints() -%}
    {%- if contract_enforced() -%}
        {%- set found = namespace(warn=false) -%}
        {%- for constraint in model['constraints'] if constraint.warn_unsupported -%}
            {%- set found.warn = true -%}
        {%- endfor -%}
        {%- for column in model['columns'].values() -%}
            {%- for constraint in column.constraints if constraint.warn_unsupported -%}
                {%- set found.warn = true -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if found.warn -%}
            {%- do exceptions.warn("Constraint types are not supported for view materializations and will be ignored.  Set 'warn_unsupported: false' on this constraint to ignore this warning.") -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
