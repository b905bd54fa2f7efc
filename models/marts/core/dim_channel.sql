with

channels as (

    select * from {{ ref('channels') }}

),

seeded as (

    select
        lower(trim(code)) as channel_code,
        name as channel_name,
        name_zh as channel_name_zh,
        is_digital,
        false as is_unknown

    from channels

),

unknown_member as (

    select
        'unknown' as channel_code,
        'Unknown' as channel_name,
        '未知' as channel_name_zh,
        false as is_digital,
        true as is_unknown

),

final as (

    select * from seeded
    union all
    select * from unknown_member

)

select * from final
