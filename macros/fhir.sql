{#- The logical id in a FHIR reference: `Patient/abc`, `https://host/fhir/Patient/abc/_history/2` → `abc`. -#}
{% macro fhir_reference_id(reference_expression, resource_type) -%}
    nullif(regexp_extract({{ reference_expression }}, '(?:^|/){{ resource_type }}/([^/]+)', 1), '')
{%- endmacro %}

{#- Empty or blank text → NULL (CSV exports write missing values as empty strings). -#}
{% macro clean_text(text_expression) -%}
    nullif(trim({{ text_expression }}), '')
{%- endmacro %}

{#- Tie-breakers that make "latest re-sent row wins" deterministic: later drop, later load, later
    file, later line. Used after each entity's own ordering (e.g. meta.lastUpdated). -#}
{% macro lineage_order() -%}
    _landing_date desc nulls last, _loaded_at desc nulls last, _source_file desc nulls last, _row_number desc nulls last
{%- endmacro %}

{#- The journey code `code_expression` (of `system_expression`) maps to in `domain` of the code
    map in effect (stg_ehr__code_map): a mapping for its system first, then one for any system;
    NULL = unmapped. -#}
{% macro mapped_code(domain, system_expression, code_expression) -%}
    coalesce(
        (select code_map.target_code from {{ ref('stg_ehr__code_map') }} as code_map
         where code_map.domain = '{{ domain }}' and code_map.source_code = {{ code_expression }}
           and code_map.source_system = coalesce({{ system_expression }}, '')),
        (select code_map.target_code from {{ ref('stg_ehr__code_map') }} as code_map
         where code_map.domain = '{{ domain }}' and code_map.source_code = {{ code_expression }}
           and code_map.source_system = '')
    )
{%- endmacro %}

{#- The identifier token `system|value` of a conditional reference (`Location?identifier=sys|val`,
    `|` also URL-encoded as %7C) of `resource_type`; NULL for any other reference. -#}
{% macro fhir_conditional_identifier(reference_expression, resource_type) -%}
    nullif(regexp_replace(
        url_decode(regexp_extract({{ reference_expression }}, '(?:^|/){{ resource_type }}\?(?:[^#]*&)?identifier=([^&#]+)', 1)),
        '^([^|]+)$', '|\1'), '')
{%- endmacro %}

{#- The `system|value` token of a Reference.identifier object (`|value` without a system). -#}
{% macro fhir_reference_identifier(reference_json) -%}
    case when json_type({{ reference_json }}, '$.identifier') = 'OBJECT'
             and nullif(trim({{ reference_json }} ->> '$.identifier.value'), '') is not null
        then coalesce({{ reference_json }} ->> '$.identifier.system', '') || '|' || trim({{ reference_json }} ->> '$.identifier.value')
    end
{%- endmacro %}
