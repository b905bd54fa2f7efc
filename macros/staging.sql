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
  dropped. Latest = latest meta.lastUpdated, then the latest drop / load / file / line. In an
  incremental staging model's incremental run, only the keys its pre-hook found changed.
-#}
{% macro latest_fhir_versions(source_name, table_name, id_alias='resource_id') -%}
    select
        coalesce(resource_id, resource ->> '$.id') as {{ id_alias }},
        resource,
        {{ to_utc("resource ->> '$.meta.lastUpdated'") }} as last_updated_at,
        {{ lineage_columns() }}

    from {{ raw_source(source_name, table_name) }}
    where coalesce(resource_id, resource ->> '$.id') is not null
    {%- if is_incremental() %}
      -- on the bare column, so DuckDB pushes the key filter into the scan and reads the JSON of the
      -- changed keys only (the loader and replay always set resource_id to the resource's id)
      and resource_id in (select changed_key from {{ changed_keys_relation() }})
    {%- endif %}
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

{#-
  Incremental staging. Each EHR staging model is a table holding, per key, what a full rebuild would
  hold (the latest version of each resource; for Slot, each drop date's snapshot). A run recomputes
  only the keys that changed since the model was last built, i.e. whose key has
    * a row loaded after the model's watermark (a run's rows share one `_loaded_at`),
    * a row refused by a quality gate since (quarantine.rows; it may have been the latest version), or
    * its built row from a file since re-delivered with other content (the earlier batch's raw rows
      were deleted, raw.load_manifest marks it `superseded`).
  The pre-hook writes those keys to a temp table `<model>__changed`, appends them to the change feed
  (macros/change_feed.sql; a build in full appends "every key") and deletes them from the model;
  the model then appends them recomputed from raw (a key with nothing left in raw stays deleted, as a
  full rebuild leaves it). `--full-refresh` rebuilds from all of raw.

  The watermark (ops.staging_watermarks, one row per model) is the latest load, refusal or
  re-delivery stamp the model's build has seen: every build takes in everything stamped up to then,
  and stamps never go backwards (journey.ops.clock). It is recorded apart from the model's rows
  because a model can hold no row of the latest loads (an element model such as encounter
  locations when no new encounter has one, or has none at all): its own latest `_loaded_at` would
  lag, and every night would re-read every key loaded since. A table built before the watermark
  table existed starts from its own latest `_loaded_at`. The table is created with the warehouse
  (journey.warehouse.schema), not here: dbt builds staging models in parallel.
-#}

{#- Where the watermarks live (one row per staging model). -#}
{% macro staging_watermarks_relation() -%}
    ops.staging_watermarks
{%- endmacro %}

{#- The temp table of changed keys (column `changed_key`) of the model being built. -#}
{% macro changed_keys_relation() -%}
    {{ this.identifier }}__changed
{%- endmacro %}

{#- Batches superseded by a re-delivery loaded after `since`. -#}
{% macro batches_superseded_since(since) -%}
    select superseded.batch_id
    from {{ source('loads', 'load_manifest') }} as superseded
    inner join {{ source('loads', 'load_manifest') }} as replacing
        on replacing.path = superseded.path and replacing.status <> 'superseded'
    where superseded.status = 'superseded' and replacing.loaded_at > {{ since }}
{%- endmacro %}

{#- The pre-hook of an incremental staging model (see above): `raw_key` is the key of a raw row,
    `quarantined_key` of a quarantine.rows row of `entity`, `key_column` the model's key column. -#}
{% macro staging_changed_keys_hook(raw_relation, entity, key_column, raw_key, quarantined_key) -%}
    {%- set watermarks = staging_watermarks_relation() -%}
    {%- set model = "'" ~ this.identifier ~ "'" -%}
    {%- if is_incremental() %}
    {%- set since = "(select since from built)" %}
    create or replace temp table {{ changed_keys_relation() }} as
        with built as materialized (
            select coalesce(
                (select loaded_through from {{ watermarks }} where model = {{ model }}),
                (select max(_loaded_at) from {{ this }}),
                timestamp '-infinity'
            ) as since
        )
        select {{ raw_key }} as changed_key from {{ raw_relation }}
        where _loaded_at > {{ since }}
        union
        select {{ quarantined_key }} from {{ source('quarantine', 'rows') }}
        where entity = '{{ entity }}' and quarantined_at > {{ since }}
        union
        select {{ key_column }} from {{ this }}
        where _batch_id in (select batch_id from ({{ batches_superseded_since(since) }}));
    delete from {{ this }} where {{ key_column }} in (select changed_key from {{ changed_keys_relation() }});
    -- what downstream incremental models must recompute (macros/change_feed.sql)
    {{ change_feed_record('select changed_key from ' ~ changed_keys_relation()) }};
    {%- else %}
    {{ change_feed_record_all() }};
    {%- endif %}
    -- this build takes in everything stamped up to now (a failed nightly discards its working copy,
    -- and the watermark with it)
    insert or replace into {{ watermarks }}
        select {{ model }}, loaded_through, now()::timestamp
        from (
            select greatest(
                (select max(_loaded_at) from {{ raw_relation }}),
                (select max(quarantined_at) from {{ source('quarantine', 'rows') }} where entity = '{{ entity }}'),
                (select max(loaded_at) from {{ source('loads', 'load_manifest') }}),
                (select loaded_through from {{ watermarks }} where model = {{ model }})
            ) as loaded_through
        )
        where loaded_through is not null
{%- endmacro %}

{#- The same hook for a model of the latest FHIR versions, keyed by resource id. -#}
{% macro fhir_staging_hook(source_name, table_name, entity, key_column) -%}
    {{ staging_changed_keys_hook(
        raw_source(source_name, table_name), entity, key_column,
        "resource_id",
        "case when json_valid(original_values) then json_extract_string(original_values, '$.id') end"
    ) }}
{%- endmacro %}

{#- The same hook for a CSV/JSONL source keyed by one text column (`raw_key_column`, blank = none). -#}
{% macro text_staging_hook(source_name, table_name, entity, key_column, raw_key_column) -%}
    {{ staging_changed_keys_hook(
        source(source_name, table_name), entity, key_column,
        clean_text(raw_key_column),
        "case when json_valid(original_values) then "
            ~ clean_text("json_extract_string(original_values, '$." ~ raw_key_column ~ "')") ~ " end"
    ) }}
{%- endmacro %}
