{#- What each consumer of the change feed (macros/change_feed.sql) reads, and its hooks. -#}

{#- The encounters with a location element at a Location re-exported since this consumer last read
    stg_ehr__locations: a location's role decides their derived times (the consumer declares
    `-- depends_on: ref('stg_ehr__encounter_locations')` when it does not read that model itself). -#}
{% macro encounters_at_changed_locations() -%}
    select encounter_locations.encounter_id
    from {{ ref('stg_ehr__encounter_locations') }} as encounter_locations
    where encounter_locations.location_id in ({{ change_feed_keys('stg_ehr__locations') }})
{%- endmacro %}

{#-
  int_encounter_waits_derived. An encounter is rebuilt when its latest version, status history or
  locations changed, or a Location one of its location elements names was re-exported.
-#}
{% macro encounter_waits_producers() -%}
    {{ return([
        'stg_ehr__encounters', 'stg_ehr__encounter_status_history', 'stg_ehr__encounter_locations',
        'stg_ehr__locations'
    ]) }}
{%- endmacro %}

{#- Its pre-hook: the changed encounters leave the model (change_feed_delete_changed). -#}
{% macro encounter_waits_pre_hook() -%}
    {%- set changed_encounters -%}
        {{ change_feed_keys('stg_ehr__encounters') }}
        union
        {{ change_feed_keys('stg_ehr__encounter_status_history') }}
        union
        {{ change_feed_keys('stg_ehr__encounter_locations') }}
        union
        {{ encounters_at_changed_locations() }}
    {%- endset -%}
    {{ change_feed_delete_changed(encounter_waits_producers(), 'encounter_id', changed_encounters) }}
{%- endmacro %}

{#-
  int_touchpoints_unioned. A touchpoint is rebuilt when its
  source record changed (a CRM touch, appointment, survey response, follow-up call, complaint or
  review), when the encounter it belongs to changed (the encounter, its status history or locations,
  or a Location one of its location elements names: int_encounter_waits_derived derives visits,
  departments and patients from those), or, for a CRM touch, when its campaign changed.
-#}

{#- The change-feed producers int_touchpoints_unioned reads. -#}
{% macro touchpoint_producers() -%}
    {{ return([
        'stg_crm__touches', 'stg_crm__campaigns', 'stg_ehr__appointments', 'stg_ehr__questionnaire_responses',
        'stg_ehr__encounters', 'stg_ehr__encounter_status_history', 'stg_ehr__encounter_locations',
        'stg_ehr__locations', 'stg_relations__follow_ups', 'stg_relations__complaints', 'stg_relations__reviews'
    ]) }}
{%- endmacro %}

{#- The keys of one kind (touch, campaign, appointment, response, encounter, follow_up, complaint,
    review) that changed since the last build (the pre-hook's temp table). -#}
{% macro changed_touchpoint_sources(kind) -%}
    select changed_key from {{ changed_keys_relation() }} where kind = '{{ kind }}'
{%- endmacro %}

{#- Pre-hook: the changed keys by kind, read from the change feed. -#}
{% macro touchpoint_sources_changed() -%}
    {%- set kinds = {
        'stg_crm__touches': 'touch', 'stg_crm__campaigns': 'campaign', 'stg_ehr__appointments': 'appointment',
        'stg_ehr__questionnaire_responses': 'response', 'stg_ehr__encounters': 'encounter',
        'stg_ehr__encounter_status_history': 'encounter', 'stg_ehr__encounter_locations': 'encounter',
        'stg_relations__follow_ups': 'follow_up', 'stg_relations__complaints': 'complaint',
        'stg_relations__reviews': 'review'
    } -%}
    create or replace temp table {{ changed_keys_relation() }} as
        {%- for producer, kind in kinds.items() %}
        select '{{ kind }}' as kind, changed_key from ({{ change_feed_keys(producer) }})
        union
        {%- endfor %}
        select 'encounter', encounter_id from ({{ encounters_at_changed_locations() }})
{%- endmacro %}

{#- The touchpoints (rows of a touchpoint-shaped relation) a changed source rebuilds. -#}
{% macro touchpoint_in_changed_scope() -%}
    (
        (touchpoint_type like 'crm\_%' escape '\'
            and (source_record_id in ({{ changed_touchpoint_sources('touch') }})
                 or campaign_id in ({{ changed_touchpoint_sources('campaign') }})))
        or (touchpoint_type = 'appointment_booked'
            and source_record_id in ({{ changed_touchpoint_sources('appointment') }}))
        or (touchpoint_type in ('arrival', 'triage', 'provider_seen', 'departure')
            and encounter_id in ({{ changed_touchpoint_sources('encounter') }}))
        or (touchpoint_type = 'survey_response'
            and (source_record_id in ({{ changed_touchpoint_sources('response') }})
                 or encounter_id in ({{ changed_touchpoint_sources('encounter') }})))
        or (touchpoint_type = 'follow_up_call'
            and (source_record_id in ({{ changed_touchpoint_sources('follow_up') }})
                 or encounter_id in ({{ changed_touchpoint_sources('encounter') }})))
        or (touchpoint_type = 'complaint'
            and source_record_id in ({{ changed_touchpoint_sources('complaint') }}))
        or (touchpoint_type = 'review'
            and source_record_id in ({{ changed_touchpoint_sources('review') }}))
    )
{%- endmacro %}

{#- int_touchpoints_unioned's pre-hook: read the feed, record and delete the touchpoints in scope
    (or, when it must recompute everything, all of them). -#}
{% macro touchpoints_pre_hook() -%}
    {%- if not is_incremental() -%}
    {{ change_feed_record_all() }}
    {%- elif change_feed_needs_full(touchpoint_producers()) -%}
    {{ change_feed_record_all() }};
    delete from {{ this }}
    {%- else -%}
    {{ touchpoint_sources_changed() }};
    {{ change_feed_record('select touchpoint_id from ' ~ this ~ ' where ' ~ touchpoint_in_changed_scope()) }};
    delete from {{ this }} where {{ touchpoint_in_changed_scope() }}
    {%- endif -%}
{%- endmacro %}

{#- Its post-hook: record the touchpoints appended, and the feed positions read. -#}
{% macro touchpoints_post_hook() -%}
    {%- if is_incremental() and not change_feed_needs_full(touchpoint_producers()) -%}
    {{ change_feed_record('select touchpoint_id from ' ~ this ~ ' where ' ~ touchpoint_in_changed_scope()) }};
    {%- endif %}
    {{ change_feed_commit(touchpoint_producers()) }}
{%- endmacro %}

{#- fct_touchpoints reads int_touchpoints_unioned's feed (touchpoints rebuilt) and dim_patient's
    (patients that appeared or went: their touchpoints resolve to them, or to `unknown`). -#}
{% macro fct_touchpoint_producers() -%}
    {{ return(['int_touchpoints_unioned', 'dim_patient']) }}
{%- endmacro %}

{% macro fct_touchpoints_pre_hook() -%}
    {%- set changed_touchpoints -%}
        {{ change_feed_keys('int_touchpoints_unioned') }}
        union
        select touchpoint_id from {{ ref('int_touchpoints_unioned') }}
        where patient_key in ({{ change_feed_keys('dim_patient') }})
    {%- endset -%}
    {{ change_feed_delete_changed(fct_touchpoint_producers(), 'touchpoint_id', changed_touchpoints) }}
{%- endmacro %}

{#- fct_encounters reads the feed of its staging inputs to learn that one was built in full (then it
    recomputes every encounter) and which Locations changed (their encounters' derived times may
    change with the location's role although nothing newer was loaded for the encounter). -#}
{% macro fct_encounter_producers() -%}
    {{ return([
        'stg_ehr__encounters', 'stg_ehr__encounter_status_history', 'stg_ehr__encounter_locations',
        'stg_ehr__locations', 'stg_ehr__appointments', 'stg_ehr__questionnaire_responses'
    ]) }}
{%- endmacro %}
