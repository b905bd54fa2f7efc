{#- CRM identity: an anonymous id seen on a touch together with exactly one patient is that patient.
    One row per linked anonymous id (anonymous_id, linked_patient_key) from the touches relation or CTE
    named; used by the attribution paths and the campaign funnel, so both link people the same way. -#}
{% macro crm_identity_links(touches) -%}
    select
        anonymous_id,
        min(patient_key) as linked_patient_key

    from {{ touches }}
    where anonymous_id is not null
      and patient_key is not null
    group by anonymous_id
    having count(distinct patient_key) = 1
{%- endmacro %}
