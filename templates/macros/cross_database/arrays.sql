{#- dbt's cross-database macros: arrays.
    One SQL spelling per idea, whichever database runs it. Each public macro
    hands its arguments to `adapter.dispatch(name, 'dbt')`, which picks
    `<adapter>__name` (a project's own first) and falls back to
    `default__name`. Projects and packages call them as `dbt.name(...)` or
    bare, with dbt's argument names. The other families are in the files
    next to this one. -#}

{#- An array of `inputs` (SQL expressions of one type); an empty one is typed
    `data_type` (dbt's default, Column.translate_type('integer'), is
    `integer`). -#}
{% macro array_construct(inputs=[], data_type='integer') -%}
    {{ return(adapter.dispatch('array_construct', 'dbt')(inputs, data_type)) }}
{%- endmacro %}

{% macro default__array_construct(inputs, data_type) -%}
    {%- if inputs | length > 0 -%}
        array[{{ inputs | join(', ') }}]
    {%- else -%}
        array[]::{{ data_type }}[]
    {%- endif -%}
{%- endmacro %}

{#- `new_element` must have the array's element type. -#}
{% macro array_append(array, new_element) -%}
    {{ return(adapter.dispatch('array_append', 'dbt')(array, new_element)) }}
{%- endmacro %}

{% macro default__array_append(array, new_element) -%}
    array_append({{ array }}, {{ new_element }})
{%- endmacro %}

{% macro array_concat(array_1, array_2) -%}
    {{ return(adapter.dispatch('array_concat', 'dbt')(array_1, array_2)) }}
{%- endmacro %}

{% macro default__array_concat(array_1, array_2) -%}
    array_cat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}
