{#- dbt's cross-database macros: aggregates and set operators.
    One SQL spelling per idea, whichever database runs it. Each public macro
    hands its arguments to `adapter.dispatch(name, 'dbt')`, which picks
    `<adapter>__name` (a project's own first) and falls back to
    `default__name`. Projects and packages call them as `dbt.name(...)` or
    bare, with dbt's argument names. The other families are in the files
    next to this one. -#}

{#- Any one of the group's values. -#}
{% macro any_value(expression) -%}
    {{ return(adapter.dispatch('any_value', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__any_value(expression) -%}
    any_value({{ expression }})
{%- endmacro %}

{% macro duckdb__any_value(expression) -%}
    arbitrary({{ expression }})
{%- endmacro %}

{#- PostgreSQL before 16 has no any_value: the least value is one of them. -#}
{% macro postgres__any_value(expression) -%}
    min({{ expression }})
{%- endmacro %}


{#- True when `expression` is true for any row of the group. -#}
{% macro bool_or(expression) -%}
    {{ return(adapter.dispatch('bool_or', 'dbt')(expression)) }}
{%- endmacro %}

{% macro default__bool_or(expression) -%}
    bool_or({{ expression }})
{%- endmacro %}


{#- The keyword between two queries: rows of the first not in the second. -#}
{% macro except() -%}
    {{ return(adapter.dispatch('except', 'dbt')()) }}
{%- endmacro %}

{% macro default__except() -%}
    except
{%- endmacro %}

{#- The keyword between two queries: rows in both. -#}
{% macro intersect() -%}
    {{ return(adapter.dispatch('intersect', 'dbt')()) }}
{%- endmacro %}

{% macro default__intersect() -%}
    intersect
{%- endmacro %}
