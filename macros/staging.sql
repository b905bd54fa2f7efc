{#- Staging building blocks shared by every source model (one definition of lineage and of
    "the latest version wins"). -#}

{#- The raw layer's lineage columns (data/README.md, "The raw layer"), optionally qualified. -#}
{% macro lineage_columns(relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    {%- for column in ['_source_file', '_row_number', '_batch_id', '_landing_date', '_loaded_at'] -%}
        {{ prefix }}{{ column }}{{ ',\n        ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- Keep one row per key: the first by `order_by` (e.g. meta.lastUpdated), then lineage_order(). -#}
{% macro latest_version(key_expression, order_by=none) -%}
    qualify row_number() over (
        partition by {{ key_expression }}
        order by {% if order_by %}{{ order_by }}, {% endif %}{{ lineage_order() }}
    ) = 1
{%- endmacro %}

{#-
  The latest version of each resource of a raw FHIR table: `<id_alias>`, the `resource` JSON,
  `last_updated_at` (meta.lastUpdated in UTC) and the lineage columns. A resource without an id is
  dropped. Latest = latest meta.lastUpdated, then the latest drop / load / file / line.
-#}
{% macro latest_fhir_versions(source_name, table_name, id_alias='resource_id') -%}
    select
        coalesce(resource_id, resource ->> '$.id') as {{ id_alias }},
        resource,
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
        {{ lineage_columns() }}

    from {{ raw_source(source_name, table_name) }}
    where coalesce(resource_id, resource ->> '$.id') is not null
    {{ latest_version(
        "coalesce(resource_id, resource ->> '$.id')",
        to_utc("resource ->> '$.meta.lastUpdated'") ~ ' desc nulls last'
    ) }}
{%- endmacro %}

{#-
  One row per element of a JSON array of each resource in `relation` (e.g. Encounter.location[*]):
  the resource's key, `element_index` (1-based), `element` (JSON) and the lineage columns.
-#}
{% macro fhir_array_elements(relation, key_column, json_path) -%}
    select
        {{ relation }}.{{ key_column }},
        cast(array_elements.element_index as integer) as element_index,
        array_elements.element,
        {{ lineage_columns(relation) }}

    from {{ relation }},
        unnest(json_extract({{ relation }}.resource, '{{ json_path }}'))
            with ordinality as array_elements (element, element_index)
{%- endmacro %}

{#- is_incremental(), and the existing table already has `column_name` (the incremental watermark).
    A table built before the column existed is rebuilt in full once (on_schema_change adds it). -#}
{% macro is_incremental_with(column_name) -%}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in existing_columns) }}
{%- endmacro %}

{#- The incremental watermarks of a fact built so far: its latest event date and the latest
    `source_loaded_at` of its inputs (the body of a `built` CTE). -#}
{% macro incremental_bounds(event_date_column) -%}
    select
        max({{ event_date_column }}) as max_event_date,
        max(source_loaded_at) as max_source_loaded_at

    from {{ this }}
{%- endmacro %}

{#- The drop dates (`_landing_date`) of `raw_relation` that changed since this incremental model was
    last built: a row of the date was loaded, or refused by a quality gate (quarantine.rows, entity
    `entity`), after the latest `_loaded_at` the model holds (a run's rows share one `_loaded_at`,
    and a gate refuses rows after they were loaded). Models partitioned by drop date recompute these
    dates whole (see stg_ehr__slots). -#}
{% macro drop_dates_changed(raw_relation, entity) -%}
    {%- set built_until = "(select coalesce(max(_loaded_at), timestamp '-infinity') from " ~ this ~ ")" -%}
    select _landing_date from {{ raw_relation }}
    where _loaded_at > {{ built_until }}
    union
    select _landing_date from {{ source('quarantine', 'rows') }}
    where entity = '{{ entity }}' and quarantined_at > {{ built_until }}
{%- endmacro %}
