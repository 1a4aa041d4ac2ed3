with source as (

    select * from {{ ref('raw_products') }}

),

renamed as (

    select
        sku as product_id,
        name as product_name,
        price,
        is_active

    from source

)

select * from renamed
