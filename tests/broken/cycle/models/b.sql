-- b reads a
select * from {{ ref('a') }}
