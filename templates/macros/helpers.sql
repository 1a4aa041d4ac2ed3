{#- Small helpers of dbt's global project that packages call by name. -#}

{% macro should_store_failures() -%}
    {#- A test's own store_failures config, else the --store-failures flag. -#}
    {%- set configured = config.get('store_failures') -%}
    {%- if configured is none -%}
        {%- set configured = flags.STORE_FAILURES -%}
    {%- endif -%}
    {{ return(configured) }}
{%- endmacro %}

{% macro load_relation(relation) -%}
    {#- The relation as the database has it (with its type), or none. -#}
    {{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
{%- endmacro %}

{% macro load_cached_relation(relation) -%}
    {{ return(load_relation(relation)) }}
{%- endmacro %}
