{% macro cents_to_dollars(column) %}
  {%- if column is none -%}
    {{ exceptions.raise_compiler_error('cents_to_dollars needs a column') }}
  {%- endif -%}
  ({{ column }} / 100.0)
{% endmacro %}
