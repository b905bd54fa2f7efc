-- How the EHR records ED / clinic timeliness: per encounter class, where each derived timestamp came
-- from (statusHistory, location periods, Encounter.period, or nothing). Use it when onboarding a new
-- hospital's export: a high `none` share for provider_seen means door-to-provider cannot be measured.
-- Compile with `dbt compile -s encounter_timestamp_sources` and run the SQL in target/compiled.
with

encounters as (

    select * from {{ ref('fct_encounters') }}
    where is_visit

),

sources as (

    select encounter_class, 'arrived' as timestamp_name, arrived_source as timestamp_source from encounters
    union all
    select encounter_class, 'triaged', triaged_source from encounters
    union all
    select encounter_class, 'provider_seen', provider_seen_source from encounters
    union all
    select encounter_class, 'departed', departed_source from encounters

),

final as (

    select
        encounter_class,
        timestamp_name,
        timestamp_source,
        count(*) as encounters,
        round(100.0 * count(*) / sum(count(*)) over (partition by encounter_class, timestamp_name), 1)
            as encounters_pct

    from sources
    group by encounter_class, timestamp_name, timestamp_source
    order by encounter_class, timestamp_name, encounters desc

)

select * from final
