-- Incremental by review_id (macros/staging.sql, "Incremental staging"): a producer of the change feed
-- int_touchpoints_unioned reads (macros/change_feed.sql).
{{ config(pre_hook="{{ text_staging_hook('relations', 'relations_reviews', 'reviews', 'review_id', 'review_id') }}") }}
with

source as (

    select * from {{ raw_source('relations', 'relations_reviews',
        ['review_id', 'platform', 'department', 'rating', 'text', 'posted_at']) }}
    {% if is_incremental() %}
    where {{ clean_text('review_id') }} in (select changed_key from {{ changed_keys_relation() }})
    {% endif %}

),

renamed as (

    select
        {{ clean_text('review_id') }} as review_id,
        {{ known_code('platform', 'review_platform') }} as review_platform,
        {{ code_null_reason('platform', 'review_platform') }} as review_platform_null_reason,
        {{ known_code('department', 'departments', 'department') }} as department_code,
        {{ code_null_reason('department', 'departments', 'department') }} as department_null_reason,
        {{ parse_integer('rating') }} as rating,
        {{ clean_text('text') }} as review_text,
        {{ to_utc('posted_at') }} as posted_at,
        {{ unreadable_values([
            integer_problem('rating', 'rating'),
            time_problem('posted_at', 'posted_at'),
        ]) }} as unreadable_values,
        {{ lineage_columns() }}

    from source

),

final as (

    select *
    from renamed
    where review_id is not null
    {{ latest_version('review_id') }}

)

select * from final
