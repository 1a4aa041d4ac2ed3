-- A model is a select statement; kiln builds it as the view first_model.
select 1 as id, 'first' as label
union all
select 2 as id, 'second' as label
