-- Incremental by follow_up_id (macros/staging.sql, "Incremental staging"): a producer of the change feed
-- int_touchpoints_unioned reads (macros/change_feed.sql).
{{ config(pre_hook="{{ text_staging_hook('relations', 'relations_follow_ups', 'follow_ups', 'follow_up_id', 'follow_up_id') }}") }}
with

source as (

    select * from {{ raw_source('relations', 'relations_follow_ups',
        ['follow_up_id', 'encounter_id', 'planned_day', 'planned_at', 'attempted_at', 'completed_at', 'outcome']) }}
    {% if is_incremental() %}
    where {{ clean_text('follow_up_id') }} in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

),

renamed as (

    select
        {{ clean_text('follow_up_id') }} as follow_up_id,
        {{ clean_text('encounter_id') }} as encounter_id,
        {{ parse_integer('planned_day') }} as planned_day,
        {{ to_utc('planned_at') }} as planned_at,
        {{ to_utc('attempted_at') }} as attempted_at,
        {{ to_utc('completed_at') }} as completed_at,
        {{ known_code('outcome', 'follow_up_outcome') }} as outcome,
        {{ code_null_reason('outcome', 'follow_up_outcome') }} as outcome_null_reason,
        {{ unreadable_values([
            integer_problem('planned_day', 'planned_day'),
            time_problem('planned_at', 'planned_at'),
            time_problem('attempted_at', 'attempted_at'),
            time_problem('completed_at', 'completed_at'),
        ]) }} as unreadable_values,
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
