select 1 as id
where {{ var('start_date') }} is not null
