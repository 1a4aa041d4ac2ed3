{#- A snapshot (slowly changing dimension, type 2): every version of each
    row of the query, with `dbt_valid_from`/`dbt_valid_to` bounding when it
    was current. The first run copies the query's rows; later runs stage them
    in `<name>__dbt_tmp`, close the versions that changed (or vanished, per
    `hard_deletes`) and insert the new ones, in one transaction. -#}
{% macro materialization_snapshot_default() %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- set staging_relation = make_temp_relation(target_relation) -%}
    {%- set unique_key = config.get('unique_key') -%}
    {%- if not unique_key -%}
        {{ exceptions.raise_compiler_error("snapshot " ~ model.name ~ " needs a unique_key") }}
    {%- endif -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set hard_deletes = snapshot_hard_deletes() -%}
    {%- set now = snapshot_get_time() -%}
    {{ drop_leftover(staging_relation) }}
    {{ run_hooks(pre_hooks) }}
    {% call statement('stage') -%}
        create table {{ staging_relation }} as (
            select * from (
{{ sql }}
            ) as snapshot_query
        )
    {%- endcall %}
    {%- set strategy = snapshot_strategy(staging_relation, keys, now) -%}
    {%- if existing_relation is none -%}
        {% call statement('main') -%}
            create table {{ target_relation }} as (
                select source.*,
                    {{ snapshot_scd_id(keys, strategy.version_at) }} as dbt_scd_id,
                    {{ strategy.version_at }} as dbt_updated_at,
                    {{ strategy.version_at }} as dbt_valid_from,
                    nullif({{ strategy.version_at }}, {{ strategy.version_at }}) as dbt_valid_to
                    {%- if hard_deletes == 'new_record' %},
                    cast('False' as varchar) as dbt_is_deleted
                    {%- endif %}
                from {{ staging_relation }} as source
            )
        {%- endcall %}
    {%- else -%}
        {%- for column in adapter.get_missing_columns(staging_relation, target_relation) %}
            {% call statement('add_column') -%}
                alter table {{ target_relation }} add column {{ adapter.quote(column.name) }} {{ column.data_type }}
            {%- endcall %}
        {%- endfor -%}
        {%- set revived = " or snapshotted.dbt_is_deleted = 'True'" if hard_deletes == 'new_record' else "" -%}
        {% call statement('close_changed') -%}
            update {{ target_relation }} as snapshotted
            set dbt_valid_to = {{ strategy.version_at }}
            from {{ staging_relation }} as source
            where snapshotted.dbt_valid_to is null
                and {{ snapshot_key_match(keys) }}
                and ({{ strategy.changed }}{{ revived }})
        {%- endcall %}
        {%- if hard_deletes in ['invalidate', 'new_record'] %}
            {% call statement('close_deleted') -%}
                update {{ target_relation }} as snapshotted
                set dbt_valid_to = {{ now }}
                where snapshotted.dbt_valid_to is null
                    {%- if hard_deletes == 'new_record' %}
                    and snapshotted.dbt_is_deleted = 'False'
                    {%- endif %}
                    and not exists (
                        select 1 from {{ staging_relation }} as source
                        where {{ snapshot_key_match(keys) }}
                    )
            {%- endcall %}
        {%- endif -%}
        {%- if hard_deletes == 'new_record' %}
            {{ snapshot_insert_deletion_records(target_relation, staging_relation, keys, now) }}
        {%- endif %}
        {%- set columns = adapter.get_columns_in_relation(staging_relation) | map(attribute='name') | list -%}
        {% call statement('main') -%}
            insert into {{ target_relation }} (
                {%- for column in columns %}{{ adapter.quote(column) }}, {% endfor -%}
                dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to
                {%- if hard_deletes == 'new_record' %}, dbt_is_deleted{% endif -%}
            )
            select
                {%- for column in columns %} source.{{ adapter.quote(column) }},{% endfor %}
                {{ snapshot_scd_id(keys, strategy.version_at) }},
                {{ strategy.version_at }},
                {{ strategy.version_at }},
                null
                {%- if hard_deletes == 'new_record' %}, 'False'{% endif %}
            from {{ staging_relation }} as source
            where not exists (
                select 1 from {{ target_relation }} as snapshotted
                where snapshotted.dbt_valid_to is null
                    and {{ snapshot_key_match(keys) }}
                    {%- if hard_deletes == 'new_record' %}
                    and snapshotted.dbt_is_deleted = 'False'
                    {%- endif %}
            )
        {%- endcall %}
    {%- endif -%}
    {{ drop_relation(staging_relation) }}
    {{ apply_grants(target_relation, config.get('grants'), should_revoke=existing_relation is not none) }}
    {{ persist_docs(target_relation, model) }}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmacro %}
