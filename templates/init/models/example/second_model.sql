-- ref() reads another model and orders the build: first_model comes first.
{{ config(materialized='table') }}
select id, upper(label) as label from {{ ref('first_model') }}
