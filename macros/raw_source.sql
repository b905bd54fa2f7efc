{#-
  source() for a raw table that may not exist. The loader always creates every raw table (possibly
  empty), so normally this is just source(). A hospital that never exports an optional resource
  (Appointment, Slot, QuestionnaireResponse, Location) still builds: when the table is missing, the
  staging model reads an empty relation with the raw layer's columns.

  kind = 'fhir'  → resource_id, resource (JSON) and the lineage columns
  kind = a list of column names → those columns as text, plus the lineage columns
-#}
{% macro raw_source(source_name, table_name, kind='fhir') -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set existing = none -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- if existing is not none or not execute -%}
        {{ relation }}
    {%- else -%}
        {{ log("journey: raw table " ~ relation ~ " is missing; staging it as empty", info=true) }}
        (
            select
            {%- if kind == 'fhir' %}
                cast(null as varchar) as resource_id,
                cast(null as json) as resource,
            {%- else %}
                {%- for column in kind %}
                cast(null as varchar) as {{ column }},
                {%- endfor %}
            {%- endif %}
                cast(null as varchar) as _source_file,
                cast(null as bigint) as _row_number,
                cast(null as varchar) as _batch_id,
                cast(null as date) as _landing_date,
                cast(null as timestamp) as _loaded_at
            where false
        )
    {%- endif -%}
{%- endmacro %}
