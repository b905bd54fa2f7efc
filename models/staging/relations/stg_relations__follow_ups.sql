with

source as (

    select * from {{ raw_source('relations', 'relations_follow_ups',
        ['follow_up_id', 'encounter_id', 'planned_day', 'planned_at', 'attempted_at', 'completed_at', 'outcome']) }}

),

renamed as (

    select
        {{ clean_text('follow_up_id') }} as follow_up_id,
        {{ clean_text('encounter_id') }} as encounter_id,
        try_cast({{ clean_text('planned_day') }} as integer) as planned_day,
        {{ to_utc(clean_text('planned_at')) }} as planned_at,
        {{ to_utc(clean_text('attempted_at')) }} as attempted_at,
        {{ to_utc(clean_text('completed_at')) }} as completed_at,
        lower({{ clean_text('outcome') }}) as outcome,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where follow_up_id is not null
    {{ latest_version('follow_up_id') }}

)

select * from final
