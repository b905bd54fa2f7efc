-- The code mapping in effect: the site's <data_dir>/mapping/code_map.csv (validated by
-- journey.mapping.load_code_map before a run; var code_map_path, '' = absent) over the built-in
-- defaults (seeds/code_map_defaults.csv). One row per (domain, source_system, source_code);
-- source_system '' matches any system. A changed file rebuilds staging in full (its sha256 is a var).
{{ config(materialized='table') }}
with

defaults as (

    select
        domain,
        coalesce(trim(source_system), '') as source_system,
        trim(source_code) as source_code,
        trim(target_code) as target_code,
        'default' as mapping_origin,
        2 as precedence

    from {{ ref('code_map_defaults') }}

),

site as (

    {%- if var('code_map_path', '') %}
    select
        trim(domain) as domain,
        coalesce(trim(source_system), '') as source_system,
        trim(source_code) as source_code,
        trim(target_code) as target_code,
        'site' as mapping_origin,
        1 as precedence

    from read_csv(
        '{{ var("code_map_path") | replace("'", "''") }}',
        header = true, all_varchar = true, quote = '"', escape = '"',
        columns = {'domain': 'varchar', 'source_system': 'varchar', 'source_code': 'varchar',
                   'target_code': 'varchar', 'comment': 'varchar'}
    )
    where nullif(trim(source_code), '') is not null
    {%- else %}
    select * from defaults where false
    {%- endif %}

),

final as (

    select domain, source_system, source_code, target_code, mapping_origin
    from (select * from site union all select * from defaults)
    qualify row_number() over (partition by domain, source_system, source_code order by precedence) = 1

)

select * from final
