with source as (

    select * from {{ ref('raw_customers') }}

),

renamed as (

    select
        id as customer_id,
        first_name,
        last_name,
        email,
        cast(signup_date as date) as signup_date,
        zip as zip_code

    from source

)

select * from renamed
