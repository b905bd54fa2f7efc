with

departments as (

    select * from {{ ref('departments') }}

),

seeded as (

    select
        lower(trim(code)) as department_code,
        name as department_name,
        name_zh as department_name_zh,
        is_emergency,
        false as is_unknown

    from departments

),

unknown_member as (

    select
        'unknown' as department_code,
        'Unknown' as department_name,
        '未知' as department_name_zh,
        false as is_emergency,
        true as is_unknown

),

final as (

    select * from seeded
    union all
    select * from unknown_member

)

select * from final
