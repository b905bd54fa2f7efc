-- Every staged encounter appears exactly once in fct_encounters (nothing vanishes in a join, nothing
-- fans out). Returns the offending encounter ids.
with

staged as (

    select encounter_id from {{ ref('stg_ehr__encounters') }}

),

published as (

    select encounter_id, count(*) as row_count
    from {{ ref('fct_encounters') }}
    group by encounter_id

)

select
    coalesce(staged.encounter_id, published.encounter_id) as encounter_id,
    published.row_count

from staged
full outer join published
    on staged.encounter_id = published.encounter_id
where staged.encounter_id is null
   or published.encounter_id is null
   or published.row_count <> 1
