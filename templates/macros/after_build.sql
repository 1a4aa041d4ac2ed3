{#- What follows a relation's build, inside its transaction: indexes
    (PostgreSQL), grants and persisted docs, as dbt-postgres and dbt-duckdb
    send them. A project macro of the same name replaces each. -#}

{#- dbt-postgres's index name: the md5 of the columns, the relation, unique,
    type and the time, so each build's names are new. -#}
{% macro get_create_index_sql(relation, index) -%}
    {%- set columns = [index.columns] if index.columns is string else index.columns -%}
    {%- set unique = index.unique is true -%}
    {%- set now = modules.datetime.datetime.utcnow().isoformat() -%}
    {%- set name = local_md5(columns | join('_') ~ '_' ~ relation ~ '_' ~ ('True' if unique else 'False') ~ '_' ~ (index.type or 'None') ~ '_' ~ now) -%}
    create {% if unique %}unique {% endif %}index if not exists "{{ name }}" on {{ relation }}{% if index.type %} using {{ index.type }}{% endif %} ({{ columns | join(', ') }})
{%- endmacro %}

{#- Where a table's indexes are made: on PostgreSQL on the new table
    before it is swapped in (dbt-postgres), on DuckDB once it has its name
    (a DuckDB table with indexes cannot be renamed; dbt-duckdb does so). -#}
{% macro create_indexes_before_swap(relation) -%}
    {%- if target.type != 'duckdb' -%}{{ create_indexes(relation) }}{%- endif -%}
{%- endmacro %}

{% macro create_indexes_after_swap(relation) -%}
    {%- if target.type == 'duckdb' -%}{{ create_indexes(relation) }}{%- endif -%}
{%- endmacro %}

{#- DuckDB: the indexes of a table about to be renamed aside, dropped. -#}
{% macro drop_indexes_on_relation(relation) -%}
    {%- if target.type == 'duckdb' and relation is not none and relation.type == 'table' -%}
        {%- set found = run_query("select index_name from duckdb_indexes() where database_name = '" ~ relation.database | replace("'", "''") ~ "' and schema_name = '" ~ relation.schema | replace("'", "''") ~ "' and table_name = '" ~ relation.identifier | replace("'", "''") ~ "'") -%}
        {%- for row in found.rows %}
            {% call statement('drop_index') -%}
                drop index if exists {{ adapter.quote(relation.database) }}.{{ adapter.quote(relation.schema) }}.{{ adapter.quote(row[0]) }}
            {%- endcall %}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro create_indexes(relation) -%}
    {%- for index in config.get('indexes') or [] -%}
        {%- if index is not mapping or not index.columns -%}
            {{ exceptions.raise_compiler_error("each of `indexes` is a mapping with `columns` (and `unique`, `type`), not " ~ index) }}
        {%- endif %}
        {% call statement('create_index') -%}
            {{ get_create_index_sql(relation, index) }}
        {%- endcall %}
    {%- endfor -%}
{%- endmacro %}

{#- The grants the relation has now, that the current role gave. -#}
{% macro get_show_grant_sql(relation) -%}
    select grantee, privilege_type from information_schema.role_table_grants
    where grantor = current_role and grantee != current_role
      and table_schema = '{{ relation.schema | replace("'", "''") }}' and table_name = '{{ relation.identifier | replace("'", "''") }}'
{%- endmacro %}

{#- `grants:` applied: with `should_revoke`, the grants the relation has and
    the config no longer names are revoked first (case aside); then what it
    names and the relation lacks is granted. DuckDB has no grants: a
    warning, as dbt-duckdb gives. -#}
{% macro apply_grants(relation, grant_config, should_revoke=true) -%}
    {%- if grant_config -%}
        {%- if target.type == 'duckdb' -%}
            {%- do exceptions.warn('Grants for relations are not supported by DuckDB: `grants` of ' ~ model.unique_id ~ ' is not applied') -%}
        {%- else -%}
            {%- set wanted = {} -%}
            {%- for privilege, grantees in grant_config.items() -%}
                {%- do wanted.update({privilege | lower: ([grantees] if grantees is string else grantees)}) -%}
            {%- endfor -%}
            {%- set current = {} -%}
            {%- if should_revoke -%}
                {%- set found = run_query(get_show_grant_sql(relation)) -%}
                {%- for row in found.rows -%}
                    {%- do current.setdefault(row[1] | lower, []).append(row[0]) -%}
                {%- endfor -%}
            {%- endif -%}
            {%- set statements = [] -%}
            {%- for privilege, grantees in current.items() -%}
                {%- set keep = (wanted.get(privilege) or []) | map('lower') | list -%}
                {%- set gone = [] -%}
                {%- for grantee in grantees if grantee | lower not in keep -%}
                    {%- do gone.append(grantee if grantee | lower == 'public' else '"' ~ grantee ~ '"') -%}
                {%- endfor -%}
                {%- if gone -%}
                    {%- do statements.append('revoke ' ~ privilege | upper ~ ' on ' ~ relation ~ ' from ' ~ gone | join(', ') ~ ';') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- for privilege, grantees in wanted.items() -%}
                {%- set have = (current.get(privilege) or []) | map('lower') | list -%}
                {%- set new = [] -%}
                {%- for grantee in grantees if grantee | lower not in have -%}
                    {%- do new.append(grantee) -%}
                {%- endfor -%}
                {%- if new -%}
                    {%- do statements.append('grant ' ~ privilege ~ ' on ' ~ relation ~ ' to ' ~ new | join(', ') ~ ';') -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if statements -%}
                {% call statement('grants') -%}
                    {{ statements | join('\n') }}
                {%- endcall %}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- A description as a comment literal: dollar-quoted, as dbt-postgres and
    dbt-duckdb quote it, so that quotes need no escaping. -#}
{% macro comment_literal(comment) -%}
    {%- set magic = '$dbt_comment_literal_block$' -%}
    {%- if magic in comment -%}
        {{ exceptions.raise_compiler_error('The string ' ~ magic ~ ' is not allowed in comments.') }}
    {%- endif -%}
    {{ magic }}{{ comment }}{{ magic }}
{%- endmacro %}

{#- `persist_docs`: the model's description as the relation's comment
    (`relation: true`), its documented columns' as theirs (`columns: true`,
    only those the relation has; a column is quoted when it says `quote`). -#}
{% macro persist_docs(relation, model, for_relation=true, for_columns=true) -%}
    {%- set docs = config.get('persist_docs') or {} -%}
    {%- if for_relation and docs.get('relation') and model.description -%}
        {% call statement('persist_docs_relation') -%}
            comment on {{ 'materialized view' if relation.type == 'materialized_view' else relation.type or 'table' }} {{ relation }} is {{ comment_literal(model.description) }}
        {%- endcall %}
    {%- endif -%}
    {%- if for_columns and docs.get('columns') and model.columns -%}
        {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- set statements = [] -%}
        {%- for name, column in model.columns.items() if name in existing and column.description -%}
            {%- do statements.append('comment on column ' ~ relation ~ '.' ~ (adapter.quote(name) if column.quote else name) ~ ' is ' ~ comment_literal(column.description) ~ ';') -%}
        {%- endfor -%}
        {%- if statements -%}
            {% call statement('persist_docs_columns') -%}
                {{ statements | join('\n') }}
            {%- endcall %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
