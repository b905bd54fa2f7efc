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
