{#- The pieces of the snapshot materialization. A project macro of the same
    name replaces any of them. -#}

{#- The time a run records: the transaction's start, so every statement of
    one snapshot agrees on it. -#}
{% macro snapshot_get_time() -%}
    cast(current_timestamp as timestamp)
{%- endmacro %}

{#- `hard_deletes` (ignore, invalidate, new_record), or the older
    `invalidate_hard_deletes: true`. -#}
{% macro snapshot_hard_deletes() -%}
    {%- set mode = config.get('hard_deletes') -%}
    {%- if mode is none -%}
        {%- set mode = 'invalidate' if config.get('invalidate_hard_deletes') else 'ignore' -%}
    {%- endif -%}
    {%- if mode not in ['ignore', 'invalidate', 'new_record'] -%}
        {{ exceptions.raise_compiler_error("hard_deletes must be ignore, invalidate or new_record, not '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}

{#- What marks a new version: for `timestamp`, an `updated_at` later than
    the current version's start; for `check`, any of `check_cols` (a list,
    or `all`) differing. `version_at` is when a new version starts. -#}
{% macro snapshot_strategy(staging_relation, keys, now) -%}
    {%- set strategy = config.get('strategy') -%}
    {%- if strategy == 'timestamp' -%}
        {%- set updated_at = config.get('updated_at') -%}
        {%- if not updated_at -%}
            {{ exceptions.raise_compiler_error("snapshot " ~ model.name ~ " uses the timestamp strategy and needs updated_at") }}
        {%- endif -%}
        {{ return({'version_at': 'source.' ~ updated_at, 'changed': 'snapshotted.dbt_valid_from < source.' ~ updated_at}) }}
    {%- elif strategy == 'check' -%}
        {%- set check_cols = config.get('check_cols') -%}
        {%- if not check_cols -%}
            {{ exceptions.raise_compiler_error("snapshot " ~ model.name ~ " uses the check strategy and needs check_cols (a list, or 'all')") }}
        {%- endif -%}
        {%- if check_cols == 'all' -%}
            {%- set check_cols = adapter.get_columns_in_relation(staging_relation) | map(attribute='name') | reject('in', keys) | list -%}
        {%- endif -%}
        {%- set changed -%}
            {%- for column in check_cols -%}
                snapshotted.{{ column }} is distinct from source.{{ column }}{{ " or " if not loop.last }}
            {%- endfor -%}
        {%- endset -%}
        {{ return({'version_at': now, 'changed': changed}) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("snapshot " ~ model.name ~ ": strategy must be 'timestamp' or 'check', not '" ~ strategy ~ "'") }}
    {%- endif -%}
{%- endmacro %}

{% macro snapshot_key_match(keys) -%}
    {%- for key in keys -%}
        snapshotted.{{ key }} = source.{{ key }}{{ " and " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- dbt_scd_id: the md5 of the key and the version's start. -#}
{% macro snapshot_scd_id(keys, version_at) -%}
    md5(
    {%- for key in keys -%}
        coalesce(cast(source.{{ key }} as varchar), '') || '|' ||
    {%- endfor %} coalesce(cast({{ version_at }} as varchar), ''))
{%- endmacro %}

{#- With `hard_deletes: new_record`, a row that left the source gets a last
    version marked `dbt_is_deleted = 'True'`, current from now on. -#}
{% macro snapshot_insert_deletion_records(target_relation, staging_relation, keys, now) -%}
    {%- set columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list -%}
    {%- set generated = {
        'dbt_scd_id': "md5(" ~ snapshot_deleted_key(keys) ~ " || '|' || cast(" ~ now ~ " as varchar))",
        'dbt_updated_at': now, 'dbt_valid_from': now, 'dbt_valid_to': 'null', 'dbt_is_deleted': "'True'"} -%}
    {% call statement('insert_deleted') -%}
        insert into {{ target_relation }} ({% for column in columns %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %})
        select {% for column in columns -%}
            {{ generated[column] if column in generated else 'snapshotted.' ~ adapter.quote(column) }}{{ ", " if not loop.last }}
        {%- endfor %}
        from {{ target_relation }} as snapshotted
        where snapshotted.dbt_valid_to = {{ now }}
            and snapshotted.dbt_is_deleted = 'False'
            and not exists (
                select 1 from {{ staging_relation }} as source
                where {{ snapshot_key_match(keys) }}
            )
    {%- endcall %}
{%- endmacro %}

{% macro snapshot_deleted_key(keys) -%}
    {%- for key in keys -%}
        coalesce(cast(snapshotted.{{ key }} as varchar), ''){{ " || '|' || " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
